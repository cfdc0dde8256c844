#pragma once
#include "tundra/sqlite/db.h"

namespace tundra::server {
inline constexpr int kSchemaVersion = 7;
// Brings a store to kSchemaVersion, one transaction per step; refuses a newer file.
Status migrate(sql::Db& db);
}  // namespace tundra::server
