// Two tundra-server processes serve one PostgreSQL database at once (issue 12, servers are
// stateless): seven devices of every role sync concurrently, each round going to the other
// process than the one before, and everything converges: every action applied exactly once,
// no occasion over its capacity, every replica equal to what a new device receives.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "../support/backends.h"
#include "loopback.h"
#include "process.h"

using namespace tundra;
using namespace tundra::testing;

namespace {
uint64_t wall_ms() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
}

// Sends each request to the next server of `urls`, starting at `start`.
class AlternatingTransport final : public client::Transport {
public:
    AlternatingTransport(const std::vector<std::string>& urls, size_t start) : next_(start) {
        for (auto& u : urls) inner_.push_back(client::make_curl_transport(u));
    }
    Result<client::HttpReply> post(const std::string& path, const std::string& body,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   std::chrono::milliseconds timeout) override {
        return inner_[next_++ % inner_.size()]->post(path, body, headers, timeout);
    }
    void set_abort(std::function<bool()> abort) override {
        for (auto& t : inner_) t->set_abort(abort);
    }

private:
    std::vector<std::unique_ptr<client::Transport>> inner_;
    size_t next_;
};

struct Device {
    std::string user, replica;
    std::vector<std::string> persons;
    std::unique_ptr<client::Client> c = {};
    int64_t recorded = 0;
};

int64_t scalar(server::SqlStore& s, const std::string& sql) {
    auto q = s.db().query(sql);
    auto r = q->step();
    return r && r.value() ? q->int64(0) : -1;
}
}  // namespace

TEST(TwoServers, DevicesSpreadOverTwoProcessesOfOneDatabaseConvergeExactlyOnce) {
    TUNDRA_REQUIRE_PG();
    TempDir dir;
    const std::string uri = ::tundra::test::store_target(sql::Backend::postgres, dir.path);
    ASSERT_FALSE(uri.empty());
    {
        server::StoreOptions o;
        o.kdf_iterations = 1000;  // the hashes carry their cost: logins stay cheap below
        auto s = server::SqlStore::open(uri, o);
        ASSERT_TRUE(s) << s.status().to_string();
        auto rep = s.value()->import_json(small_world_document(wall_ms()));
        ASSERT_TRUE(rep) << rep.status().to_string();
    }
    ServerProcess a(uri, dir.file("a.log")), b(uri, dir.file("b.log"));
    const std::vector<std::string> urls{a.url, b.url};

    std::vector<Device> devs;
    devs.push_back({"admin", "admin.db", {"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"}});
    devs.push_back({"coord1", "coord1-a.db", {"p1", "p2", "p3", "p4", "p5", "p6"}});
    devs.push_back({"coord1", "coord1-b.db", {"p1", "p2", "p3", "p4", "p5", "p6"}});
    devs.push_back({"coord2", "coord2.db", {"p7", "p8", "p9"}});
    devs.push_back({"part1", "part1.db", {"p1"}});
    devs.push_back({"part2", "part2.db", {"p2"}});
    devs.push_back({"part3", "part3.db", {"p7"}});
    auto open = [&](const std::string& replica, size_t start) {
        client::ClientOptions o;
        o.transport_factory = [urls, start](const std::string&) -> std::unique_ptr<client::Transport> {
            return std::make_unique<AlternatingTransport>(urls, start);
        };
        auto c = client::Client::open(dir.file(replica), o);
        if (!c) throw std::runtime_error(c.status().to_string());
        return std::move(c.value());
    };
    for (size_t i = 0; i < devs.size(); ++i) {
        devs[i].c = open(devs[i].replica, i);
        ASSERT_TRUE(devs[i].c->login(urls[i % 2], devs[i].user, "password1")) << devs[i].user;
        sync_ok(*devs[i].c);
    }

    // Every device acts and syncs at once: contested seats (capacities 1 to 3), cancellations.
    std::vector<std::thread> threads;
    for (size_t i = 0; i < devs.size(); ++i) {
        threads.emplace_back([&d = devs[i], seed = static_cast<unsigned>(i + 1)] {
            std::mt19937 rng(seed);
            auto pick = [&rng](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
            const char* occasions[] = {"o1", "o2", "o3", "o4"};
            std::vector<std::string> mine;
            for (int round = 0; round < 6; ++round) {
                for (int k = 0; k < 2; ++k) {
                    auto e = d.c->enrol(occasions[pick(4)], d.persons[pick(d.persons.size())]);
                    if (e) {
                        ++d.recorded;
                        mine.push_back(e.value());
                    }
                }
                if (!mine.empty() && pick(3) == 0 && d.c->cancel(mine[pick(mine.size())])) ++d.recorded;
                auto r = d.c->sync();
                EXPECT_TRUE(r) << d.replica << ": " << r.status().to_string();
            }
        });
    }
    for (auto& t : threads) t.join();
    // Two quiet passes: every device has every other's effects.
    for (int pass = 0; pass < 2; ++pass)
        for (auto& d : devs) sync_ok(*d.c);

    server::StoreOptions o;
    auto check = server::SqlStore::open(uri, o, false);
    ASSERT_TRUE(check) << check.status().to_string();
    int64_t recorded = 0;
    for (auto& d : devs) recorded += d.recorded;
    EXPECT_GT(recorded, 0);
    EXPECT_EQ(scalar(*check.value(), "SELECT count(*) FROM applied_actions"), recorded) << "exactly once";
    EXPECT_EQ(scalar(*check.value(),
                     "SELECT count(*) FROM occasions o WHERE (SELECT count(*) FROM enrolments e WHERE "
                     "e.occasion = o.id AND e.status = 'confirmed') > o.capacity"),
              0)
        << "no occasion over capacity";
    for (size_t i = 0; i < devs.size(); ++i) {
        auto fresh = open("fresh-" + std::to_string(i) + ".db", i + 1);
        ASSERT_TRUE(fresh->login(urls[(i + 1) % 2], devs[i].user, "password1"));
        sync_ok(*fresh);
        EXPECT_EQ(devs[i].c->snapshot().value(), fresh->snapshot().value()) << devs[i].replica;
    }
    EXPECT_EQ(a.stop(), 0);
    EXPECT_EQ(b.stop(), 0);
}
