// The HTTP listener under abuse (issue 8, findings 5 and 9): connection cap, accept-error
// back-off, header timeouts for idle and slow clients, and the JSON access log with the
// client's address (X-Forwarded-For only from a trusted proxy). Real sockets on 127.0.0.1.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <dirent.h>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

#include "loopback.h"
#include "net_util.h"
#include "tundra/sqlite/db.h"

using namespace tundra;
using namespace tundra::testing;
using namespace std::chrono_literals;

namespace {
server::ServerOptions opts() {
    server::ServerOptions o;
    o.handle_signals = false;
    return o;
}

// A handler whose `/slow` requests block until release(): a worker held as long as the test
// wants, without any timing.
struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    std::atomic<int> ran{0};
    web::Handler handler() {
        return [this](const web::HttpRequest& r) {
            ++ran;
            if (r.target == "/slow") {
                std::unique_lock lock(mu);
                cv.wait(lock, [this] { return open; });
            }
            web::HttpResponse out;
            out.body = "done " + r.target;
            return out;
        };
    }
    void release() {
        std::lock_guard lock(mu);
        open = true;
        cv.notify_all();
    }
    // Waits (up to 30 s) until the handler has been entered `n` times.
    bool wait_ran(int n) {
        for (int i = 0; i < 3000 && ran.load() < n; ++i) std::this_thread::sleep_for(10ms);
        return ran.load() >= n;
    }
};

int status_of(const std::string& response) {
    return response.size() > 12 ? std::atoi(response.c_str() + 9) : 0;
}
std::string header_value(const std::string& response, const std::string& name) {
    auto p = response.find("\r\n" + name + ": ");
    if (p == std::string::npos) return "";
    p += name.size() + 4;
    return response.substr(p, response.find("\r\n", p) - p);
}

std::vector<rapidjson::Document> access_lines(LiveServer& s) {
    std::vector<rapidjson::Document> out;
    for (auto& l : s.log()) {
        rapidjson::Document d;
        d.Parse(l.c_str());
        EXPECT_FALSE(d.HasParseError()) << "not JSON: " << l;
        if (d.HasParseError() || !d.IsObject()) continue;
        if (d.HasMember("category") && std::string(d["category"].GetString()) == "http.access")
            out.push_back(std::move(d));
    }
    return out;
}
}  // namespace

TEST(Listener, ConnectionCapMakesExtraConnectionsWaitAndIsLoggedOnce) {
    World w;
    auto o = opts();
    o.max_connections = 3;
    LiveServer s(*w.store, o);
    std::vector<std::unique_ptr<RawConn>> idle;
    for (int i = 0; i < 3; ++i) idle.push_back(std::make_unique<RawConn>(s.port));
    std::this_thread::sleep_for(100ms);  // accepted: the cap is reached
    RawConn honest(s.port);              // first in the backlog
    ASSERT_TRUE(honest.connected());
    std::vector<std::unique_ptr<RawConn>> more;
    for (int i = 0; i < 5; ++i) more.push_back(std::make_unique<RawConn>(s.port));
    ASSERT_TRUE(honest.send(kHealthz));
    EXPECT_EQ(honest.read_for(400ms), "") << "served past the cap";
    EXPECT_EQ(s.count("\"connection_limit\""), 1);

    idle[0]->close();  // a slot frees: the honest request is accepted and answered
    std::string r = honest.read_response(3s);
    EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
    // It hit the cap again at once (4 more wait); still one line within the minute.
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(s.count("\"connection_limit\""), 1);
    for (auto& l : s.log()) {
        if (l.find("connection_limit") != std::string::npos) {
            EXPECT_NE(l.find("connection limit reached: 3 connections open"), std::string::npos) << l;
        }
    }
}

// Out of file descriptors: a child process with a low RLIMIT_NOFILE runs a server; more
// connections arrive than it has descriptors for. Before the fix each failed accept() was
// retried at once and logged: millions of lines and a busy core.
TEST(Listener, AcceptErrorsBackOffAndAreLoggedOncePerBurst) {
    TempDir dir;
    std::string log_path = dir.file("server.log");
    int port_pipe[2];
    ASSERT_EQ(pipe(port_pipe), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        close(port_pipe[0]);
        auto store = server::SqlStore::open(dir.file("s.db"), {}, true);
        if (!store) _exit(2);
        int logfd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        server::ServerOptions o = opts();
        o.max_connections = 10000;  // the cap does not protect here: only the back-off does
        o.log = [logfd](const std::string& line) {
            std::string l = line + "\n";
            if (::write(logfd, l.data(), l.size()) < 0) _exit(3);
        };
        server::HttpServer http(*store.value(), o);
        auto port = http.listen("127.0.0.1", 0);
        if (!port) _exit(4);
        // Room for exactly two more descriptors: no new one above the highest open now, the
        // holes below it filled, then two of the fillers closed.
        int top = 0;
        if (DIR* d = opendir("/proc/self/fd")) {
            while (dirent* e = readdir(d))
                if (e->d_name[0] != '.' && std::atoi(e->d_name) != dirfd(d)) top = std::max(top, std::atoi(e->d_name));
            closedir(d);
        }
        rlimit rl{};
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = static_cast<rlim_t>(top + 1);
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(5);
        std::vector<int> fillers;
        for (int f; (f = ::open("/dev/null", O_RDONLY)) >= 0;) fillers.push_back(f);
        if (fillers.size() < 2) {
            rl.rlim_cur += static_cast<rlim_t>(2 - fillers.size());
            if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(5);
        } else {
            ::close(fillers[0]);
            ::close(fillers[1]);
        }
        uint16_t p = port.value();
        if (::write(port_pipe[1], &p, sizeof p) != sizeof p) _exit(6);
        close(port_pipe[1]);
        http.run();
        _exit(0);
    }
    close(port_pipe[1]);
    uint16_t port = 0;
    ASSERT_EQ(::read(port_pipe[0], &port, sizeof port), static_cast<ssize_t>(sizeof port));
    close(port_pipe[0]);
    auto cpu_ticks = [pid] {
        std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
        std::string all((std::istreambuf_iterator<char>(in)), {});
        std::istringstream ss(all.substr(all.rfind(')') + 2));
        std::string f;
        long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && ss >> f; ++i) {
            if (i == 14) utime = std::stol(f);
            if (i == 15) stime = std::stol(f);
        }
        return utime + stime;
    };
    std::vector<std::unique_ptr<RawConn>> conns;
    for (int i = 0; i < 12; ++i) conns.push_back(std::make_unique<RawConn>(port));
    long cpu0 = cpu_ticks();
    std::this_thread::sleep_for(1500ms);
    long burst_ticks = cpu_ticks() - cpu0;
    auto lines = [&] {
        std::ifstream in(log_path);
        std::vector<std::string> out;
        for (std::string l; std::getline(in, l);) out.push_back(l);
        return out;
    };
    int failed = 0;
    for (auto& l : lines()) failed += l.find("\"accept_failed\"") != std::string::npos;
    EXPECT_EQ(failed, 1);
    EXPECT_LE(lines().size(), 2u);
    // A tight accept loop burns a core (about 150 ticks in 1.5 s); backing off, almost nothing.
    EXPECT_LT(burst_ticks, 30) << "CPU ticks during 1.5 s of accept failures";

    // Descriptors free up (the first connections, which were accepted, close): accepting
    // resumes, the recovery is logged, a waiting request is served.
    for (int i = 0; i < 3; ++i) conns[static_cast<size_t>(i)]->close();
    ASSERT_TRUE(conns[3]->send(kHealthz));
    std::string r = conns[3]->read_response(3s);
    EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
    int recovered = 0;
    for (int i = 0; i < 50 && recovered == 0; ++i) {
        for (auto& l : lines()) recovered += l.find("\"accept_recovered\"") != std::string::npos;
        if (recovered == 0) std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(recovered, 1) << ::testing::PrintToString(lines());
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
}

TEST(Listener, IdleAndSlowHeaderConnectionsAreClosedAfterTheHeaderTimeout) {
    World w;
    auto o = opts();
    o.header_timeout = 300ms;
    o.read_timeout = 5s;
    LiveServer s(*w.store, o);

    RawConn idle(s.port);
    auto t = idle.time_to_close(3s);
    EXPECT_GE(t.count(), 250) << "closed before the header timeout";
    EXPECT_LT(t.count(), 1500) << "an idle connection was kept open";

    // Slowloris: a header line every 100 ms never finishes the request in time.
    RawConn slow(s.port);
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(slow.send("GET /healthz HTTP/1.1\r\n"));
    bool closed = false;
    for (int i = 0; i < 30 && !closed; ++i) {
        slow.send("X-Slow-" + std::to_string(i) + ": 1\r\n");
        slow.read_for(100ms, &closed);
    }
    EXPECT_TRUE(closed);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);

    // Keep-alive: after an answer, the idle wait for the next request is the short one.
    RawConn ka(s.port);
    ASSERT_TRUE(ka.send(kHealthz));
    std::string r = ka.read_response(2s);
    EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
    t = ka.time_to_close(3s);
    EXPECT_GE(t.count(), 200);
    EXPECT_LT(t.count(), 1500);
}

TEST(Listener, ABodySlowerThanTheHeaderTimeoutGetsTheLongerReadTimeout) {
    World w;
    auto o = opts();
    o.header_timeout = 300ms;
    o.read_timeout = 5s;
    LiveServer s(*w.store, o);
    RawConn c(s.port);
    std::string body = R"({"protocol":1,"username":"part1","password":"wrong"})";
    ASSERT_TRUE(c.send("POST /v1/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10)));
    std::this_thread::sleep_for(700ms);  // longer than the header timeout, mid-body
    ASSERT_TRUE(c.send(body.substr(10)));
    std::string r = c.read_response(3s);
    EXPECT_EQ(r.rfind("HTTP/1.1 401", 0), 0u) << r;
}

TEST(Listener, AccessLogIsOneJsonLinePerRequestWithoutSecrets) {
    World w;
    w.now = wall_clock_ms();
    LiveServer s(*w.store, opts());
    client::ClientOptions co;  // the real libcurl transport
    auto c = client::Client::open(w.dir.file("coord.db"), co);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c.value()->login(s.url(), "coord1", "password1"));
    client::SyncOptions so;
    auto rep = c.value()->sync(so);
    ASSERT_TRUE(rep) << rep.status().to_string();
    RawConn q(s.port);  // a query string with a secret in it
    ASSERT_TRUE(q.send("GET /healthz?token=sekret-query HTTP/1.1\r\nHost: t\r\n\r\n"));
    EXPECT_EQ(q.read_response(2s).rfind("HTTP/1.1 200", 0), 0u);
    RawConn bad(s.port);  // a wrong password
    std::string body = R"({"protocol":1,"username":"coord1","password":"guess-123"})";
    ASSERT_TRUE(bad.send("POST /v1/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n" + body));
    EXPECT_EQ(bad.read_response(2s).rfind("HTTP/1.1 401", 0), 0u);

    std::string token;
    {
        auto db = sqlite::Db::open(w.dir.file("coord.db"));
        ASSERT_TRUE(db);
        auto qq = db.value()->query("SELECT value FROM meta WHERE key = 'token'");
        ASSERT_TRUE(qq->step().value());
        token = qq->text(0);
    }
    ASSERT_FALSE(token.empty());
    std::this_thread::sleep_for(100ms);  // the last line is written after the answer
    for (auto& l : s.log()) {
        EXPECT_EQ(l.find("password1"), std::string::npos) << l;
        EXPECT_EQ(l.find("guess-123"), std::string::npos) << l;
        EXPECT_EQ(l.find(token), std::string::npos) << l;
        EXPECT_EQ(l.find("sekret"), std::string::npos) << l;
    }
    auto lines = access_lines(s);
    ASSERT_GE(lines.size(), 4u);  // login, at least one sync round, healthz, failed login
    std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
    int logins = 0, syncs = 0;
    for (auto& d : lines) {
        for (const char* k : {"time", "address", "user", "device", "method", "route"}) {
            ASSERT_TRUE(d.HasMember(k) && d[k].IsString()) << k;
        }
        for (const char* k : {"status", "bytes"}) {
            ASSERT_TRUE(d.HasMember(k) && d[k].IsInt()) << k;
        }
        ASSERT_TRUE(d.HasMember("duration_ms") && d["duration_ms"].IsNumber());
        EXPECT_TRUE(std::regex_match(d["time"].GetString(), iso)) << d["time"].GetString();
        EXPECT_STREQ(d["address"].GetString(), "127.0.0.1");
        EXPECT_GE(d["duration_ms"].GetDouble(), 0.0);
        std::string route = d["route"].GetString(), user = d["user"].GetString();
        int status = d["status"].GetInt();
        if (route == "/v1/login" && status == 200) {
            ++logins;
            EXPECT_EQ(user, "coord1");
            EXPECT_FALSE(std::string(d["device"].GetString()).empty());
        }
        if (route == "/v1/login" && status == 401) {
            EXPECT_EQ(user, "");
        }
        if (route == "/v1/sync") {
            ++syncs;
            EXPECT_EQ(status, 200);
            EXPECT_EQ(user, "coord1");
            EXPECT_FALSE(std::string(d["device"].GetString()).empty());
            EXPECT_GT(d["bytes"].GetInt(), 0);
        }
        if (route == "/healthz") {
            EXPECT_EQ(status, 200);
        }
    }
    EXPECT_EQ(logins, 1);
    EXPECT_EQ(syncs, rep->requests);
}

TEST(Listener, ForwardedForIsHonouredOnlyFromATrustedProxy) {
    World w;
    auto address_seen = [&](std::vector<std::string> trusted) {
        auto o = opts();
        o.trusted_proxies = std::move(trusted);
        LiveServer s(*w.store, o);
        RawConn c(s.port);
        c.send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 6.6.6.6, 198.51.100.9\r\n\r\n");
        EXPECT_EQ(c.read_response(2s).rfind("HTTP/1.1 200", 0), 0u);
        std::this_thread::sleep_for(50ms);
        auto lines = access_lines(s);
        EXPECT_EQ(lines.size(), 1u);
        return lines.empty() ? std::string() : std::string(lines[0]["address"].GetString());
    };
    EXPECT_EQ(address_seen({}), "127.0.0.1");
    EXPECT_EQ(address_seen({"10.0.0.0/8"}), "127.0.0.1");
    EXPECT_EQ(address_seen({"10.0.0.0/8", "127.0.0.0/8"}), "198.51.100.9");
    EXPECT_EQ(address_seen({"127.0.0.1"}), "198.51.100.9");
}

TEST(Listener, BadTrustedProxyOrTlsFilesAreRefusedAtListen) {
    World w;
    auto o = opts();
    o.trusted_proxies = {"10.0.0.0/33"};
    server::HttpServer a(*w.store, o);
    auto r = a.listen("127.0.0.1", 0);
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("10.0.0.0/33"), std::string::npos);
    auto t = opts();
    t.tls_cert_file = w.dir.file("missing.crt");
    server::HttpServer b(*w.store, t);
    EXPECT_FALSE(b.listen("127.0.0.1", 0));
    t.tls_key_file = w.dir.file("missing.key");
    server::HttpServer c(*w.store, t);
    auto rc = c.listen("127.0.0.1", 0);
    ASSERT_FALSE(rc);
    EXPECT_NE(rc.status().message().find("missing.crt"), std::string::npos) << rc.status().message();
}

// A body limit per target (the console's uploads are larger than any API call): a
// Content-Length past the target's limit is answered 413 before the body is sent, a chunked
// body as soon as it grows past it, and a target with the larger limit takes the same body.
TEST(Listener, EachTargetHasItsOwnBodyLimitForContentLengthAndChunkedBodies) {
    web::ListenerOptions o;
    o.handle_signals = false;
    o.max_body_bytes = 1000;
    o.body_limit_for = [](std::string_view target) -> size_t { return target.rfind("/big", 0) == 0 ? 1000 : 100; };
    web::Listener l(
        [](const web::HttpRequest& r) {
            web::HttpResponse resp;
            resp.body = std::to_string(r.body.size());
            resp.headers.emplace_back("Set-Cookie", "a=1");
            resp.headers.emplace_back("Set-Cookie", "b=2");
            return resp;
        },
        o);
    auto port = l.listen("127.0.0.1", 0);
    ASSERT_TRUE(port) << port.status().to_string();
    std::thread t([&] { l.run(); });
    auto post = [&](const std::string& target, size_t n, bool chunked) {
        RawConn c(port.value());
        std::string head = "POST " + target + " HTTP/1.1\r\nHost: t\r\n";
        if (!chunked) {
            // Only the headers: a refused length must not wait for its body.
            c.send(head + "Content-Length: " + std::to_string(n) + "\r\n\r\n");
            std::string r = c.read_response(300ms);
            if (!r.empty()) return r;
            c.send(std::string(n, 'x'));
            return c.read_response(2s);
        }
        c.send(head + "Transfer-Encoding: chunked\r\n\r\n");
        std::string r;
        for (size_t sent = 0; sent < n && r.empty(); sent += 50) {
            char size[16];
            std::snprintf(size, sizeof size, "%zx\r\n", std::min<size_t>(50, n - sent));
            c.send(size + std::string(std::min<size_t>(50, n - sent), 'x') + "\r\n");
            r = c.read_for(50ms);
        }
        if (r.empty()) {
            c.send("0\r\n\r\n");
            r = c.read_response(2s);
        }
        return r;
    };
    for (bool chunked : {false, true}) {
        std::string small = post("/small", 300, chunked);
        EXPECT_EQ(small.rfind("HTTP/1.1 413", 0), 0u) << chunked << small;
        std::string fits = post("/small", 80, chunked);
        EXPECT_EQ(fits.rfind("HTTP/1.1 200", 0), 0u) << chunked << fits;
        std::string big = post("/big", 300, chunked);
        EXPECT_EQ(big.rfind("HTTP/1.1 200", 0), 0u) << chunked << big;
        EXPECT_NE(big.find("\r\n\r\n300"), std::string::npos) << big;
        std::string over = post("/big", 1200, chunked);
        EXPECT_EQ(over.rfind("HTTP/1.1 413", 0), 0u) << chunked << over;
    }
    // Several Set-Cookie headers all reach the browser.
    std::string r = post("/small", 1, false);
    EXPECT_NE(r.find("Set-Cookie: a=1"), std::string::npos) << r;
    EXPECT_NE(r.find("Set-Cookie: b=2"), std::string::npos) << r;
    l.stop();
    t.join();
}

// The console on the sync server's port: its own, smaller body limit for API calls.
TEST(Listener, TheSyncServerServesTheConsoleWithItsBodyLimits) {
    World w;
    auto o = opts();
    o.console.max_body_bytes = 2000;
    o.console.max_upload_bytes = 100'000;
    server::HttpServer http(*w.store, o);
    auto port = http.listen("127.0.0.1", 0);
    ASSERT_TRUE(port);
    std::thread t([&] { http.run(); });
    {
        RawConn c(port.value());
        c.send("GET /console/login HTTP/1.1\r\nHost: t\r\n\r\n");
        std::string r = c.read_response(2s);
        EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
        EXPECT_NE(r.find("Set-Cookie: tundra_console_csrf="), std::string::npos) << r;
        EXPECT_NE(r.find("<form"), std::string::npos);
    }
    for (auto [target, status] : {std::pair<std::string, std::string>{"/console/api/courses", "413"},
                                  {"/console/api/import/preview", "401"},
                                  {"/v1/sync", "401"}}) {
        RawConn c(port.value());
        c.send("POST " + target + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n");
        std::string r = c.read_response(300ms);
        if (r.empty()) {
            c.send("{\"a\":\"" + std::string(4992, 'x') + "\"}");  // 5000 bytes
            r = c.read_response(2s);
        }
        EXPECT_EQ(r.rfind("HTTP/1.1 " + status, 0), 0u) << target << ": " << r.substr(0, 200);
    }
    http.stop();
    t.join();
}

// A listener over `gate` on a free port, run on its own thread, its one worker held by a
// `/slow` request: where the admission tests start. stop() (or leaving the test, a failed
// assertion included) opens the gate and ends it.
struct HeldListener {
    Gate& gate;
    web::Listener l;
    uint16_t port = 0;
    std::thread t;
    std::unique_ptr<RawConn> slow;
    HeldListener(Gate& g, const web::ListenerOptions& o) : gate(g), l(g.handler(), o) {}
    void stop() {
        gate.release();
        l.stop();
        if (t.joinable()) t.join();
    }
    ~HeldListener() { stop(); }
};
void hold_worker(HeldListener& h, Gate& gate) {
    auto port = h.l.listen("127.0.0.1", 0);
    ASSERT_TRUE(port) << port.status().to_string();
    h.port = port.value();
    h.t = std::thread([&h] { h.l.run(); });
    h.slow = std::make_unique<RawConn>(h.port);
    ASSERT_TRUE(h.slow->send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_TRUE(gate.wait_ran(1));
}

// Admission control (issue 12): a request that has waited for a worker longer than
// max_queue_delay is answered 503 + Retry-After without running the handler, and at once,
// not when a worker frees: here the only worker is held by a blocked request throughout.
TEST(Listener, RequestsWaitingPastTheQueueDelayAreAnswered503BeforeTheSlowHandlerEnds) {
    Gate gate;
    web::ListenerOptions o;
    o.handle_signals = false;
    o.workers = 1;
    o.max_queue_delay = 100ms;
    o.retry_after_seconds = 2;
    o.retry_after_spread_seconds = 3;
    HeldListener h(gate, o);
    ASSERT_NO_FATAL_FAILURE(hold_worker(h, gate));
    std::vector<std::unique_ptr<RawConn>> burst;
    for (int i = 0; i < 8; ++i) {
        burst.push_back(std::make_unique<RawConn>(h.port));
        ASSERT_TRUE(burst.back()->send("GET /fast HTTP/1.1\r\nHost: t\r\n\r\n"));
    }
    for (auto& c : burst) {
        std::string r = c->read_response(30s);
        EXPECT_EQ(status_of(r), 503) << r;
        int after = std::atoi(header_value(r, "Retry-After").c_str());
        EXPECT_GE(after, 2) << r;
        EXPECT_LE(after, 5) << r;
        EXPECT_NE(r.find("overloaded"), std::string::npos) << r;
    }
    EXPECT_EQ(gate.ran.load(), 1);  // the handler ran for none of them
    gate.release();
    EXPECT_EQ(status_of(h.slow->read_response(30s)), 200);
    // The queue is empty again: the next request is served (on a connection that got a 503).
    ASSERT_TRUE(burst[0]->send("GET /fast HTTP/1.1\r\nHost: t\r\n\r\n"));
    std::string r = burst[0]->read_response(30s);
    EXPECT_EQ(status_of(r), 200) << r;
    EXPECT_EQ(gate.ran.load(), 2);
    h.stop();
}

// The queue's length cap answers the excess at once, with Retry-After spread over
// [retry_after_seconds, + spread] so that the refused do not come back in one wave; what was
// queued is served once the worker is free.
TEST(Listener, ABurstPastTheQueueCapIsAnswered503AtOnceAndTheQueuedAreServed) {
    Gate gate;
    web::ListenerOptions o;
    o.handle_signals = false;
    o.workers = 1;
    o.max_queued_requests = 4;  // the running request and 3 waiting
    o.max_queue_delay = std::chrono::minutes(10);
    o.retry_after_seconds = 1;
    o.retry_after_spread_seconds = 4;
    HeldListener h(gate, o);
    ASSERT_NO_FATAL_FAILURE(hold_worker(h, gate));
    std::vector<std::unique_ptr<RawConn>> queued;
    for (int i = 0; i < 3; ++i) {
        queued.push_back(std::make_unique<RawConn>(h.port));
        ASSERT_TRUE(queued.back()->send("GET /queued HTTP/1.1\r\nHost: t\r\n\r\n"));
        // Nothing comes back for it while the worker is held (it waits its turn).
        EXPECT_EQ(queued.back()->read_for(100ms), "");
    }
    std::set<std::string> retry_after;
    for (int i = 0; i < 40; ++i) {
        RawConn c(h.port);
        ASSERT_TRUE(c.send("GET /excess HTTP/1.1\r\nHost: t\r\n\r\n"));
        std::string r = c.read_response(30s);
        ASSERT_EQ(status_of(r), 503) << r;
        int after = std::atoi(header_value(r, "Retry-After").c_str());
        EXPECT_GE(after, 1) << r;
        EXPECT_LE(after, 5) << r;
        retry_after.insert(header_value(r, "Retry-After"));
    }
    EXPECT_GT(retry_after.size(), 1u);  // spread, not one value for all
    EXPECT_EQ(gate.ran.load(), 1);
    gate.release();
    EXPECT_EQ(status_of(h.slow->read_response(30s)), 200);
    for (auto& c : queued) {
        std::string r = c->read_response(30s);
        EXPECT_EQ(status_of(r), 200) << r;
        EXPECT_NE(r.find("done /queued"), std::string::npos) << r;
    }
    EXPECT_EQ(gate.ran.load(), 4);
    h.stop();
}

// Turns under sustained overload (issue 12, goodput past saturation; admission_turns.h): once
// the queue has refused keyed requests for a while, only a share of the keys is admitted and
// the others are answered 503 at once, without the handler, with Retry-After = the time
// until their turn (up to turns.max_wait); requests without a key are left to the queue alone.
TEST(Listener, SustainedRefusalsPutKeyedRequestsInTurnsAndLeaveTheUnkeyedToTheQueue) {
    Gate gate;
    web::ListenerOptions o;
    o.handle_signals = false;
    o.workers = 1;
    o.max_queued_requests = 2;  // the held request and one waiting
    o.max_queue_delay = std::chrono::minutes(10);
    o.retry_after_seconds = 1;
    o.retry_after_spread_seconds = 0;
    o.turns = web::TurnOptions{.period = std::chrono::seconds(1000), .decrease_floor = 0.5, .sustain = 200ms,
                               .max_wait = std::chrono::seconds(400), .tick = 100ms,
                               .hold = std::chrono::minutes(10)};
    o.turn_key = [](const web::HttpRequest& r) -> std::string_view {
        auto it = r.headers.find("authorization");
        return it == r.headers.end() ? std::string_view{} : std::string_view(it->second);
    };
    o.metrics = std::make_shared<web::MetricsRegistry>();
    HeldListener h(gate, o);
    ASSERT_NO_FATAL_FAILURE(hold_worker(h, gate));
    RawConn queued(h.port);
    ASSERT_TRUE(queued.send("GET /queued HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto ask = [&](const std::string& target, const std::string& token) {
        RawConn c(h.port);
        std::string auth = token.empty() ? "" : "Authorization: Bearer " + token + "\r\n";
        c.send("GET " + target + " HTTP/1.1\r\nHost: t\r\n" + auth + "\r\n");
        return c.read_response(30s);
    };
    // Keyed requests the full queue refuses, tick after tick, until the share is cut.
    auto metrics = [&] { return o.metrics->render(); };
    for (int i = 0; i < 400 && metrics().find("tundra_http_turn_share 0.5") == std::string::npos; ++i) {
        for (int j = 0; j < 4; ++j) EXPECT_EQ(status_of(ask("/excess", "t" + std::to_string(i * 4 + j))), 503);
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_NE(metrics().find("tundra_http_turn_share 0.5"), std::string::npos) << metrics();
    // Now half of the keys are turned away with their wait; the other half reach the (still
    // full) queue and get its short Retry-After.
    web::AdmissionTurns same(o.turns);  // what the listener decides, worked out here
    same.set_share(0.5);
    int turned = 0, queue = 0;
    for (int i = 0; i < 60; ++i) {
        std::string token = "device-" + std::to_string(i);
        auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
        auto wait = same.admit("Bearer " + token, now_ms);
        std::string r = ask("/keyed", token);
        ASSERT_EQ(status_of(r), 503) << r;
        EXPECT_NE(r.find("overloaded"), std::string::npos) << r;
        int after = std::atoi(header_value(r, "Retry-After").c_str());
        if (wait) {
            ++turned;
            EXPECT_NEAR(after, wait->count(), 1) << r;
            EXPECT_LE(after, 400) << r;
        } else {
            ++queue;
            EXPECT_EQ(after, 1) << r;
        }
    }
    EXPECT_GT(turned, 10);
    EXPECT_GT(queue, 10);
    // Unkeyed requests are never turned away: the queue's own answer.
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(header_value(ask("/plain", ""), "Retry-After"), "1");
    EXPECT_NE(metrics().find("tundra_http_unavailable_total{reason=\"turn\"}"), std::string::npos) << metrics();
    EXPECT_EQ(gate.ran.load(), 1);  // the handler ran for none of them
    gate.release();
    EXPECT_EQ(status_of(h.slow->read_response(30s)), 200);
    EXPECT_EQ(status_of(queued.read_response(30s)), 200);
    h.stop();
}
