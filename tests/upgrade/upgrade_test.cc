// Upgrades (issue 12, item 5), with the real binaries of this build and of the previous
// release (v0.11, built from git history by scripts/previous-release.sh, cached per machine):
//   - a store and replicas written by the previous release open with this one, migrate, and the
//     previous CLI's devices keep syncing incrementally (their c2 cursors still decode: no full
//     re-download) with their queued actions applied once;
//   - the previous CLI logs in and syncs against this server from scratch;
//   - a replica written by the previous CLI opens with this CLI (migrations) and syncs on.
// Without the previous release (no git history, no compiler) every test here FAILS, naming why.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tundra/core/json.h"
#include "tundra/sqlite/db.h"

using namespace tundra;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The previous release's binaries: scripts/previous-release.sh prints their folder (building
// them the first time on this machine; the ctest fixture Upgrade.PreviousReleaseBuilt does that
// before these tests run).
struct Previous {
    bool ok = false;
    std::string server, cli, error;
};
const Previous& previous() {
    static const Previous p = [] {
        Previous r;
        std::string err = fs::temp_directory_path() / ("tundra-previous-" + std::to_string(::getpid()) + ".err");
        std::string cmd = std::string("bash '") + TUNDRA_PREVIOUS_RELEASE_SCRIPT + "' 2> '" + err + "'";
        FILE* f = ::popen(cmd.c_str(), "r");
        std::string out;
        char buf[512];
        while (f && std::fgets(buf, sizeof buf, f)) out += buf;
        int st = f ? ::pclose(f) : -1;
        std::string diag = slurp(err);
        fs::remove(err);
        while (!out.empty() && out.back() == '\n') out.pop_back();
        std::string dir = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
        if (st != 0 || dir.empty()) {
            r.error = "scripts/previous-release.sh could not provide the previous release (exit " +
                      std::to_string(WIFEXITED(st) ? WEXITSTATUS(st) : -1) + "): " + diag;
            return r;
        }
        r.server = dir + "/tundra-server";
        r.cli = dir + "/tundra";
        r.ok = ::access(r.server.c_str(), X_OK) == 0 && ::access(r.cli.c_str(), X_OK) == 0;
        if (!r.ok) r.error = "no executable tundra and tundra-server in " + dir;
        return r;
    }();
    return p;
}

// `<bin> serve` on 127.0.0.1 (port 0: the OS picks one), as tests/e2e/process.h does for this
// build's server, for either release's binary.
class Server {
public:
    Server(const std::string& bin, const std::string& db, const std::string& log,
           const std::string& listen = "127.0.0.1:0") {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(fds[1], 1);
            int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            ::dup2(err, 2);
            ::close(fds[0]);
            std::vector<const char*> argv = {bin.c_str(), "serve", "--db", db.c_str(), "--listen", listen.c_str(),
                                             nullptr};
            ::execv(bin.c_str(), const_cast<char* const*>(argv.data()));
            ::_exit(127);
        }
        ::close(fds[1]);
        FILE* f = ::fdopen(fds[0], "r");
        char line[256] = {};
        bool got = std::fgets(line, sizeof line, f) != nullptr;
        std::fclose(f);
        std::string first = got ? line : "";
        const std::string prefix = "listening on ";
        if (first.rfind(prefix, 0) != 0) throw std::runtime_error(bin + " serve: " + first + slurp(log));
        url = first.substr(prefix.size());
        while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
    }
    ~Server() { stop(); }
    int stop() {
        if (pid_ <= 0) return -1;
        ::kill(pid_, SIGTERM);
        int st = 0;
        ::waitpid(pid_, &st, 0);
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    std::string address() const { return url.substr(url.find("://") + 3); }  // 127.0.0.1:PORT
    std::string url;

private:
    pid_t pid_ = -1;
};

struct CmdRun {
    int code = -1;
    std::string out, err;
};

struct Upgrade : ::testing::Test {
    fs::path dir;
    const std::string new_server = TUNDRA_SERVER_BIN, new_cli = TUNDRA_CLI_BIN;
    std::string old_server, old_cli;

    void SetUp() override {
        const Previous& p = previous();
        ASSERT_TRUE(p.ok) << p.error;
        old_server = p.server;
        old_cli = p.cli;
        char tmpl[] = "/tmp/tundra-upgrade-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
    }
    void TearDown() override {
        if (!dir.empty() && !HasFailure()) fs::remove_all(dir);
        if (HasFailure()) std::cerr << "kept " << dir << " for inspection\n";
    }
    std::string file(const std::string& name) const { return (dir / name).string(); }

    CmdRun run(const std::string& bin, const std::string& args, const std::string& input = "") {
        std::string in = file("stdin"), out = file("stdout"), err = file("stderr");
        std::ofstream(in) << input;
        std::string cmd = "cd '" + dir.string() + "' && '" + bin + "' " + args + " < '" + in + "' > '" + out +
                          "' 2> '" + err + "'";
        int st = std::system(cmd.c_str());
        return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out), slurp(err)};
    }
    void make_demo_store(const std::string& server_bin) {
        ASSERT_EQ(run(server_bin, "init --db s.db").code, 0);
        auto r = run(server_bin, std::string("demo-data --db s.db --data '") + TUNDRA_DATA_DIR + "'");
        ASSERT_EQ(r.code, 0) << r.err;
    }
    void login(const std::string& cli, const std::string& replica, const std::string& user, const Server& s) {
        std::string password = user == "admin" ? "tundra-admin" : "tundra-demo";
        auto r = run(cli, "--replica " + replica + " login --server " + s.url + " --username " + user +
                              " --password-stdin",
                     password + "\n");
        ASSERT_EQ(r.code, 0) << r.out << r.err;
    }
    rapidjson::Document cli_json(const std::string& cli, const std::string& replica, const std::string& args) {
        auto r = run(cli, "--replica " + replica + " " + args + " --json");
        EXPECT_EQ(r.code, 0) << args << ": " << r.out << r.err;
        rapidjson::Document d;
        d.Parse(r.out.c_str());
        EXPECT_FALSE(d.HasParseError()) << args << ": " << r.out << r.err;
        if (d.HasParseError()) d.SetObject();
        return d;
    }
    // One value from a SQLite file (a store or a replica), read beside its owner.
    std::string query(const std::string& db_file, const std::string& sql) {
        auto db = sqlite::Db::open(file(db_file));
        EXPECT_TRUE(db) << db_file;
        if (!db) return {};
        auto q = db.value()->query(sql);
        auto r = q->step();
        return r && r.value() ? q->text(0) : std::string();
    }
    int64_t user_version(const std::string& db_file) {
        auto db = sqlite::Db::open(file(db_file));
        EXPECT_TRUE(db) << db_file;
        return db ? db.value()->user_version() : -1;
    }
    static int64_t num(const rapidjson::Value& v, const char* key) {
        return v.IsObject() && v.HasMember(key) && v[key].IsInt64() ? v[key].GetInt64() : -1;
    }
    static bool flag(const rapidjson::Value& v, const char* key) {
        return v.IsObject() && v.HasMember(key) && v[key].IsBool() && v[key].GetBool();
    }
    static std::string outcome(const rapidjson::Document& sync, size_t i) {
        if (!sync.IsObject() || !sync.HasMember("outcomes") || !sync["outcomes"].IsArray() ||
            sync["outcomes"].Size() <= i)
            return "(no outcome)";
        return sync["outcomes"][static_cast<rapidjson::SizeType>(i)]["result"].GetString();
    }
    // The schema version this build's store and replica have: fresh ones made by this build.
    int64_t current_store_version() {
        EXPECT_EQ(run(new_server, "init --db fresh.db").code, 0);
        return user_version("fresh.db");
    }
    // (The CLI makes a replica only at login.)
    int64_t current_replica_version(const Server& s) {
        login(new_cli, "fresh-replica.db", "admin", s);
        return user_version("fresh-replica.db");
    }
};

// The previous release's devices, offline with queued actions, meet the upgraded server.
TEST_F(Upgrade, PreviousStoreMigratesAndPreviousDevicesSyncOnIncrementally) {
    ASSERT_NO_FATAL_FAILURE(make_demo_store(old_server));
    const int64_t old_version = user_version("s.db");
    std::string address;
    int64_t anna_rows = 0, coord_rows = 0;
    {
        Server v11(old_server, file("s.db"), file("server.log"));
        address = v11.address();
        ASSERT_NO_FATAL_FAILURE(login(old_cli, "anna.db", "anna", v11));
        ASSERT_NO_FATAL_FAILURE(login(old_cli, "coord.db", "coord.arjeplog", v11));
        auto a = cli_json(old_cli, "anna.db", "sync");
        auto c = cli_json(old_cli, "coord.db", "sync");
        anna_rows = num(a, "pulled");
        coord_rows = num(c, "pulled");
        ASSERT_GT(anna_rows, 10) << "the first sync is a full pull";
        ASSERT_GT(coord_rows, 10);
        EXPECT_EQ(v11.stop(), 0);
    }
    // The previous release's cursors are c2.
    EXPECT_EQ(query("anna.db", "SELECT value FROM meta WHERE key = 'cursor'").rfind("c2.", 0), 0u);

    // Offline with the previous CLI: Anna enrols, the coordinator marks her present.
    ASSERT_EQ(run(old_cli, "--replica anna.db enrol o-sam-1").code, 0);
    ASSERT_EQ(run(old_cli, "--replica coord.db attendance mark o-sam-1 p-arjeplog-hemtjanst-1 present --minutes 170")
                  .code,
              0);

    // The upgrade: this build's server on the same store and address.
    Server v12(new_server, file("s.db"), file("server.log"), address);
    EXPECT_EQ(user_version("s.db"), current_store_version()) << "migrated from v" << old_version;

    auto a1 = cli_json(old_cli, "anna.db", "sync");
    EXPECT_FALSE(flag(a1, "reset")) << "the c2 cursor must still decode";
    EXPECT_EQ(num(a1, "pushed"), 1);
    EXPECT_EQ(outcome(a1, 0), "applied");
    EXPECT_LT(num(a1, "pulled"), anna_rows / 10) << "no full re-download";
    auto c1 = cli_json(old_cli, "coord.db", "sync");
    EXPECT_FALSE(flag(c1, "reset"));
    EXPECT_EQ(num(c1, "pushed"), 1);
    EXPECT_EQ(outcome(c1, 0), "applied");
    EXPECT_GE(num(c1, "pulled"), 1) << "Anna's enrolment reaches her coordinator";
    EXPECT_LT(num(c1, "pulled"), coord_rows / 10);

    // Again: nothing to push, no reset; each action is in the store once.
    for (const char* replica : {"anna.db", "coord.db"}) {
        auto again = cli_json(old_cli, replica, "sync");
        EXPECT_FALSE(flag(again, "reset")) << replica;
        EXPECT_EQ(num(again, "pushed"), 0) << replica;
        auto v = cli_json(old_cli, replica, "verify");
        EXPECT_TRUE(flag(v, "ok")) << replica;
        EXPECT_FALSE(flag(v, "repaired")) << replica;
    }
    EXPECT_EQ(query("s.db", "SELECT count(*) FROM enrolments WHERE occasion = 'o-sam-1' AND "
                            "person = 'p-arjeplog-hemtjanst-1'"),
              "1");
    EXPECT_EQ(query("s.db", "SELECT count(*) FROM attendance WHERE occasion = 'o-sam-1' AND "
                            "person = 'p-arjeplog-hemtjanst-1'"),
              "1");
    EXPECT_EQ(query("s.db", "SELECT count(*) FROM applied_actions WHERE device IN "
                            "(SELECT id FROM devices WHERE username IN ('anna', 'coord.arjeplog'))"),
              "2");
    EXPECT_EQ(v12.stop(), 0);
}

// A device with the previous CLI starts from nothing against the upgraded server.
TEST_F(Upgrade, PreviousCliLogsInAndSyncsAgainstTheNewServer) {
    ASSERT_NO_FATAL_FAILURE(make_demo_store(new_server));
    Server v12(new_server, file("s.db"), file("server.log"));
    ASSERT_NO_FATAL_FAILURE(login(old_cli, "anna.db", "anna", v12));
    auto first = cli_json(old_cli, "anna.db", "sync");
    EXPECT_GT(num(first, "pulled"), 10);
    ASSERT_EQ(run(old_cli, "--replica anna.db enrol o-sam-1").code, 0);
    auto second = cli_json(old_cli, "anna.db", "sync");
    EXPECT_EQ(num(second, "pushed"), 1);
    EXPECT_EQ(outcome(second, 0), "applied");
    EXPECT_FALSE(flag(second, "reset"));
    auto v = cli_json(old_cli, "anna.db", "verify");
    EXPECT_TRUE(flag(v, "ok"));
    EXPECT_FALSE(flag(v, "repaired"));

    // The same person on this build's CLI holds the same rows.
    ASSERT_NO_FATAL_FAILURE(login(new_cli, "anna-new.db", "anna", v12));
    auto mine = cli_json(new_cli, "anna-new.db", "verify");
    EXPECT_TRUE(flag(mine, "ok"));
    ASSERT_TRUE(v.IsObject() && v.HasMember("local") && mine.IsObject() && mine.HasMember("local"));
    EXPECT_EQ(num(v["local"], "count"), num(mine["local"], "count"));
    EXPECT_STREQ(v["local"]["hash"].GetString(), mine["local"]["hash"].GetString());
    EXPECT_EQ(v12.stop(), 0);
}

// A replica written by the previous CLI, with a queued action, opens with this CLI.
TEST_F(Upgrade, PreviousReplicaOpensWithTheNewCliAndSyncsOn) {
    ASSERT_NO_FATAL_FAILURE(make_demo_store(old_server));
    std::string address;
    int64_t rows = 0;
    {
        Server v11(old_server, file("s.db"), file("server.log"));
        address = v11.address();
        ASSERT_NO_FATAL_FAILURE(login(old_cli, "anna.db", "anna", v11));
        rows = num(cli_json(old_cli, "anna.db", "sync"), "pulled");
        ASSERT_GT(rows, 10);
        EXPECT_EQ(v11.stop(), 0);
    }
    ASSERT_EQ(run(old_cli, "--replica anna.db enrol o-sam-1").code, 0);
    const int64_t old_version = user_version("anna.db");

    Server v12(new_server, file("s.db"), file("server.log"), address);
    // Opening migrates; the queued action, the login and the cursor survive.
    auto st = cli_json(new_cli, "anna.db", "status");
    EXPECT_EQ(user_version("anna.db"), current_replica_version(v12)) << "migrated from v" << old_version;
    EXPECT_EQ(num(st, "pending"), 1);
    ASSERT_TRUE(st.IsObject() && st.HasMember("user") && st["user"].IsString() && st.HasMember("device") &&
                st["device"].IsString());
    EXPECT_STREQ(st["user"].GetString(), "anna");
    EXPECT_EQ(std::string(st["device"].GetString()).rfind("dev-", 0), 0u);
    auto s = cli_json(new_cli, "anna.db", "sync");
    EXPECT_FALSE(flag(s, "reset"));
    EXPECT_EQ(num(s, "pushed"), 1);
    EXPECT_EQ(outcome(s, 0), "applied");
    EXPECT_LT(num(s, "pulled"), rows / 10) << "no full re-download";
    auto v = cli_json(new_cli, "anna.db", "verify");
    EXPECT_TRUE(flag(v, "ok"));
    EXPECT_FALSE(flag(v, "repaired"));
    EXPECT_EQ(query("s.db", "SELECT count(*) FROM enrolments WHERE occasion = 'o-sam-1' AND "
                            "person = 'p-arjeplog-hemtjanst-1'"),
              "1");
    EXPECT_EQ(v12.stop(), 0);
}

}  // namespace
