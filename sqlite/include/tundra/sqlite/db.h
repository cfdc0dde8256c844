// SQLite behind the connection seam (tundra/sql/db.h): a connection owns its statement
// cache; SQLite types stay out of this header so that users of the module do not see
// sqlite3.h. The client's replica uses it directly; the server's store through sql::Db.
//
// Thread safety: a Db and everything obtained from it belong to one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tundra/core/model.h"
#include "tundra/core/status.h"
#include "tundra/sql/db.h"
#include "tundra/sql/rows.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tundra::sqlite {

// The seam's shared pieces under this module's names (the replica's code reads them so).
using sql::column_list;
using sql::load_row;
using sql::migrate_to;
using sql::Query;
using sql::read_row;
using sql::ReadTransaction;
using sql::Savepoint;
using sql::Transaction;

class Db;

class Stmt final : public sql::Stmt {
public:
    Stmt(Db& db, sqlite3_stmt* st) : db_(&db), st_(st) {}
    ~Stmt() override;
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    using sql::Stmt::bind;
    sql::Stmt& bind(int idx, std::nullptr_t) override;
    sql::Stmt& bind(int idx, int64_t v) override;
    sql::Stmt& bind(int idx, std::string_view v) override;
    int index(const char* name) const override;
    Result<bool> step() override;
    void reset() override;
    bool is_null(int col) const override;
    bool is_integer(int col) const override;
    std::string column_name(int col) const override;
    int64_t int64(int col) const override;
    std::string text(int col) const override;
    std::string_view text_view(int col) const override;
    int column_count() const override;
    sqlite3_stmt* raw() { return st_; }

private:
    Db* db_;
    sqlite3_stmt* st_;
};

struct OpenOptions {
    bool create = true;
    bool wal = true;
    int busy_timeout_ms = 5000;
    bool read_only = false;
    // Deleted content is overwritten with zeros (PRAGMA secure_delete): an erased person's
    // data does not linger in free pages of the file (docs/security.md).
    bool secure_delete = true;
    // Encryption at rest: the key for an encrypting SQLite build (SQLCipher or SEE), applied
    // with PRAGMA key before the first read. This is the one place every store and replica
    // connection is opened. With a stock SQLite (Debian's) a non-empty key is refused
    // (`unsupported_version`) rather than ignored. Empty: no encryption.
    std::string key = {};
    // Page cache of this connection in KiB (PRAGMA cache_size=-N); 0: SQLite's default (2 MB).
    int cache_kib = 0;
};

class Db final : public sql::Db {
public:
    // Opens (or creates) a database file. Every file it creates — the database, and so the
    // -wal, -shm and -journal files SQLite makes beside it with the same mode — is readable
    // by its owner only (0600); an existing file that others may read is narrowed to 0600.
    static Result<std::unique_ptr<Db>> open(const std::string& path, OpenOptions opts = {});
    ~Db() override;

    sql::Backend backend() const override { return sql::Backend::sqlite; }
    Status exec(std::string_view sql) override;
    Result<sql::Stmt*> prepare(const std::string& sql) override;
    int64_t changes() const override;
    int user_version() override;
    Status set_user_version(int v) override;
    Status checkpoint_truncate() override;
    Status begin_write() override { return exec("BEGIN IMMEDIATE"); }
    Status begin_read() override;
    std::string json_text(std::string_view json, std::string_view key) const override;
    std::string json_set(std::string_view json, std::string_view key, std::string_view value) const override;
    std::string json_remove(std::string_view json, std::string_view key) const override;
    std::string json_array_values(std::string_view json, std::string_view alias) const override;
    std::string group_concat(std::string_view expr) const override;
    std::string contains(std::string_view haystack, std::string_view needle) const override;

    // An online backup (SQLite's backup API) of this connection's database into a new file
    // `to`, made owner-only (0600) and refused (conflict) when `to` exists: one consistent
    // snapshot, taken while other connections go on writing (WAL). Returns the bytes copied.
    // Errors: conflict (`to` exists), storage (cannot create or write it; nothing is left
    // behind), busy.
    Result<uint64_t> backup_to(const std::string& to);

    Status error(int rc, std::string_view what) const;
    sqlite3* raw() { return db_; }

private:
    friend class Stmt;
    Db(sqlite3* db, std::string path) : sql::Db(std::move(path)), db_(db) {}
    sqlite3* db_;
    std::unordered_map<std::string, std::unique_ptr<Stmt>> cache_;
};

}  // namespace tundra::sqlite
