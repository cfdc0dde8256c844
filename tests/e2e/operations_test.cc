// Issue 12, operations, with the real binaries: /metrics on its own listener (checked with
// promtool), and the restore drill — a backup taken while the server serves, put back in
// place, and devices that synced after it rebuilding their replicas instead of skipping rows.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "loopback.h"
#include "net_util.h"
#include "process.h"
#include "tundra/core/json.h"

using namespace tundra;
using namespace tundra::testing;

namespace {
uint16_t port_of(const std::string& url) {
    auto colon = url.rfind(':');
    return static_cast<uint16_t>(std::stoi(url.substr(colon + 1)));
}

// One HTTP request on a fresh connection; the whole answer (status line, headers, body).
std::string http(uint16_t port, const std::string& method, const std::string& target, const std::string& body = "",
                 const std::string& token = "") {
    RawConn c(port);
    EXPECT_TRUE(c.connected());
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!body.empty()) req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
    req += "\r\n" + body;
    EXPECT_TRUE(c.send(req));
    return c.read_response(std::chrono::seconds(10));
}
int status_of(const std::string& answer) {
    return answer.size() > 12 ? std::atoi(answer.c_str() + 9) : 0;
}
std::string body_of(const std::string& answer) {
    auto end = answer.find("\r\n\r\n");
    return end == std::string::npos ? "" : answer.substr(end + 4);
}

// The samples of a scrape: "name{labels}" → value.
std::map<std::string, double> samples(const std::string& text) {
    std::map<std::string, double> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        auto sp = line.rfind(' ');
        out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    }
    return out;
}

struct Operations : ::testing::Test {
    TempDir dir;
    std::unique_ptr<ServerProcess> server;

    CmdResult run(const std::string& bin, const std::string& args, const std::string& input = "") {
        return run_command(dir.path.string(), "'" + bin + "' " + args, input);
    }
    CmdResult tundra(const std::string& replica, const std::string& args, const std::string& input = "") {
        return run(TUNDRA_CLI_BIN, "--replica " + replica + " " + args, input);
    }
    // A store with the small world (docs: loopback.h), its times around now.
    void make_store() {
        ASSERT_EQ(run(TUNDRA_SERVER_BIN, "init --db s.db").code, 0);
        auto now = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count());
        std::ofstream(dir.file("world.json")) << small_world_document(now);
        auto r = run(TUNDRA_SERVER_BIN, "import --db s.db world.json");
        ASSERT_EQ(r.code, 0) << r.err;
    }
    void login(const std::string& replica, const std::string& user) {
        auto r = tundra(replica, "login --server " + server->url + " --username " + user + " --password-stdin",
                        "password1\n");
        ASSERT_EQ(r.code, 0) << r.err;
    }
    rapidjson::Document json(const std::string& text) {
        rapidjson::Document d;
        d.Parse(text.c_str());
        EXPECT_FALSE(d.HasParseError()) << text;
        return d;
    }
    // `tundra sync --json`: whether the sync was a reset (a rebuild of the replica).
    bool sync_reset(const std::string& replica) {
        auto r = tundra(replica, "--json sync");
        EXPECT_EQ(r.code, 0) << r.out << r.err;
        auto d = json(r.out);
        return d.IsObject() && d.HasMember("reset") && d["reset"].GetBool();
    }
    // `tundra verify --json` holds without a repair: the replica has exactly the server's rows.
    void expect_exact(const std::string& replica) {
        auto r = tundra(replica, "--json verify");
        ASSERT_EQ(r.code, 0) << r.out << r.err;
        auto d = json(r.out);
        ASSERT_TRUE(d.IsObject()) << r.out;
        EXPECT_TRUE(d["ok"].GetBool()) << replica << ": " << r.out;
        EXPECT_FALSE(d["repaired"].GetBool()) << replica << " needed a repair: " << r.out;
        EXPECT_EQ(d["local"]["count"].GetInt64(), d["server"]["count"].GetInt64());
        EXPECT_EQ(std::string(d["local"]["hash"].GetString()), d["server"]["hash"].GetString());
    }
};
}  // namespace

TEST_F(Operations, MetricsCountWhatTheServerDidInPrometheusFormat) {
    make_store();
    server = std::make_unique<ServerProcess>(dir.file("s.db"), dir.file("server.log"), "127.0.0.1:0",
                                             std::vector<std::string>{"--metrics-listen", "127.0.0.1:0"});
    ASSERT_FALSE(server->metrics_url.empty()) << "no 'metrics listening on' line";
    ASSERT_EQ(server->metrics_url.substr(server->metrics_url.size() - 8), "/metrics");
    uint16_t sync_port = port_of(server->url);
    std::string murl = server->metrics_url.substr(0, server->metrics_url.size() - 8);
    uint16_t metrics_port = port_of(murl);
    ASSERT_NE(sync_port, metrics_port);

    // One good login, one wrong password.
    auto ok = http(sync_port, "POST", "/v1/login", R"({"protocol":2,"username":"coord1","password":"password1"})");
    ASSERT_EQ(status_of(ok), 200) << ok;
    auto login = json(body_of(ok));
    std::string token = login["token"].GetString();
    EXPECT_EQ(status_of(http(sync_port, "POST", "/v1/login", R"({"protocol":2,"username":"coord1","password":"wrong-one"})")),
              401);
    // A round with one applied and one rejected action (p7 is at a site coord1 does not
    // have: not_found), a pull-only round, and one with a token nobody issued.
    std::string push = R"({"protocol":2,"cursor":"","actions":[
        {"seq":1,"hlc":1,"type":"enrol","enrolment":"e-ops-1","occasion":"o2","person":"p1"},
        {"seq":2,"hlc":2,"type":"enrol","enrolment":"e-ops-2","occasion":"o2","person":"p7"}]})";
    auto pushed = http(sync_port, "POST", "/v1/sync", push, token);
    ASSERT_EQ(status_of(pushed), 200) << pushed;
    auto outcomes = json(body_of(pushed));
    ASSERT_EQ(outcomes["outcomes"].Size(), 2u);
    EXPECT_STREQ(outcomes["outcomes"][0]["result"].GetString(), "applied");
    EXPECT_STREQ(outcomes["outcomes"][1]["result"].GetString(), "rejected");
    EXPECT_STREQ(outcomes["outcomes"][1]["reason"].GetString(), "not_found");
    EXPECT_EQ(status_of(http(sync_port, "POST", "/v1/sync", R"({"protocol":2,"cursor":""})", token)), 200);
    EXPECT_EQ(status_of(http(sync_port, "POST", "/v1/sync", R"({"protocol":2,"cursor":""})", "not-a-token")), 401);

    // Each port serves its own: no /metrics on the sync port, no sync API on the metrics port.
    EXPECT_EQ(status_of(http(sync_port, "GET", "/metrics")), 404);
    EXPECT_EQ(status_of(http(metrics_port, "POST", "/v1/sync", R"({"protocol":2,"cursor":""})", token)), 404);
    EXPECT_EQ(status_of(http(metrics_port, "POST", "/v1/login", R"({"protocol":2,"username":"coord1","password":"password1"})")),
              404);
    EXPECT_EQ(status_of(http(metrics_port, "GET", "/healthz")), 404);

    // The listener counts a request once its answer is written, which may be a moment after
    // the client has read it: scrape until the last one is in.
    std::string scrape, text;
    std::map<std::string, double> m;
    for (int i = 0; i < 40; ++i) {
        scrape = http(metrics_port, "GET", "/metrics");
        text = body_of(scrape);
        m = samples(text);
        if (m["tundra_http_requests_total{route=\"other\",status=\"404\"}"] >= 1) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(status_of(scrape), 200) << scrape;
    EXPECT_NE(scrape.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << scrape;
    EXPECT_EQ(m["tundra_sync_rounds_total{outcome=\"ok\"}"], 2) << text;
    EXPECT_EQ(m["tundra_sync_rounds_total{outcome=\"unauthorized\"}"], 1) << text;
    EXPECT_EQ(m["tundra_sync_round_duration_seconds_count"], 3) << text;
    EXPECT_EQ(m["tundra_sync_round_duration_seconds_bucket{le=\"+Inf\"}"], 3) << text;
    EXPECT_EQ(m["tundra_sync_actions_total{result=\"applied\",reason=\"\"}"], 1) << text;
    EXPECT_EQ(m["tundra_sync_actions_total{result=\"rejected\",reason=\"not_found\"}"], 1) << text;
    EXPECT_EQ(m["tundra_logins_total{outcome=\"ok\"}"], 1) << text;
    EXPECT_EQ(m["tundra_logins_total{outcome=\"unauthorized\"}"], 1) << text;
    EXPECT_EQ(m["tundra_http_requests_total{route=\"/v1/sync\",status=\"200\"}"], 2) << text;
    EXPECT_EQ(m["tundra_http_requests_total{route=\"/v1/sync\",status=\"401\"}"], 1) << text;
    EXPECT_EQ(m["tundra_http_requests_total{route=\"other\",status=\"404\"}"], 1) << text;  // GET /metrics
    EXPECT_EQ(m["tundra_devices_active"], 1) << text;  // the device that synced
    EXPECT_EQ(m["tundra_devices_stale"], 0) << text;
    EXPECT_GT(m["tundra_store_size_bytes"], 4096) << text;
    EXPECT_GT(m["tundra_store_version"], 0) << text;
    EXPECT_NE(text.find("# TYPE tundra_http_unavailable_total counter"), std::string::npos) << text;
    EXPECT_NE(text.find("# HELP tundra_sync_rounds_total "), std::string::npos) << text;
    EXPECT_EQ(m["tundra_http_turn_share"], 1) << text;  // not saturated: every device in turn

    // Prometheus's own checker (Debian package `prometheus`; scripts/test.sh installs it).
    std::string file = dir.file("scrape.txt");
    std::ofstream(file) << text;
    ASSERT_EQ(std::system("command -v promtool > /dev/null"), 0)
        << "promtool is missing: install the Debian package `prometheus` (scripts/test.sh does)";
    auto checked = run("promtool", "check metrics < scrape.txt");
    EXPECT_EQ(checked.code, 0) << checked.out << checked.err;
    EXPECT_EQ(server->stop(), 0);
}

// The restore drill (docs/operations.md): A and B sync; a backup is taken while the server
// serves; A acts and syncs after it, B does not, C logs in for the first time; the backup is
// put in place. B goes on incrementally; A's cursor is past the backup, so A rebuilds and ends
// with exactly the restored server's rows (its acknowledged action after the backup is lost,
// as documented); C's token is unknown, so C logs in again and converges.
TEST_F(Operations, RestoreDrill) {
    make_store();
    server = std::make_unique<ServerProcess>(dir.file("s.db"), dir.file("server.log"));
    std::string listen = "127.0.0.1:" + std::to_string(port_of(server->url));
    login("a.db", "coord1");
    login("b.db", "coord3");
    sync_reset("a.db");  // a first sync: a full pull
    sync_reset("b.db");

    auto backup = run(TUNDRA_SERVER_BIN, "backup --db s.db --to backup.db");
    ASSERT_EQ(backup.code, 0) << backup.err;
    EXPECT_NE(backup.out.find("backed up s.db to backup.db"), std::string::npos) << backup.out;
    struct stat st {};
    ASSERT_EQ(::stat(dir.file("backup.db").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto size = std::filesystem::file_size(dir.file("backup.db"));
    auto again = run(TUNDRA_SERVER_BIN, "backup --db s.db --to backup.db");
    EXPECT_NE(again.code, 0);
    EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
    EXPECT_EQ(std::filesystem::file_size(dir.file("backup.db")), size);
    auto self = run(TUNDRA_SERVER_BIN, "backup --db s.db --to s.db");
    EXPECT_NE(self.code, 0);
    EXPECT_NE(self.err.find("is the store itself"), std::string::npos) << self.err;
    auto pg = run(TUNDRA_SERVER_BIN, "backup --db postgresql://tundra@localhost/tundra --to x.dump");
    EXPECT_NE(pg.code, 0);
    EXPECT_NE(pg.err.find("pg_dump"), std::string::npos) << pg.err;

    // After the backup: A enrols someone and syncs (acknowledged, then lost by the restore);
    // C logs in for the first time (a token the backup does not know).
    ASSERT_EQ(tundra("a.db", "enrol o2 --person p1").code, 0);
    EXPECT_FALSE(sync_reset("a.db"));
    login("c.db", "part2");
    sync_reset("c.db");

    // Restore in place: stop, put the copy where the store was (no -wal or -shm of the old
    // store may stay beside it), start on the same address.
    EXPECT_EQ(server->stop(), 0);
    std::filesystem::copy_file(dir.file("backup.db"), dir.file("s.db"), std::filesystem::copy_options::overwrite_existing);
    std::filesystem::remove(dir.file("s.db-wal"));
    std::filesystem::remove(dir.file("s.db-shm"));
    server = std::make_unique<ServerProcess>(dir.file("s.db"), dir.file("server.log"), listen);

    // B never synced after the backup: it goes on incrementally, and its new action makes
    // the restored store hand out again the versions A saw before the restore.
    ASSERT_EQ(tundra("b.db", "enrol o1 --person p2").code, 0);
    EXPECT_FALSE(sync_reset("b.db")) << "B's cursor is from before the backup: no reset";
    expect_exact("b.db");

    // A's cursor is past the backup: a reset, then exactly the server's rows.
    EXPECT_TRUE(sync_reset("a.db")) << "A's cursor is past the backup: it must rebuild";
    expect_exact("a.db");
    auto enrolments = tundra("a.db", "--json enrolments");
    ASSERT_EQ(enrolments.code, 0) << enrolments.err;
    auto list = json(enrolments.out);
    bool lost_found = false, new_found = false;
    for (auto& e : list.GetArray()) {
        std::string occasion = e["occasion"].GetString(), person = e["person"].GetString();
        lost_found = lost_found || (occasion == "o2" && person == "p1");
        new_found = new_found || (occasion == "o1" && person == "p2");
    }
    EXPECT_FALSE(lost_found) << "the enrolment acknowledged after the backup is lost by the restore";
    EXPECT_TRUE(new_found) << enrolments.out;
    EXPECT_FALSE(sync_reset("a.db"));  // and goes on incrementally from then on

    // C's token was issued after the backup: unknown now. It logs in again and converges.
    auto c = tundra("c.db", "sync");
    EXPECT_NE(c.code, 0) << c.out;
    login("c.db", "part2");
    sync_reset("c.db");
    expect_exact("c.db");
    EXPECT_EQ(server->stop(), 0);
}

// The listener's own 503s (its request queue is full) are counted by reason, the handler's by
// error code; label values are escaped as the text format wants.
TEST(OperationsMetrics, ListenerCountsItsAnswersAndItsOwn503s) {
    auto registry = std::make_shared<web::MetricsRegistry>();
    web::ListenerOptions o;
    o.handle_signals = false;
    o.max_queued_requests = 0;  // every request finds the queue full
    o.metrics = registry;
    o.metrics_route = [](std::string_view path) { return std::string(path == "/x" ? "/x" : "other"); };
    web::Listener l([](const web::HttpRequest&) { return web::HttpResponse{}; }, o);
    auto port = l.listen("127.0.0.1", 0);
    ASSERT_TRUE(port) << port.status().to_string();
    std::thread t([&] { l.run(); });
    EXPECT_EQ(status_of(http(port.value(), "GET", "/x")), 503);
    EXPECT_EQ(status_of(http(port.value(), "GET", "/y?q=1")), 503);
    std::map<std::string, double> m;
    for (int i = 0; i < 40; ++i) {
        m = samples(registry->render());
        if (m["tundra_http_unavailable_total{reason=\"queue_full\"}"] >= 2) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    l.stop();
    t.join();
    EXPECT_EQ(m["tundra_http_unavailable_total{reason=\"queue_full\"}"], 2);
    EXPECT_EQ(m["tundra_http_requests_total{route=\"/x\",status=\"503\"}"], 1);
    EXPECT_EQ(m["tundra_http_requests_total{route=\"other\",status=\"503\"}"], 1);
    EXPECT_EQ(m["tundra_http_request_duration_seconds_count{route=\"/x\"}"], 1);

    web::MetricsRegistry r;
    r.counter("t_total", "a \\ help\nline", {"v"}).with({"a\"b\\c\nd"}).inc(3);
    std::string text = r.render();
    EXPECT_NE(text.find("# HELP t_total a \\\\ help\\nline\n"), std::string::npos) << text;
    EXPECT_NE(text.find("t_total{v=\"a\\\"b\\\\c\\nd\"} 3\n"), std::string::npos) << text;
}
