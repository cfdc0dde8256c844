// The store's connection seam: what the SQL store's logic needs from a database, with one
// implementation per backend (tundra/sqlite/db.h: SQLite; tundra/pg/db.h: PostgreSQL via
// libpq), as PowerDNS's generic SQL backend serves several databases (docs/architecture.md).
//
// RAII: a connection owns its statement cache; a Query resets its statement when it goes
// out of scope; a Transaction rolls back unless committed. Values are always bound with
// `?` (or `?N`, `:name`); SQL is never built from values. A backend that numbers its
// parameters differently (PostgreSQL: $1) rewrites the text when it prepares it.
//
// Thread safety: a Db and everything obtained from it belong to one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tundra/core/model.h"
#include "tundra/core/status.h"

namespace tundra::sql {

enum class Backend { sqlite, postgres };

class Stmt {
public:
    virtual ~Stmt() = default;

    virtual Stmt& bind(int idx, std::nullptr_t) = 0;
    virtual Stmt& bind(int idx, int64_t v) = 0;
    virtual Stmt& bind(int idx, std::string_view v) = 0;
    Stmt& bind(int idx, int v) { return bind(idx, static_cast<int64_t>(v)); }
    Stmt& bind(int idx, uint64_t v) { return bind(idx, static_cast<int64_t>(v)); }
    Stmt& bind(int idx, bool v) { return bind(idx, static_cast<int64_t>(v ? 1 : 0)); }
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
    // The 1-based index of a named parameter (":name"), 0 when the statement has none.
    virtual int index(const char* name) const = 0;

    // true when a row is available; false when done.
    virtual Result<bool> step() = 0;
    // Runs to completion, for statements that return no rows.
    Status run();
    // Back to before the first step, bindings cleared.
    virtual void reset() = 0;

    virtual bool is_null(int col) const = 0;
    virtual bool is_integer(int col) const = 0;
    virtual std::string column_name(int col) const = 0;
    virtual int64_t int64(int col) const = 0;
    virtual std::string text(int col) const = 0;
    // The column's bytes without a copy, valid until the next step or reset.
    virtual std::string_view text_view(int col) const = 0;
    std::optional<std::string> opt_text(int col) const;
    // Reads a column as a Value of the given type.
    Value value(int col, ColType type) const;
    virtual int column_count() const = 0;
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

class Db {
public:
    virtual ~Db() = default;
    Db() = default;
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    virtual Backend backend() const = 0;
    // One or more statements without parameters or results (DDL, pragmas, BEGIN).
    virtual Status exec(std::string_view sql) = 0;
    // A cached prepared statement; wrap it in a Query to reset it after use.
    virtual Result<Stmt*> prepare(const std::string& sql) = 0;
    // prepare() that treats a bad statement as a bug (SQL is a compile-time constant).
    Query query(const std::string& sql);
    // Rows changed by the last statement that wrote.
    virtual int64_t changes() const = 0;
    // The schema version the database is at (SQLite: PRAGMA user_version).
    virtual int user_version() = 0;
    virtual Status set_user_version(int v) = 0;
    // SQLite: PRAGMA wal_checkpoint(TRUNCATE), so deleted content leaves the -wal file too.
    // Busy when another connection holds a read. Backends without such a file: nothing.
    virtual Status checkpoint_truncate() = 0;
    // ---- The SQL dialect --------------------------------------------------------------------
    // The store's SQL is written once, in what both backends accept (ON CONFLICT ... DO
    // NOTHING/DO UPDATE, CASE for a scalar max/min, COALESCE, explicit CASTs; comments mark the
    // spots chosen for portability). These are the few constructs the backends spell
    // differently; each returns an SQL fragment around the caller's SQL expressions (never
    // values: those are bound). JSON is stored as text in both backends.
    //
    // The text member `key` of the JSON object `json` (NULL when absent or not an object).
    virtual std::string json_text(std::string_view json, std::string_view key) const = 0;
    // `json` with member `key` set to `value` (an SQL expression of a known type: a column,
    // a literal, or a parameter in a CAST), as text.
    virtual std::string json_set(std::string_view json, std::string_view key, std::string_view value) const = 0;
    // `json` without member `key`, as text.
    virtual std::string json_remove(std::string_view json, std::string_view key) const = 0;
    // A FROM item: one row per element of the JSON array `json`, its text in column
    // `alias`.value.
    virtual std::string json_array_values(std::string_view json, std::string_view alias) const = 0;
    // An aggregate: the group's values of `expr` (text) joined by ','.
    virtual std::string group_concat(std::string_view expr) const = 0;
    // Whether text `needle` occurs in text `haystack` (NULL when either is NULL).
    virtual std::string contains(std::string_view haystack, std::string_view needle) const = 0;

    // What opened this connection: a file path or a postgresql:// URI.
    const std::string& path() const { return path_; }

    // Starts the one kind of write transaction there is: writers are serialised across
    // every connection and process (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock
    // taken in the transaction), so versions are handed out in commit order.
    virtual Status begin_write() = 0;
    // Starts a read-only transaction on one snapshot.
    virtual Status begin_read() = 0;

    // Fault injection for tests: called before each step of a statement that writes and
    // before a commit; a non-OK status is returned instead of touching the database.
    using FaultHook = std::function<Status()>;
    void set_fault_hook(FaultHook hook) { fault_hook_ = std::move(hook); }
    const FaultHook& fault_hook() const { return fault_hook_; }

    // What SQL's tundra_now_ms() returns: ms since the epoch, UTC (the wall clock unless a
    // store injects its own, as tests do).
    using Clock = std::function<int64_t()>;
    void set_clock(Clock clock) { clock_ = std::move(clock); }
    int64_t clock_now() const { return clock_(); }

protected:
    explicit Db(std::string path) : path_(std::move(path)) {}
    std::string path_;
    FaultHook fault_hook_;
    Clock clock_ = [] {
        return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
    };
};

// A write transaction (Db::begin_write ... COMMIT); rolls back in the destructor unless
// committed.
class Transaction {
public:
    explicit Transaction(Db& db) : db_(db) {}
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    Status begin();
    Status commit();

private:
    Db& db_;
    bool open_ = false;
};

// A read-only transaction on one snapshot (Db::begin_read ... COMMIT when it leaves scope).
class ReadTransaction {
public:
    explicit ReadTransaction(Db& db) : db_(db) {}
    ~ReadTransaction();
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;
    Status begin();

private:
    Db& db_;
    bool open_ = false;
};

// One schema migration step: when the database is below `version`, runs `body` and sets the
// version to `version` in one transaction (stores and replicas alike).
Status migrate_to(Db& db, int version, const std::function<Status()>& body);

// SAVEPOINT around one action, so a failing action does not undo its batch.
class Savepoint {
public:
    explicit Savepoint(Db& db);
    ~Savepoint();
    Savepoint(const Savepoint&) = delete;
    Savepoint& operator=(const Savepoint&) = delete;
    Status status() const { return begin_; }
    Status release();

private:
    Db& db_;
    Status begin_;
    bool open_ = false;
};

}  // namespace tundra::sql
