// Crash safety with real processes: SIGKILL the server while devices push, SIGKILL the CLI
// in the middle of paged pulls and pushes; nothing acknowledged is lost, nothing doubles,
// and a pull resumes from its last committed page.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "loopback.h"
#include "process.h"
#include "tundra/sqlite/db.h"

using namespace tundra;
using namespace tundra::testing;

namespace {
int64_t scalar(const std::string& db_path, const std::string& sql) {
    auto db = sqlite::Db::open(db_path);
    if (!db) return -1;
    auto q = db.value()->query(sql);
    auto r = q->step();
    return r && r.value() ? q->int64(0) : -1;
}

std::string text(const std::string& db_path, const std::string& sql) {
    auto db = sqlite::Db::open(db_path);
    if (!db) return "";
    auto q = db.value()->query(sql);
    auto r = q->step();
    return r && r.value() ? q->text(0) : "";
}

// A server store with the small world plus `extra` imported enrolments for paging.
std::string make_store(TempDir& dir, int extra) {
    std::string path = dir.file("server.db");
    server::StoreOptions so;
    so.kdf_iterations = 1000;
    auto s = server::SqliteStore::open(path, so);
    EXPECT_TRUE(s);
    EXPECT_TRUE(s.value()->import_json(small_world_document(wall_clock_ms())));
    if (extra) {
        std::string d = R"({"occasions":[{"id":"big","course":"c1","starts_at":"2027-05-01T08:00:00Z","ends_at":"2027-05-01T10:00:00Z","capacity":100000,"enrolment_closes":"2027-04-01T00:00:00Z"}],"enrolments":[)";
        for (int i = 0; i < extra; ++i)
            d += std::string(i ? "," : "") + R"({"id":"x)" + std::to_string(i) + R"(","occasion":"big","person":"p)" +
                 std::to_string(1 + i % 6) + R"(","status":"waitlisted"})";
        EXPECT_TRUE(s.value()->import_json(d + "]}"));
    }
    return path;
}

std::unique_ptr<client::Client> curl_client(const std::string& path) {
    auto c = client::Client::open(path);
    if (!c) throw std::runtime_error(c.status().to_string());
    return std::move(c.value());
}

int run_cli_killed_after(const std::string& args, int ms) {
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl("/bin/sh", "sh", "-c", (std::string("exec '") + TUNDRA_CLI_BIN + "' " + args).c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}
}  // namespace

TEST(Crash, ServerKilledWhileDevicesPushLosesNothingAcknowledged) {
    TempDir dir;
    std::string store = make_store(dir, 0);
    auto server = std::make_unique<ServerProcess>(store, dir.file("server.log"));
    std::string url = server->url;
    std::string listen = url.substr(std::string("http://").size());

    struct Dev {
        std::string user = {}, replica = {};
        std::vector<std::string> persons = {};
        std::set<uint64_t> acknowledged = {};
        int recorded = 0;
    };
    std::vector<Dev> devs{
        {.user = "coord1", .replica = dir.file("c1.db"), .persons = {"p1", "p2", "p3", "p4", "p5", "p6"}},
        {.user = "coord2", .replica = dir.file("c2.db"), .persons = {"p7", "p8", "p9"}},
        {.user = "admin", .replica = dir.file("a.db"), .persons = {"p1", "p7", "p9"}}};
    for (auto& d : devs) {
        auto c = curl_client(d.replica);
        ASSERT_TRUE(c->login(url, d.user, "password1"));
        ASSERT_TRUE(c->sync());
    }
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (auto& d : devs)
        threads.emplace_back([&d, &stop] {
            auto c = curl_client(d.replica);
            const char* st[] = {"present", "absent", "late"};
            for (int i = 0; !stop; ++i) {
                if (c->mark_attendance("o1", d.persons[static_cast<size_t>(i) % d.persons.size()], st[i % 3], i % 120))
                    ++d.recorded;
                client::SyncOptions so;
                so.deadline = std::chrono::milliseconds(300);
                auto r = c->sync(so);
                if (r)
                    for (auto& o : r->outcomes) d.acknowledged.insert(o.seq);
            }
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    EXPECT_EQ(server->kill9(), 128 + SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server = std::make_unique<ServerProcess>(store, dir.file("server2.log"), listen);  // same port
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    stop = true;
    for (auto& t : threads) t.join();

    int64_t recorded = 0;
    for (auto& d : devs) {
        auto c = curl_client(d.replica);
        auto r = c->sync();
        ASSERT_TRUE(r) << r.status().to_string();
        for (auto& o : r->outcomes) d.acknowledged.insert(o.seq);
        EXPECT_EQ(c->status()->pending, 0);
        recorded += d.recorded;
        EXPECT_EQ(static_cast<int>(d.acknowledged.size()), d.recorded) << d.user;
    }
    EXPECT_GT(recorded, 10);
    server->stop();
    // Every acknowledged action is in the store exactly once (the key is (device, seq)).
    EXPECT_EQ(scalar(store, "SELECT count(*) FROM applied_actions"), recorded);
    EXPECT_EQ(scalar(store, "SELECT count(*) FROM attendance"), recorded);
    EXPECT_EQ(text(store, "PRAGMA integrity_check"), "ok");
}

TEST(Crash, CliKilledMidPullResumesFromItsLastPageAndMidPushNeverDoubles) {
    TempDir dir;
    std::string store = make_store(dir, 6000);
    ServerProcess server(store, dir.file("server.log"));
    std::string replica = dir.file("admin.db");
    {
        auto c = curl_client(replica);
        ASSERT_TRUE(c->login(server.url, "admin", "password1"));
    }
    // Pull: kill the CLI at growing delays; each restart starts where the last page ended.
    // Cursors are opaque; this orders them: the priority part, the rest, then incremental.
    auto progress = [](const std::string& c) -> std::pair<int, uint64_t> {
        if (c.empty()) return {-1, 0};
        if (c[0] == 'p' || c[0] == 'n')
            return {c[0] == 'p' ? 0 : 1, std::stoull(c.substr(2, c.find('.', 2) - 2))};
        return {2, std::stoull(c)};
    };
    std::string cursor = "";
    int kills = 0, advanced = 0;
    for (int ms = 20; ms < 2000; ms += 35) {
        run_cli_killed_after("--replica '" + replica + "' sync --page-rows 150", ms);
        ++kills;
        ASSERT_EQ(text(replica, "PRAGMA integrity_check"), "ok");
        std::string now = text(replica, "SELECT value FROM meta WHERE key = 'cursor'");
        if (progress(now) > progress(cursor)) ++advanced;
        ASSERT_GE(progress(now), progress(cursor)) << "a pull restarted from zero: " << cursor << " -> " << now;
        cursor = now;
        if (scalar(replica, "SELECT count(*) FROM enrolments") >= 6000) break;
    }
    EXPECT_GT(advanced, 2) << "kills never landed mid-pull (" << kills << " kills)";

    // Push: 300 actions queued offline; kill the CLI mid-push again and again.
    {
        auto c = curl_client(replica);
        ASSERT_TRUE(c->sync());
        for (int i = 0; i < 300; ++i)
            ASSERT_TRUE(c->mark_attendance("o1", "p" + std::to_string(1 + i % 9), i % 2 ? "present" : "late", i % 100));
    }
    for (int ms = 5; ms < 400; ms += 15) {
        run_cli_killed_after("--replica '" + replica + "' sync --page-rows 50", ms);
        ASSERT_EQ(text(replica, "PRAGMA integrity_check"), "ok");
        if (scalar(replica, "SELECT count(*) FROM outbox WHERE state = 'queued'") == 0) break;
    }
    auto c = curl_client(replica);
    auto r = c->sync();
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(c->status()->pending, 0);
    EXPECT_EQ(scalar(store, "SELECT count(*) FROM attendance"), 300);
    EXPECT_EQ(scalar(store, "SELECT count(*) FROM applied_actions"), 300);
    EXPECT_EQ(scalar(replica, "SELECT count(*) FROM attendance"), 300);
    auto fresh = curl_client(dir.file("fresh.db"));
    ASSERT_TRUE(fresh->login(server.url, "admin", "password1"));
    ASSERT_TRUE(fresh->sync());
    EXPECT_EQ(c->snapshot().value(), fresh->snapshot().value());
}
