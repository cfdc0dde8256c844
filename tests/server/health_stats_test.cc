// Issue 12, operations: the store's gauges behind /metrics (SqlStore::health_stats): devices
// seen in the last day, devices not seen for 14 days (or never, made that long ago), the
// store's size — on both backends (the size is each backend's own query).
#include "fixture.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
constexpr int64_t kDayMs = 86400'000;

struct HealthStats : StoreFixture {
    std::string new_device() {
        LoginRequest req;
        req.username = "anna";
        req.password = "password1";
        req.device_name = "Surfplatta";
        auto r = store->login(req, "192.0.2.10");
        EXPECT_TRUE(r) << r.status().to_string();
        return r ? r->device_id : "";
    }
    void seen(const std::string& device, std::optional<int64_t> ms, const std::string& created_at) {
        auto q = store->db().query("UPDATE devices SET last_seen_ms = ?, created_at = ? WHERE id = ?");
        if (ms) q->bind(1, *ms);
        else q->bind(1, nullptr);
        q->bind(2, created_at).bind(3, device);
        ASSERT_TRUE(q->run());
    }
};
}  // namespace

TEST_P(HealthStats, CountsActiveAndStaleTabletsAndTheStoresSize) {
    const int64_t t = static_cast<int64_t>(now);
    const std::string long_ago = format_iso8601(t - 30 * kDayMs);
    auto active = new_device(), stale = new_device(), never = new_device(), revoked = new_device(),
         recent = new_device();
    seen(active, t - 3'600'000, long_ago);       // an hour ago: active
    seen(stale, t - 20 * kDayMs, long_ago);      // 20 days ago: stale
    seen(never, std::nullopt, long_ago);         // never synced, made 30 days ago: stale
    seen(revoked, t - 20 * kDayMs, long_ago);    // revoked: neither
    seen(recent, t - 3 * kDayMs, long_ago);      // three days ago: neither
    ASSERT_TRUE(store->revoke_device(revoked));
    // The console's own device of a user is no tablet.
    auto console = store->db().query(
        "INSERT INTO devices (id, username, name, token_hash, token_expires_ms, created_at, last_seen_ms) "
        "VALUES ('console:admin', 'admin', 'Konsol', 'console-no-token', 0, ?, ?)");
    console->bind(1, long_ago).bind(2, t);
    ASSERT_TRUE(console->run());

    auto h = store->health_stats();
    ASSERT_TRUE(h) << h.status().to_string();
    EXPECT_EQ(h->active_devices, 1);
    EXPECT_EQ(h->stale_devices, 2);
    EXPECT_GT(h->store_bytes, 0);
}

TUNDRA_STORE_BACKENDS(HealthStats);
