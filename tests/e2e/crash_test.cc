// Crash safety with real processes: SIGKILL the server while devices push, SIGKILL the CLI
// in the middle of paged pulls and pushes; nothing acknowledged is lost, nothing doubles,
// and a pull resumes from its last committed page.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
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
    auto s = server::SqlStore::open(path, so);
    EXPECT_TRUE(s);
    EXPECT_TRUE(s.value()->import_json(small_world_document(wall_clock_ms())));
    EXPECT_TRUE(s.value()->import_json(roster_document()));  // staff mark enrolled people only
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

// Runs the CLI to completion with a crash point armed (tundra/client/test_hooks.h); returns
// its exit code, or -N when signal N ended it.
int run_cli(const std::string& args, const std::string& kill_at) {
    std::string cmd = "TUNDRA_TEST_KILL_AT='" + kill_at + "' exec '" + TUNDRA_CLI_BIN + "' " + args;
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

// Every synced row of a replica, as the SDK reads it.
std::map<std::string, std::vector<std::string>> snapshot(const std::string& replica) {
    auto s = curl_client(replica)->snapshot();
    if (!s) throw std::runtime_error(s.status().to_string());
    return s.value();
}

size_t rows(const std::map<std::string, std::vector<std::string>>& snap) {
    size_t n = 0;
    for (auto& [kind, rs] : snap) n += rs.size();
    return n;
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
    // Progress, not time, decides when to crash the server and when to stop: every device has
    // synced before the kill, has failed against the dead server, and has synced after the
    // restart, however fast or slow this machine is.
    std::atomic<bool> stop{false};
    std::atomic<int> phase{0};                  // 0 up, 1 killed, 2 restarted
    std::atomic<int> progress[3][3] = {};       // [device][phase]: syncs that ok'd (0, 2) or failed (1)
    std::vector<std::thread> threads;
    for (size_t i = 0; i < devs.size(); ++i)
        threads.emplace_back([&, i] {
            auto& d = devs[i];
            auto c = curl_client(d.replica);
            const char* st[] = {"present", "absent", "late"};
            for (int n = 0; !stop; ++n) {
                if (c->mark_attendance("o1", d.persons[static_cast<size_t>(n) % d.persons.size()], st[n % 3], n % 120))
                    ++d.recorded;
                client::SyncOptions so;
                so.deadline = std::chrono::milliseconds(300);
                auto r = c->sync(so);
                if (r)
                    for (auto& o : r->outcomes) d.acknowledged.insert(o.seq);
                int p = phase;
                if ((p == 1) != r.is_ok()) ++progress[i][p];
            }
        });
    auto wait_until_each = [&](int p, int n) {
        auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
        for (size_t i = 0; i < devs.size(); ++i)
            while (progress[i][p] < n && std::chrono::steady_clock::now() < give_up)
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
        for (size_t i = 0; i < devs.size(); ++i) EXPECT_GE(progress[i][p], n) << devs[i].user << " in phase " << p;
    };
    wait_until_each(0, 5);
    phase = 1;
    EXPECT_EQ(server->kill9(), 128 + SIGKILL);
    wait_until_each(1, 2);
    server = std::make_unique<ServerProcess>(store, dir.file("server2.log"), listen);  // same port
    phase = 2;
    wait_until_each(2, 5);
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
    // Pull: kill the CLI at fixed points of a 40-page first sync, again and again, until one
    // run completes. Each cycle: die inside the 1st page's transaction (nothing of it may
    // remain), right after the 2nd page's commit, and inside the 3rd (the first two stay).
    const std::string pull = "--replica '" + replica + "' sync --page-rows 150";
    const char* points[] = {"apply_page:1", "after_page:2", "apply_page:3"};
    int kills = 0;
    for (int run = 0;; ++run) {
        ASSERT_LT(run, 200) << "the pull never completed";
        auto before = snapshot(replica);
        std::string cursor = text(replica, "SELECT value FROM meta WHERE key = 'cursor'");
        int code = run_cli(pull, points[run % 3]);
        ASSERT_EQ(text(replica, "PRAGMA integrity_check"), "ok");
        if (code == 0) break;
        ASSERT_EQ(code, -SIGKILL) << points[run % 3];
        ++kills;
        auto after = snapshot(replica);
        if (run % 3 == 0) {
            EXPECT_EQ(text(replica, "SELECT value FROM meta WHERE key = 'cursor'"), cursor);
            ASSERT_EQ(after, before) << "a page killed before its commit left rows behind";
        } else {
            // The committed pages stay, and the next run goes on from them, not from zero.
            ASSERT_NE(text(replica, "SELECT value FROM meta WHERE key = 'cursor'"), cursor);
            ASSERT_GT(rows(after), rows(before)) << "a pull restarted from zero (run " << run << ")";
        }
    }
    EXPECT_GE(scalar(replica, "SELECT count(*) FROM enrolments"), 6000);
    // 6,000 rows at 150 a page take about 40 pages; each cycle of 3 kills commits 4.
    EXPECT_GE(kills, 9) << "fewer than three cycles of kills landed mid-pull";

    // Push: 300 actions queued offline, sent in one round. The server applies them, and the
    // CLI dies before it records the outcomes, twice: the retries must not apply them again.
    {
        auto c = curl_client(replica);
        ASSERT_TRUE(c->sync());
        for (int i = 0; i < 300; ++i)
            ASSERT_TRUE(c->mark_attendance("o1", "p" + std::to_string(1 + i % 9), i % 2 ? "present" : "late", i % 100));
    }
    const std::string push = "--replica '" + replica + "' sync --page-rows 50";
    for (int i = 0; i < 2; ++i) {
        ASSERT_EQ(run_cli(push, "apply_page:1"), -SIGKILL);
        ASSERT_EQ(text(replica, "PRAGMA integrity_check"), "ok");
        EXPECT_EQ(scalar(replica, "SELECT count(*) FROM outbox WHERE state = 'queued'"), 300);
        EXPECT_EQ(scalar(store, "SELECT count(*) FROM applied_actions"), 300);
    }
    // Then it dies right after recording them, with the rows still to pull.
    ASSERT_EQ(run_cli(push, "after_page:1"), -SIGKILL);
    EXPECT_EQ(scalar(replica, "SELECT count(*) FROM outbox WHERE state = 'queued'"), 0);
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
