// tundra-bench scale --records N [--db PATH] [--admin-first] [--raw]: the server at scale
// (issue 12, docs/benchmarks.md "The server at scale"). Builds a store of N enrolments (plus
// N/10 persons on sites of 200 and N/60 occasions) once at PATH (kept: a 1M store takes
// minutes to build; a later run reuses it), then measures on it:
//   - a no-op round (nothing new) per role, in process through SqlStore::sync (authenticate
//     included), mean and p99 over many rounds;
//   - with --admin-first, an admin's first sync through the real client over HTTP;
//   - with --raw, a coordinator of every site's first sync through the client, and raw SQLite
//     writing the same rows (one transaction, prepared inserts) in the same run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "tundra/client/client.h"
#include "tundra/server/http_server.h"
#include "tundra/server/sql_store.h"
#include "tundra/sqlite/db.h"

using namespace tundra;

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// CPU seconds used so far by this thread (RUSAGE_THREAD) or the whole process.
double cpu_seconds(int who) {
    rusage u{};
    getrusage(who, &u);
    auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

int persons_for(int records) { return std::max(200, records / 10); }

std::string base_document(int records) {
    int persons = persons_for(records), sites = (persons + 199) / 200, occasions = std::max(1, records / 60);
    std::string d = R"({"organisations":[{"code":"arjeplog","name":"Arjeplog","county":"Norrbotten"}],"sites":[)";
    std::string all_sites;
    for (int s = 0; s < sites; ++s) {
        d += std::string(s ? "," : "") + R"({"id":"s)" + std::to_string(s) +
             R"(","organisation":"arjeplog","name":"Hemtjänst )" + std::to_string(s) + R"("})";
        all_sites += std::string(s ? "," : "") + "\"s" + std::to_string(s) + "\"";
    }
    d += R"(],"persons":[)";
    for (int p = 0; p < persons; ++p)
        d += std::string(p ? "," : "") + R"({"id":"p)" + std::to_string(p) +
             R"(","organisation":"arjeplog","site":"s)" + std::to_string(p / 200) + R"(","name":"Person )" +
             std::to_string(p) + R"(","gender":")" + (p % 5 ? "woman" : "man") +
             R"(","birth_year":1980,"profession":"undersköterska"})";
    d += R"(],"users":[{"username":"admin","password":"password1","role":"admin"},
        {"username":"coord","password":"password1","role":"coordinator","sites":["s0"]},
        {"username":"coordall","password":"password1","role":"coordinator","sites":[)" + all_sites + R"(]},
        {"username":"anna","password":"password1","role":"participant","person":"p1"}],
        "courses":[{"id":"c1","title":"Stress och hälsa","theme":"stress","format":"on_site","organisations":["arjeplog"],"published":true}],"occasions":[)";
    for (int o = 0; o < occasions; ++o)
        d += std::string(o ? "," : "") + R"({"id":"o)" + std::to_string(o) +
             R"(","course":"c1","starts_at":"2027-03-01T08:00:00Z","ends_at":"2027-03-01T11:00:00Z","capacity":100000,"enrolment_closes":"2027-02-20T00:00:00Z"})";
    return d + "]}";
}

std::string enrolments_document(int records, int from, int to) {
    int persons = persons_for(records), occasions = std::max(1, records / 60);
    std::string d = R"({"enrolments":[)";
    for (int e = from; e < to; ++e)
        d += std::string(e > from ? "," : "") + R"({"id":"e)" + std::to_string(e) + R"(","occasion":"o)" +
             std::to_string(e % occasions) + R"(","person":"p)" + std::to_string(e % persons) +
             R"(","status":"confirmed"})";
    return d + "]}";
}

struct Replica {
    std::string cursor, token;
};
Replica replica_state(const std::string& path) {
    Replica r;
    auto db = sqlite::Db::open(path);
    if (!db) return r;
    auto q = db.value()->query("SELECT key, value FROM meta WHERE key IN ('cursor', 'token')");
    for (auto s = q->step(); s && s.value(); s = q->step()) (q->text(0) == "cursor" ? r.cursor : r.token) = q->text(1);
    return r;
}

// Raw SQLite writing the rows the replica holds: a fresh file, the same tables, one
// transaction of prepared inserts (what any replica must at least pay for those rows).
double raw_sqlite_copy(const std::string& replica_path, const std::string& out_path, int64_t& rows) {
    std::filesystem::remove(out_path);
    auto src = sqlite::Db::open(replica_path).value();
    auto dst = sqlite::Db::open(out_path).value();
    std::vector<std::pair<std::string, std::string>> tables;  // name, DDL
    {
        auto q = src->query("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN "
                            "('organisations','sites','persons','courses','occasions','enrolments','attendance')");
        for (auto r = q->step(); r && r.value(); r = q->step()) tables.emplace_back(q->text(0), q->text(1));
    }
    // Read first (not timed), then write (timed).
    std::vector<std::pair<std::string, std::vector<std::vector<std::string>>>> data;
    for (auto& [name, ddl] : tables) {
        auto q = src->query("SELECT * FROM " + name);
        std::vector<std::vector<std::string>> rs;
        for (auto r = q->step(); r && r.value(); r = q->step()) {
            std::vector<std::string> row;
            for (int i = 0; i < q->column_count(); ++i) row.push_back(q->is_null(i) ? std::string() : q->text(i));
            rs.push_back(std::move(row));
        }
        data.emplace_back(name, std::move(rs));
    }
    auto t = Clock::now();
    rows = 0;
    if (!dst->exec("PRAGMA journal_mode=WAL")) return -1;
    if (!dst->exec("BEGIN")) return -1;
    for (size_t k = 0; k < tables.size(); ++k) {
        if (!dst->exec(tables[k].second)) return -1;
        auto& rs = data[k].second;
        if (rs.empty()) continue;
        std::string params;
        for (size_t i = 0; i < rs[0].size(); ++i) params += i ? ",?" : "?";
        auto q = dst->query("INSERT INTO " + tables[k].first + " VALUES (" + params + ")");
        for (auto& row : rs) {
            for (size_t i = 0; i < row.size(); ++i) q->bind(static_cast<int>(i + 1), row[i]);
            if (!q->run()) return -1;
            q->reset();
            ++rows;
        }
    }
    if (!dst->exec("COMMIT")) return -1;
    return since(t);
}
}  // namespace

int scale_bench_main(int argc, char** argv) {
    int records = 100000;
    std::string db_path;
    bool admin_first = false, raw = false;
    int rounds = 300;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--records") && i + 1 < argc) records = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--db") && i + 1 < argc) db_path = argv[++i];
        else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--admin-first")) admin_first = true;
        else if (!std::strcmp(argv[i], "--raw")) raw = true;
    }
    setvbuf(stdout, nullptr, _IOLBF, 0);
    auto dir = std::filesystem::temp_directory_path() / ("tundra-scale-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    if (db_path.empty()) db_path = (dir / "server.db").string();

    server::StoreOptions so;
    so.kdf_iterations = 1000;
    // As `tundra-server serve` runs by default (--row-cache-mb 64).
    so.row_cache_bytes = 64u << 20;
    bool fresh = !std::filesystem::exists(db_path);
    auto opened = server::SqlStore::open(db_path, so);
    if (!opened) return std::fprintf(stderr, "%s\n", opened.status().to_string().c_str()), 1;
    auto& store = *opened.value();
    if (fresh) {
        auto t0 = Clock::now();
        if (auto r = store.import_json(base_document(records)); !r)
            return std::fprintf(stderr, "%s\n", r.status().to_string().c_str()), 1;
        for (int from = 0; from < records; from += 50000)
            if (auto r = store.import_json(enrolments_document(records, from, std::min(records, from + 50000))); !r)
                return std::fprintf(stderr, "%s\n", r.status().to_string().c_str()), 1;
        std::printf("built %s: %d enrolments in %.1f s\n", db_path.c_str(), records, since(t0));
    }
    std::printf("store %s: %d enrolments, %d persons, %d occasions\n", db_path.c_str(), records,
                persons_for(records), std::max(1, records / 60));

    server::ServerOptions opts;
    opts.handle_signals = false;
    server::HttpServer http(store, opts);
    auto port = http.listen("127.0.0.1", 0);
    if (!port) return 1;
    std::thread serving([&] { http.run(); });
    std::string url = "http://127.0.0.1:" + std::to_string(port.value());

    auto first_sync = [&](const std::string& user, double& seconds) -> std::string {
        std::string path = (dir / (user + ".db")).string();
        std::filesystem::remove(path);
        auto c = client::Client::open(path).value();
        if (Status st = c->login(url, user, "password1"); !st) {
            std::fprintf(stderr, "login %s: %s\n", user.c_str(), st.to_string().c_str());
            std::exit(1);
        }
        auto t = Clock::now();
        double thread_cpu = cpu_seconds(RUSAGE_THREAD), process_cpu = cpu_seconds(RUSAGE_SELF);
        client::SyncOptions o;
        o.deadline = std::chrono::minutes(30);
        auto r = c->sync(o);
        seconds = since(t);
        thread_cpu = cpu_seconds(RUSAGE_THREAD) - thread_cpu;
        process_cpu = cpu_seconds(RUSAGE_SELF) - process_cpu;
        if (!r) {
            std::fprintf(stderr, "first sync %s: %s\n", user.c_str(), r.status().to_string().c_str());
            std::exit(1);
        }
        // CPU: the sync's own thread (the client's decode and apply) and the whole process
        // (client and server; the server runs in this process).
        std::printf("%-36s %9.3f s %6d req %9lld rows   cpu: client thread %.3f s, process %.3f s\n",
                    ("first sync (" + user + ")").c_str(), seconds, r->requests, static_cast<long long>(r->pulled),
                    thread_cpu, process_cpu);
        return path;
    };

    // No-op rounds in process: the replica's cursor and token after its first sync.
    auto noop = [&](const std::string& user, const std::string& replica) {
        Replica rs = replica_state(replica);
        std::vector<double> ms;
        for (int i = 0; i < rounds; ++i) {
            auto t = Clock::now();
            auto who = store.authenticate(rs.token);
            if (!who) return std::fprintf(stderr, "%s\n", who.status().to_string().c_str()), std::exit(1);
            SyncRequest req;
            req.cursor = rs.cursor;
            auto r = store.sync(who.value(), req);
            double took = since(t) * 1000;
            if (!r || !r->changes.empty() || r->more)
                return std::fprintf(stderr, "no-op round of %s was not a no-op\n", user.c_str()), std::exit(1);
            ms.push_back(took);
        }
        std::sort(ms.begin(), ms.end());
        double sum = 0;
        for (double m : ms) sum += m;
        std::printf("%-36s %9.3f ms mean %9.3f ms p50 %9.3f ms p99 (%d rounds)\n",
                    ("no-op round (" + user + ")").c_str(), sum / ms.size(), ms[ms.size() / 2],
                    ms[ms.size() * 99 / 100], rounds);
    };

    double s = 0;
    noop("anna", first_sync("anna", s));
    noop("coord", first_sync("coord", s));
    if (admin_first) {
        noop("admin", first_sync("admin", s));
    }
    if (raw) {
        double synced = 0;
        std::string replica = first_sync("coordall", synced);
        int64_t rows = 0;
        double raw_s = raw_sqlite_copy(replica, (dir / "raw.db").string(), rows);
        std::printf("%-36s %9.3f s for %lld rows: the first sync took %.2fx that\n", "raw SQLite writing the same rows",
                    raw_s, static_cast<long long>(rows), synced / raw_s);
        noop("coordall", replica);
    }
    http.stop();
    serving.join();
    std::filesystem::remove_all(dir);
    return 0;
}
