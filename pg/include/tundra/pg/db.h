// PostgreSQL behind the connection seam (tundra/sql/db.h), over libpq. libpq's types stay out
// of this header (like sqlite3.h out of tundra/sqlite/db.h).
//
// Statements: the store's SQL binds with `?`, `?N` and `:name`; a statement's text is
// rewritten to `$n` once (string literals, quoted identifiers, dollar quotes and comments are
// left alone; the same `:name` is the same `$n`) and prepared once per connection and per
// combination of parameter types (PQprepare; values travel as text). An int64 bind is
// declared int8; a text bind or a NULL is left for PostgreSQL to infer from its use (text
// columns, integers, timestamps); if that fails (indeterminate type, no such operator) the
// statement is prepared again with text binds declared text, then with nothing declared.
// A prepare inside a transaction runs under a savepoint, so a refused attempt does not abort
// the transaction. Results are read whole (PQexecPrepared): a statement's rows are in memory
// until the next step past the end or reset, so other statements may run while one is being
// read (as with SQLite). Not yet done: a huge read (the report replay over millions of facts)
// would want a cursor or PQsetSingleRowMode instead.
//
// Results: is_integer() from the column's type (int2/int4/int8/bool, numeric without a
// fraction); a bool reads as 1/0 through int64() and text(); text_view() is valid until the
// next step or reset; changes() counts the rows of the last INSERT/UPDATE/DELETE.
//
// Transactions: begin_write() is `BEGIN` (READ COMMITTED) followed by
// `pg_advisory_xact_lock(kWriteLockKey)`: writers are serialised across every connection and
// every process on the database, exactly like SQLite's BEGIN IMMEDIATE. The store reads its
// version counter (table meta) after taking the lock, and under READ COMMITTED that read sees
// every earlier writer's commit, so versions are handed out in commit order: a reader that
// has seen version v never later finds a row committed with a version below v (gap-safe).
// begin_read() is `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` with its snapshot taken at
// once. Unlike SQLite, a failed statement inside a transaction aborts it in PostgreSQL: only
// ROLLBACK (or ROLLBACK TO a savepoint) helps; a COMMIT of such a transaction is an error.
//
// tundra_now_ms() (defined by the PG schema, sync-server/src/schema_pg.cc) returns this
// connection's clock (sql::Db::set_clock): the Db sends the clock's time as the setting
// `tundra.now_ms` with every write transaction and before a write outside one.
//
// Errors: serialization failure, deadlock and lock timeout (lock_timeout 5 s, like SQLite's
// busy timeout) → busy; integrity violations (23xxx) → conflict; disk full (53100) →
// storage "disk full: ..."; a lost connection → storage ("connection to PostgreSQL lost"),
// and the next begin_write()/begin_read() (or statement outside a transaction; never a
// statement of the transaction the link was lost in) reconnects.
// The fault hook runs before each statement that writes and before COMMIT, as with SQLite.
//
// Thread safety: a Db and everything obtained from it belong to one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tundra/core/status.h"
#include "tundra/sql/db.h"

struct pg_conn;
struct pg_result;

namespace tundra::pg {

// The advisory lock every write transaction takes ("tundra" in ASCII).
inline constexpr int64_t kWriteLockKey = 0x74756e647261;

// A statement's text with its parameters numbered for PostgreSQL.
struct Rewritten {
    std::string sql;                 // `?`, `?N`, `:name` replaced by `$n`
    int params = 0;                  // the highest n
    std::vector<std::pair<std::string, int>> names;  // ":name" -> n
    bool writes = false;             // INSERT/UPDATE/DELETE/DDL outside literals
};
Rewritten rewrite(std::string_view sql);

class Db;

class Stmt final : public sql::Stmt {
public:
    Stmt(Db& db, Rewritten rw);
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
    const Rewritten& rewritten() const { return rw_; }

private:
    Result<std::string> prepared_name();
    void clear_result();

    Db* db_;
    Rewritten rw_;
    enum class Kind : char { null = 'n', integer = 'i', text = 't' };
    std::vector<Kind> kinds_;
    std::vector<std::string> values_;
    // Parameter-kind signature -> server-side statement name (this connection generation).
    std::unordered_map<std::string, std::string> names_;
    uint64_t generation_ = 0;
    pg_result* res_ = nullptr;
    int row_ = -1;
    int rows_ = 0;
};

struct OpenOptions {
    bool read_only = false;       // every transaction READ ONLY
    int lock_timeout_ms = 5000;   // waiting for the write lock or a row lock → busy
};

class Db final : public sql::Db {
public:
    // Connects with a libpq URI (postgresql://... or postgres://...). The database must
    // exist; errors: storage (cannot connect), naming the server's reason but never the URI
    // (it may hold a password).
    static Result<std::unique_ptr<Db>> open(const std::string& uri, OpenOptions opts = {});
    ~Db() override;

    sql::Backend backend() const override { return sql::Backend::postgres; }
    Status exec(std::string_view sql) override;
    Result<sql::Stmt*> prepare(const std::string& sql) override;
    int64_t changes() const override { return changes_; }
    // A one-row table tundra_schema_version (0 when it does not exist).
    int user_version() override;
    Status set_user_version(int v) override;
    Status checkpoint_truncate() override { return Status::ok(); }
    Status begin_write() override;
    Status begin_read() override;

    // The SQL dialect (sql::Db): json ->> / jsonb || and -, json_array_elements_text,
    // string_agg, strpos. JSON is stored as text.
    std::string json_text(std::string_view json, std::string_view key) const override;
    std::string json_set(std::string_view json, std::string_view key, std::string_view value) const override;
    std::string json_remove(std::string_view json, std::string_view key) const override;
    std::string json_array_values(std::string_view json, std::string_view alias) const override;
    std::string group_concat(std::string_view expr) const override;
    std::string contains(std::string_view haystack, std::string_view needle) const override;

    // The connection's server process id (tests: terminate it to simulate a lost link).
    int backend_pid() const;

private:
    friend class Stmt;
    Db(pg_conn* conn, std::string uri, OpenOptions opts);
    Status setup_session();
    // Reconnects when the link was lost and no transaction is open.
    Status ensure_connected();
    // The status of a finished command; records changes(), the first error of a transaction.
    Status check(pg_result* res, std::string_view what);
    Status error(pg_result* res, std::string_view what);
    Status set_clock_setting(bool local);
    bool in_transaction() const;

    pg_conn* conn_;
    OpenOptions opts_;
    uint64_t generation_ = 1;  // bumped on reconnect: prepared statements are gone
    uint64_t next_name_ = 0;
    int64_t changes_ = 0;
    bool clock_set_ = false;   // tundra.now_ms set for the open transaction
    // A transaction the caller began and has not ended: a link lost inside it is not
    // silently replaced (what follows would run outside the transaction).
    bool txn_open_ = false;
    std::string aborted_by_;   // the error that aborted the open transaction
    std::unordered_map<std::string, std::unique_ptr<Stmt>> cache_;
    // Parameter types (as text) + SQL -> statement name, shared by signatures that map alike.
    std::map<std::pair<std::string, std::string>, std::string> prepared_;
};

}  // namespace tundra::pg
