// Issue 8, finding 8 (and 4's client side), with the real binaries: user administration by
// `tundra-server`, password changes that end tokens but keep device identities, revocation
// and remote wipe as the `tundra` CLI meets them, and a throttled login's message.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "loopback.h"
#include "process.h"
#include "tundra/core/json.h"
#include "tundra/sqlite/db.h"

using namespace tundra;
using namespace tundra::testing;

namespace {
struct Admin : ::testing::Test {
    TempDir dir;
    std::unique_ptr<ServerProcess> server;

    struct Run {
        int code = -1;
        std::string out, err;
    };
    Run run(const std::string& bin, const std::string& args, const std::string& input = "") {
        std::string in = dir.file("stdin"), out = dir.file("stdout"), err = dir.file("stderr");
        std::ofstream(in) << input;
        std::string cmd = "cd '" + dir.path.string() + "' && '" + bin + "' " + args + " < '" + in +
                          "' > '" + out + "' 2> '" + err + "'";
        int st = std::system(cmd.c_str());
        return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out), slurp(err)};
    }
    Run admin(const std::string& args, const std::string& input = "") {
        return run(TUNDRA_SERVER_BIN, args, input);
    }
    Run tundra(const std::string& replica, const std::string& args, const std::string& input = "") {
        return run(TUNDRA_CLI_BIN, "--replica " + replica + " " + args, input);
    }
    Run login(const std::string& replica, const std::string& user, const std::string& password) {
        return tundra(replica, "login --server " + server->url + " --username " + user + " --password-stdin",
                      password + "\n");
    }
    void start_demo() {
        ASSERT_EQ(admin("init --db s.db").code, 0);
        auto r = admin("demo-data --db s.db --data '" + std::string(TUNDRA_DATA_DIR) + "'");
        ASSERT_EQ(r.code, 0) << r.err;
        server = std::make_unique<ServerProcess>(dir.file("s.db"), dir.file("server.log"));
    }
    // One value from the server's store (read-only, beside the running server).
    std::string query(const std::string& sql) {
        auto db = sqlite::Db::open(dir.file("s.db"));
        EXPECT_TRUE(db);
        if (!db) return {};
        auto q = db.value()->query(sql);
        auto r = q->step();
        return r && r.value() ? q->text(0) : std::string();
    }
    std::string status_field(const std::string& replica, const char* key) {
        rapidjson::Document d;
        d.Parse(tundra(replica, "status --json").out.c_str());
        if (d.HasParseError() || !d.HasMember(key)) return {};
        auto& v = d[key];
        return v.IsString() ? v.GetString() : v.IsInt() ? std::to_string(v.GetInt()) : std::string();
    }
    std::string expected_actor() {
        if (const char* user = std::getenv("USER"); user && *user) return std::string("cli:") + user;
        if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_name) return std::string("cli:") + pw->pw_name;
        return "cli:uid-" + std::to_string(::geteuid());
    }
};
}  // namespace

TEST_F(Admin, TheFirstAdminOfAFreshStoreNeedsNoImportFile) {
    ASSERT_EQ(admin("init --db s.db").code, 0);
    auto add = admin("add-user --db s.db boss --role admin --password-stdin", "boss-secret-1\n");
    ASSERT_EQ(add.code, 0) << add.err;
    EXPECT_EQ(add.out, "added user boss (admin)\n");
    EXPECT_NE(admin("add-user --db s.db boss --role admin --password-stdin", "boss-secret-2\n").code, 0);
    EXPECT_NE(admin("add-user --db s.db short --role admin --password-stdin", "short\n").code, 0);
    EXPECT_EQ(query("SELECT actor || ' ' || operation || ' ' || target || ' ' || detail FROM audit_log"),
              expected_actor() + R"( add-user boss {"role":"admin"})");
    server = std::make_unique<ServerProcess>(dir.file("s.db"), dir.file("server.log"));
    auto in = login("boss.db", "boss", "boss-secret-1");
    ASSERT_EQ(in.code, 0) << in.err;
    EXPECT_EQ(in.out.rfind("logged in as boss (admin)", 0), 0u) << in.out;
    // The password is nowhere in the store, its log or the audit trail: only its hash.
    server->stop();
    for (auto* f : {"s.db", "s.db-wal"}) EXPECT_EQ(slurp(dir.file(f)).find("boss-secret-1"), std::string::npos) << f;
}

TEST_F(Admin, SetPasswordEndsTheOldTokenAndTheDeviceKeepsItsIdentityAndAppliesNothingTwice) {
    ASSERT_NO_FATAL_FAILURE(start_demo());
    ASSERT_EQ(login("anna.db", "anna", "tundra-demo").code, 0);
    ASSERT_EQ(tundra("anna.db", "sync").code, 0);
    auto e = tundra("anna.db", "enrol o-sam-1 --json");
    ASSERT_EQ(e.code, 0) << e.err;
    ASSERT_EQ(tundra("anna.db", "sync").code, 0);
    std::string device = status_field("anna.db", "device");
    ASSERT_FALSE(device.empty());
    rapidjson::Document rec;
    rec.Parse(e.out.c_str());
    ASSERT_TRUE(rec.IsObject() && rec.HasMember("enrolment")) << e.out;
    std::string enrolment = rec["enrolment"].GetString();
    ASSERT_EQ(tundra("anna.db", "cancel " + enrolment).code, 0);  // queued, not yet sent

    auto set = admin("set-password --db s.db anna --password-stdin", "a-new-secret\n");
    ASSERT_EQ(set.code, 0) << set.err;
    EXPECT_NE(set.out.find("ended 1 token"), std::string::npos) << set.out;
    auto stale = tundra("anna.db", "sync");
    EXPECT_EQ(stale.code, 1);
    EXPECT_NE(stale.err.find("error: unauthorized:"), std::string::npos) << stale.err;
    EXPECT_NE(stale.err.find("password was changed"), std::string::npos) << stale.err;
    EXPECT_EQ(status_field("anna.db", "pending"), "1");
    EXPECT_EQ(login("anna.db", "anna", "tundra-demo").code, 1) << "the old password is gone";
    auto back = login("anna.db", "anna", "a-new-secret");
    ASSERT_EQ(back.code, 0) << back.err;
    EXPECT_NE(back.out.find("device " + device), std::string::npos) << back.out;
    auto s = tundra("anna.db", "sync --json");
    ASSERT_EQ(s.code, 0) << s.err;
    EXPECT_EQ(query("SELECT count(*) FROM applied_actions WHERE device = '" + device + "'"), "2");
    EXPECT_EQ(query("SELECT count(*) FROM enrolments WHERE person = 'p-arjeplog-hemtjanst-1' AND occasion = 'o-sam-1'"), "1");
    EXPECT_EQ(query("SELECT status FROM enrolments WHERE id = '" + enrolment + "'"), "cancelled");
    EXPECT_EQ(query("SELECT count(*) FROM devices WHERE username = 'anna'"), "1");
    EXPECT_EQ(query("SELECT operation || ' ' || target FROM audit_log ORDER BY id DESC LIMIT 1"), "set-password anna");
}

TEST_F(Admin, ARevokedUserCanNoLongerLogInAndEveryDeviceWipes) {
    ASSERT_NO_FATAL_FAILURE(start_demo());
    ASSERT_EQ(login("a.db", "anna", "tundra-demo").code, 0);
    ASSERT_EQ(tundra("a.db", "sync").code, 0);
    auto rv = admin("revoke-user --db s.db anna");
    ASSERT_EQ(rv.code, 0) << rv.err;
    EXPECT_NE(rv.out.find("1 device"), std::string::npos) << rv.out;
    auto s = tundra("a.db", "sync");
    EXPECT_EQ(s.code, 1);
    EXPECT_EQ(s.err, "error: revoked: this device was revoked: synced data wiped; no unsent actions\n");
    EXPECT_EQ(login("a.db", "anna", "tundra-demo").err.rfind("error: revoked:", 0), 0u);
    auto fresh = login("b.db", "anna", "tundra-demo");
    EXPECT_EQ(fresh.code, 1);
    EXPECT_EQ(fresh.err, "error: revoked: this user was revoked by an admin\n");
    EXPECT_EQ(login("c.db", "anna", "wrong-password").err, "error: unauthorized: wrong username or password\n");
    EXPECT_EQ(query("SELECT count(*) FROM devices WHERE username = 'anna'"), "1");
    EXPECT_EQ(query("SELECT operation FROM audit_log ORDER BY id DESC LIMIT 1"), "revoke-user");
}

TEST_F(Admin, ARevokedDeviceIsToldRevokedWipesItsSyncedDataAndKeepsItsQueuedActions) {
    ASSERT_NO_FATAL_FAILURE(start_demo());
    ASSERT_EQ(login("c.db", "coord.arjeplog", "tundra-demo").code, 0);
    ASSERT_EQ(tundra("c.db", "sync").code, 0);
    std::string name = query("SELECT name FROM persons WHERE id = 'p-arjeplog-hemtjanst-2'");
    ASSERT_FALSE(name.empty());
    auto replica_bytes = [&] { return slurp(dir.file("c.db")) + slurp(dir.file("c.db-wal")); };
    ASSERT_NE(replica_bytes().find(name), std::string::npos) << "the synced data is there before";
    for (int k = 1; k <= 3; ++k)
        ASSERT_EQ(tundra("c.db", "attendance mark o-sam-1 p-arjeplog-hemtjanst-" + std::to_string(k) + " present").code, 0);
    std::string device = status_field("c.db", "device");
    auto rv = admin("revoke-device --db s.db " + device);
    ASSERT_EQ(rv.code, 0) << rv.err;

    auto s = tundra("c.db", "sync");
    EXPECT_EQ(s.code, 1);
    EXPECT_EQ(s.err,
              "error: revoked: this device was revoked: synced data wiped; 3 unsent actions kept — "
              "export with `tundra logout --export FILE`\n");
    EXPECT_EQ(status_field("c.db", "pending"), "3");
    EXPECT_EQ(replica_bytes().find(name), std::string::npos) << "a synced name is left in the replica";
    EXPECT_EQ(query("SELECT count(*) FROM attendance WHERE device = '" + device + "'"), "0");
    // The same replica cannot come back as a new device: the login names the revoked one.
    auto again = login("c.db", "coord.arjeplog", "tundra-demo");
    EXPECT_EQ(again.code, 1);
    EXPECT_EQ(again.err.rfind("error: revoked:", 0), 0u) << again.err;
    EXPECT_EQ(status_field("c.db", "pending"), "3");
    EXPECT_EQ(query("SELECT count(*) FROM devices WHERE username = 'coord.arjeplog'"), "1");
    EXPECT_EQ(query("SELECT actor || ' ' || operation || ' ' || target FROM audit_log ORDER BY id DESC LIMIT 1"),
              expected_actor() + " revoke-device " + device);
}

TEST_F(Admin, AThrottledLoginSaysHowLongToWaitAndImportsAreAudited) {
    ASSERT_NO_FATAL_FAILURE(start_demo());
    EXPECT_EQ(query("SELECT operation FROM audit_log ORDER BY id LIMIT 1"), "demo-data");
    for (int i = 0; i < 6; ++i) EXPECT_EQ(login("x.db", "anna", "guess-" + std::to_string(i)).code, 1);
    auto r = login("x.db", "anna", "tundra-demo");
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err.rfind("error: rate_limited: too many failed logins; try again in ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.substr(r.err.size() - 3), " s\n") << r.err;
    // The failures were counted for the client's address too, as the server saw it.
    EXPECT_EQ(query("SELECT failures FROM login_throttle WHERE key = 'addr:127.0.0.1'"), "6");
}
