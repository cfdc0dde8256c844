// tundra-bench report [--scale N]: the ESF reports over a demo project of the brief's size
// (about 25,000 staff and 100,000 attendance marks, times N): building the store, loading
// the report facts, the monthly ledger and each statistics report (docs/benchmarks.md).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

#include "../sync-server/src/report_state.h"
#include "tundra/server/demo_data.h"
#include "tundra/server/reports.h"
#include "tundra/server/sqlite_store.h"

using namespace tundra;
using namespace tundra::server;

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
// CPU seconds of this process (user + system): on a shared machine, wall time also counts
// waiting for a core.
double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int64_t scalar(sqlite::Db& db, const std::string& sql) {
    auto q = db.query(sql);
    auto r = q->step();
    return r && r.value() ? q->int64(0) : -1;
}
}  // namespace

int report_bench_main(int argc, char** argv) {
    int scale = 1;
    for (int i = 1; i + 1 < argc; ++i)
        if (!std::strcmp(argv[i], "--scale")) scale = std::max(1, std::atoi(argv[i + 1]));
    auto dir = std::filesystem::temp_directory_path() / ("tundra-report-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);

    const int64_t now = wall_clock_ms();
    DemoOptions o;
    o.data_dir = TUNDRA_DATA_DIR;
    o.now_ms = now;
    // 50 municipalities have 102 sites: 245 staff each is about 25,000 staff.
    o.municipalities = 50;
    o.staff_per_site = 245 * scale;
    o.attendance_marks = 100'000LL * scale;
    StoreOptions so;
    so.kdf_iterations = 1000;
    so.durable = false;
    auto store = SqliteStore::open((dir / "server.db").string(), so);
    if (!store) return std::fprintf(stderr, "%s\n", store.status().to_string().c_str()), 1;
    SqliteStore& s = *store.value();

    auto t0 = Clock::now();
    auto doc = demo_document(o);
    if (!doc) return std::fprintf(stderr, "%s\n", doc.status().to_string().c_str()), 1;
    double t_doc = since(t0);
    t0 = Clock::now();
    auto rep = s.import_json(doc.value());
    if (!rep) return std::fprintf(stderr, "%s\n", rep.status().to_string().c_str()), 1;
    double t_import = since(t0);
    doc.value().clear();
    sqlite::Db& db = s.db();
    // A demo generator that gives no participations yet: everyone takes part all year, so
    // that the ledger has its full size.
    if (scalar(db, "SELECT count(*) FROM participations") == 0) {
        std::string start = stockholm_month(now);
        for (int i = 0; i < 12; ++i) start = previous_month(start);
        if (!db.exec("INSERT INTO participations (id, person, start_month, end_month, version) SELECT 'bench-' || id, "
                     "id, '" + start + "', NULL, 1 FROM persons"))
            return 1;
        std::printf("(the demo data has no participations: everyone takes part from %s)\n", start.c_str());
    }
    // A demo generator that gives fewer marks than asked: occasions over the year and marks
    // spread over everyone, so that the facts have their full size.
    int64_t marks = scalar(db, "SELECT count(*) FROM attendance");
    if (marks < o.attendance_marks / 2) {
        int64_t missing = o.attendance_marks - marks, occasions = std::max<int64_t>(1, missing / 25);
        int64_t persons = scalar(db, "SELECT max(rowid) FROM persons");
        int64_t year_ago = (now - 365LL * 86'400'000) / 1000;
        const char* statuses = "'present','present','present','late','left_early','absent','excused','present'";
        std::string sql =
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(occasions - 1) +
            ") INSERT INTO occasions (id, course, starts_at, ends_at, site, capacity, enrolment_closes, status, version) "
            "SELECT 'bench-o' || i, (SELECT id FROM courses ORDER BY id LIMIT 1), "
            "strftime('%Y-%m-%dT%H:%M:%SZ', " + std::to_string(year_ago) + " + i * 31536000 / " + std::to_string(occasions) +
            ", 'unixepoch'), strftime('%Y-%m-%dT%H:%M:%SZ', " + std::to_string(year_ago) + " + i * 31536000 / " +
            std::to_string(occasions) + " + 7200, 'unixepoch'), NULL, 40, '2020-01-01T00:00:00Z', CASE WHEN i % 23 = 0 "
            "THEN 'cancelled' ELSE 'completed' END, 1 FROM n;"
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(missing - 1) +
            ") INSERT INTO attendance (id, occasion, person, status, minutes, source, hlc, device, version) "
            "SELECT 'bench-m' || i, 'bench-o' || (i % " + std::to_string(occasions) + "), (SELECT id FROM persons WHERE "
            "rowid = 1 + (i * 7919) % " + std::to_string(persons) + "), json_extract(json_array(" + statuses +
            "), '$[' || (i % 8) || ']'), CASE WHEN i % 3 = 0 THEN 90 END, 'coordinator', i, 'bench', 1 FROM n;";
        if (!db.exec("BEGIN;" + sql + "COMMIT;")) return std::fprintf(stderr, "could not add marks\n"), 1;
        std::printf("(the demo data has %lld marks: %lld more on %lld added occasions)\n", static_cast<long long>(marks),
                    static_cast<long long>(missing), static_cast<long long>(occasions));
    }
    std::printf("store: %lld staff, %lld occasions, %lld attendance marks, %lld participations, %lld report facts; "
                "document %.2f s, import %.2f s\n",
                static_cast<long long>(scalar(db, "SELECT count(*) FROM persons")),
                static_cast<long long>(scalar(db, "SELECT count(*) FROM occasions")),
                static_cast<long long>(scalar(db, "SELECT count(*) FROM attendance")),
                static_cast<long long>(scalar(db, "SELECT count(*) FROM participations")),
                static_cast<long long>(scalar(db, "SELECT count(*) FROM report_facts")), t_doc, t_import);

    const int64_t as_of = wall_clock_ms();
    std::printf("%-40s %9s %9s\n", "", "wall", "cpu");
    t0 = Clock::now();
    double c0 = cpu_seconds();
    auto state = load_report_state(db, as_of);
    if (!state) return std::fprintf(stderr, "%s\n", state.status().to_string().c_str()), 1;
    std::printf("%-40s %7.3f s %7.3f s  (%zu persons, %zu marks)\n", "load report facts", since(t0),
                cpu_seconds() - c0, state->persons.size(), state->marks.size());
    t0 = Clock::now();
    c0 = cpu_seconds();
    auto current = state->current_marks();
    std::printf("%-40s %7.3f s %7.3f s  (%zu current)\n", "current marks", since(t0), cpu_seconds() - c0,
                current.size());

    // The last full month, and the project year up to it.
    std::string month = previous_month(stockholm_month(now)), from = month;
    for (int i = 0; i < 11; ++i) from = previous_month(from);
    const ReportViewer admin{"admin", {}};
    auto time_report = [&](const std::string& name, const std::string& f, const std::string& t,
                           const std::string& format) {
        ReportRequest req;
        req.name = name;
        req.from_month = f;
        req.to_month = t;
        req.format = format;
        auto start = Clock::now();
        double c = cpu_seconds();
        auto out = s.report(req, admin);
        double secs = since(start), cpu = cpu_seconds() - c;
        if (!out) {
            std::printf("%-40s failed: %s\n", name.c_str(), out.status().to_string().c_str());
            return;
        }
        std::string label = name + " " + f + (f == t ? "" : ".." + t) + " " + format;
        std::printf("%-40s %7.3f s %7.3f s  (%zu bytes)\n", label.c_str(), secs, cpu, out->body.size());
    };
    time_report("ledger", month, month, "csv");
    time_report("ledger", month, month, "json");
    for (const char* name : {"participants", "attendance", "surveys", "deviations"}) {
        time_report(name, month, month, "csv");
        time_report(name, from, month, "csv");
    }
    store.value().reset();
    std::filesystem::remove_all(dir);
    return 0;
}
