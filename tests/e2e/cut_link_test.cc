// Hole 8: links that cut every connection after a fixed number of bytes. A first sync and
// a push of 1,000 queued actions must get through, and cost a bounded multiple of a clean
// sync. The figures are printed for docs/benchmarks.md.
#include <gtest/gtest.h>

#include <cstdio>

#include "loopback.h"

using namespace tundra;
using namespace tundra::testing;

namespace {

struct Figures {
    int requests = 0, cuts = 0;
    uint64_t bytes = 0;  // both directions, cut requests included
};

// A first sync of coord1 through a link that cuts each connection after `down`/`up` bytes.
Figures first_sync(World& w, const std::string& name, uint64_t down, uint64_t up) {
    auto counters = std::make_shared<LinkCounters>();
    auto c = w.client(name, "coord1");
    w.wrap = [&](std::unique_ptr<client::Transport> t) -> std::unique_ptr<client::Transport> {
        return std::make_unique<CuttingTransport>(std::move(t), down, up, counters);
    };
    c = w.open_client(name);
    w.wrap = {};
    client::SyncOptions so;
    so.deadline = std::chrono::minutes(5);
    auto r = c->sync(so);
    EXPECT_TRUE(r) << r.status().to_string();
    expect_converged(w, *c, "coord1");
    return {counters->requests, counters->cuts, counters->bytes_sent + counters->bytes_received};
}
}  // namespace

TEST(CutLink, ACoordinatorsFirstSyncCompletesThroughCutsAfter16_64And256KiB) {
    World w;
    add_history(w, 7000);
    Figures clean = first_sync(w, "clean.db", 0, 0);
    std::printf("first sync of %lld rows, clean: %d requests, %llu bytes\n",
                static_cast<long long>(w.scalar("SELECT count(*) FROM attendance")), clean.requests,
                static_cast<unsigned long long>(clean.bytes));
    for (uint64_t kib : {16, 64, 256}) {
        SCOPED_TRACE(std::to_string(kib) + " KiB");
        Figures f = first_sync(w, "cut" + std::to_string(kib) + ".db", kib * 1024, 0);
        std::printf("cut every connection after %llu KiB down: %d requests (%d cut), %llu bytes = %.2fx clean\n",
                    static_cast<unsigned long long>(kib), f.requests, f.cuts,
                    static_cast<unsigned long long>(f.bytes),
                    static_cast<double>(f.bytes) / static_cast<double>(clean.bytes));
        EXPECT_LT(f.bytes, 3 * clean.bytes) << "a cut costs the page in flight, not a restart";
    }
}

TEST(CutLink, APushOf1000QueuedActionsGetsThroughALinkThatCutsAfter16KiBUpstream) {
    World w;
    add_roster(w);  // staff mark enrolled people only
    auto c = w.client("c.db", "coord1");
    sync_ok(*c);
    const char* people[] = {"p1", "p2", "p3", "p4", "p5", "p6"};
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(c->mark_attendance(i % 2 ? "o1" : "o2", people[i % 6], "present", i % 120));
    auto counters = std::make_shared<LinkCounters>();
    w.wrap = [&](std::unique_ptr<client::Transport> t) -> std::unique_ptr<client::Transport> {
        return std::make_unique<CuttingTransport>(std::move(t), 0, 16 * 1024, counters);
    };
    c = w.open_client("c.db");
    w.wrap = {};
    client::SyncOptions so;
    so.deadline = std::chrono::minutes(5);
    auto r = c->sync(so);
    ASSERT_TRUE(r) << r.status().to_string();
    std::printf("push of 1000 actions through 16 KiB upstream cuts: %d requests (%d cut), %llu bytes up\n",
                counters->requests, counters->cuts, static_cast<unsigned long long>(counters->bytes_sent));
    EXPECT_EQ(c->status()->pending, 0);
    EXPECT_EQ(w.scalar("SELECT count(*) FROM attendance"), 1000) << "each applied exactly once";
    EXPECT_EQ(w.scalar("SELECT count(*) FROM applied_actions"), 1000);
    expect_converged(w, *c, "coord1");
}
