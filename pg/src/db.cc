#include "tundra/pg/db.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <initializer_list>

#include "tundra/sql/concat.h"

namespace tundra::pg {
namespace {
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25, kOid = 26,
              kNumeric = 1700;

std::string sqlstate(const PGresult* r) {
    const char* s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    return s ? s : "";
}

std::string trimmed(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    return s;
}

// The statement's first word, upper case, and whether it is all there is ("COMMIT").
std::string upper_trimmed(std::string_view sql) {
    std::string s;
    for (char c : sql) s += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    s = trimmed(s.substr(b));
    if (!s.empty() && s.back() == ';') s = trimmed(s.substr(0, s.size() - 1));
    return s;
}

bool starts_with(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

// Another choice of parameter types may prepare this statement.
bool types_may_help(const std::string& state) {
    return state == "42P18" || state == "42804" || state == "42883" || state == "42725";
}

bool connection_error(const std::string& state) {
    return starts_with(state, "08") || state == "57P01" || state == "57P02" || state == "57P03";
}
}  // namespace

// ---- Db -----------------------------------------------------------------------------------
Db::Db(pg_conn* conn, std::string uri, OpenOptions opts)
    : sql::Db(std::move(uri)), conn_(conn), opts_(opts) {}

Db::~Db() {
    cache_.clear();
    PQfinish(conn_);
}

Result<std::unique_ptr<Db>> Db::open(const std::string& uri, OpenOptions opts) {
    PGconn* c = PQconnectdb(uri.c_str());
    if (!c) return Status(Errc::storage, "cannot connect to PostgreSQL: out of memory");
    if (PQstatus(c) != CONNECTION_OK) {
        std::string msg = trimmed(PQerrorMessage(c));
        PQfinish(c);
        return Status(Errc::storage, "cannot connect to PostgreSQL: " + msg);
    }
    // Notices ("relation already exists, skipping") are not for the server's stderr.
    PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
    std::unique_ptr<Db> db(new Db(c, uri, opts));
    TUNDRA_TRY(db->setup_session());
    return db;
}

Status Db::setup_session() {
    std::string s = "SET TimeZone = 'UTC'; SET client_min_messages = warning; SET lock_timeout = " +
                    std::to_string(opts_.lock_timeout_ms) + ";";
    if (opts_.read_only) s += " SET default_transaction_read_only = on;";
    PGresult* r = PQexec(conn_, s.c_str());
    Status st = check(r, "connect");
    PQclear(r);
    return st;
}

int Db::backend_pid() const { return PQbackendPID(conn_); }

bool Db::in_transaction() const {
    auto t = PQtransactionStatus(conn_);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

Status Db::ensure_connected() {
    if (PQstatus(conn_) == CONNECTION_OK) return Status::ok();
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK)
        return Status(Errc::storage, "connection to PostgreSQL lost, and reconnecting failed: " +
                                         trimmed(PQerrorMessage(conn_)));
    ++generation_;  // the server forgot this connection's prepared statements
    prepared_.clear();
    clock_set_ = false;
    aborted_by_.clear();
    return setup_session();
}

Status Db::error(pg_result* res, std::string_view what) {
    std::string state = sqlstate(res);
    std::string msg = trimmed(res ? PQresultErrorMessage(res) : "");
    if (msg.empty()) msg = trimmed(PQerrorMessage(conn_));
    if (PQstatus(conn_) == CONNECTION_BAD || connection_error(state))
        return Status(Errc::storage, "connection to PostgreSQL lost: " + msg);
    if (!state.empty()) msg += " [" + state + "]";
    if (state == "40001" || state == "40P01" || state == "55P03")
        return Status(Errc::busy, std::string(what) + ": " + msg);
    if (starts_with(state, "23")) return Status(Errc::conflict, std::string(what) + ": " + msg);
    if (state == "53100") return Status(Errc::storage, "disk full: " + msg);
    if (state == "25P02" && !aborted_by_.empty())
        msg += " (the transaction was aborted by: " + aborted_by_ + ")";
    return Status(Errc::storage, std::string(what) + ": " + msg);
}

Status Db::check(pg_result* res, std::string_view what) {
    auto st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE) {
        std::string cmd = PQcmdStatus(res);
        if (starts_with(cmd, "INSERT") || starts_with(cmd, "UPDATE") || starts_with(cmd, "DELETE") ||
            starts_with(cmd, "MERGE")) {
            const char* n = PQcmdTuples(res);
            changes_ = n && *n ? std::atoll(n) : 0;
        }
        return Status::ok();
    }
    Status e = error(res, what);
    if (PQtransactionStatus(conn_) == PQTRANS_INERROR && aborted_by_.empty()) aborted_by_ = e.message();
    return e;
}

Status Db::set_clock_setting(bool local) {
    std::string s = "SELECT set_config('tundra.now_ms', '" + std::to_string(clock_now()) + "', " +
                    (local ? "true" : "false") + ")";
    PGresult* r = PQexec(conn_, s.c_str());
    Status st = check(r, "set clock");
    PQclear(r);
    if (st && local) clock_set_ = true;
    return st;
}

Status Db::exec(std::string_view sql) {
    std::string word = upper_trimmed(sql);
    bool ends = word == "COMMIT" || word == "END" || word == "ROLLBACK" || word == "ABORT";
    bool commit = word == "COMMIT" || word == "END";
    bool begins = starts_with(word, "BEGIN") || starts_with(word, "START TRANSACTION");
    if (!txn_open_ && !in_transaction()) TUNDRA_TRY(ensure_connected());
    if (!ends && rewrite(sql).writes) {
        if (!in_transaction()) TUNDRA_TRY(set_clock_setting(false));
        else if (!clock_set_ && !starts_with(word, "BEGIN")) TUNDRA_TRY(set_clock_setting(true));
    }
    std::string s(sql);
    PGresult* r = PQexec(conn_, s.c_str());
    Status st = check(r, "exec");
    std::string cmd = r ? PQcmdStatus(r) : "";
    PQclear(r);
    if (ends) txn_open_ = false;
    if (begins && st) txn_open_ = true;
    if (ends || !in_transaction()) {
        std::string aborted = std::move(aborted_by_);
        aborted_by_.clear();
        clock_set_ = false;
        // PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, not an error.
        if (commit && st && cmd == "ROLLBACK")
            return Status(Errc::storage, "COMMIT rolled back: the transaction had failed" +
                                             (aborted.empty() ? std::string() : ": " + aborted));
    }
    return st;
}

Result<sql::Stmt*> Db::prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return static_cast<sql::Stmt*>(it->second.get());
    auto* p = new Stmt(*this, rewrite(sql));
    cache_.emplace(sql, std::unique_ptr<Stmt>(p));
    return static_cast<sql::Stmt*>(p);
}

int Db::user_version() {
    if (!txn_open_ && !in_transaction() && !ensure_connected()) return 0;
    PGresult* r = PQexec(conn_, "SELECT to_regclass('tundra_schema_version') IS NOT NULL");
    bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                  std::string_view(PQgetvalue(r, 0, 0)) == "t";
    PQclear(r);
    if (!exists) return 0;
    r = PQexec(conn_, "SELECT v FROM tundra_schema_version");
    int v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? std::atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return v;
}

Status Db::set_user_version(int v) {
    return exec("CREATE TABLE IF NOT EXISTS tundra_schema_version (v INTEGER NOT NULL); "
                "DELETE FROM tundra_schema_version; INSERT INTO tundra_schema_version VALUES (" +
                std::to_string(v) + ")");
}

Status Db::begin_write() {
    if (in_transaction()) return Status(Errc::storage, "cannot start a transaction within a transaction");
    txn_open_ = false;
    TUNDRA_TRY(ensure_connected());
    std::string s = "BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kWriteLockKey) +
                    "); SELECT set_config('tundra.now_ms', '" + std::to_string(clock_now()) + "', true)";
    PGresult* r = PQexec(conn_, s.c_str());
    Status st = check(r, "begin");
    PQclear(r);
    aborted_by_.clear();
    if (!st) {
        if (in_transaction()) PQclear(PQexec(conn_, "ROLLBACK"));
        return st;
    }
    clock_set_ = true;
    txn_open_ = true;
    return Status::ok();
}

Status Db::begin_read() {
    if (in_transaction()) return Status(Errc::storage, "cannot start a transaction within a transaction");
    txn_open_ = false;
    TUNDRA_TRY(ensure_connected());
    // The snapshot is taken by the first statement: take it now.
    PGresult* r = PQexec(conn_, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1");
    Status st = check(r, "begin read");
    PQclear(r);
    aborted_by_.clear();
    clock_set_ = false;
    if (!st && in_transaction()) PQclear(PQexec(conn_, "ROLLBACK"));
    txn_open_ = st.is_ok();
    return st;
}

// ---- the dialect ----------------------------------------------------------------------------
using sql::concat;

std::string Db::json_text(std::string_view json, std::string_view key) const {
    return concat({"((", json, ")::json ->> '", key, "')"});
}
std::string Db::json_set(std::string_view json, std::string_view key, std::string_view value) const {
    // jsonb_build_object: a NULL value becomes JSON null, as SQLite's json_set makes it.
    return concat({"(((", json, ")::jsonb || jsonb_build_object('", key, "', ", value, "))::text)"});
}
std::string Db::json_remove(std::string_view json, std::string_view key) const {
    return concat({"(((", json, ")::jsonb - '", key, "')::text)"});
}
std::string Db::json_array_values(std::string_view json, std::string_view alias) const {
    return concat({"json_array_elements_text((", json, ")::json) AS ", alias, "(value)"});
}
std::string Db::group_concat(std::string_view expr) const {
    return concat({"string_agg((", expr, ")::text, ',')"});
}
std::string Db::contains(std::string_view haystack, std::string_view needle) const {
    return concat({"(strpos(", haystack, ", ", needle, ") > 0)"});
}

// ---- Stmt ---------------------------------------------------------------------------------
Stmt::Stmt(Db& db, Rewritten rw)
    : db_(&db), rw_(std::move(rw)), kinds_(rw_.params, Kind::null), values_(rw_.params) {}

Stmt::~Stmt() { clear_result(); }

void Stmt::clear_result() {
    if (res_) PQclear(res_);
    res_ = nullptr;
    row_ = -1;
    rows_ = 0;
}

sql::Stmt& Stmt::bind(int idx, std::nullptr_t) {
    if (idx < 1 || idx > rw_.params) return *this;
    kinds_[idx - 1] = Kind::null;
    values_[idx - 1].clear();
    return *this;
}

sql::Stmt& Stmt::bind(int idx, int64_t v) {
    if (idx < 1 || idx > rw_.params) return *this;
    kinds_[idx - 1] = Kind::integer;
    values_[idx - 1] = std::to_string(v);
    return *this;
}

sql::Stmt& Stmt::bind(int idx, std::string_view v) {
    if (idx < 1 || idx > rw_.params) return *this;
    kinds_[idx - 1] = Kind::text;
    values_[idx - 1].assign(v);
    return *this;
}

int Stmt::index(const char* name) const {
    for (auto& [k, v] : rw_.names)
        if (k == name) return v;
    return 0;
}

Result<std::string> Stmt::prepared_name() {
    if (generation_ != db_->generation_) {
        names_.clear();
        generation_ = db_->generation_;
    }
    std::string sig(kinds_.size(), 'n');
    for (size_t i = 0; i < kinds_.size(); ++i) sig[i] = static_cast<char>(kinds_[i]);
    auto it = names_.find(sig);
    if (it != names_.end()) return it->second;

    // Integers declared int8, text and NULL left to PostgreSQL; then text declared text; then
    // integers inferred too.
    const Oid choices[][2] = {{kInt8, 0}, {kInt8, kText}, {0, 0}, {0, kText}};
    std::vector<std::vector<Oid>> tried;
    Status last;
    for (auto& ch : choices) {
        std::vector<Oid> types;
        for (auto k : kinds_) types.push_back(k == Kind::integer ? ch[0] : ch[1]);
        if (std::find(tried.begin(), tried.end(), types) != tried.end()) continue;
        tried.push_back(types);
        std::string key;
        for (auto t : types) key += std::to_string(t) + ",";
        auto p = db_->prepared_.find({key, rw_.sql});
        if (p != db_->prepared_.end()) {
            names_[sig] = p->second;
            return p->second;
        }
        std::string name = "t" + std::to_string(++db_->next_name_);
        // A refused PREPARE aborts an open transaction: try under a savepoint.
        bool sp = PQtransactionStatus(db_->conn_) == PQTRANS_INTRANS;
        if (sp) PQclear(PQexec(db_->conn_, "SAVEPOINT tundra_prepare"));
        PGresult* r = PQprepare(db_->conn_, name.c_str(), rw_.sql.c_str(), rw_.params,
                                types.empty() ? nullptr : types.data());
        bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        std::string state = sqlstate(r);
        if (!ok) last = db_->error(r, "prepare '" + rw_.sql.substr(0, 80) + "'");
        PQclear(r);
        if (sp)
            PQclear(PQexec(db_->conn_, ok ? "RELEASE SAVEPOINT tundra_prepare"
                                          : "ROLLBACK TO SAVEPOINT tundra_prepare; "
                                            "RELEASE SAVEPOINT tundra_prepare"));
        if (ok) {
            db_->prepared_[{key, rw_.sql}] = name;
            names_[sig] = name;
            return name;
        }
        if (!types_may_help(state) || rw_.params == 0) break;
    }
    if (PQtransactionStatus(db_->conn_) == PQTRANS_INERROR && db_->aborted_by_.empty())
        db_->aborted_by_ = last.message();
    return last;
}

Result<bool> Stmt::step() {
    if (res_ && row_ >= rows_) clear_result();  // stepping past the end runs it again, as SQLite does
    if (!res_) {
        if (!db_->txn_open_ && !db_->in_transaction()) TUNDRA_TRY(db_->ensure_connected());
        if (rw_.writes) {
            if (db_->fault_hook_) TUNDRA_TRY(db_->fault_hook_());
            if (!db_->in_transaction()) TUNDRA_TRY(db_->set_clock_setting(false));
            else if (!db_->clock_set_) TUNDRA_TRY(db_->set_clock_setting(true));
        }
        auto name = prepared_name();
        if (!name) return name.status();
        std::vector<const char*> vals(kinds_.size());
        for (size_t i = 0; i < kinds_.size(); ++i)
            vals[i] = kinds_[i] == Kind::null ? nullptr : values_[i].c_str();
        PGresult* r = PQexecPrepared(db_->conn_, name.value().c_str(), rw_.params,
                                     vals.empty() ? nullptr : vals.data(), nullptr, nullptr, 0);
        Status st = db_->check(r, "step");
        if (!st) {
            PQclear(r);
            return st;
        }
        res_ = r;
        rows_ = PQntuples(r);
        row_ = -1;
    }
    if (row_ + 1 >= rows_) {
        row_ = rows_;
        return false;
    }
    ++row_;
    return true;
}

void Stmt::reset() {
    clear_result();
    std::fill(kinds_.begin(), kinds_.end(), Kind::null);
    for (auto& v : values_) v.clear();
}

bool Stmt::is_null(int col) const {
    if (!res_ || row_ < 0 || row_ >= rows_ || col < 0 || col >= PQnfields(res_)) return true;
    return PQgetisnull(res_, row_, col) != 0;
}

bool Stmt::is_integer(int col) const {
    if (is_null(col)) return false;
    switch (PQftype(res_, col)) {
        case kInt2:
        case kInt4:
        case kInt8:
        case kBool:
        case kOid:
            return true;
        case kNumeric: {
            std::string_view v(PQgetvalue(res_, row_, col));
            return v.find_first_of(".eEN") == std::string_view::npos;  // no fraction, not NaN
        }
        default:
            return false;
    }
}

std::string Stmt::column_name(int col) const {
    if (!res_ || col < 0 || col >= PQnfields(res_)) return "";
    return PQfname(res_, col);
}

int64_t Stmt::int64(int col) const {
    if (is_null(col)) return 0;
    const char* p = PQgetvalue(res_, row_, col);
    if (PQftype(res_, col) == kBool) return p[0] == 't' ? 1 : 0;
    int64_t v = 0;
    std::from_chars(p, p + PQgetlength(res_, row_, col), v);  // "12.5" reads as 12, as SQLite does
    return v;
}

std::string_view Stmt::text_view(int col) const {
    if (is_null(col)) return {};
    const char* p = PQgetvalue(res_, row_, col);
    if (PQftype(res_, col) == kBool) return p[0] == 't' ? "1" : "0";
    return std::string_view(p, static_cast<size_t>(PQgetlength(res_, row_, col)));
}

std::string Stmt::text(int col) const { return std::string(text_view(col)); }

int Stmt::column_count() const { return res_ ? PQnfields(res_) : 0; }

}  // namespace tundra::pg
