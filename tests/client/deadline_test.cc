// Hole 9: a sync deadline is a deadline. A local server that accepts connections and never
// answers; the real libcurl transport; the sync must end when its deadline does.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "tundra/client/client.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::client;

namespace {
// Accepts every connection and keeps it open without a byte of answer.
struct SilentServer {
    int fd = -1;
    uint16_t port = 0;
    std::atomic<bool> stop{false};
    std::vector<int> held;
    std::thread thread;
    SilentServer() {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        EXPECT_EQ(listen(fd, 16), 0);
        socklen_t len = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        thread = std::thread([this] {
            while (!stop) {
                timeval tv{0, 100000};
                fd_set set;
                FD_ZERO(&set);
                FD_SET(fd, &set);
                if (select(fd + 1, &set, nullptr, nullptr, &tv) > 0) held.push_back(accept(fd, nullptr, nullptr));
            }
        });
    }
    ~SilentServer() {
        stop = true;
        thread.join();
        for (int c : held) close(c);
        close(fd);
    }
};

// Login answered in-process; everything else goes to the real transport.
struct LoginThenCurl : Transport {
    std::unique_ptr<Transport> curl;
    explicit LoginThenCurl(const std::string& url) : curl(make_curl_transport(url)) {}
    Result<HttpReply> post(const std::string& path, const std::string& body,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           std::chrono::milliseconds timeout) override {
        if (path != "/v1/login") return curl->post(path, body, headers, timeout);
        LoginResponse lr;
        lr.token = "t";
        lr.device_id = "dev-0123456789";
        lr.user = {"anna", "participant", "p1", {}};
        HttpReply r;
        r.status = 200;
        r.body = encode(lr);
        return r;
    }
};
}  // namespace

TEST(Deadline, SyncAgainstAServerThatNeverAnswersEndsWithTheDeadline) {
    SilentServer server;
    std::string tmpl = (std::filesystem::temp_directory_path() / "tundra-deadline-XXXXXX").string();
    std::filesystem::path dir = mkdtemp(tmpl.data());
    {
        ClientOptions o;
        o.transport_factory = [](const std::string& url) { return std::make_unique<LoginThenCurl>(url); };
        auto c = Client::open((dir / "r.db").string(), o);
        ASSERT_TRUE(c);
        ASSERT_TRUE(c.value()->login("http://127.0.0.1:" + std::to_string(server.port), "anna", "pw"));
        SyncOptions so;
        so.deadline = std::chrono::seconds(2);
        auto t0 = std::chrono::steady_clock::now();
        auto r = c.value()->sync(so);
        double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ASSERT_FALSE(r);
        EXPECT_EQ(r.status().code(), Errc::timeout) << r.status().to_string();
        EXPECT_NE(r.status().message().find("gave up"), std::string::npos) << r.status().to_string();
        EXPECT_GE(took, 1.5);
        EXPECT_LT(took, 3.0) << "the request in flight was not bounded by the deadline";
    }
    std::filesystem::remove_all(dir);
}

TEST(Deadline, LoginToAServerThatNeverAnswersEndsWithItsTimeout) {
    SilentServer server;
    std::string tmpl = (std::filesystem::temp_directory_path() / "tundra-deadline-XXXXXX").string();
    std::filesystem::path dir = mkdtemp(tmpl.data());
    {
        ClientOptions o;
        o.login_timeout = std::chrono::seconds(1);
        auto c = Client::open((dir / "r.db").string(), o);
        ASSERT_TRUE(c);
        auto t0 = std::chrono::steady_clock::now();
        Status st = c.value()->login("http://127.0.0.1:" + std::to_string(server.port), "anna", "pw");
        double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        EXPECT_EQ(st.code(), Errc::timeout) << st.to_string();
        EXPECT_LT(took, 2.0);
    }
    std::filesystem::remove_all(dir);
}
