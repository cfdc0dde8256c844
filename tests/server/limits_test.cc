// Issue 8, finding 11: what one device may store is bounded: each field (ids, text, lists) and
// each day (actions and bytes per device). A refusal is an outcome, so a device's queue moves
// on; the counts live in the store.
#include "fixture.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
constexpr uint64_t kDay = 24 * 3600'000ULL;

struct Limits : StoreFixture {
    uint64_t seq = 0;
    void reopen(int64_t actions, int64_t bytes) {
        store.reset();
        StoreOptions o;
        o.kdf_iterations = 1000;
        o.wall = [this] { return now; };
        o.device_daily_actions = actions;
        o.device_daily_bytes = bytes;
        auto s = SqlStore::open(target, o);
        ASSERT_TRUE(s) << s.status().to_string();
        store = std::move(s.value());
    }
    Row deviation(const std::string& id, std::string description) {
        return {{"deviation", id}, {"organisation", "arjeplog"}, {"category", "other"},
                {"description", std::move(description)}};
    }
    std::vector<Outcome> push(const AuthContext& w, const std::vector<Row>& rows) {
        SyncRequest req;
        for (auto& r : rows) req.actions.push_back(Action{++seq, Hlc::from_parts(now, 0), "log_deviation", r});
        auto r = store->sync(w, req);
        EXPECT_TRUE(r) << r.status().to_string();
        return r ? r->outcomes : std::vector<Outcome>{};
    }
};
}  // namespace

TEST_P(Limits, AnOversizedFieldIsAnInvalidOutcomeAndNothingIsStored) {
    auto admin = store->authenticate(login("admin")).value();
    std::string umlauts;
    for (int i = 0; i < 4000; ++i) umlauts += "ö";  // 4,000 characters: the most allowed
    auto out = push(admin, {deviation("d1", std::string(4001, 'x')), deviation(std::string(101, 'd'), "x"),
                            deviation("d3", umlauts)});
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].reason, "invalid");
    EXPECT_NE(out[0].message.find("action.description"), std::string::npos) << out[0].message;
    EXPECT_NE(out[0].message.find("4000 characters"), std::string::npos) << out[0].message;
    EXPECT_EQ(out[1].reason, "invalid");
    EXPECT_NE(out[1].message.find("100 bytes"), std::string::npos) << out[1].message;
    EXPECT_EQ(out[2].result, OutcomeResult::applied) << out[2].message;
    EXPECT_EQ(scalar("SELECT count(*) FROM deviations"), 1);
}

TEST_P(Limits, ADeviceBeyondItsDailyQuotaIsRefusedUntilTheNextDay) {
    reopen(3, 1 << 20);
    auto admin = store->authenticate(login("admin")).value();
    auto out = push(admin, {deviation("d1", "a"), deviation("d2", "b"), deviation("d3", "c"),
                            deviation("d4", "d")});
    ASSERT_EQ(out.size(), 4u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(out[i].result, OutcomeResult::applied) << i;
    EXPECT_EQ(out[3].result, OutcomeResult::rejected);
    EXPECT_EQ(out[3].reason, "quota_exceeded") << out[3].message;
    EXPECT_EQ(scalar("SELECT count(*) FROM deviations"), 3);
    // A refusal does not count; another device has its own allowance; tomorrow is a new day.
    auto other = store->authenticate(login("admin")).value();
    EXPECT_EQ(push(other, {deviation("d5", "e")})[0].result, OutcomeResult::applied);
    now += kDay;
    EXPECT_EQ(push(admin, {deviation("d6", "f")})[0].result, OutcomeResult::applied);
}

TEST_P(Limits, TheDailyQuotaCountsBytes) {
    reopen(1000, 6000);
    auto admin = store->authenticate(login("admin")).value();
    auto out = push(admin, {deviation("d1", std::string(2500, 'x')), deviation("d2", std::string(2500, 'y')),
                            deviation("d3", std::string(2500, 'z')), deviation("d4", "small")});
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[0].result, OutcomeResult::applied);
    EXPECT_EQ(out[1].result, OutcomeResult::applied);
    EXPECT_EQ(out[2].reason, "quota_exceeded");
    EXPECT_EQ(out[3].result, OutcomeResult::applied) << "a small action still fits";
    EXPECT_EQ(scalar("SELECT bytes > 5000 AND bytes <= 6000 FROM action_quota"), 1);
}

TUNDRA_STORE_BACKENDS(Limits);
