// Deterministic fault injection (STYLE.md 9-10): fail the Nth operation, raise N until the
// operation succeeds, and check after every failure that nothing was lost, doubled or
// reordered.
#include <gtest/gtest.h>

#include "loopback.h"

using namespace tundra;
using namespace tundra::testing;

namespace {
// Three actions queued offline by a coordinator; the checks every failure must pass.
struct Scenario {
    World w;
    std::unique_ptr<client::Client> c;
    std::vector<std::string> ids;

    Scenario() {
        c = w.client("c.db", "coord1");
        EXPECT_TRUE(c->sync());
        ids.push_back(c->enrol("o1", "p1").value());
        w.now += 1000;
        ids.push_back(c->mark_attendance("o1", "p1", "present", 100).value());
        w.now += 1000;
        ids.push_back(c->enrol("o1", "p4").value());
    }

    // Whatever happened so far: the server applied a prefix of the queue, once each, in
    // order; the replica still holds (or has answers for) all three.
    void check_consistent(const std::string& when) {
        SCOPED_TRACE(when);
        int64_t applied = w.scalar("SELECT count(*) FROM applied_actions");
        EXPECT_GE(applied, 0);
        EXPECT_LE(applied, 3);
        EXPECT_EQ(w.scalar("SELECT coalesce(max(seq), 0) FROM applied_actions"), applied) << "a gap: reordered";
        EXPECT_EQ(w.scalar("SELECT count(*) FROM enrolments"), applied >= 3 ? 2 : applied >= 1 ? 1 : 0);
        EXPECT_EQ(w.scalar("SELECT count(*) FROM attendance"), applied >= 2 ? 1 : 0);
        auto reopened = w.open_client("c.db");
        auto st = reopened->status();
        ASSERT_TRUE(st) << st.status().to_string();
        auto es = reopened->enrolments().value();
        int mine = 0;
        for (auto& e : es) mine += e.id == ids[0] || e.id == ids[2];
        EXPECT_EQ(mine, 2) << "a recorded enrolment vanished from the replica";
    }

    void finish_and_verify() {
        auto c2 = w.open_client("c.db");
        auto r = c2->sync();
        ASSERT_TRUE(r) << r.status().to_string();
        EXPECT_EQ(c2->status()->pending, 0);
        EXPECT_EQ(w.scalar("SELECT count(*) FROM applied_actions"), 3);
        EXPECT_EQ(w.scalar("SELECT count(*) FROM enrolments"), 2);
        EXPECT_EQ(w.scalar("SELECT count(*) FROM attendance"), 1);
        expect_converged(w, *c2, "coord1");
    }
};
}  // namespace

TEST(Faults, EveryTransportFaultAtEveryRequestOfAPagedSync) {
    for (Fault kind : {Fault::drop_request, Fault::drop_response, Fault::duplicate, Fault::cut_response}) {
        for (int n = 0;; ++n) {
            SCOPED_TRACE("fault " + std::to_string(static_cast<int>(kind)) + " at request " + std::to_string(n));
            Scenario s;
            int count = 0;
            s.w.faults = [&count, n, kind] { return count++ == n ? kind : Fault::none; };
            auto c = s.w.open_client("c.db");
            client::SyncOptions so;
            so.page_rows = 1;  // many rounds, so the fault lands on every one in turn
            so.max_actions_per_round = 2;
            so.deadline = std::chrono::milliseconds(0);  // fail at the first fault: no retry
            auto r = c->sync(so);
            s.w.faults = {};
            s.check_consistent("after the fault");
            s.finish_and_verify();
            if (HasFailure() || (r && count <= n)) {  // the fault no longer lands: done
                std::printf("fault kind %d: the sync survived a fault at each of its %d requests\n",
                            static_cast<int>(kind), n);
                break;
            }
            ASSERT_LT(n, 100);
        }
    }
}

TEST(Faults, ReplicaWriteFailsAtEveryPointOfASync) {
    for (int n = 0;; ++n) {
        SCOPED_TRACE("replica write " + std::to_string(n) + " fails");
        Scenario s;
        int writes = 0;
        client::ClientOptions o;
        o.transport_factory = [&s](const std::string&) { return std::make_unique<LoopbackTransport>(*s.w.store); };
        o.wall_clock = [&s] { return s.w.now.load(); };
        o.storage_fault = [&writes, n]() -> Status {
            return writes++ == n ? Status(Errc::storage, "disk full: injected") : Status::ok();
        };
        auto c = client::Client::open(s.w.dir.file("c.db"), o).value();
        client::SyncOptions so;
        so.page_rows = 3;
        so.max_actions_per_round = 2;
        auto r = c->sync(so);
        c.reset();  // the app restarts
        if (!r) {
            EXPECT_EQ(r.status().code(), Errc::storage) << r.status().to_string();
        }
        s.check_consistent("after the failed write");
        s.finish_and_verify();
        if (HasFailure() || r) {
            std::printf("the sync survived a failure at each of its %d replica writes\n", n);
            break;
        }
        ASSERT_LT(n, 500);
    }
}
