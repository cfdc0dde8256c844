#include "tundra/core/cursor.h"

#include <gtest/gtest.h>

using namespace tundra;

TEST(Cursor, RoundTripsEveryPhaseAndField) {
    for (auto phase : {SyncCursor::Phase::incremental, SyncCursor::Phase::priority,
                       SyncCursor::Phase::rest}) {
        SyncCursor c{.phase = phase, .after = 18446744073709551615ULL, .v0 = 7,
                     .t0 = 1795420800000, .scope = "0123456789abcdef"};
        auto d = decode_cursor(encode_cursor(c, "key"), "key");
        ASSERT_TRUE(d) << d.status().to_string();
        EXPECT_FALSE(d->legacy);
        EXPECT_FALSE(d->empty);
        EXPECT_EQ(d->cursor, c);
    }
    auto e = decode_cursor("", "key");
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->empty);
}

TEST(Cursor, ACursorThisServerDidNotIssueIsMalformed) {
    SyncCursor c{.phase = SyncCursor::Phase::incremental, .after = 42, .scope = "abcd"};
    std::string good = encode_cursor(c, "key");
    std::string forged = good;
    forged[5] = '9';  // move `after` without the key
    std::vector<std::string> bad = {
        forged, encode_cursor(c, "another key"), good.substr(0, good.size() - 1), "c2.x",
        "c2.q.1.2.3.abcd." + good.substr(good.size() - 16), "not-a-cursor", "12a",
        std::string(500, '1'), "p.1.2", "-1"};
    for (auto& text : bad) {
        auto d = decode_cursor(text, "key");
        ASSERT_FALSE(d) << text;
        EXPECT_EQ(d.status().code(), Errc::malformed) << text;
    }
}

TEST(Cursor, V1CursorsDecodeAsLegacy) {
    for (const char* text : {"123", "p.1.2.3", "n.10.5.1795420800000"}) {
        auto d = decode_cursor(text, "key");
        ASSERT_TRUE(d) << text;
        EXPECT_TRUE(d->legacy) << text;
    }
}

TEST(Cursor, TombstonesAreNeededFromTheLaterOfAfterAndTheFullPullStart) {
    EXPECT_EQ((SyncCursor{.after = 9}).tombstones_after(), 9u);
    EXPECT_EQ((SyncCursor{.phase = SyncCursor::Phase::priority, .after = 3, .v0 = 8}).tombstones_after(), 8u);
    EXPECT_EQ((SyncCursor{.phase = SyncCursor::Phase::rest, .after = 12, .v0 = 8}).tombstones_after(), 12u);
}
