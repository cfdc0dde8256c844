// The page budget and the back-off on their own: pure arithmetic, no network, no clock.
#include <gtest/gtest.h>

#include "backoff.h"
#include "page_budget.h"

using namespace tundra::client;
using std::chrono::milliseconds;

namespace {
// A link of `bandwidth` bytes/s and `rtt` seconds: how long a reply of `bytes` takes.
struct ModelLink {
    double bandwidth, rtt;
    double seconds(uint64_t bytes) const { return rtt + static_cast<double>(bytes) / bandwidth; }
};

// Runs `pages` replies, each as large as the budget asked for.
void run(PageBudget& b, const ModelLink& link, int pages) {
    for (int i = 0; i < pages; ++i) b.on_reply(b.bytes(), link.seconds(b.bytes()), link.rtt);
}
}  // namespace

TEST(PageBudget, EstimatesBandwidthAndRoundTripApartAndSizesPagesFromTheirProduct) {
    // 96 kbit/s, 600 ms round trip: the slow distant link.
    ModelLink link{12000, 0.6};
    PageBudget b;
    run(b, link, 12);
    EXPECT_NEAR(b.state().bandwidth, link.bandwidth, link.bandwidth * 0.2);
    EXPECT_NEAR(b.state().rtt, link.rtt, link.rtt * 0.25);
    // A page's round trip is at most a small share of its transfer...
    double transfer = static_cast<double>(b.bytes()) / link.bandwidth;
    EXPECT_LE(link.rtt, 0.25 * transfer) << b.bytes();
    // ...and the page is not much more than the target asks for (a drop costs one page).
    EXPECT_LE(transfer, 2 * std::max(2.0, link.rtt / 0.2) + 0.5);
}

TEST(PageBudget, TinyRepliesDoNotMakeASlowDistantLinkLookSlower) {
    // Replies of 1 KB on a 300 ms link are nearly all round trip: the old controller took
    // 1 KB / 0.3 s for the throughput and asked for ever smaller pages.
    ModelLink link{12000, 0.6};
    PageBudget b;
    uint64_t first = b.bytes();
    for (int i = 0; i < 10; ++i) b.on_reply(1000, link.seconds(1000), i % 2 ? link.rtt : 0);
    EXPECT_GE(b.bytes(), first);
    EXPECT_EQ(b.state().bandwidth, 0) << "no bandwidth is learnt from round trips";
}

TEST(PageBudget, WithoutFirstByteTimesSmallRepliesTeachTheRoundTripAndLargeOnesTheRate) {
    ModelLink link{12000, 0.6};
    PageBudget b;
    b.on_reply(500, link.seconds(500));  // an incremental sync with nothing to fetch
    for (int i = 0; i < 10; ++i) b.on_reply(b.bytes(), link.seconds(b.bytes()));
    EXPECT_NEAR(b.state().rtt, link.rtt, 0.1);
    EXPECT_NEAR(b.state().bandwidth, link.bandwidth, link.bandwidth * 0.25);
}

TEST(PageBudget, ACutHalvesTheBudgetDownToTheFloorAndSuccessGrowsItBack) {
    PageBudgetConfig cfg;
    cfg.min_bytes = 2048;
    PageBudget b(cfg);
    uint64_t start = b.bytes();
    b.on_cut();
    EXPECT_EQ(b.bytes(), start / 2);
    for (int i = 0; i < 40; ++i) b.on_cut();
    EXPECT_EQ(b.bytes(), 2048u);
    ModelLink fast{10e6, 0.01};
    uint64_t prev = b.bytes();
    for (int i = 0; i < 5; ++i) {
        b.on_reply(b.bytes(), fast.seconds(b.bytes()));
        EXPECT_GT(b.bytes(), prev);
        prev = b.bytes();
    }
}

TEST(PageBudget, ALinkThatCutsAfterAFixedNumberOfBytesSettlesBelowIt) {
    // Each connection carries 16 KiB and is then cut; the budget must end up below that,
    // or no page ever arrives whole.
    const uint64_t cut = 16 * 1024;
    ModelLink link{1e6, 0.05};
    PageBudget b;
    uint64_t on_conn = 0;
    int delivered = 0, lost = 0;
    for (int i = 0; i < 400; ++i) {
        if (on_conn + b.bytes() > cut) {
            b.on_cut();
            on_conn = 0;
            ++lost;
            continue;
        }
        on_conn += b.bytes();
        b.on_reply(b.bytes(), link.seconds(b.bytes()));
        ++delivered;
    }
    EXPECT_GT(delivered, lost) << "most requests deliver a page";
    EXPECT_LT(b.bytes(), cut);
}

TEST(PageBudget, StateRoundTripsAndToleratesWhatOlderBuildsStored) {
    PageBudgetState s{65536, 32768, 12000.5, 0.6};
    auto back = PageBudgetState::decode(s.encode());
    EXPECT_EQ(back.budget, s.budget);
    EXPECT_EQ(back.ceiling, s.ceiling);
    EXPECT_NEAR(back.bandwidth, s.bandwidth, 0.1);
    EXPECT_NEAR(back.rtt, s.rtt, 0.001);
    EXPECT_EQ(PageBudgetState::decode("131072").budget, 131072u);  // a bare number (v2 replicas)
    EXPECT_EQ(PageBudgetState::decode("garbage").budget, 0u);
    EXPECT_EQ(PageBudget({}, PageBudgetState::decode("")).bytes(), PageBudgetConfig{}.initial_bytes);
}

TEST(PushBudget, HalvesAfterAFailedPushDownToOneAndDoublesBackToTheLimit) {
    PushBudget p(1000);
    EXPECT_EQ(p.actions(), 1000u);
    p.on_failure();
    EXPECT_EQ(p.actions(), 500u);
    for (int i = 0; i < 20; ++i) p.on_failure();
    EXPECT_EQ(p.actions(), 1u);
    p.on_success();
    EXPECT_EQ(p.actions(), 2u);
    for (int i = 0; i < 20; ++i) p.on_success();
    EXPECT_EQ(p.actions(), 1000u);
}

TEST(Backoff, ExponentialWithFullJitterCappedAndAtLeastRetryAfter) {
    EXPECT_EQ(backoff_delay(0, 0.0), milliseconds(0));
    EXPECT_EQ(backoff_delay(0, 1.0), milliseconds(250));
    EXPECT_EQ(backoff_delay(3, 1.0), milliseconds(2000));
    EXPECT_EQ(backoff_delay(30, 1.0), milliseconds(8000));
    EXPECT_EQ(backoff_delay(0, 0.5, milliseconds(3000)), milliseconds(3000));
}

TEST(Backoff, ARetryMustFitInWhatIsLeftOfTheDeadline) {
    EXPECT_TRUE(retry_fits(milliseconds(500), milliseconds(2000)));
    EXPECT_FALSE(retry_fits(milliseconds(1950), milliseconds(2000)));
    EXPECT_FALSE(retry_fits(milliseconds(0), milliseconds(0)));
    EXPECT_EQ(parse_retry_after("3"), milliseconds(3000));
    EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
    EXPECT_FALSE(parse_retry_after(""));
}
