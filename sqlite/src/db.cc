#include "tundra/sqlite/db.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <stdexcept>

#include "tundra/core/protocol.h"
#include "tundra/sql/concat.h"

namespace tundra::sqlite {

Status Db::error(int rc, std::string_view what) const {
    int primary = rc & 0xff;
    std::string msg = std::string(what) + ": " + sqlite3_errstr(rc);
    if (db_ && primary != SQLITE_FULL && sqlite3_errcode(db_) == rc) msg += " (" + std::string(sqlite3_errmsg(db_)) + ")";
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Status(Errc::busy, msg);
    if (primary == SQLITE_FULL) return Status(Errc::storage, "disk full: " + msg);
    if (primary == SQLITE_CONSTRAINT) return Status(Errc::conflict, msg);
    return Status(Errc::storage, msg);
}

namespace {
// SQLite creates the -wal, -shm and -journal files with the mode of the database file, so
// making that file owner-only first covers them all. Files left by older builds (0644) are
// narrowed here, the database and its companions alike.
Status restrict_file_modes(const std::string& path, bool create) {
    if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0) return Status::ok();
    if (create) {
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            return Status(Errc::storage, "cannot open database '" + path + "': " + std::strerror(errno));
        ::close(fd);
    }
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        std::string f = path + suffix;
        struct stat st {};
        if (::stat(f.c_str(), &st) != 0) continue;
        if ((st.st_mode & 077) == 0) continue;
        if (::chmod(f.c_str(), st.st_mode & 0700) != 0)
            return Status(Errc::storage, "cannot make '" + f + "' private (chmod 0600): " + std::strerror(errno));
    }
    return Status::ok();
}

// SQL text literal for PRAGMA key (pragmas take no bound parameters).
std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}
}  // namespace

Result<uint64_t> Db::backup_to(const std::string& to) {
    // O_EXCL: never over an existing file, even one that appears between a check and the copy.
    int fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return Status(Errc::conflict, "'" + to + "' exists; a backup never overwrites a file");
        return Status(Errc::storage, "cannot create '" + to + "': " + std::strerror(errno));
    }
    ::close(fd);
    sqlite3* dest = nullptr;
    int rc = sqlite3_open_v2(to.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    Status st = Status::ok();
    uint64_t bytes = 0;
    if (rc != SQLITE_OK) {
        st = Status(Errc::storage, "cannot open '" + to + "': " + (dest ? sqlite3_errmsg(dest) : sqlite3_errstr(rc)));
    } else if (sqlite3_backup* b = sqlite3_backup_init(dest, "main", db_, "main"); !b) {
        st = Status(Errc::storage, std::string("backup: ") + sqlite3_errmsg(dest));
    } else {
        // All pages in one step: one read transaction on the source, so the copy is one
        // snapshot and writers elsewhere never make it start over. A writer holding the
        // source's lock (a checkpoint) is waited for a little.
        for (int tries = 0;; ++tries) {
            rc = sqlite3_backup_step(b, -1);
            if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || tries >= 50) break;
            sqlite3_sleep(100);
        }
        sqlite3_backup_finish(b);
        if (rc != SQLITE_DONE) st = error(rc, "backup to '" + to + "'");
    }
    if (dest && st) {
        rc = sqlite3_errcode(dest);
        if (rc != SQLITE_OK && rc != SQLITE_DONE) st = Status(Errc::storage, std::string("backup: ") + sqlite3_errmsg(dest));
    }
    sqlite3_close(dest);
    struct stat info {};
    if (st && ::stat(to.c_str(), &info) == 0) bytes = static_cast<uint64_t>(info.st_size);
    if (!st) {
        ::unlink(to.c_str());
        return st;
    }
    return bytes;
}

Result<std::unique_ptr<Db>> Db::open(const std::string& path, OpenOptions opts) {
    if (!opts.read_only) TUNDRA_TRY(restrict_file_modes(path, opts.create));
    sqlite3* raw = nullptr;
    int flags = opts.read_only ? SQLITE_OPEN_READONLY
                               : (SQLITE_OPEN_READWRITE | (opts.create ? SQLITE_OPEN_CREATE : 0));
    flags |= SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = "cannot open database '" + path + "': " +
                          (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
        sqlite3_close(raw);
        return Result<std::unique_ptr<Db>>(Errc::storage, msg);
    }
    std::unique_ptr<Db> db(new Db(raw, path));
    sqlite3_busy_timeout(raw, opts.busy_timeout_ms);
    sqlite3_extended_result_codes(raw, 1);
    if (!opts.key.empty()) {
        // The hook for an encrypting build: nothing else in the project needs to change.
        if (!sqlite3_compileoption_used("HAS_CODEC"))
            return Status(Errc::unsupported_version,
                          "'" + path + "': an encryption key was given, but this SQLite build does "
                          "not encrypt (build with SQLCipher; see docs/security.md)");
        TUNDRA_TRY(db->exec("PRAGMA key = " + quoted(opts.key)));
    }
    // Reading the schema catches "file is not a database" at open time.
    if (Status st = db->exec("SELECT count(*) FROM sqlite_schema"); !st)
        return Status(Errc::storage, "'" + path + "' is not a readable database: " + st.message());
    if (!opts.read_only && opts.wal) {
        TUNDRA_TRY(db->exec("PRAGMA journal_mode=WAL"));
        TUNDRA_TRY(db->exec("PRAGMA synchronous=NORMAL"));
    }
    TUNDRA_TRY(db->exec("PRAGMA foreign_keys=ON"));
    // tundra_now_ms(): the connection's clock (UTC ms), for triggers that stamp what they
    // record (the store's report facts). Deterministic within one statement.
    rc = sqlite3_create_function_v2(
        raw, "tundra_now_ms", 0, SQLITE_UTF8, db.get(),
        [](sqlite3_context* ctx, int, sqlite3_value**) {
            auto* self = static_cast<Db*>(sqlite3_user_data(ctx));
            sqlite3_result_int64(ctx, self->clock_());
        },
        nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return db->error(rc, "register tundra_now_ms");
    if (opts.secure_delete) TUNDRA_TRY(db->exec("PRAGMA secure_delete=ON"));
    if (opts.cache_kib > 0) TUNDRA_TRY(db->exec("PRAGMA cache_size=-" + std::to_string(opts.cache_kib)));
    return db;
}

Db::~Db() {
    cache_.clear();
    sqlite3_close_v2(db_);
}

Status Db::exec(std::string_view sql) {
    char* err = nullptr;
    std::string s(sql);
    int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        Status st = error(rc, "exec");
        return Status(st.code(), msg);
    }
    return Status::ok();
}

Result<sql::Stmt*> Db::prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second.get();
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &st, nullptr);
    if (rc != SQLITE_OK) return error(rc, "prepare '" + sql.substr(0, 60) + "'");
    auto* p = new Stmt(*this, st);
    cache_.emplace(sql, std::unique_ptr<Stmt>(p));
    return static_cast<sql::Stmt*>(p);
}

int64_t Db::changes() const { return sqlite3_changes64(db_); }

int Db::user_version() {
    auto q = query("PRAGMA user_version");
    auto r = q->step();
    return r && r.value() ? static_cast<int>(q->int64(0)) : 0;
}

Status Db::set_user_version(int v) { return exec("PRAGMA user_version=" + std::to_string(v)); }

Status Db::checkpoint_truncate() {
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    if (rc != SQLITE_OK) return error(rc, "checkpoint");
    return Status::ok();
}

// ---- Stmt ---------------------------------------------------------------------------------
Stmt::~Stmt() { sqlite3_finalize(st_); }

sql::Stmt& Stmt::bind(int idx, std::nullptr_t) {
    sqlite3_bind_null(st_, idx);
    return *this;
}
sql::Stmt& Stmt::bind(int idx, int64_t v) {
    sqlite3_bind_int64(st_, idx, v);
    return *this;
}
sql::Stmt& Stmt::bind(int idx, std::string_view v) {
    sqlite3_bind_text64(st_, idx, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
}

int Stmt::index(const char* name) const { return sqlite3_bind_parameter_index(st_, name); }

Result<bool> Stmt::step() {
    if (db_->fault_hook_ && !sqlite3_stmt_readonly(st_)) {
        Status st = db_->fault_hook_();
        if (!st) return st;
    }
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return db_->error(rc, "step");
}

void Stmt::reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
}

bool Stmt::is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
bool Stmt::is_integer(int col) const { return sqlite3_column_type(st_, col) == SQLITE_INTEGER; }
std::string Stmt::column_name(int col) const {
    const char* n = sqlite3_column_name(st_, col);
    return n ? n : "";
}
int64_t Stmt::int64(int col) const { return sqlite3_column_int64(st_, col); }
std::string_view Stmt::text_view(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(st_, col))) : std::string_view();
}
std::string Stmt::text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(st_, col))) : std::string();
}
int Stmt::column_count() const { return sqlite3_column_count(st_); }

Status Db::begin_read() {
    // A deferred transaction takes its snapshot at the first read: read once to pin it.
    TUNDRA_TRY(exec("BEGIN"));
    return exec("SELECT 1 FROM sqlite_schema LIMIT 1");
}

// ---- the dialect (sql::Db): SQLite's JSON1 functions, group_concat, instr -------------------
using sql::concat;

std::string Db::json_text(std::string_view json, std::string_view key) const {
    return concat({"json_extract(", json, ", '$.", key, "')"});
}
std::string Db::json_set(std::string_view json, std::string_view key, std::string_view value) const {
    return concat({"json_set(", json, ", '$.", key, "', ", value, ")"});
}
std::string Db::json_remove(std::string_view json, std::string_view key) const {
    return concat({"json_remove(", json, ", '$.", key, "')"});
}
std::string Db::json_array_values(std::string_view json, std::string_view alias) const {
    return concat({"json_each(", json, ") AS ", alias});
}
std::string Db::group_concat(std::string_view expr) const { return concat({"group_concat(", expr, ", ',')"}); }
std::string Db::contains(std::string_view haystack, std::string_view needle) const {
    return concat({"(instr(", haystack, ", ", needle, ") > 0)"});
}

}  // namespace tundra::sqlite
