#pragma once
#include "tundra/sqlite/db.h"

namespace tundra::server {
inline constexpr int kSchemaVersion = 7;
// Brings a store to kSchemaVersion, one transaction per step; refuses a newer file.
Status migrate(sql::Db& db);
// The index on `version` of every synced table (plain DDL any backend runs as it is; the
// tombstones' version is their primary key): pulls walk them from the cursor, so a round
// costs the rows written since, not the rows a user may see (docs/schema.md).
extern const char* const kVersionIndexesSql;
}  // namespace tundra::server
