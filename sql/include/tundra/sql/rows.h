// Entity rows in SQL, driven by the descriptors of tundra/core/model.h. Both the server
// store and the client replica keep one table per kind with the descriptor's columns (plus
// their own extra columns), so reading a row is the same code on both sides.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tundra/core/model.h"
#include "tundra/sql/db.h"

namespace tundra::sql {

// "id, name, ..." — optionally prefixed with a table alias ("t.id, t.name, ...").
std::string column_list(const EntitySpec& spec, std::string_view alias = {});
// Reads the descriptor's columns from the current row of `st`, starting at column 0.
Row read_row(const Stmt& st, const EntitySpec& spec);
// The same row as JSON, byte for byte what encode_row(read_row(st, spec)) writes (keys in name
// order), without building the Row: how the server fills its pages.
std::string row_json(const Stmt& st, const EntitySpec& spec);
// The row of `kind` with this id, if any.
Result<std::optional<Row>> load_row(Db& db, Kind kind, const std::string& id);

}  // namespace tundra::sql
