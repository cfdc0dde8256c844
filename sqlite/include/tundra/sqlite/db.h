// RAII over SQLite: a connection owns its statement cache; a Query resets its statement
// when it goes out of scope; a Transaction rolls back unless committed. Values are always
// bound with `?`/`:name`; SQL is never built from values. SQLite types stay out of this
// header so that users of the module do not see sqlite3.h.
//
// Thread safety: a Db and everything obtained from it belong to one thread at a time.
#pragma once

#include <cstdint>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tundra/core/model.h"
#include "tundra/core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tundra::sqlite {

class Db;

class Stmt {
public:
    Stmt(Db& db, sqlite3_stmt* st) : db_(&db), st_(st) {}
    ~Stmt();
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Stmt& bind(int idx, std::nullptr_t);
    Stmt& bind(int idx, int64_t v);
    Stmt& bind(int idx, int v) { return bind(idx, static_cast<int64_t>(v)); }
    Stmt& bind(int idx, uint64_t v) { return bind(idx, static_cast<int64_t>(v)); }
    Stmt& bind(int idx, bool v) { return bind(idx, static_cast<int64_t>(v ? 1 : 0)); }
    Stmt& bind(int idx, std::string_view v);
    Stmt& bind(int idx, const std::string& v) { return bind(idx, std::string_view(v)); }
    Stmt& bind(int idx, const char* v) { return bind(idx, std::string_view(v)); }
    // Binds a Value; string lists are stored as JSON arrays.
    Stmt& bind_value(int idx, const Value& v);
    // Binds by name (":name"); a name not in the statement is ignored.
    template <class T>
    Stmt& bind(const char* name, const T& v) {
        int i = index(name);
        if (i > 0) bind(i, v);
        return *this;
    }
    int index(const char* name) const;

    // true when a row is available; false when done.
    Result<bool> step();
    // Runs to completion, for statements that return no rows.
    Status run();
    void reset();

    bool is_null(int col) const;
    bool is_integer(int col) const;
    std::string column_name(int col) const;
    int64_t int64(int col) const;
    std::string text(int col) const;
    std::optional<std::string> opt_text(int col) const;
    // Reads a column as a Value of the given type.
    Value value(int col, ColType type) const;
    int column_count() const;

private:
    Db* db_;
    sqlite3_stmt* st_;
};

// Resets its statement (and clears bindings) when it leaves scope.
class Query {
public:
    explicit Query(Stmt& st) : st_(&st) {}
    ~Query() { st_->reset(); }
    Query(const Query&) = delete;
    Stmt* operator->() { return st_; }
    Stmt& operator*() { return *st_; }

private:
    Stmt* st_;
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
};

class Db {
public:
    // Opens (or creates) a database file. Every file it creates — the database, and so the
    // -wal, -shm and -journal files SQLite makes beside it with the same mode — is readable
    // by its owner only (0600); an existing file that others may read is narrowed to 0600.
    static Result<std::unique_ptr<Db>> open(const std::string& path, OpenOptions opts = {});
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    Status exec(std::string_view sql);
    // A cached prepared statement; wrap it in a Query to reset it after use.
    Result<Stmt*> prepare(const std::string& sql);
    // prepare() that treats a bad statement as a bug (SQL is a compile-time constant).
    Query query(const std::string& sql);
    int64_t changes() const;
    int user_version();
    Status set_user_version(int v);
    // PRAGMA wal_checkpoint(TRUNCATE): copies the log into the database and truncates the
    // -wal file to zero bytes, so that deleted content is gone from it too. Busy when
    // another connection holds a read transaction (the log is then kept; try again later).
    Status checkpoint_truncate();
    const std::string& path() const { return path_; }

    // Fault injection for tests: called before each step of a statement that writes; a
    // non-OK status is returned from that step instead of touching the database.
    using FaultHook = std::function<Status()>;
    void set_fault_hook(FaultHook hook) { fault_hook_ = std::move(hook); }

    Status error(int rc, std::string_view what) const;
    sqlite3* raw() { return db_; }

    // What SQL's tundra_now_ms() returns: ms since the epoch, UTC (the wall clock unless a
    // store injects its own, as tests do).
    using Clock = std::function<int64_t()>;
    void set_clock(Clock clock) { clock_ = std::move(clock); }

private:
    friend class Stmt;
    friend class Transaction;
    Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
    sqlite3* db_;
    std::string path_;
    std::unordered_map<std::string, std::unique_ptr<Stmt>> cache_;
    FaultHook fault_hook_;
    Clock clock_ = [] {
        return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
    };
};

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless committed.
class Transaction {
public:
    explicit Transaction(Db& db) : db_(db) {}
    ~Transaction();
    Status begin();
    Status commit();

private:
    Db& db_;
    bool open_ = false;
};

// One schema migration step: when the file is below `version`, runs `body` and sets
// PRAGMA user_version = `version` in one transaction (stores and replicas alike).
Status migrate_to(Db& db, int version, const std::function<Status()>& body);

// SAVEPOINT around one action, so a failing action does not undo its batch.
class Savepoint {
public:
    explicit Savepoint(Db& db);
    ~Savepoint();
    Status status() const { return begin_; }
    Status release();

private:
    Db& db_;
    Status begin_;
    bool open_ = false;
};

}  // namespace tundra::sqlite
