#include "tundra/core/hlc.h"

#include <gtest/gtest.h>

using namespace tundra;

TEST(Hlc, NowIsStrictlyIncreasingWhenTheWallClockStalls) {
    uint64_t wall = 1000;
    HlcClock c([&] { return wall; });
    Hlc a = c.now(), b = c.now();
    EXPECT_LT(a, b);
    EXPECT_EQ(b.physical_ms(), 1000u);
    EXPECT_EQ(b.logical(), 1);
    wall = 2000;
    EXPECT_EQ(c.now(), Hlc::from_parts(2000, 0));
}

TEST(Hlc, WallClockGoingBackwardsNeverMovesTheClockBack) {
    uint64_t wall = 5000;
    HlcClock c([&] { return wall; });
    Hlc a = c.now();
    wall = 1000;  // someone set the tablet's clock back
    EXPECT_GT(c.now(), a);
}

TEST(Hlc, ObservingARemoteStampOrdersLaterEventsAfterIt) {
    uint64_t wall = 1000;
    HlcClock c([&] { return wall; });
    Hlc remote = Hlc::from_parts(90000, 7);  // a device whose clock runs ahead
    c.observe(remote);
    EXPECT_GT(c.now(), remote);
}

TEST(Hlc, IsoFormatting) {
    EXPECT_EQ(Hlc::from_parts(0, 3).to_iso(), "1970-01-01T00:00:00Z");
}
