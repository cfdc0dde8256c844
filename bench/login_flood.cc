// tundra-bench login-flood: floods a real server (Beast on 127.0.0.1, SQLite store, the
// production KDF cost) with wrong-password logins while an honest device syncs once a second,
// and prints how many guesses got a password check per second and how the honest device fared.
//
//   tundra-bench login-flood [--seconds N] [--connections N] [--unprotected]
//
// Three attackers, one after the other: one address guessing many usernames, many addresses
// guessing one username, and many addresses spraying many usernames (each request from a new
// loopback address 127.x.y.z, so per-address throttling does not see one source).
// --unprotected runs the same against a store with throttling and the KDF gate switched off
// (what the server did before issue 8).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tundra/client/client.h"
#include "tundra/server/http_server.h"
#include "tundra/server/sql_store.h"

using namespace tundra;
using Clock = std::chrono::steady_clock;

namespace {
// A minimal blocking HTTP/1.1 client over one socket, bound to a chosen loopback source
// address: what a flood tool does, without libcurl's per-request cost.
class RawConnection {
public:
    ~RawConnection() { close_fd(); }
    bool open(const std::string& source, uint16_t port) {
        close_fd();
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) return false;
        int one = 1;
        setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in src{};
        src.sin_family = AF_INET;
        inet_pton(AF_INET, source.c_str(), &src.sin_addr);
        if (bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) return close_fd(), false;
        sockaddr_in dst{};
        dst.sin_family = AF_INET;
        dst.sin_port = htons(port);
        dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd_, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) return close_fd(), false;
        buf_.clear();
        return true;
    }
    // The HTTP status of the answer, or -1 when the connection failed (it is then closed).
    int post(const std::string& path, const std::string& body, bool close_after) {
        if (fd_ < 0) return -1;
        std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
                          (close_after ? "Connection: close\r\n" : "") +
                          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        if (send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
            return close_fd(), -1;
        size_t end;
        while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
            if (!fill()) return close_fd(), -1;
        int status = std::atoi(buf_.c_str() + 9);
        size_t length = 0;
        std::string head = buf_.substr(0, end);
        std::transform(head.begin(), head.end(), head.begin(), ::tolower);
        if (auto p = head.find("content-length:"); p != std::string::npos)
            length = std::strtoul(head.c_str() + p + 15, nullptr, 10);
        while (buf_.size() < end + 4 + length)
            if (!fill()) return close_fd(), -1;
        buf_.erase(0, end + 4 + length);
        if (close_after) close_fd();
        return status;
    }

private:
    bool fill() {
        char chunk[4096];
        ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) return false;
        buf_.append(chunk, static_cast<size_t>(n));
        return true;
    }
    void close_fd() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    int fd_ = -1;
    std::string buf_;
};

struct Counts {
    std::atomic<uint64_t> sent{0}, checked{0}, throttled{0}, overloaded{0}, other{0};
};

enum class Attack { one_address, one_username, spray };

const char* name_of(Attack a) {
    switch (a) {
        case Attack::one_address: return "1 address, many usernames";
        case Attack::one_username: return "many addresses, 1 username";
        case Attack::spray: return "many addresses, many usernames";
    }
    return "";
}

std::string document() {
    std::string d = R"({"organisations":[{"code":"arjeplog","name":"Arjeplog","county":"Norrbotten"}],
 "sites":[{"id":"s0","organisation":"arjeplog","name":"Hemtjänst"}],"persons":[)";
    for (int p = 0; p < 200; ++p)
        d += std::string(p ? "," : "") + R"({"id":"p)" + std::to_string(p) +
             R"(","organisation":"arjeplog","site":"s0","name":"Person )" + std::to_string(p) +
             R"(","gender":"woman","birth_year":1980})";
    d += R"(],"users":[{"username":"coord","password":"password1","role":"coordinator","sites":["s0"]},
        {"username":"anna","password":"password1","role":"participant","person":"p0"}]})";
    return d;
}

double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

// One flood of `seconds` with `connections` attackers while the honest device syncs each second.
void run_attack(Attack attack, int seconds, int connections, uint16_t port, server::SqlStore& store,
                client::Client& honest) {
    Counts c;
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> next_source{0};
    auto checks_before = store.login_stats().password_checks;
    std::vector<std::thread> flood;
    for (int t = 0; t < connections; ++t)
        flood.emplace_back([&, t] {
            RawConnection conn;
            for (uint64_t i = 0; !stop.load(); ++i) {
                std::string source, user;
                bool fresh = attack == Attack::spray;
                switch (attack) {
                    case Attack::one_address:
                        source = "127.0.0.2";
                        user = "user" + std::to_string(t) + "-" + std::to_string(i % 50);
                        break;
                    case Attack::one_username:
                        source = "127.0.1." + std::to_string(t % 250 + 1);
                        user = "anna";
                        break;
                    case Attack::spray: {
                        uint64_t k = next_source++;
                        source = "127." + std::to_string(2 + k / 62500 % 200) + "." +
                                 std::to_string(k / 250 % 250) + "." + std::to_string(k % 250 + 1);
                        user = "spray" + std::to_string(k);
                        break;
                    }
                }
                if ((fresh || i == 0) && !conn.open(source, port)) {
                    ++c.other;
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                    continue;
                }
                std::string body = R"({"protocol":2,"username":")" + user + R"(","password":"guess)" +
                                   std::to_string(i) + R"("})";
                int status = conn.post("/v1/login", body, fresh);
                ++c.sent;
                if (status == 401) ++c.checked;
                else if (status == 429) ++c.throttled;
                else if (status == 503) ++c.overloaded;
                else ++c.other;
                if (status < 0 && !fresh && !conn.open(source, port)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        });
    std::vector<double> latencies;
    int ok = 0, total = 0;
    auto started = Clock::now();
    for (int s = 0; s < seconds; ++s) {
        auto tick = started + std::chrono::seconds(s + 1);
        auto t0 = Clock::now();
        client::SyncOptions so;
        so.deadline = std::chrono::milliseconds(10000);
        auto r = honest.sync(so);
        latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        ++total;
        if (r) ++ok;
        else std::fprintf(stderr, "  honest sync failed: %s\n", r.status().to_string().c_str());
        std::this_thread::sleep_until(tick);
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    stop = true;
    for (auto& t : flood) t.join();
    auto checks = store.login_stats().password_checks - checks_before;
    std::printf("%-32s %8.0f %10.1f %8.1f %8.0f %8.0f %6d/%-3d %8.1f %8.1f %8.1f\n", name_of(attack),
                static_cast<double>(c.sent.load()) / elapsed, static_cast<double>(checks) / elapsed,
                static_cast<double>(c.checked.load()) / elapsed, static_cast<double>(c.throttled.load()) / elapsed,
                static_cast<double>(c.overloaded.load()) / elapsed, ok, total, percentile(latencies, 0.5),
                percentile(latencies, 0.95), percentile(latencies, 1.0));
}
}  // namespace

int login_flood_main(int argc, char** argv) {
    int seconds = 20, connections = 100;
    bool unprotected = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--connections") && i + 1 < argc) connections = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--unprotected")) unprotected = true;
        else return std::fprintf(stderr, "usage: tundra-bench login-flood [--seconds N] [--connections N] [--unprotected]\n"), 2;
    }
    auto dir = std::filesystem::temp_directory_path() / ("tundra-flood-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    server::StoreOptions so;  // the production KDF cost (100,000 PBKDF2 iterations)
    if (unprotected) {
        so.login_throttle.user.free_failures = so.login_throttle.address.free_failures = 1 << 30;
        so.max_concurrent_kdf = 64;
        so.max_waiting_kdf = 0;
    }
    auto store = server::SqlStore::open((dir / "server.db").string(), so);
    if (!store || !store.value()->import_json(document())) return std::fprintf(stderr, "store setup failed\n"), 1;
    server::ServerOptions opts;  // the defaults of `tundra-server serve`
    opts.handle_signals = false;
    server::HttpServer http(*store.value(), opts);
    auto port = http.listen("127.0.0.1", 0);
    if (!port) return std::fprintf(stderr, "%s\n", port.status().to_string().c_str()), 1;
    std::thread serving([&] { http.run(); });
    std::string url = "http://127.0.0.1:" + std::to_string(port.value());
    setvbuf(stdout, nullptr, _IOLBF, 0);

    auto honest = client::Client::open((dir / "honest.db").string()).value();
    if (Status st = honest->login(url, "coord", "password1"); !st)
        return std::fprintf(stderr, "honest login: %s\n", st.to_string().c_str()), 1;
    if (!honest->sync()) return 1;
    std::vector<double> quiet;
    for (int i = 0; i < 5; ++i) {
        auto t0 = Clock::now();
        if (!honest->sync()) return 1;
        quiet.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::printf("login flood: %d connections, %d s per attack, %s; honest sync without a flood: p50 %.1f ms, max %.1f ms\n",
                connections, seconds, unprotected ? "UNPROTECTED (no throttle, no KDF gate)" : "throttle + KDF gate",
                percentile(quiet, 0.5), percentile(quiet, 1.0));
    std::printf("%-32s %8s %10s %8s %8s %8s %10s %8s %8s %8s\n", "attack", "sent/s", "checked/s", "401/s",
                "429/s", "503/s", "honest ok", "p50 ms", "p95 ms", "max ms");
    for (Attack a : {Attack::one_address, Attack::one_username, Attack::spray})
        run_attack(a, seconds, connections, port.value(), *store.value(), *honest);
    http.stop();
    serving.join();
    std::filesystem::remove_all(dir);
    return 0;
}
