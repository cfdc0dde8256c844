#include "tundra/sql/db.h"

#include <stdexcept>
#include <variant>

#include "tundra/core/protocol.h"

namespace tundra::sql {

// ---- Stmt ---------------------------------------------------------------------------------
Stmt& Stmt::bind_value(int idx, const Value& v) {
    std::visit(
        [&](auto&& x) {
            using X = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<X, std::monostate>) bind(idx, nullptr);
            else if constexpr (std::is_same_v<X, int64_t>) bind(idx, x);
            else if constexpr (std::is_same_v<X, bool>) bind(idx, x);
            else if constexpr (std::is_same_v<X, std::string>) bind(idx, std::string_view(x));
            else {
                Row r{{"v", Value(x)}};
                std::string j = encode_row(r);  // {"v":[...]} -> [...]
                bind(idx, std::string_view(j).substr(5, j.size() - 6));
            }
        },
        v);
    return *this;
}

Status Stmt::run() {
    auto r = step();
    if (!r) return r.status();
    return Status::ok();
}

std::optional<std::string> Stmt::opt_text(int col) const {
    if (is_null(col)) return std::nullopt;
    return text(col);
}

Value Stmt::value(int col, ColType type) const {
    if (is_null(col)) return std::monostate{};
    switch (type) {
        case ColType::integer: return int64(col);
        case ColType::boolean: return int64(col) != 0;
        case ColType::str_list: {
            auto r = decode_row("{\"v\":" + text(col) + "}");
            if (r) {
                auto it = r->find("v");
                if (it != r->end() && std::holds_alternative<StrList>(it->second)) return it->second;
            }
            return StrList{};
        }
        default: return text(col);
    }
}

// ---- Db -----------------------------------------------------------------------------------
Query Db::query(const std::string& sql) {
    auto r = prepare(sql);
    if (!r) throw std::logic_error("bad SQL: " + r.status().message());
    return Query(*r.value());
}

// ---- transactions -------------------------------------------------------------------------
Status Transaction::begin() {
    TUNDRA_TRY(db_.begin_write());
    open_ = true;
    return Status::ok();
}

Status Transaction::commit() {
    if (db_.fault_hook()) TUNDRA_TRY(db_.fault_hook()());
    TUNDRA_TRY(db_.exec("COMMIT"));
    open_ = false;
    return Status::ok();
}

Transaction::~Transaction() {
    if (open_) (void)db_.exec("ROLLBACK");
}

Status ReadTransaction::begin() {
    TUNDRA_TRY(db_.begin_read());
    open_ = true;
    return Status::ok();
}

ReadTransaction::~ReadTransaction() {
    if (open_) (void)db_.exec("COMMIT");
}

Savepoint::Savepoint(Db& db) : db_(db) {
    begin_ = db_.exec("SAVEPOINT action");
    open_ = begin_.is_ok();
}

Status Savepoint::release() {
    TUNDRA_TRY(db_.exec("RELEASE SAVEPOINT action"));
    open_ = false;
    return Status::ok();
}

Savepoint::~Savepoint() {
    if (open_) {
        (void)db_.exec("ROLLBACK TO SAVEPOINT action");
        (void)db_.exec("RELEASE SAVEPOINT action");
    }
}

Status migrate_to(Db& db, int version, const std::function<Status()>& body) {
    if (db.user_version() >= version) return Status::ok();
    Transaction txn(db);
    TUNDRA_TRY(txn.begin());
    // Another process may have run this step while we waited for the write lock.
    if (db.user_version() >= version) return txn.commit();
    TUNDRA_TRY(body());
    TUNDRA_TRY(db.set_user_version(version));
    return txn.commit();
}

}  // namespace tundra::sql
