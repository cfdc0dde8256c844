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
#include "demo_project.h"
#include "tundra/core/stockholm_time.h"
#include "tundra/server/reports.h"
#include "tundra/server/sql_store.h"

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

}  // namespace

int report_bench_main(int argc, char** argv) {
    int scale = 1;
    for (int i = 1; i + 1 < argc; ++i)
        if (!std::strcmp(argv[i], "--scale")) scale = std::max(1, std::atoi(argv[i + 1]));
    auto dir = std::filesystem::temp_directory_path() / ("tundra-report-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);

    const int64_t now = wall_clock_ms();
    auto project = bench::open_demo_project((dir / "server.db").string(), scale, now, false);
    if (!project) return std::fprintf(stderr, "%s\n", project.status().to_string().c_str()), 1;
    SqlStore& s = *project->store;
    sql::Db& db = s.db();

    const int64_t as_of = wall_clock_ms();
    std::printf("%-40s %9s %9s\n", "", "wall", "cpu");
    auto t0 = Clock::now();
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
    project->store.reset();
    std::filesystem::remove_all(dir);
    return 0;
}
