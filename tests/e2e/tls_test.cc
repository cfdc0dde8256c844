// HTTPS end to end (issue 8, finding 6), with the real binaries: a throwaway CA and server
// certificate made at test time with the openssl command, `tundra-server serve --tls-cert
// --tls-key`, and `tundra login --ca-file`. Also: plain HTTP is refused beyond loopback
// unless allowed, and both choices stay in the replica for every later command.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "loopback.h"
#include "net_util.h"
#include "process.h"
#include "tundra/sqlite/db.h"

using namespace tundra;
using namespace tundra::testing;
using namespace std::chrono_literals;

namespace {
struct Tls : ::testing::Test {
    TempDir dir;
    std::unique_ptr<ServerProcess> server;

    CmdResult run(const std::string& cmdline, const std::string& input = "") {
        return run_command(dir.path.string(), cmdline, input);
    }
    CmdResult tundra(const std::string& replica, const std::string& args, const std::string& input = "") {
        return run(std::string("'") + TUNDRA_CLI_BIN + "' --replica " + replica + " " + args, input);
    }
    // A CA, a server certificate it signed for 127.0.0.1 and localhost, and an unrelated CA.
    // Keys are made here and die with the temp folder; none is committed.
    void make_pki() {
        const char* script = R"(set -e
exec 2>pki.log
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
  -days 2 -subj "/CN=Tundra Test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
  -subj "/CN=localhost"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
  -extfile ext.cnf
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key -out other-ca.crt \
  -days 2 -subj "/CN=Somebody Else" -addext "basicConstraints=critical,CA:TRUE"
)";
        std::ofstream(dir.file("pki.sh")) << script;
        auto r = run("sh pki.sh");
        ASSERT_EQ(r.code, 0) << slurp(dir.file("pki.log"));
    }
    void demo_store() {
        ASSERT_EQ(run(std::string("'") + TUNDRA_SERVER_BIN + "' init --db s.db").code, 0);
        auto r = run(std::string("'") + TUNDRA_SERVER_BIN + "' demo-data --db s.db --data '" + TUNDRA_DATA_DIR + "'");
        ASSERT_EQ(r.code, 0) << r.err;
    }
    void start_tls() {
        ASSERT_NO_FATAL_FAILURE(make_pki());
        ASSERT_NO_FATAL_FAILURE(demo_store());
        server = std::make_unique<ServerProcess>(dir.file("s.db"), dir.file("server.log"), "127.0.0.1:0",
                                                 std::vector<std::string>{"--tls-cert", dir.file("server.crt"),
                                                                          "--tls-key", dir.file("server.key")});
    }
    CmdResult login(const std::string& replica, const std::string& user, const std::string& extra) {
        std::string password = user == "admin" ? "tundra-admin" : "tundra-demo";
        return tundra(replica, "login --server " + server->url + " --username " + user + " --password-stdin " + extra,
                      password + "\n");
    }
    std::string meta(const std::string& replica, const std::string& key) {
        auto db = sqlite::Db::open(dir.file(replica));
        if (!db) return "<no replica>";
        auto q = db.value()->query("SELECT value FROM meta WHERE key = ?");
        q->bind(1, key);
        auto r = q->step();
        return r && r.value() ? q->text(0) : "<none>";
    }
    void set_meta(const std::string& replica, const std::string& key, const std::string& value) {
        auto db = sqlite::Db::open(dir.file(replica));
        ASSERT_TRUE(db);
        auto q = db.value()->query("UPDATE meta SET value = ? WHERE key = ?");
        ASSERT_TRUE(q->bind(1, value).bind(2, key).run());
    }
    rapidjson::Document json(const std::string& text) {
        rapidjson::Document d;
        d.Parse(text.c_str());
        EXPECT_FALSE(d.HasParseError()) << text;
        return d;
    }
    static int lines(const std::string& s) {
        int n = 0;
        for (char c : s) n += c == '\n';
        return n;
    }
};
}  // namespace

TEST_F(Tls, WholeLoopOverHttpsWithATestCa) {
    ASSERT_NO_FATAL_FAILURE(start_tls());
    EXPECT_EQ(server->url.rfind("https://127.0.0.1:", 0), 0u) << server->first_line;

    // A relative --ca-file: kept as an absolute path, so later commands work from anywhere.
    auto a = login("anna.db", "anna", "--ca-file ca.crt");
    ASSERT_EQ(a.code, 0) << a.err;
    EXPECT_EQ(meta("anna.db", "ca_file"), dir.file("ca.crt"));
    auto c = login("coord.db", "coord.arjeplog", "--ca-file " + dir.file("ca.crt"));
    ASSERT_EQ(c.code, 0) << c.err;
    // Every later command uses the stored CA (none is given again).
    ASSERT_EQ(tundra("anna.db", "sync").code, 0);
    ASSERT_EQ(tundra("coord.db", "sync").code, 0);

    auto e = tundra("anna.db", "enrol o-sam-1");  // offline
    ASSERT_EQ(e.code, 0) << e.err;
    auto s1 = tundra("anna.db", "sync --json");
    ASSERT_EQ(s1.code, 0) << s1.err;
    EXPECT_EQ(json(s1.out)["pushed"].GetInt(), 1);
    // From another folder: the stored path is absolute.
    auto s2 = run("cd / && '" + std::string(TUNDRA_CLI_BIN) + "' --replica '" + dir.file("coord.db") + "' sync");
    ASSERT_EQ(s2.code, 0) << s2.err;
    auto list = json(tundra("coord.db", "enrolments --json").out);
    bool seen = false;
    for (auto& x : list.GetArray())
        seen |= std::string(x["occasion"].GetString()) == "o-sam-1" && std::string(x["status"].GetString()) == "confirmed";
    EXPECT_TRUE(seen) << "the coordinator does not see Anna's enrolment";
    EXPECT_EQ(server->stop(), 0);
}

TEST_F(Tls, AnUntrustedCertificateIsOneClearLine) {
    ASSERT_NO_FATAL_FAILURE(start_tls());
    for (std::string extra : {"", "--ca-file other-ca.crt"}) {
        auto r = login("anna.db", "anna", extra);
        EXPECT_EQ(r.code, 1) << extra;
        EXPECT_EQ(lines(r.err), 1) << r.err;
        EXPECT_EQ(r.err.rfind("error: network: certificate not trusted for " + server->url + ": ", 0), 0u) << r.err;
    }
    auto r = login("anna.db", "anna", "--ca-file missing.crt");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("missing.crt"), std::string::npos) << r.err;
    // A stored CA that stops matching (the server's certificate was replaced by one another
    // CA signed) fails every later command the same way, and is never bypassed.
    ASSERT_EQ(login("anna.db", "anna", "--ca-file ca.crt").code, 0);
    set_meta("anna.db", "ca_file", dir.file("other-ca.crt"));
    auto s = tundra("anna.db", "sync --timeout 0");
    EXPECT_EQ(s.code, 1);
    EXPECT_NE(s.err.find("certificate not trusted for " + server->url), std::string::npos) << s.err;
}

TEST_F(Tls, PlainHttpToTheTlsPortIsClosed) {
    ASSERT_NO_FATAL_FAILURE(start_tls());
    uint16_t port = static_cast<uint16_t>(std::stoi(server->url.substr(server->url.rfind(':') + 1)));
    RawConn c(port);
    ASSERT_TRUE(c.send("POST /v1/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                       "Content-Length: 2\r\n\r\n{}"));
    bool closed = false;
    std::string got = c.read_for(3s, &closed);
    EXPECT_TRUE(closed);
    EXPECT_EQ(got, "") << "answered a plain HTTP request on the TLS port";
    // The CLI pointed at http:// on that port fails at once instead of hanging.
    auto t0 = std::chrono::steady_clock::now();
    auto r = tundra("x.db", "login --server http://127.0.0.1:" + std::to_string(port) +
                                " --username anna --password-stdin --timeout 10",
                    "tundra-demo\n");
    EXPECT_EQ(r.code, 1);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    EXPECT_EQ(server->stop(), 0);
}

TEST_F(Tls, PlainHttpBeyondLoopbackIsRefusedUnlessAllowedAndTheChoiceIsKept) {
    ASSERT_NO_FATAL_FAILURE(demo_store());
    server = std::make_unique<ServerProcess>(dir.file("s.db"), dir.file("server.log"));
    ASSERT_EQ(server->url.rfind("http://127.0.0.1:", 0), 0u);
    // 192.0.2.0/24 is TEST-NET-1: never routed, so only the policy can answer fast.
    for (std::string url : {"http://192.0.2.1:8080", "http://example.org", "http://127.0.0.1.example.org",
                            "http://localhost.example.org:80", "http://[2001:db8::1]:80"}) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = tundra("far.db", "login --server " + url + " --username anna --password-stdin", "tundra-demo\n");
        EXPECT_EQ(r.code, 1) << url;
        EXPECT_EQ(lines(r.err), 1) << r.err;
        EXPECT_NE(r.err.find("error: invalid_argument: refusing plain http://"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("--allow-insecure-http"), std::string::npos) << r.err;
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << url;
    }
    // Loopback needs no flag (127.0.0.0/8, ::1 and localhost).
    auto near = login("near.db", "anna", "");
    ASSERT_EQ(near.code, 0) << near.err;
    EXPECT_EQ(meta("near.db", "allow_insecure_http"), "");
    auto allowed = login("allowed.db", "coord.arjeplog", "--allow-insecure-http");
    ASSERT_EQ(allowed.code, 0) << allowed.err;
    EXPECT_EQ(meta("allowed.db", "allow_insecure_http"), "1");

    // Both replicas' server moves beyond loopback: the one whose login allowed it tries to
    // connect (and times out); the other is refused before anything is sent.
    set_meta("near.db", "server", "http://192.0.2.1:9");
    set_meta("allowed.db", "server", "http://192.0.2.1:9");
    auto refused = tundra("near.db", "sync --timeout 1");
    EXPECT_EQ(refused.code, 1);
    EXPECT_NE(refused.err.find("refusing plain http:// to 192.0.2.1"), std::string::npos) << refused.err;
    auto tried = tundra("allowed.db", "sync --timeout 1");
    EXPECT_EQ(tried.code, 1);
    EXPECT_EQ(tried.err.find("refusing"), std::string::npos) << tried.err;
    EXPECT_TRUE(tried.err.find("timeout") != std::string::npos || tried.err.find("network") != std::string::npos)
        << tried.err;
    // A later login must ask again: allowing plain HTTP is never implied.
    set_meta("allowed.db", "server", server->url);
    ASSERT_EQ(login("allowed.db", "coord.arjeplog", "").code, 0);
    EXPECT_EQ(meta("allowed.db", "allow_insecure_http"), "");
}
