// The SDK's issue-10 additions against a real server: a user changes their own password
// (POST /v1/password: the old one stops working, a wrong current one is refused and
// throttled like a failed login), and a sync over libcurl is cancelled mid-transfer, against
// a server that stalls and over a slow link, keeping the rounds committed before.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "loopback.h"
#include "tundra/netem/link_emulator.h"
#include "tundra/server/http_server.h"

using namespace tundra;
using namespace tundra::testing;
using namespace std::chrono_literals;

namespace {
// A real HTTP server over a World's store, on 127.0.0.1:0.
struct Served {
    server::HttpServer http;
    uint16_t port = 0;
    std::thread thread;
    explicit Served(server::Store& store) : http(store, options()) {
        port = http.listen("127.0.0.1", 0).value();
        thread = std::thread([this] { http.run(); });
    }
    ~Served() {
        http.stop();
        thread.join();
    }
    static server::ServerOptions options() {
        server::ServerOptions o;
        o.handle_signals = false;
        return o;
    }
};

// A server that answers a login and then stalls: it reads every later request and never
// answers (a server process hung, or a middlebox holding the connection).
struct Stalling {
    int fd = -1;
    uint16_t port = 0;
    std::atomic<bool> stop{false};
    std::atomic<int> stalled{0};  // requests left without an answer
    std::thread thread;
    Stalling() {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        EXPECT_EQ(listen(fd, 8), 0);
        socklen_t len = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        thread = std::thread([this] { serve(); });
    }
    ~Stalling() {
        stop = true;
        thread.join();
        close(fd);
    }

private:
    // Reads one request (headers and Content-Length body); its path, or "" when the peer left.
    std::string read_request(int c, std::string& buf) {
        for (;;) {
            auto end = buf.find("\r\n\r\n");
            if (end != std::string::npos) {
                size_t len = 0;
                auto cl = buf.find("Content-Length: ");
                if (cl != std::string::npos && cl < end) len = std::stoul(buf.substr(cl + 16));
                if (buf.size() >= end + 4 + len) {
                    std::string line = buf.substr(0, buf.find("\r\n"));
                    buf.erase(0, end + 4 + len);
                    auto sp = line.find(' ');
                    return line.substr(sp + 1, line.find(' ', sp + 1) - sp - 1);
                }
            }
            pollfd p{c, POLLIN, 0};
            if (stop) return "";
            if (poll(&p, 1, 50) <= 0) continue;
            char tmp[4096];
            ssize_t n = recv(c, tmp, sizeof tmp, 0);
            if (n <= 0) return "";
            buf.append(tmp, static_cast<size_t>(n));
        }
    }
    void serve() {
        std::vector<int> held;
        while (!stop) {
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) continue;
            int c = accept(fd, nullptr, nullptr);
            held.push_back(c);
            std::string buf;
            for (;;) {
                std::string path = read_request(c, buf);
                if (path != "/v1/login") {
                    if (!path.empty()) ++stalled;
                    break;  // never answered; the connection stays open
                }
                LoginResponse lr;
                lr.token = "t";
                lr.device_id = "dev-stalled";
                lr.user = {"part1", "participant", "p1", {}};
                lr.server_hlc = Hlc::from_parts(wall_clock_ms(), 0).value;
                std::string body = encode(lr);
                std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                   std::to_string(body.size()) + "\r\n\r\n" + body;
                send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
            }
        }
        for (int c : held) close(c);
    }
};

std::unique_ptr<client::Client> real_client(World& w, const std::string& name) {
    auto c = client::Client::open(w.dir.file(name), client::ClientOptions{});
    EXPECT_TRUE(c);
    return std::move(c.value());
}

std::string code(const Status& st) { return st ? "ok" : std::string(errc_info(st.code()).wire_name); }
}  // namespace

// ---- change_password ---------------------------------------------------------------------------

TEST(AppSdk, AChangedPasswordEndsTheOldOneAndTheNewOneWorks) {
    World w;
    auto c = w.client("a.db", "part1");
    auto other = w.client("b.db", "part1");  // the same user on another tablet
    sync_ok(*c);
    sync_ok(*other);
    ASSERT_TRUE(c->change_password("password1", "a new password"));
    // The old password no longer logs in; the new one does.
    auto fresh = w.open_client("c.db");
    EXPECT_EQ(code(fresh->login("http://loopback", "part1", "password1")), "unauthorized");
    EXPECT_TRUE(fresh->login("http://loopback", "part1", "a new password"));
    // This device goes on; the user's other devices sign in again.
    EXPECT_TRUE(c->sync());
    EXPECT_EQ(code(other->sync().status()), "unauthorized");
    EXPECT_TRUE(other->login("http://loopback", "part1", "a new password"));
    EXPECT_TRUE(other->sync());
    // The local verifier follows: the new password unlocks offline, the old one not.
    EXPECT_TRUE(c->check_password("a new password"));
    EXPECT_EQ(code(c->check_password("password1").status()), "unauthorized");
    // Audited in the store, without the password.
    auto trail = w.store->audit_trail().value();
    auto it = std::find_if(trail.begin(), trail.end(), [](auto& e) { return e.operation == "change-password"; });
    ASSERT_NE(it, trail.end());
    EXPECT_EQ(it->actor, "part1");
    EXPECT_EQ(it->target, "part1");
    EXPECT_EQ(it->detail.find("a new password"), std::string::npos);
    EXPECT_EQ(it->detail.find("password1"), std::string::npos);
}

TEST(AppSdk, ANewPasswordMustKeepTheRulesOfSetPassword) {
    World w;
    auto c = w.client("a.db", "part1");
    Status st = c->change_password("password1", "short");
    EXPECT_EQ(code(st), "invalid_argument");
    EXPECT_NE(st.message().find("at least 8 characters"), std::string::npos) << st.to_string();
    EXPECT_TRUE(w.open_client("b.db")->login("http://loopback", "part1", "password1"));
}

TEST(AppSdk, AWrongCurrentPasswordIsRefusedAndCountsAsAFailedLogin) {
    World w;
    auto c = w.client("a.db", "part1");
    // Five free failures, and a sixth that starts the username's block.
    for (int i = 0; i < 6; ++i)
        EXPECT_EQ(code(c->change_password("guess" + std::to_string(i), "a new password")), "unauthorized");
    // Even the right password waits now, and so does a login.
    Status st = c->change_password("password1", "a new password");
    EXPECT_EQ(code(st), "rate_limited");
    EXPECT_GT(st.retry_after_s(), 0);
    auto fresh = w.open_client("b.db");
    EXPECT_EQ(code(fresh->login("http://loopback", "part1", "password1")), "rate_limited");
    // Once the block is over, the right password changes it (and clears the failures).
    w.now += 60'000;
    EXPECT_TRUE(c->change_password("password1", "a new password"));
    EXPECT_TRUE(fresh->login("http://loopback", "part1", "a new password"));
    auto trail = w.store->audit_trail().value();
    EXPECT_EQ(std::count_if(trail.begin(), trail.end(), [](auto& e) { return e.operation == "change-password"; }), 1);
}

TEST(AppSdk, ChangingThePasswordNeedsALogin) {
    World w;
    auto c = w.open_client("a.db");
    EXPECT_EQ(code(c->change_password("password1", "a new password")), "unauthorized");
}

TEST(AppSdk, APasswordChangeOverTheRealListenerIsThrottledByAddressToo) {
    World w([](server::StoreOptions& so) { so.login_throttle.address.free_failures = 2; });
    w.now = wall_clock_ms();
    Served served(*w.store);
    std::string url = "http://127.0.0.1:" + std::to_string(served.port);
    auto c = real_client(w, "a.db");
    ASSERT_TRUE(c->login(url, "part1", "password1"));
    for (const char* guess : {"wrong one", "wrong two", "wrong three"})
        EXPECT_EQ(code(c->change_password(guess, "a new password")), "unauthorized");
    // This address is blocked now, for every username.
    auto other = real_client(w, "b.db");
    EXPECT_EQ(code(other->login(url, "part2", "password1")), "rate_limited");
    EXPECT_EQ(w.scalar("SELECT count(*) FROM login_throttle WHERE key = 'addr:127.0.0.1'"), 1);
}

// ---- cancelling a sync over libcurl ------------------------------------------------------------

// A cancel from another thread, `after` the sync started: the result and how long the sync
// took to stop once cancelled.
struct Cancelled {
    Result<client::SyncReport> result = Status(Errc::internal, "not run");
    std::chrono::steady_clock::duration stop_took{};
};
Cancelled cancel_after(client::Client& c, std::chrono::milliseconds after, client::SyncOptions so = {}) {
    client::SyncCancel cancel;
    so.cancel = cancel;
    so.deadline = 120s;
    Cancelled out;
    std::thread t([&] { out.result = c.sync(so); });
    std::this_thread::sleep_for(after);
    auto cancelled_at = std::chrono::steady_clock::now();
    cancel.cancel();
    t.join();
    out.stop_took = std::chrono::steady_clock::now() - cancelled_at;
    return out;
}

TEST(AppSdk, ASyncAgainstAServerThatStallsIsCancelledWithinASecond) {
    Stalling stall;
    TempDir dir;
    auto c = client::Client::open(dir.file("a.db"), client::ClientOptions{}).value();
    ASSERT_TRUE(c->login("http://127.0.0.1:" + std::to_string(stall.port), "part1", "password1"));
    auto r = cancel_after(*c, 300ms);
    EXPECT_EQ(stall.stalled, 1) << "the request was in flight when cancelled";
    ASSERT_FALSE(r.result);
    EXPECT_EQ(r.result.status().code(), Errc::cancelled) << r.result.status().to_string();
    EXPECT_LT(r.stop_took, 1500ms);
    EXPECT_EQ(c->status()->last_sync, "");
}

TEST(AppSdk, ASyncOverASlowLinkIsCancelledMidTransferKeepingTheRoundsBefore) {
    World w;
    w.now = wall_clock_ms();  // a real server clock: the link is real time
    add_history(w, 600);
    Served served(*w.store);
    netem::LinkProfile slow;
    slow.name = "slow";
    slow.down_bits_per_s = 16'000;
    slow.up_bits_per_s = 16'000;
    netem::LinkEmulator link(served.port, slow);
    auto c = real_client(w, "a.db");
    ASSERT_TRUE(c->login("http://127.0.0.1:" + std::to_string(link.port()), "coord1", "password1"));
    client::SyncCancel cancel;
    client::SyncOptions so;
    so.page_rows = 100;  // several rounds, each a few seconds on this link
    so.deadline = 120s;
    so.cancel = cancel;
    std::atomic<int> rounds{0};
    so.progress = [&](const client::SyncProgress& p) {
        if (p.note.empty()) rounds = p.round;
    };
    Result<client::SyncReport> result = Status(Errc::internal, "not run");
    std::thread t([&] { result = c->sync(so); });
    // Cancel while the second round is on the wire.
    for (int i = 0; i < 6000 && rounds == 0; ++i) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(300ms);
    auto before = link.bytes_down();
    auto cancelled_at = std::chrono::steady_clock::now();
    cancel.cancel();
    t.join();
    EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, 1s);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.status().code(), Errc::cancelled) << result.status().to_string();
    EXPECT_EQ(rounds.load(), 1) << "only the first round was committed";
    EXPECT_GT(before, 0u);
    // What the committed rounds brought is in the replica; the pull is not complete.
    auto snap = c->snapshot().value();
    size_t rows = 0;
    for (auto& [table, list] : snap) rows += list.size();
    EXPECT_GE(rows, 100u);
    EXPECT_EQ(c->status()->last_sync, "");
}

TEST(AppSdk, ARetryingSyncSaysWhyInAStructuredFieldAndClearsItWhenARoundGetsThrough) {
    World w;
    auto c = w.client("r.db", "part1");
    int calls = 0;
    w.faults = [&] { return ++calls <= 2 ? Fault::drop_request : Fault::none; };
    auto d = w.open_client("r.db");  // a transport with the faults
    std::vector<std::pair<Errc, int64_t>> seen;
    client::SyncOptions so;
    so.progress = [&](const client::SyncProgress& p) { seen.emplace_back(p.retrying, p.retry_in_ms); };
    auto r = d->sync(so);
    ASSERT_TRUE(r) << r.status().to_string();
    ASSERT_GE(seen.size(), 3u);
    EXPECT_EQ(seen[0].first, Errc::network);
    EXPECT_GT(seen[0].second, 0);
    EXPECT_EQ(seen[1].first, Errc::network);
    EXPECT_EQ(seen.back().first, Errc::ok) << "a round that got through is no retry";
    EXPECT_EQ(seen.back().second, 0);
}
