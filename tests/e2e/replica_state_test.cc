// The replica's own state end to end: one clock for every Client on a file (hole 6),
// restored and rolled-back replicas (hole 4), verify and repair (the scope checksum).
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "loopback.h"
#include "tundra/sqlite/db.h"

using namespace tundra;
using namespace tundra::testing;

namespace {
// A closed replica file copied as a backup or restore would (no -wal left behind).
void copy_replica(World& w, const std::string& from, const std::string& to) {
    for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(w.dir.file(to) + suffix);
    std::filesystem::copy_file(w.dir.file(from), w.dir.file(to), std::filesystem::copy_options::overwrite_existing);
}
}  // namespace

// Hole 6: two Clients on one replica, interleaved from three threads (one Client shared by
// two of them, which a fourth keeps syncing), one with a wall clock 10 s behind: every stamp
// is taken from the replica inside the write transaction, so stamps strictly increase with seq.
TEST(SharedReplica, TwoClientsOnOneFileFromSeveralThreadsStampInSeqOrder) {
    World w;
    add_roster(w);  // staff mark enrolled people only
    { sync_ok(*w.client("c.db", "coord1")); }
    auto a = w.open_client("c.db");
    auto b = w.open_client("c.db", -10000);
    std::atomic<int> failed{0};
    auto work = [&](client::Client* c, const char* person) {
        for (int i = 0; i < 40; ++i) {
            if (!c->mark_attendance("o1", person, i % 2 ? "present" : "late")) ++failed;
            if (i % 10 == 0 && !c->status()) ++failed;  // reads interleave with the writes
        }
    };
    std::atomic<bool> recording{true};
    std::thread t1(work, a.get(), "p1"), t2(work, b.get(), "p4"), t3(work, a.get(), "p2");
    // ...while the shared Client syncs: it holds the replica only to read and apply.
    std::thread t4([&] {
        while (recording)
            if (!a->sync()) ++failed;
    });
    t1.join();
    t2.join();
    t3.join();
    recording = false;
    t4.join();
    EXPECT_EQ(failed.load(), 0);
    {
        auto db = sqlite::Db::open(w.dir.file("c.db"));
        ASSERT_TRUE(db);
        auto q = db.value()->query("SELECT seq, hlc FROM outbox ORDER BY seq");
        int64_t n = 0, prev_seq = 0, prev_hlc = 0;
        for (;;) {
            auto r = q->step();
            ASSERT_TRUE(r);
            if (!r.value()) break;
            ++n;
            EXPECT_EQ(q->int64(0), prev_seq + 1);
            EXPECT_GT(q->int64(1), prev_hlc) << "seq " << q->int64(0) << " is stamped no later than seq " << prev_seq;
            prev_seq = q->int64(0);
            prev_hlc = q->int64(1);
        }
        EXPECT_EQ(n, 120);
        auto m = db.value()->query("SELECT value FROM meta WHERE key = 'hlc'");
        ASSERT_TRUE(m->step().value());
        // Syncs merge the server's clock too, so the stored clock may be ahead of the last stamp.
        EXPECT_GE(std::stoll(m->text(0)), prev_hlc) << "the stored clock went back";
    }
    sync_ok(*b);
    EXPECT_EQ(w.scalar("SELECT count(*) FROM attendance"), 120);
    EXPECT_EQ(a->status()->pending, 0);
}

// Hole 4: a copy of the replica on another tablet (a restored backup: the install id file
// beside it is not copied) gets its own device identity; both push without stepping on
// each other's seqs.
TEST(RestoredReplica, ACopyElsewhereLogsInAsANewDeviceAndBothDevicesPush) {
    World w;
    add_roster(w);  // staff mark enrolled people only
    auto a = w.client("a.db", "coord1");
    sync_ok(*a);
    ASSERT_TRUE(a->mark_attendance("o1", "p1", "present"));
    sync_ok(*a);
    std::string first_device = a->status()->device_id;
    a.reset();
    copy_replica(w, "a.db", "b.db");
    auto b = w.open_client("b.db");
    EXPECT_EQ(b->status()->device_id, "");
    EXPECT_EQ(b->sync().status().code(), Errc::unauthorized);
    ASSERT_TRUE(b->login("http://loopback", "coord1", "password1"));
    EXPECT_NE(b->status()->device_id, first_device);
    ASSERT_TRUE(b->mark_attendance("o1", "p2", "absent"));
    sync_ok(*b);
    a = w.open_client("a.db");
    EXPECT_EQ(a->status()->device_id, first_device);
    ASSERT_TRUE(a->mark_attendance("o1", "p3", "late"));
    sync_ok(*a);
    sync_ok(*b);
    EXPECT_EQ(w.scalar("SELECT count(*) FROM attendance"), 3);
    expect_converged(w, *a, "coord1");
    expect_converged(w, *b, "coord1");
}

// Hole 4: the same tablet restored from its own backup (same install id, same device): the
// new action gets a seq the server already holds for another action. It must be applied,
// not answered with the old action's outcome. Needs the server's content check
// (`seq_reused`, protocol v2).
TEST(RestoredReplica, ARolledBackReplicaNeverLosesANewActionToAnOldSeq) {
    World w;
    add_roster(w);  // staff mark enrolled people only
    { sync_ok(*w.client("a.db", "coord1")); }
    copy_replica(w, "a.db", "backup.db");
    {
        auto c = w.open_client("a.db");
        ASSERT_TRUE(c->mark_attendance("o1", "p1", "present"));
        sync_ok(*c);
    }
    ASSERT_EQ(w.scalar("SELECT count(*) FROM attendance"), 1);
    copy_replica(w, "backup.db", "a.db");  // the battery died; the last commits are gone
    auto c = w.open_client("a.db");
    ASSERT_TRUE(c->mark_attendance("o1", "p2", "absent"));  // the same seq, another action
    auto r = c->sync();
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(w.scalar("SELECT count(*) FROM attendance"), 2) << "the new action was swallowed";
    EXPECT_EQ(w.scalar("SELECT count(*) FROM attendance WHERE person = 'p1'"), 1);
    auto st = c->status().value();
    EXPECT_EQ(st.pending, 0);
    EXPECT_TRUE(st.rejected.empty());
    expect_converged(w, *c, "coord1");
}

// `verify`: a replica that matches is ok; one that drifted (a row lost behind the SDK's
// back, a version that went stale) is repaired by a full pull. Needs the server's checksum
// (protocol v2).
TEST(Verify, AMatchingReplicaIsOkAndADriftedOneIsRepairedByAFullPull) {
    World w;
    auto c = w.client("c.db", "coord1");
    sync_ok(*c);
    auto v = c->verify();
    ASSERT_TRUE(v) << v.status().to_string();
    EXPECT_TRUE(v->ok);
    EXPECT_GT(v->local.count, 10u);
    EXPECT_EQ(v->local, v->server);
    {
        auto db = sqlite::Db::open(w.dir.file("c.db"));
        ASSERT_TRUE(db);
        ASSERT_TRUE(db.value()->exec("DELETE FROM persons WHERE id = 'p1'; UPDATE occasions SET version = 1"));
    }
    v = c->verify();
    ASSERT_TRUE(v) << v.status().to_string();
    EXPECT_FALSE(v->ok);
    EXPECT_TRUE(v->repaired);
    EXPECT_EQ(v->local, v->server);
    EXPECT_TRUE(has(*c, "persons", "p1"));
    expect_converged(w, *c, "coord1");
}

// A cursor the server no longer accepts (its signing key changed, the store was replaced) is
// given up for a full pull, not a sync that fails for ever.
TEST(Cursor, ACursorTheServerNoLongerAcceptsIsReplacedByAFullPull) {
    World w;
    auto c = w.client("p1.db", "part1");
    sync_ok(*c);
    ASSERT_TRUE(c->enrol("o1"));
    // The store's signing key changes (every round reads it from the store).
    ASSERT_TRUE(w.store->db().exec("UPDATE meta SET value = 'another key' WHERE key = 'cursor_key'"));
    auto r = c->sync();
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_TRUE(r->reset);
    EXPECT_EQ(c->status()->pending, 0);
    expect_converged(w, *c, "part1");
}
