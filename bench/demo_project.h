// The demo project the report and console benches measure: `demo_document` with 50
// municipalities x 245 staff per site (about 25,000 staff, the brief's project size) and
// 100,000 attendance marks, both times `scale` (docs/benchmarks.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tundra/core/status.h"
#include "tundra/server/sql_store.h"

namespace tundra::bench {

struct DemoProject {
    std::unique_ptr<server::SqlStore> store;
    bool reused = false;                     // an existing store was opened (nothing built)
    double document_seconds = 0, import_seconds = 0;
    int64_t staff = 0, occasions = 0, marks = 0, participations = 0, facts = 0;
};

// Builds the project into a new store at `db_path` (the file must not exist), or, with
// `reuse` and an existing file, opens that store as it is. `now_ms` places the project year.
// Prints what it added beyond the demo generator and the store's size.
Result<DemoProject> open_demo_project(const std::string& db_path, int scale, int64_t now_ms, bool reuse);

// Count of rows of a single-value query, -1 on error.
int64_t scalar(sql::Db& db, const std::string& sql);

}  // namespace tundra::bench
