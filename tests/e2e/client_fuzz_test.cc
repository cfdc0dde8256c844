// Seeded fuzz of the client-side fault classes the convergence fuzz does not reach: two
// Clients on one replica file, a replica restored from its own backup (lost commits, reused
// seqs), a replica copied to another tablet (a new device identity), links that cut every
// connection after N bytes (N from 16 KiB up). After every seed: each action took effect
// once, stamps increase with seq in every replica, nothing stays queued or is shown as
// rejected, and every replica equals what a fresh device receives. Needs the server's
// content-checked exactly-once (protocol v2).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "loopback.h"
#include "tundra/sqlite/db.h"

using namespace tundra;
using namespace tundra::testing;

namespace {
struct Replica {
    std::string file, user;
    std::unique_ptr<client::Client> a, b;  // two Clients on the same file
    // Restored from a backup: actions answered seq_reused are renumbered after later ones
    // the server applied, keeping their stamps (the server raises them to keep its order).
    bool restored = false;
};

void copy_db(World& w, const std::string& from, const std::string& to) {
    for (const char* s : {"-wal", "-shm"}) std::filesystem::remove(w.dir.file(to) + s);
    std::filesystem::copy_file(w.dir.file(from), w.dir.file(to), std::filesystem::copy_options::overwrite_existing);
}

void expect_stamps_follow_seqs(World& w, const std::string& file) {
    auto db = sqlite::Db::open(w.dir.file(file));
    ASSERT_TRUE(db);
    auto q = db.value()->query("SELECT seq, hlc FROM outbox WHERE state != 'dismissed' ORDER BY seq");
    int64_t prev = 0;
    for (;;) {
        auto r = q->step();
        ASSERT_TRUE(r);
        if (!r.value()) break;
        EXPECT_GT(q->int64(1), prev) << file << " seq " << q->int64(0);
        prev = q->int64(1);
    }
}

void run_seed(uint32_t seed, int steps) {
    SCOPED_TRACE("client fuzz seed " + std::to_string(seed) + " (rerun with TUNDRA_CLIENT_SEED)");
    World w;
    add_roster(w);  // staff mark enrolled people only
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
    std::vector<Replica> reps;
    auto add = [&](const std::string& file, const std::string& user) {
        Replica r{file, user, w.client(file, user), nullptr, false};
        r.b = w.open_client(file, -pick(20000));  // the second Client's clock may lag
        reps.push_back(std::move(r));
    };
    add("c1.db", "coord1");
    add("c3.db", "coord3");
    bool backup = false;
    int copies = 0;
    const char* people[] = {"p1", "p2", "p3", "p4", "p5", "p6"};
    const char* statuses[] = {"present", "absent", "late", "excused"};
    auto sync = [&](Replica& r, bool cut) {
        client::Client& c = pick(2) ? *r.a : *r.b;
        if (!cut) return (void)c.sync();
        // A fresh Client for the cut link (transports are made when a Client is opened).
        uint64_t n = 16 * 1024 << pick(4);
        w.wrap = [n, up = pick(2)](std::unique_ptr<client::Transport> t) -> std::unique_ptr<client::Transport> {
            return std::make_unique<CuttingTransport>(std::move(t), up ? 0 : n, up ? n : 0);
        };
        auto cutc = w.open_client(r.file);
        w.wrap = {};
        client::SyncOptions so;
        so.page_rows = pick(2) ? 0 : 1 + pick(50);
        (void)cutc->sync(so);
    };
    for (auto& r : reps) sync(r, false);
    for (int step = 0; step < steps; ++step) {
        w.now += 1 + static_cast<uint64_t>(pick(60000));
        Replica& r = reps[static_cast<size_t>(pick(static_cast<int>(reps.size())))];
        int op = pick(12);
        if (op <= 5) {
            client::Client& c = pick(2) ? *r.a : *r.b;
            int n = 1 + pick(op == 0 ? 60 : 3);  // now and then a long offline stretch
            for (int i = 0; i < n; ++i) {
                auto id = c.mark_attendance("o" + std::to_string(1 + pick(2)), people[pick(r.user == "coord3" ? 3 : 6)],
                                            statuses[pick(4)], pick(120));
                // A replica restored to before its first sync has no catalogue yet.
                EXPECT_TRUE(id || id.status().code() == Errc::not_found) << r.file << ": " << id.status().to_string();
            }
        } else if (op <= 8) {
            sync(r, op != 6);
        } else if (op == 9 && r.file == "c1.db") {
            // A consistent snapshot while the Clients are open: what a backup holds.
            std::filesystem::remove(w.dir.file("c1-backup.db"));
            auto db = sqlite::Db::open(w.dir.file("c1.db"));
            EXPECT_TRUE(db && db.value()->exec("VACUUM INTO '" + w.dir.file("c1-backup.db") + "'"));
            backup = true;
        } else if (op == 10 && r.file == "c1.db" && backup) {
            r.a.reset();
            r.b.reset();
            copy_db(w, "c1-backup.db", "c1.db");  // the commits since the backup are lost
            r.restored = true;
            r.a = w.open_client("c1.db");
            r.b = w.open_client("c1.db", -pick(20000));
        } else if (op == 11 && copies < 2) {
            std::string copy = "copy" + std::to_string(++copies) + ".db";
            r.a.reset();
            r.b.reset();
            copy_db(w, r.file, copy);
            r.a = w.open_client(r.file);
            r.b = w.open_client(r.file);
            Replica c{copy, r.user, w.open_client(copy), nullptr, r.restored};
            EXPECT_TRUE(c.a->login("http://loopback", c.user, "password1"));
            c.b = w.open_client(copy);
            reps.push_back(std::move(c));
        }
        if (::testing::Test::HasFailure()) return;
    }
    for (int round = 0; round < 3; ++round)
        for (auto& r : reps) {
            auto s = r.a->sync();
            EXPECT_TRUE(s) << r.file << ": " << s.status().to_string();
        }
    // Each action took effect once: every applied (device, seq) made one mark, no mark twice.
    EXPECT_EQ(w.scalar("SELECT count(*) FROM applied_actions WHERE outcome NOT LIKE '%rejected%'"),
              w.scalar("SELECT count(*) FROM attendance"));
    for (auto& r : reps) {
        SCOPED_TRACE(r.file);
        auto st = r.a->status().value();
        EXPECT_EQ(st.pending, 0);
        // A copy carries the queue it was copied with; where the original sends the same
        // actions too, each takes effect once and the second comes back `id_conflict`.
        for (auto& rej : st.rejected) EXPECT_EQ(rej.reason, "id_conflict") << rej.message;
        if (!r.restored) expect_stamps_follow_seqs(w, r.file);
        // Every mark this replica recorded and still holds is on the server.
        auto db = sqlite::Db::open(w.dir.file(r.file));
        auto q = db.value()->query("SELECT target FROM outbox WHERE type = 'mark_attendance'");
        for (;;) {
            auto row = q->step();
            if (!row || !row.value()) break;
            EXPECT_EQ(w.scalar("SELECT count(*) FROM attendance WHERE id = '" + q->text(0) + "'"), 1) << q->text(0);
        }
        expect_converged(w, *r.a, r.user);
    }
}
}  // namespace

class ClientFuzz : public ::testing::TestWithParam<int> {};

TEST_P(ClientFuzz, SharedFilesRestoredReplicasAndCutLinksKeepExactlyOnceAndConverge) {
    if (const char* one = std::getenv("TUNDRA_CLIENT_SEED")) {
        if (GetParam() == 0) run_seed(static_cast<uint32_t>(std::strtoul(one, nullptr, 10)), 60);
        return;
    }
    for (int i = 0; i < 5 && !HasFailure(); ++i) run_seed(static_cast<uint32_t>(GetParam() * 5 + i + 1), 60);
}
INSTANTIATE_TEST_SUITE_P(Seeds, ClientFuzz, ::testing::Range(0, 2));
