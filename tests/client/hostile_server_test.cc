// The SDK against a hostile server over real HTTP (libcurl, as `tundra login` and `tundra
// sync` use it): a tiny loopback server in the test answers with about 1 KB of gzip that
// decodes to a million `[`. The client reports a clear error; it does not crash.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "tundra/client/client.h"
#include "tundra/core/gzip.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::client;

namespace {
struct Reply {
    int status = 200;
    std::string body;
    bool gzip = false;
};

// Answers each request (one per connection) with the next scripted reply.
class FakeServer {
public:
    explicit FakeServer(std::deque<Reply> script) : script_(std::move(script)) {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        EXPECT_EQ(listen(fd_, 8), 0);
        socklen_t len = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~FakeServer() {
        stop_ = true;
        thread_.join();
        close(fd_);
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::vector<std::string> paths() {
        std::lock_guard lock(mu_);
        return paths_;
    }

private:
    void run() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) continue;
            int c = accept(fd_, nullptr, nullptr);
            if (c < 0) continue;
            serve(c);
            close(c);
        }
    }
    void serve(int c) {
        std::string in;
        char buf[4096];
        size_t head_end;
        while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
            ssize_t n = read(c, buf, sizeof buf);
            if (n <= 0) return;
            in.append(buf, static_cast<size_t>(n));
        }
        size_t length = 0;
        if (auto at = in.find("Content-Length: "); at != std::string::npos && at < head_end)
            length = std::stoul(in.substr(at + 16));
        while (in.size() < head_end + 4 + length) {
            ssize_t n = read(c, buf, sizeof buf);
            if (n <= 0) return;
            in.append(buf, static_cast<size_t>(n));
        }
        Reply r;
        {
            std::lock_guard lock(mu_);
            paths_.push_back(in.substr(0, in.find(' ', 5)));
            if (!script_.empty()) {
                r = script_.front();
                script_.pop_front();
            } else {
                r = {503, R"({"error":"overloaded","message":"script ran out"})"};
            }
        }
        std::string body = r.gzip ? gzip_compress(r.body, 9) : r.body;
        std::string out = "HTTP/1.1 " + std::to_string(r.status) + " X\r\nContent-Type: application/json\r\n" +
                          (r.gzip ? "Content-Encoding: gzip\r\n" : "") +
                          "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        for (size_t sent = 0; sent < out.size();) {
            ssize_t n = write(c, out.data() + sent, out.size() - sent);
            if (n <= 0) return;
            sent += static_cast<size_t>(n);
        }
    }

    int fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::mutex mu_;
    std::deque<Reply> script_;
    std::vector<std::string> paths_;
    std::thread thread_;
};

struct HostileServer : ::testing::Test {
    std::filesystem::path dir;
    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "tundra-hostile-XXXXXX").string();
        dir = mkdtemp(tmpl.data());
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    std::unique_ptr<Client> open() {
        ClientOptions o;
        o.sleep = [](std::chrono::milliseconds) {};
        auto c = Client::open((dir / "replica.db").string(), o);
        EXPECT_TRUE(c) << c.status().to_string();
        return c ? std::move(c.value()) : nullptr;
    }
};

const std::string kBomb(1'000'000, '[');

std::string objects_bomb() {
    std::string s;
    for (int i = 0; i < 200'000; ++i) s += "{\"a\":";
    return s;
}

std::string login_reply() {
    LoginResponse r;
    r.token = "t0k3n";
    r.device_id = "d1";
    r.user.username = "anna";
    r.user.role = "participant";
    r.user.person = "p1";
    r.capabilities = {"gzip"};
    return encode(r);
}
}  // namespace

TEST_F(HostileServer, LoginReplyNestedAMillionDeepIsAClearErrorNotACrash) {
    ASSERT_LT(gzip_compress(kBomb, 9).size(), 2000u);  // what the attacker sends: about 1 KB
    FakeServer server({{200, kBomb, true}, {200, objects_bomb(), true}, {400, kBomb, true}});
    auto c = open();
    ASSERT_TRUE(c);
    for (int i = 0; i < 2; ++i) {
        Status st = c->login(server.url(), "anna", "password1");
        ASSERT_FALSE(st);
        EXPECT_EQ(st.code(), Errc::malformed);
        EXPECT_NE(st.message().find("nesting deeper than 64 levels"), std::string::npos) << st.to_string();
    }
    // An error reply that cannot be decoded is reported by its HTTP status.
    Status st = c->login(server.url(), "anna", "password1");
    ASSERT_FALSE(st);
    EXPECT_NE(st.message().find("HTTP 400"), std::string::npos) << st.to_string();
    EXPECT_EQ(server.paths().size(), 3u);
}

TEST_F(HostileServer, SyncReplyNestedAMillionDeepIsAClearErrorNotACrash) {
    FakeServer server({{200, login_reply(), false}, {200, kBomb, true}});
    auto c = open();
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->login(server.url(), "anna", "password1"));
    auto r = c->sync();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::malformed);
    EXPECT_NE(r.status().message().find("nesting deeper than 64 levels"), std::string::npos)
        << r.status().to_string();
    auto paths = server.paths();
    ASSERT_EQ(paths.size(), 2u);
    EXPECT_EQ(paths[1], "POST /v1/sync");
}
