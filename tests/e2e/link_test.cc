// Sync over emulated rural links (netem::LinkEmulator): the brief's profiles, with drops
// mid-transfer. Correctness here; speed and bytes are measured by tundra-bench.
#include <gtest/gtest.h>

#include <thread>

#include "loopback.h"
#include "tundra/netem/link_emulator.h"
#include "tundra/server/http_server.h"

using namespace tundra;
using namespace tundra::testing;

namespace {
// A real HTTP server over a World's store, on 127.0.0.1:0.
struct Served {
    server::HttpServer http;
    uint16_t port = 0;
    std::thread thread;
    explicit Served(server::Store& store, server::ServerOptions o = options()) : http(store, o) {
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


std::unique_ptr<client::Client> real_client(World& w, const std::string& name) {
    client::ClientOptions o;  // the real libcurl transport
    auto c = client::Client::open(w.dir.file(name), o);
    EXPECT_TRUE(c);
    return std::move(c.value());
}
}  // namespace

TEST(Link, FirstSyncOverEdge2gWithRepeatedDropsCompletesAndMatches) {
    World w;
    w.now = wall_clock_ms();  // a real server clock: the link is real time
    add_history(w, 1500);
    Served served(*w.store);
    netem::LinkProfile edge = netem::edge_2g();
    edge.drop_every = std::chrono::seconds(2);  // much harsher than the brief's 30 s
    netem::LinkEmulator link(served.port, edge);
    auto c = real_client(w, "edge.db");
    ASSERT_TRUE(c->login("http://127.0.0.1:" + std::to_string(link.port()), "coord1", "password1"));
    client::SyncOptions so;
    so.deadline = std::chrono::minutes(3);
    int64_t last_rows = 0;
    bool monotonic = true;
    so.progress = [&](const client::SyncProgress& p) {
        if (!p.note.empty()) return;
        monotonic &= p.pulled >= last_rows;
        last_rows = p.pulled;
        if (p.more) {
            EXPECT_GT(p.rows_expected, p.pulled);  // the totals come from the server
        }
    };
    auto r = c->sync(so);
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_TRUE(monotonic);
    EXPECT_GT(link.drops(), 0u) << "the drops never landed mid-sync";
    EXPECT_GT(r->rounds, 1);
    expect_converged(w, *c, "coord1");
}

TEST(Link, Rural3gRoundTripWithQueuedActionsIsOneRequest) {
    World w;
    w.now = wall_clock_ms();
    Served served(*w.store);
    netem::LinkEmulator link(served.port, netem::rural_3g());
    auto c = real_client(w, "r.db");
    ASSERT_TRUE(c->login("http://127.0.0.1:" + std::to_string(link.port()), "coord1", "password1"));
    ASSERT_TRUE(c->sync());
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(c->mark_attendance("o1", "p" + std::to_string(1 + i % 6), "present", i));
    link.reset_counters();
    auto r = c->sync();
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(r->requests, 1);
    EXPECT_EQ(r->pushed, 50);
    EXPECT_EQ(link.bytes_up(), r->bytes_sent);  // what curl reports is what crossed the link
    EXPECT_EQ(link.bytes_down(), r->bytes_received);
}

TEST(Link, AConnectionCutMidResponseIsRetriedAndResumes) {
    World w;
    w.now = wall_clock_ms();
    add_history(w, 2000);
    Served served(*w.store);
    netem::LinkProfile cut;
    cut.name = "cut-after-20kB";
    cut.drop_after_bytes = 20000;  // every connection dies after 20 kB down
    netem::LinkEmulator link(served.port, cut);
    auto c = real_client(w, "cut.db");
    ASSERT_TRUE(c->login("http://127.0.0.1:" + std::to_string(link.port()), "admin", "password1"));
    client::SyncOptions so;
    so.deadline = std::chrono::minutes(2);
    so.page_rows = 100;  // pages small enough to fit between cuts
    auto r = c->sync(so);
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_GT(link.drops(), 0u);
    expect_converged(w, *c, "admin");
}

TEST(Link, AnOverloadedServerSays503WithRetryAfterAndTheClientBacksOff) {
    World w;
    w.now = wall_clock_ms();
    auto o = Served::options();
    o.max_queued_requests = 0;  // every request finds the queue full
    o.retry_after_seconds = 1;
    o.retry_after_spread_seconds = 0;  // one value to compare with
    Served served(*w.store, o);
    auto t = client::make_curl_transport("http://127.0.0.1:" + std::to_string(served.port));
    auto reply = t->post("/v1/login", R"({"protocol":1,"username":"admin","password":"password1"})", {}, std::chrono::milliseconds(0));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 503);
    EXPECT_EQ(reply->headers["retry-after"], "1");
    EXPECT_NE(reply->body.find("overloaded"), std::string::npos);
}
