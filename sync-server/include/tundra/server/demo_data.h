// Realistic demo data built from data/*.csv (municipalities, course themes): sites,
// staff (about 80% women), courses, occasions relative to today, enrolments, and the demo
// logins listed in the README.
#pragma once

#include <cstdint>
#include <string>

#include "tundra/core/status.h"

namespace tundra::server {

struct DemoOptions {
    std::string data_dir = {};  // folder holding municipalities.csv and course-themes.csv
    uint32_t seed = 2026;
    int municipalities = 15;
    int staff_per_site = 12;
    int64_t now_ms = 0;         // 0 = the wall clock
    // A project year (issue 9): occasions, attendance marks, participations, time
    // attestations, survey answers and deviations over the past `history_months` months.
    int history_months = 12;
    // Scale for benchmarks: about this many attendance marks in all (0 = what the demo's
    // occasions give). The bench uses municipalities x staff_per_site = 25,000 staff and
    // 100,000 marks, and 10x both.
    int64_t attendance_marks = 0;
};

// Returns an import document (see SqlStore::import_json).
Result<std::string> demo_document(const DemoOptions& opts);

}  // namespace tundra::server
