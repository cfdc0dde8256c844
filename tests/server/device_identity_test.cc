// Issue 10: a login tells which tablet the device identity runs on (its install id, shared by
// every person's identity on that tablet) and the app's version; the store keeps both on the
// device row, and a later login from the same identity updates them.
#include "fixture.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
struct DeviceIdentity : StoreFixture {
    Result<LoginResponse> login_with(const std::string& user, const std::string& device_id,
                                     const std::string& install_id, const std::string& app_version) {
        LoginRequest req;
        req.username = user;
        req.password = "password1";
        req.device_name = "Surfplatta 3";
        req.device_id = device_id;
        req.install_id = install_id;
        req.app_version = app_version;
        return store->login(req, "192.0.2.10");
    }
    // install_id and app_version of a device, "-" for NULL.
    std::pair<std::string, std::string> identity(const std::string& device) {
        auto q = store->db().query(
            "SELECT coalesce(install_id, '-'), coalesce(app_version, '-') FROM devices WHERE id = ?");
        q->bind(1, device);
        auto r = q->step();
        EXPECT_TRUE(r && r.value()) << device;
        return r && r.value() ? std::pair{q->text(0), q->text(1)} : std::pair<std::string, std::string>{};
    }
};
}  // namespace

TEST_P(DeviceIdentity, ANewDeviceKeepsItsTabletAndAppVersion) {
    auto r = login_with("anna", "", "inst-7f3a", "0.10.0");
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(identity(r->device_id), (std::pair<std::string, std::string>{"inst-7f3a", "0.10.0"}));
}

TEST_P(DeviceIdentity, ALaterLoginUpdatesWhatItTellsAndKeepsWhatItLeavesOut) {
    auto first = login_with("anna", "", "inst-7f3a", "0.10.0");
    ASSERT_TRUE(first) << first.status().to_string();
    auto upgraded = login_with("anna", first->device_id, "inst-7f3a", "0.11.0");
    ASSERT_TRUE(upgraded) << upgraded.status().to_string();
    EXPECT_EQ(upgraded->device_id, first->device_id);  // resumed, not a new identity
    EXPECT_EQ(identity(first->device_id), (std::pair<std::string, std::string>{"inst-7f3a", "0.11.0"}));
    // An older client (the CLI) tells neither: what the app said stays.
    auto cli = login_with("anna", first->device_id, "", "");
    ASSERT_TRUE(cli) << cli.status().to_string();
    EXPECT_EQ(identity(first->device_id), (std::pair<std::string, std::string>{"inst-7f3a", "0.11.0"}));
}

TEST_P(DeviceIdentity, ALoginThatTellsNothingStoresNull) {
    auto r = login_with("anna", "", "", "");
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(identity(r->device_id), (std::pair<std::string, std::string>{"-", "-"}));
}

TEST_P(DeviceIdentity, EveryPersonOnOneTabletIsFoundByTheInstallId) {
    auto anna = login_with("anna", "", "inst-shared", "0.10.0");
    auto admin = login_with("admin", "", "inst-shared", "0.10.0");
    auto other = login_with("anna", "", "inst-other", "0.10.0");
    ASSERT_TRUE(anna && admin && other);
    EXPECT_EQ(scalar("SELECT count(*) FROM devices WHERE install_id = 'inst-shared'"), 2);
    // The plan uses the index. PostgreSQL would scan a table this small whatever the indexes,
    // so there the question is whether the index can serve the lookup at all.
    const bool sqlite = backend() == sql::Backend::sqlite;
    if (!sqlite) {
        ASSERT_TRUE(store->db().exec("SET enable_seqscan = off"));
    }
    auto plan = store->db().query(std::string(sqlite ? "EXPLAIN QUERY PLAN" : "EXPLAIN") +
                                  " SELECT id FROM devices WHERE install_id = 'inst-shared'");
    std::string detail;
    while (plan->step().value()) detail += plan->text(sqlite ? 3 : 0) + "\n";
    if (!sqlite) {
        ASSERT_TRUE(store->db().exec("RESET enable_seqscan"));
    }
    EXPECT_NE(detail.find("devices_install_id"), std::string::npos) << detail;
}

TEST_P(DeviceIdentity, TheLoginRouteStoresWhatTheAppSends) {
    auto resp = post("/v1/login",
                     R"({"protocol":1,"username":"anna","password":"password1","install_id":"inst-9","app_version":"1.2.3"})");
    ASSERT_EQ(resp.status, 200) << resp.body;
    auto d = decode_login_response(resp.body);
    ASSERT_TRUE(d);
    EXPECT_EQ(identity(d->device_id), (std::pair<std::string, std::string>{"inst-9", "1.2.3"}));
}

TUNDRA_STORE_BACKENDS(DeviceIdentity);
