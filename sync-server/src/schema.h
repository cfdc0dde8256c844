// The store's schema (docs/schema.md): SQLite's in schema.cc (every step since version 1),
// PostgreSQL's in schema_pg.cc (the current schema in one step, same user_version).
#pragma once
#include <string>
#include <vector>

#include "tundra/sql/db.h"
#include "tundra/sqlite/db.h"

namespace tundra::server {
inline constexpr int kSchemaVersion = 8;
// Brings a store to kSchemaVersion, one transaction per step; refuses a newer store.
// Dispatches on the backend: SQLite below, PostgreSQL to migrate_pg.
Status migrate(sql::Db& db);
// PostgreSQL: a new database gets the current schema in one step.
Status migrate_pg(sql::Db& db);

// The rows report facts are kept for, and their report columns (never names or comments):
// both backends generate their triggers from this list.
struct FactSource {
    const char* kind;    // entity wire name
    const char* table;
    const char* person;  // the column naming the person the row is about, or nullptr
    std::vector<const char*> columns;  // "id" first
};
const std::vector<FactSource>& fact_sources();

// Tables with an index on `version` (<table>_version), on both backends.
const std::vector<const char*>& version_indexed_tables();

// Schema steps after version 7 are the same on both backends: portable statements
// (CREATE INDEX IF NOT EXISTS ..., CREATE TABLE IF NOT EXISTS ... in the common subset of
// SQLite and PostgreSQL). Add a step here and raise kSchemaVersion; migrate() and
// migrate_pg() both run it.
struct SharedStep {
    int version;
    std::vector<const char*> statements;
};
const std::vector<SharedStep>& shared_steps();
Status run_shared_steps(sql::Db& db);
}  // namespace tundra::server
