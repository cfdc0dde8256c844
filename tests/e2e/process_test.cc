// The real binaries: a tundra-server process on 127.0.0.1:0 and the tundra CLI, as a user
// runs them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "loopback.h"
#include "process.h"
#include "tundra/core/json.h"
#include "tundra/sqlite/db.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

using namespace tundra;
using namespace tundra::testing;

namespace {
struct Cli : ::testing::Test {
    TempDir dir;
    std::unique_ptr<ServerProcess> server;

    CmdResult run(const std::string& bin, const std::string& args, const std::string& input = "") {
        return run_command(dir.path.string(), "'" + bin + "' " + args, input);
    }
    CmdResult tundra(const std::string& replica, const std::string& args, const std::string& input = "") {
        return run(TUNDRA_CLI_BIN, "--replica " + replica + " " + args, input);
    }
    void start_demo() {
        ASSERT_EQ(run(TUNDRA_SERVER_BIN, "init --db s.db").code, 0);
        // No --data: the default must find the repository's own data/ folder from any cwd.
        auto r = run("env", std::string("-u TUNDRA_DATA '") + TUNDRA_SERVER_BIN + "' demo-data --db s.db");
        ASSERT_EQ(r.code, 0) << r.err;
        auto from = r.out.find("demo data from "), colon = r.out.find(": ", from);
        ASSERT_NE(colon, std::string::npos) << r.out;
        std::error_code ec;
        ASSERT_TRUE(std::filesystem::equivalent(r.out.substr(from + 15, colon - from - 15), TUNDRA_DATA_DIR, ec))
            << r.out;
        server = std::make_unique<ServerProcess>(dir.file("s.db"), dir.file("server.log"));
    }
    void login(const std::string& replica, const std::string& user) {
        std::string password = user == "admin" ? "tundra-admin" : "tundra-demo";
        auto r = tundra(replica, "login --server " + server->url + " --username " + user + " --password-stdin",
                        password + "\n");
        ASSERT_EQ(r.code, 0) << r.err;
    }
    rapidjson::Document json(const std::string& text) {
        rapidjson::Document d;
        d.Parse(text.c_str());
        EXPECT_FALSE(d.HasParseError()) << text;
        return d;
    }
};

// Points a replica at a loopback port this test holds: only bound (connecting is refused for
// sure, even if the stopped server's port was reused at once) or listening with nobody
// accepting (the kernel completes the handshake; no answer ever comes). Returns the socket,
// which the test closes at its end.
int hold_port_for(const std::string& replica, bool listening) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    if (listening) {
        EXPECT_EQ(listen(fd, 16), 0);
    }
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    auto db = sqlite::Db::open(replica);
    EXPECT_TRUE(db);
    if (db) {
        auto q = db.value()->query("UPDATE meta SET value = ? WHERE key = 'server'");
        EXPECT_TRUE(q->bind(1, "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port))).run());
    }
    return fd;
}
}  // namespace

TEST_F(Cli, ServerPrintsExactlyOneLineAndStopsGracefullyOnSigterm) {
    ASSERT_NO_FATAL_FAILURE(start_demo());
    EXPECT_EQ(server->first_line.rfind("listening on http://127.0.0.1:", 0), 0u);
    EXPECT_EQ(server->stop(), 0);
}

TEST_F(Cli, OfflineEnrolmentAndAttendanceReconcileThroughTheServer) {
    ASSERT_NO_FATAL_FAILURE(start_demo());
    ASSERT_NO_FATAL_FAILURE(login("anna.db", "anna"));
    ASSERT_NO_FATAL_FAILURE(login("coord.db", "coord.arjeplog"));
    ASSERT_EQ(tundra("anna.db", "sync").code, 0);
    ASSERT_EQ(tundra("coord.db", "sync").code, 0);

    // Offline: Anna enrols, the coordinator marks Anna present.
    auto courses = json(tundra("anna.db", "courses --json").out);
    ASSERT_TRUE(courses.IsArray());
    ASSERT_GT(courses.Size(), 0u);
    EXPECT_TRUE(courses[0].HasMember("occasions"));
    auto e = tundra("anna.db", "enrol o-sam-1");
    ASSERT_EQ(e.code, 0) << e.err;
    auto on = [&](const char* occasion) {
        auto all = json(tundra("anna.db", "enrolments --json").out);
        rapidjson::Document one;
        for (auto& x : all.GetArray())
            if (std::string(x["occasion"].GetString()) == occasion) one.CopyFrom(x, one.GetAllocator());
        return one;
    };
    auto mine = on("o-sam-1");
    ASSERT_TRUE(mine.IsObject());
    EXPECT_STREQ(mine["status"].GetString(), "requested");
    EXPECT_TRUE(mine["pending"].GetBool());
    auto m = tundra("coord.db", "attendance mark o-sam-1 p-arjeplog-hemtjanst-1 present --minutes 170");
    ASSERT_EQ(m.code, 0) << m.err;
    auto st = json(tundra("coord.db", "status --json").out);
    EXPECT_EQ(st["pending"].GetInt(), 1);

    // A link appears: both sync.
    auto s1 = json(tundra("anna.db", "sync --json").out);
    EXPECT_EQ(s1["pushed"].GetInt(), 1);
    ASSERT_EQ(s1["outcomes"].Size(), 1u);
    EXPECT_STREQ(s1["outcomes"][0]["result"].GetString(), "applied");
    auto s2 = json(tundra("coord.db", "sync --json").out);
    EXPECT_EQ(s2["pushed"].GetInt(), 1);
    mine = on("o-sam-1");
    EXPECT_STREQ(mine["status"].GetString(), "confirmed");
    EXPECT_FALSE(mine["pending"].GetBool());
    EXPECT_TRUE(mine["reason"].IsNull());
    auto marks = json(tundra("coord.db", "attendance list o-sam-1 --json").out);
    ASSERT_EQ(marks.Size(), 1u);
    EXPECT_STREQ(marks[0]["status"].GetString(), "present");
    EXPECT_EQ(marks[0]["minutes"].GetInt(), 170);
    EXPECT_FALSE(marks[0]["pending"].GetBool());
    // The coordinator sees Anna's enrolment; the seat count moved for everyone.
    auto theirs = json(tundra("coord.db", "enrolments --json").out);
    bool found = false;
    for (auto& x : theirs.GetArray()) found |= std::string(x["person"].GetString()) == "p-arjeplog-hemtjanst-1";
    EXPECT_TRUE(found);
    auto st2 = json(tundra("anna.db", "status --json").out);
    EXPECT_EQ(st2["pending"].GetInt(), 0);
    EXPECT_TRUE(st2["last_sync"].IsString());
    EXPECT_EQ(st2["rejected"].Size(), 0u);
}

// Issue 8: a person who turns up without an enrolment is recorded with `tundra walk-in`: one
// action, shown at once offline, that enrols (confirmed, reason walk_in) and marks.
TEST_F(Cli, WalkInEnrolsAndMarksInOneActionThroughTheServer) {
    ASSERT_NO_FATAL_FAILURE(start_demo());
    ASSERT_NO_FATAL_FAILURE(login("coord.db", "coord.arjeplog"));
    ASSERT_EQ(tundra("coord.db", "sync").code, 0);
    std::string person;
    {
        auto db = sqlite::Db::open(dir.file("coord.db"));
        ASSERT_TRUE(db);
        auto q = db.value()->query(
            "SELECT id FROM persons WHERE id NOT IN (SELECT person FROM enrolments WHERE occasion = "
            "'o-sam-1') ORDER BY id LIMIT 1");
        ASSERT_TRUE(q->step().value()) << "no person without a place on o-sam-1";
        person = q->text(0);
    }
    auto w = tundra("coord.db", "walk-in o-sam-1 --person " + person + " --minutes 45 --json");
    ASSERT_EQ(w.code, 0) << w.err;
    auto receipt = json(w.out);
    ASSERT_TRUE(receipt.HasMember("enrolment") && receipt.HasMember("mark")) << w.out;
    EXPECT_TRUE(receipt["pending"].GetBool());
    const std::string enrolment = receipt["enrolment"].GetString();
    auto find = [&](const rapidjson::Document& all, const char* key, const std::string& value) {
        rapidjson::Document one;
        for (auto& x : all.GetArray())
            if (x.HasMember(key) && x[key].IsString() && x[key].GetString() == value)
                one.CopyFrom(x, one.GetAllocator());
        return one;
    };
    for (bool synced : {false, true}) {
        SCOPED_TRACE(synced ? "after sync" : "offline, at once");
        auto e = find(json(tundra("coord.db", "enrolments --json").out), "id", enrolment);
        ASSERT_TRUE(e.IsObject());
        EXPECT_STREQ(e["status"].GetString(), "confirmed");
        EXPECT_STREQ(e["reason"].GetString(), "walk_in");
        EXPECT_EQ(e["pending"].GetBool(), !synced);
        auto m = find(json(tundra("coord.db", "attendance list o-sam-1 --json").out), "person", person);
        ASSERT_TRUE(m.IsObject());
        EXPECT_STREQ(m["status"].GetString(), "present");
        EXPECT_EQ(m["minutes"].GetInt(), 45);
        EXPECT_EQ(m["pending"].GetBool(), !synced);
        if (synced) break;
        auto s = json(tundra("coord.db", "sync --json").out);
        ASSERT_EQ(s["outcomes"].Size(), 1u);
        EXPECT_STREQ(s["outcomes"][0]["result"].GetString(), "applied");
        EXPECT_STREQ(s["outcomes"][0]["status"].GetString(), "confirmed");
    }
    // Participants do not record walk-ins.
    ASSERT_NO_FATAL_FAILURE(login("anna.db", "anna"));
    ASSERT_EQ(tundra("anna.db", "sync").code, 0);
    auto refused = tundra("anna.db", "walk-in o-sam-1 --person p-arjeplog-hemtjanst-1");
    EXPECT_EQ(refused.code, 1);
    EXPECT_NE(refused.err.find("forbidden"), std::string::npos) << refused.err;
}

TEST_F(Cli, EveryCommandFailsWithOneClearLine) {
    ASSERT_NO_FATAL_FAILURE(start_demo());
    auto bad = tundra("x.db", "login --server " + server->url + " --username anna --password-stdin", "wrong\n");
    EXPECT_EQ(bad.code, 1);
    EXPECT_EQ(bad.err, "error: unauthorized: wrong username or password\n");
    EXPECT_NE(tundra("x.db", "sync").code, 0);  // not logged in
    ASSERT_NO_FATAL_FAILURE(login("anna.db", "anna"));
    ASSERT_EQ(tundra("anna.db", "sync").code, 0);
    auto unknown = tundra("anna.db", "enrol o-does-not-exist");
    EXPECT_EQ(unknown.code, 1);
    EXPECT_NE(unknown.err.find("o-does-not-exist"), std::string::npos);
    EXPECT_EQ(std::count(unknown.err.begin(), unknown.err.end(), '\n'), 1);
    std::ofstream(dir.file("junk.db")) << "these are not the bytes of a SQLite database, just text.....";
    auto junk = tundra("junk.db", "status");
    EXPECT_EQ(junk.code, 1);
    EXPECT_EQ(junk.err.rfind("error: storage:", 0), 0u) << junk.err;
    EXPECT_EQ(tundra("anna.db", "attendance mark o-sam-1 p-arjeplog-hemtjanst-1 asleep").code, 1);
}

TEST_F(Cli, SyncGivesUpOnADeadServerWithinItsTimeout) {
    ASSERT_NO_FATAL_FAILURE(start_demo());
    ASSERT_NO_FATAL_FAILURE(login("anna.db", "anna"));
    ASSERT_EQ(tundra("anna.db", "sync").code, 0);
    ASSERT_EQ(tundra("anna.db", "enrol o-sam-1").code, 0);
    server->stop();
    int fd = hold_port_for(dir.file("anna.db"), false);
    ASSERT_FALSE(HasFailure());
    auto t0 = std::chrono::steady_clock::now();
    auto r = tundra("anna.db", "sync --timeout 2");
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("gave up"), std::string::npos) << r.err;
    EXPECT_LT(took, std::chrono::seconds(15));
    EXPECT_EQ(json(tundra("anna.db", "status --json").out)["pending"].GetInt(), 1);  // nothing lost
    close(fd);
}

TEST_F(Cli, AdminPublishesACourseParticipantsSeeIt) {
    ASSERT_NO_FATAL_FAILURE(start_demo());
    ASSERT_NO_FATAL_FAILURE(login("admin.db", "admin"));
    ASSERT_NO_FATAL_FAILURE(login("anna.db", "anna"));
    ASSERT_EQ(tundra("admin.db", "sync").code, 0);
    auto c = tundra("admin.db", "course add --id c-new --title 'Förflyttningsteknik' --format on_site "
                                "--organisations arjeplog,pajala --published yes");
    ASSERT_EQ(c.code, 0) << c.err;
    auto o = tundra("admin.db", "occasion add --id o-new --course c-new --starts-at 2027-01-20T09:00:00+01:00 "
                                "--ends-at 2027-01-20T12:00:00+01:00 --site arjeplog-boende --capacity 8 "
                                "--enrolment-closes 2027-01-15T23:59:00+01:00");
    ASSERT_EQ(o.code, 0) << o.err;
    ASSERT_EQ(tundra("admin.db", "sync").code, 0);
    ASSERT_EQ(tundra("anna.db", "sync").code, 0);
    auto courses = json(tundra("anna.db", "courses --json").out);
    bool seen = false;
    for (auto& x : courses.GetArray())
        if (std::string(x["id"].GetString()) == "c-new") {
            seen = true;
            EXPECT_STREQ(x["occasions"][0]["starts_at"].GetString(), "2027-01-20T08:00:00Z");
            EXPECT_EQ(x["occasions"][0]["seats_left"].GetInt(), 8);
        }
    EXPECT_TRUE(seen);
    EXPECT_EQ(tundra("anna.db", "course add --title X --format on_site").code, 1);  // not an admin
}

TEST_F(Cli, WithoutReplicaACommandSaysThatReplicaIsMissing) {
    auto r = run(TUNDRA_CLI_BIN, "sync");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("--replica is missing"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file("tundra-replica.db"))) << "no replica is created by mistake";
    auto typo = tundra("nope.db", "status");
    EXPECT_EQ(typo.code, 1);
    EXPECT_NE(typo.err.find("no replica file 'nope.db'"), std::string::npos) << typo.err;
}

// Hole 9: a server that accepts the connection and never answers (here: a listening socket
// nobody accepts from; the kernel completes the handshake). `--timeout 2` is a deadline.
TEST_F(Cli, SyncTimeoutIsADeadlineAgainstAServerThatNeverAnswers) {
    ASSERT_NO_FATAL_FAILURE(start_demo());
    ASSERT_NO_FATAL_FAILURE(login("anna.db", "anna"));
    ASSERT_EQ(tundra("anna.db", "sync").code, 0);
    ASSERT_EQ(tundra("anna.db", "enrol o-sam-1").code, 0);
    server->stop();
    int fd = hold_port_for(dir.file("anna.db"), true);
    ASSERT_FALSE(HasFailure());
    auto t0 = std::chrono::steady_clock::now();
    auto r = tundra("anna.db", "sync --timeout 2");
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("timeout"), std::string::npos) << r.err;
    EXPECT_LT(took, 3.5) << r.err;
    EXPECT_EQ(json(tundra("anna.db", "status --json").out)["pending"].GetInt(), 1);
    close(fd);
}

// `tundra verify --json`: {"ok", "local": {"count", "hash"}, "server": {...}, "repaired"};
// exit 0 when ok or repaired. Needs the server's checksum (protocol v2).
TEST_F(Cli, VerifyPrintsBothChecksumsAndRepairsADriftedReplica) {
    ASSERT_NO_FATAL_FAILURE(start_demo());
    ASSERT_NO_FATAL_FAILURE(login("anna.db", "anna"));
    ASSERT_EQ(tundra("anna.db", "sync").code, 0);
    auto ok = tundra("anna.db", "verify --json");
    ASSERT_EQ(ok.code, 0) << ok.err;
    auto d = json(ok.out);
    EXPECT_TRUE(d["ok"].GetBool());
    EXPECT_FALSE(d["repaired"].GetBool());
    EXPECT_EQ(d["local"]["count"].GetInt64(), d["server"]["count"].GetInt64());
    EXPECT_EQ(std::string(d["local"]["hash"].GetString()), d["server"]["hash"].GetString());
    {
        auto db = sqlite::Db::open(dir.file("anna.db"));
        ASSERT_TRUE(db);
        ASSERT_TRUE(db.value()->exec("DELETE FROM courses"));
    }
    auto fixed = tundra("anna.db", "verify --json");
    ASSERT_EQ(fixed.code, 0) << fixed.err;
    auto f = json(fixed.out);
    EXPECT_FALSE(f["ok"].GetBool());
    EXPECT_TRUE(f["repaired"].GetBool());
}

// `tundra-server serve` serves the console on its port: behind an https proxy
// (--public-url) the cookies are Secure and the proxy's origin is the console's own.
TEST_F(Cli, ServeServesTheConsoleWithSecureCookiesBehindAnHttpsProxy) {
    ASSERT_EQ(run(TUNDRA_SERVER_BIN, "init --db s.db").code, 0);
    ASSERT_EQ(run(TUNDRA_SERVER_BIN, "add-user --db s.db boss --role admin --password-stdin", "a-long-password\n").code, 0);
    server = std::make_unique<ServerProcess>(dir.file("s.db"), dir.file("server.log"), "127.0.0.1:0",
                                             std::vector<std::string>{"--public-url", "https://kurser.example.se/",
                                                                      "--max-upload-mb", "8"});
    uint16_t port = static_cast<uint16_t>(std::stoi(server->url.substr(server->url.rfind(':') + 1)));
    auto exchange = [port](const std::string& request) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
        std::string out;
        char buf[4096];
        for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
        ::close(fd);
        return out;
    };
    std::string page = exchange("GET /console/login HTTP/1.1\r\nHost: kurser.example.se\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(page.rfind("HTTP/1.1 200", 0), 0u) << page;
    auto at = page.find("Set-Cookie: tundra_console_csrf=");
    ASSERT_NE(at, std::string::npos) << page;
    std::string cookie_line = page.substr(at, page.find("\r\n", at) - at);
    EXPECT_NE(cookie_line.find("; Secure"), std::string::npos) << cookie_line;
    std::string csrf = cookie_line.substr(32, cookie_line.find(';') - 32);
    std::string form = "username=boss&password=a-long-password&csrf=" + csrf;
    auto login = [&](const std::string& origin) {
        return exchange("POST /console/login HTTP/1.1\r\nHost: kurser.example.se\r\nConnection: close\r\nOrigin: " +
                        origin + "\r\nCookie: tundra_console_csrf=" + csrf +
                        "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                        std::to_string(form.size()) + "\r\n\r\n" + form);
    };
    EXPECT_EQ(login("https://evil.example").rfind("HTTP/1.1 403", 0), 0u);
    std::string ok = login("https://kurser.example.se");
    ASSERT_EQ(ok.rfind("HTTP/1.1 303", 0), 0u) << ok;
    EXPECT_NE(ok.find("Location: /console/"), std::string::npos);
    EXPECT_NE(ok.find("Set-Cookie: tundra_console="), std::string::npos);
    auto s = ok.find("Set-Cookie: tundra_console=");
    EXPECT_NE(ok.substr(s, ok.find("\r\n", s) - s).find("HttpOnly; SameSite=Strict; Secure"), std::string::npos) << ok;
    EXPECT_EQ(server->stop(), 0);
}
