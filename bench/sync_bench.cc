// tundra-bench: runs sync phases against a real server (Beast on 127.0.0.1, SQLite store)
// through a byte-counting proxy, and prints wall time, requests and bytes each way.
//
//   tundra-bench [--records N]     (default 100000)
//   tundra-bench login-flood ...   (login_flood.cc)
//   tundra-bench report [--scale N] (report_bench.cc)
//   tundra-bench console [--scale N] [--db PATH] [--keep] (console_bench.cc)
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "counting_proxy.h"
#include "tundra/netem/link_emulator.h"
#include "tundra/client/client.h"
#include "tundra/server/http_server.h"
#include "tundra/server/sql_store.h"

using namespace tundra;
using Clock = std::chrono::steady_clock;

namespace {
std::string document(int enrolments, int occasions_n) {
    // One organisation with sites of 200 staff; occasions big enough to hold everyone.
    std::string d = R"({"organisations":[{"code":"arjeplog","name":"Arjeplog","county":"Norrbotten"}],"sites":[)";
    int persons = std::max(200, enrolments / 10);
    int sites = (persons + 199) / 200;
    for (int s = 0; s < sites; ++s)
        d += std::string(s ? "," : "") + R"({"id":"s)" + std::to_string(s) + R"(","organisation":"arjeplog","name":"Hemtjänst )" + std::to_string(s) + R"("})";
    d += R"(],"persons":[)";
    for (int p = 0; p < persons; ++p)
        d += std::string(p ? "," : "") + R"({"id":"p)" + std::to_string(p) + R"(","organisation":"arjeplog","site":"s)" +
             std::to_string(p / 200) + R"(","name":"Person )" + std::to_string(p) + R"(","gender":")" +
             (p % 5 ? "woman" : "man") + R"(","birth_year":1980,"profession":"undersköterska"})";
    d += R"(],"users":[{"username":"admin","password":"password1","role":"admin"},
        {"username":"coord","password":"password1","role":"coordinator","sites":["s0"]}],
        "courses":[{"id":"c1","title":"Stress och hälsa","theme":"stress","format":"on_site","organisations":["arjeplog"],"published":true}],"occasions":[)";
    for (int o = 0; o < occasions_n; ++o)
        d += std::string(o ? "," : "") + R"({"id":"o)" + std::to_string(o) +
             R"(","course":"c1","starts_at":"2027-03-01T08:00:00Z","ends_at":"2027-03-01T11:00:00Z","capacity":100000,"enrolment_closes":"2027-02-20T00:00:00Z"})";
    d += R"(],"enrolments":[)";
    for (int e = 0; e < enrolments; ++e)
        d += std::string(e ? "," : "") + R"({"id":"e)" + std::to_string(e) + R"(","occasion":"o)" +
             std::to_string(e % occasions_n) + R"(","person":"p)" + std::to_string(e % persons) +
             R"(","status":"confirmed"})";
    return d + "]}";
}

struct Phase {
    const char* name;
    double seconds;
    uint64_t requests, up, down;
    int64_t rows;
};

void print(const Phase& p) {
    std::printf("%-44s %8.3f s %6llu req %12llu B up %12llu B down %8lld rows\n", p.name, p.seconds,
                static_cast<unsigned long long>(p.requests), static_cast<unsigned long long>(p.up),
                static_cast<unsigned long long>(p.down), static_cast<long long>(p.rows));
}
}  // namespace

int login_flood_main(int argc, char** argv);  // login_flood.cc
int report_bench_main(int argc, char** argv);  // report_bench.cc
int console_bench_main(int argc, char** argv);  // console_bench.cc
int load_bench_main(int argc, char** argv);     // load_bench.cc

int main(int argc, char** argv) {
    if (argc > 1 && !std::strcmp(argv[1], "login-flood")) return login_flood_main(argc - 1, argv + 1);
    if (argc > 1 && !std::strcmp(argv[1], "report")) return report_bench_main(argc - 1, argv + 1);
    if (argc > 1 && !std::strcmp(argv[1], "console")) return console_bench_main(argc - 1, argv + 1);
    if (argc > 1 && !std::strcmp(argv[1], "load")) return load_bench_main(argc - 1, argv + 1);
    int records = 100000;
    for (int i = 1; i + 1 < argc; ++i)
        if (!std::strcmp(argv[i], "--records")) records = std::atoi(argv[i + 1]);
    auto dir = std::filesystem::temp_directory_path() / ("tundra-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);

    server::StoreOptions so;
    so.kdf_iterations = 1000;
    auto store = server::SqlStore::open((dir / "server.db").string(), so);
    if (!store) return std::fprintf(stderr, "%s\n", store.status().to_string().c_str()), 1;
    auto t0 = Clock::now();
    auto doc = document(records, std::max(1, records / 60));
    auto rep = store.value()->import_json(doc);
    if (!rep) return std::fprintf(stderr, "%s\n", rep.status().to_string().c_str()), 1;
    setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as they are measured
    std::printf("import: %zu records (%.1f MB of JSON) in %.2f s\n", rep->total(), doc.size() / 1e6,
                std::chrono::duration<double>(Clock::now() - t0).count());

    server::ServerOptions opts;
    opts.handle_signals = false;
    server::HttpServer http(*store.value(), opts);
    auto port = http.listen("127.0.0.1", 0);
    if (!port) return 1;
    std::thread serving([&] { http.run(); });
    bench::CountingProxy proxy(port.value());
    std::string url = "http://127.0.0.1:" + std::to_string(proxy.port());

    auto phase = [&](const char* name, client::Client& c, client::SyncOptions o = {}) {
        proxy.reset();
        auto t = Clock::now();
        auto r = c.sync(o);
        double s = std::chrono::duration<double>(Clock::now() - t).count();
        if (!r) {
            std::fprintf(stderr, "%s: %s\n", name, r.status().to_string().c_str());
            std::exit(1);
        }
        Phase p{name, s, static_cast<uint64_t>(r->requests), proxy.up.load(), proxy.down.load(), r->pulled};
        print(p);
        std::printf("%-44s curl counted %llu B up, %llu B down\n", "",
                    static_cast<unsigned long long>(r->bytes_sent),
                    static_cast<unsigned long long>(r->bytes_received));
        return p;
    };

    auto admin = client::Client::open((dir / "admin.db").string()).value();
    if (Status st = admin->login(url, "admin", "password1"); !st) return 1;
    phase("first sync (admin, everything)", *admin);  // pages sized by the SDK itself
    phase("sync with nothing new", *admin);
    phase("sync with nothing new (again)", *admin);

    auto server_changes = [&](int n, int offset) {
        std::string d = R"({"enrolments":[)";
        for (int i = 0; i < n; ++i)
            d += std::string(i ? "," : "") + R"({"id":"new)" + std::to_string(offset + i) +
                 R"(","occasion":"o0","person":"p)" + std::to_string(i % 200) + R"(","status":"waitlisted"})";
        auto r = store.value()->import_json(d + "]}");
        if (!r) std::exit(1);
    };
    server_changes(100, 0);
    phase("100 server-side changes, then sync", *admin);
    server_changes(1000, 1000);
    phase("pull of 1,000 new enrolments", *admin);

    auto coord = client::Client::open((dir / "coord.db").string()).value();
    if (Status st = coord->login(url, "coord", "password1"); !st) return 1;
    phase("coordinator first sync (200 staff)", *coord);
    for (int i = 0; i < 1000; ++i)
        if (!coord->mark_attendance("o" + std::to_string(i % 10), "p" + std::to_string(i % 200), "present", 120))
            return 1;
    phase("1,000 offline actions, then sync", *coord);
    phase("admin pulls those 1,000 changes", *admin);

    // ---- through the link emulator ----------------------------------------------------
    auto linked = [&](netem::LinkProfile prof, const char* user, const std::string& name,
                      bool first_sync, int changes) {
        netem::LinkEmulator link(port.value(), prof);
        std::string lurl = "http://127.0.0.1:" + std::to_string(link.port());
        auto c = client::Client::open((dir / (name + ".db")).string()).value();
        if (Status st = c->login(lurl, user, "password1"); !st) std::exit(1);
        if (!first_sync) {
            client::SyncOptions quiet;
            if (!c->sync(quiet)) std::exit(1);
            c = client::Client::open((dir / (name + ".db")).string()).value();  // a cold connection
        }
        if (changes) server_changes(changes, 10000 + changes);
        link.reset_counters();
        auto t = Clock::now();
        client::SyncOptions o;
        o.deadline = std::chrono::minutes(10);
        auto r = c->sync(o);
        double s = std::chrono::duration<double>(Clock::now() - t).count();
        if (!r) {
            std::fprintf(stderr, "%s: %s\n", name.c_str(), r.status().to_string().c_str());
            std::exit(1);
        }
        std::printf("%-44s %8.3f s %6d req %12llu B up %12llu B down %8lld rows  (%s, %llu drops)\n",
                    name.c_str(), s, r->requests, static_cast<unsigned long long>(link.bytes_up()),
                    static_cast<unsigned long long>(link.bytes_down()), static_cast<long long>(r->pulled),
                    prof.name.c_str(), static_cast<unsigned long long>(link.drops()));
        return std::make_pair(s, link.bytes_down() + link.bytes_up());
    };
    netem::LinkProfile slow = netem::slow_lossy();
    // A coordinator's device (5,000 rows here) first syncs over the link, then is measured.
    linked(slow, "coord", "slow: sync with nothing new", false, 0);
    linked(netem::rural_3g(), "coord", "rural-3g: sync with nothing new", false, 0);
    linked(netem::edge_2g(), "coord", "edge-2g: sync with nothing new", false, 0);
    linked(netem::rural_3g(), "coord", "rural-3g: 100 server changes, then sync", false, 100);

    http.stop();
    serving.join();

    // ---- a coordinator's replica of the brief's size, over rural links ----------------
    {
        auto cstore = server::SqlStore::open((dir / "coord-world.db").string(), so);
        if (!cstore) return 1;
        std::string d = R"({"organisations":[{"code":"pajala","name":"Pajala","county":"Norrbotten"}],"sites":[)"
                        R"({"id":"s0","organisation":"pajala","name":"Hemtjänst Pajala"},)"
                        R"({"id":"s1","organisation":"pajala","name":"Särskilt boende Pajala"},)"
                        R"({"id":"s2","organisation":"pajala","name":"LSS Pajala"}],"persons":[)";
        for (int p = 0; p < 200; ++p)
            d += std::string(p ? "," : "") + R"({"id":"p)" + std::to_string(p) + R"(","organisation":"pajala","site":"s)" +
                 std::to_string(p % 3) + R"(","name":"Person )" + std::to_string(p) + R"(","gender":")" +
                 (p % 5 ? "woman" : "man") + R"(","birth_year":1975,"profession":"undersköterska"})";
        d += R"(],"users":[{"username":"coord","password":"password1","role":"coordinator","sites":["s0","s1","s2"]},)"
             R"({"username":"anna","password":"password1","role":"participant","person":"p1"}],"courses":[)";
        for (int c = 0; c < 300; ++c)
            d += std::string(c ? "," : "") + R"({"id":"c)" + std::to_string(c) + R"(","title":"Kurs )" + std::to_string(c) +
                 R"( i arbetsmiljö och hälsa","theme":"sam","format":"live_online","organisations":["pajala"],"published":true})";
        d += R"(],"occasions":[)";
        for (int o = 0; o < 1500; ++o)
            d += std::string(o ? "," : "") + R"({"id":"o)" + std::to_string(o) + R"(","course":"c)" + std::to_string(o % 300) +
                 R"(","starts_at":"2027-03-01T08:00:00Z","ends_at":"2027-03-01T11:00:00Z","capacity":40,"enrolment_closes":"2027-02-20T00:00:00Z"})";
        d += R"(],"enrolments":[)";
        for (int e = 0; e < 2000; ++e)
            d += std::string(e ? "," : "") + R"({"id":"e)" + std::to_string(e) + R"(","occasion":"o)" + std::to_string(e % 1500) +
                 R"(","person":"p)" + std::to_string(e % 200) + R"(","status":"confirmed"})";
        d += R"(],"attendance":[)";
        for (int a = 0; a < 5000; ++a)
            d += std::string(a ? "," : "") + R"({"id":"a)" + std::to_string(a) + R"(","occasion":"o)" + std::to_string(a % 1500) +
                 R"(","person":"p)" + std::to_string(a % 200) + R"(","status":"present","minutes":)" + std::to_string(60 + a % 120) + "}";
        d += "]}";
        if (!cstore.value()->import_json(d)) return 1;
        server::HttpServer chttp(*cstore.value(), opts);
        auto cport = chttp.listen("127.0.0.1", 0);
        if (!cport) return 1;
        std::thread cserving([&] { chttp.run(); });
        int n = 0;
        auto first = [&](netem::LinkProfile prof, const char* user) {
            netem::LinkEmulator link(cport.value(), prof);
            std::string lurl = "http://127.0.0.1:" + std::to_string(link.port());
            auto c = client::Client::open((dir / ("cw" + std::to_string(++n) + ".db")).string()).value();
            if (Status st = c->login(lurl, user, "password1"); !st) std::exit(1);
            link.reset_counters();
            auto t = Clock::now();
            client::SyncOptions o;
            o.deadline = std::chrono::minutes(10);
            auto r = c->sync(o);
            double s = std::chrono::duration<double>(Clock::now() - t).count();
            if (!r) {
                std::fprintf(stderr, "%s: %s\n", prof.name.c_str(), r.status().to_string().c_str());
                std::exit(1);
            }
            std::printf("%-20s first sync of %-12s %8.3f s %4d req %9llu B up %9llu B down %6lld rows %3llu drops\n",
                        prof.name.c_str(), user, s, r->requests, static_cast<unsigned long long>(link.bytes_up()),
                        static_cast<unsigned long long>(link.bytes_down()), static_cast<long long>(r->pulled),
                        static_cast<unsigned long long>(link.drops()));
            return static_cast<double>(link.bytes_down() + link.bytes_up());
        };
        std::printf("\ncoordinator's replica (3 sites, 200 staff, 2,000 enrolments, 5,000 attendance, 300 "
                    "courses, 1,500 occasions):\n");
        netem::LinkProfile clean;
        clean.name = "loopback";
        double base = first(clean, "coord");
        first(netem::rural_3g(), "coord");
        first(netem::edge_2g(), "coord");
        for (int period : {10, 5}) {
            netem::LinkProfile harsh = netem::edge_2g();
            harsh.drop_every = std::chrono::seconds(period);
            harsh.name = "edge-2g/drop" + std::to_string(period) + "s";
            double with_drops = first(harsh, "coord");
            std::printf("%-20s re-sent because of drops: %.1f%% of %.0f B\n", harsh.name.c_str(),
                        100.0 * (with_drops - base) / base, base);
        }
        netem::LinkProfile slow1k = netem::slow_lossy();
        first(slow1k, "anna");
        // Issue 7, hole 8: links that cut every connection after a fixed number of bytes
        // downstream (a page larger than that used to fail for ever), and a slow distant link
        // where a page's round trip must not dominate its transfer.
        for (uint64_t kib : {16, 64, 256}) {
            netem::LinkProfile cut = clean;
            cut.name = "cut/" + std::to_string(kib) + "KiB";
            cut.drop_after_bytes = kib * 1024;
            double bytes = first(cut, "coord");
            std::printf("%-20s bytes over a clean sync: %.2fx\n", cut.name.c_str(), bytes / base);
        }
        netem::LinkProfile distant;
        distant.name = "300ms/5%/96kbit";
        distant.down_bits_per_s = distant.up_bits_per_s = 96000;
        distant.rtt = std::chrono::milliseconds(600);
        distant.loss = 0.05;
        auto t = Clock::now();
        double bytes = first(distant, "coord");
        double took = std::chrono::duration<double>(Clock::now() - t).count();
        std::printf("%-20s its bytes need %.1f s at 96 kbit/s; the sync took %.2fx that\n", distant.name.c_str(),
                    bytes * 8 / 96000, took / (bytes * 8 / 96000));
        chttp.stop();
        cserving.join();
    }
    std::filesystem::remove_all(dir);
    return 0;
}
