// Where a store's connections come from: the one function that turns `--db` (a file path, or
// a postgresql:// or postgres:// URI) into a connection of the right backend. SqlStore::open,
// the read connections and the reports' snapshot connection all open through it.
#pragma once

#include <memory>
#include <string>

#include "tundra/core/status.h"
#include "tundra/sql/db.h"

namespace tundra::server {

struct ConnectionOptions {
    bool create = true;      // create the database (SQLite: the file) when missing
    bool read_only = false;  // a connection that only reads (pulls, reports)
};

// True for a postgresql:// or postgres:// URI (libpq's forms), false for a file path.
bool is_postgres_uri(const std::string& where);

// Errors: storage (cannot open; not a database), unsupported_version.
Result<std::unique_ptr<sql::Db>> open_connection(const std::string& where, const ConnectionOptions& o);

}  // namespace tundra::server
