// The demo project of the report and console benches (demo_project.h).
#include "demo_project.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "tundra/core/stockholm_time.h"
#include "tundra/server/demo_data.h"

namespace tundra::bench {
using namespace tundra::server;

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

int64_t scalar(sql::Db& db, const std::string& sql) {
    auto q = db.query(sql);
    auto r = q->step();
    return r && r.value() ? q->int64(0) : -1;
}

Result<DemoProject> open_demo_project(const std::string& db_path, int scale, int64_t now, bool reuse) {
    DemoProject p;
    const bool exists = std::filesystem::exists(db_path);
    if (exists && !reuse) return Status(Errc::invalid_argument, db_path + " exists (use it with --db PATH --keep)");
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
    auto store = SqlStore::open(db_path, so);
    if (!store) return store.status();
    p.store = std::move(store.value());
    SqlStore& s = *p.store;
    sql::Db& db = s.db();
    p.reused = exists;
    if (!exists) {
        auto t0 = Clock::now();
        auto doc = demo_document(o);
        if (!doc) return doc.status();
        p.document_seconds = since(t0);
        t0 = Clock::now();
        auto rep = s.import_json(doc.value());
        if (!rep) return rep.status();
        p.import_seconds = since(t0);
        doc.value().clear();
        // A demo generator that gives no participations yet: everyone takes part all year, so
        // that the ledger has its full size.
        if (scalar(db, "SELECT count(*) FROM participations") == 0) {
            std::string start = stockholm_month(now);
            for (int i = 0; i < 12; ++i) start = previous_month(start);
            if (!db.exec("INSERT INTO participations (id, person, start_month, end_month, version) SELECT 'bench-' || "
                         "id, id, '" + start + "', NULL, 1 FROM persons"))
                return Status(Errc::storage, "could not add participations");
            std::printf("(the demo data has no participations: everyone takes part from %s)\n", start.c_str());
        }
        // A demo generator that gives fewer marks than asked: occasions over the year and
        // marks spread over everyone, so that the facts have their full size.
        int64_t marks = scalar(db, "SELECT count(*) FROM attendance");
        if (marks < o.attendance_marks / 2) {
            int64_t missing = o.attendance_marks - marks, occasions = std::max<int64_t>(1, missing / 25);
            int64_t persons = scalar(db, "SELECT max(rowid) FROM persons");
            int64_t year_ago = (now - 365LL * 86'400'000) / 1000;
            const char* statuses = "'present','present','present','late','left_early','absent','excused','present'";
            std::string sql =
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < " +
                std::to_string(occasions - 1) +
                ") INSERT INTO occasions (id, course, starts_at, ends_at, site, capacity, enrolment_closes, status, "
                "version) SELECT 'bench-o' || i, (SELECT id FROM courses ORDER BY id LIMIT 1), "
                "strftime('%Y-%m-%dT%H:%M:%SZ', " + std::to_string(year_ago) + " + i * 31536000 / " +
                std::to_string(occasions) + ", 'unixepoch'), strftime('%Y-%m-%dT%H:%M:%SZ', " +
                std::to_string(year_ago) + " + i * 31536000 / " + std::to_string(occasions) +
                " + 7200, 'unixepoch'), NULL, 40, '2020-01-01T00:00:00Z', CASE WHEN i % 23 = 0 "
                "THEN 'cancelled' ELSE 'completed' END, 1 FROM n;"
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < " +
                std::to_string(missing - 1) +
                ") INSERT INTO attendance (id, occasion, person, status, minutes, source, hlc, device, version) "
                "SELECT 'bench-m' || i, 'bench-o' || (i % " + std::to_string(occasions) +
                "), (SELECT id FROM persons WHERE rowid = 1 + (i * 7919) % " + std::to_string(persons) +
                "), json_extract(json_array(" + statuses +
                "), '$[' || (i % 8) || ']'), CASE WHEN i % 3 = 0 THEN 90 END, 'coordinator', i, 'bench', 1 FROM n;";
            if (!db.exec("BEGIN;" + sql + "COMMIT;")) return Status(Errc::storage, "could not add marks");
            std::printf("(the demo data has %lld marks: %lld more on %lld added occasions)\n",
                        static_cast<long long>(marks), static_cast<long long>(missing),
                        static_cast<long long>(occasions));
        }
    }
    p.staff = scalar(db, "SELECT count(*) FROM persons");
    p.occasions = scalar(db, "SELECT count(*) FROM occasions");
    p.marks = scalar(db, "SELECT count(*) FROM attendance");
    p.participations = scalar(db, "SELECT count(*) FROM participations");
    p.facts = scalar(db, "SELECT count(*) FROM report_facts");
    std::printf("store: %lld staff, %lld occasions, %lld attendance marks, %lld participations, %lld report facts",
                static_cast<long long>(p.staff), static_cast<long long>(p.occasions),
                static_cast<long long>(p.marks), static_cast<long long>(p.participations),
                static_cast<long long>(p.facts));
    if (p.reused)
        std::printf(" (reused %s)\n", db_path.c_str());
    else
        std::printf("; document %.2f s, import %.2f s\n", p.document_seconds, p.import_seconds);
    return p;
}

}  // namespace tundra::bench
