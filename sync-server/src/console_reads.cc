// What the project console reads (issue 11): rows of a kind through the pull's scope rule
// (scope_sql, visibility.cc), filtered and paged; the logins; the device identities grouped
// by tablet; and revoking a whole tablet through revoke_device's code.
#include <algorithm>
#include <charconv>
#include <map>

#include "store_internal.h"
#include "tundra/sql/rows.h"

namespace tundra::server {
namespace {
constexpr size_t kMaxRows = 5000;
constexpr int64_t kStaleMs = 14 * 86400'000LL;
// Not a console device: the console's own identities are no tablets.
constexpr const char* kNotConsole = "substr(d.id, 1, 8) <> 'console:'";

Status bad(const std::string& field, const std::string& why) {
    return Status(Errc::invalid_argument, field + ": " + why);
}

const Column* column_of(const EntitySpec& spec, std::string_view name) {
    for (auto& c : spec.columns)
        if (c.name == name) return &c;
    return nullptr;
}

Result<const Column*> known_column(const EntitySpec& spec, const std::string& field, const std::string& name) {
    if (auto* c = column_of(spec, name)) return c;
    return bad(field, "'" + name + "' is not a column of " + std::string(spec.name));
}

// Case folding for search: ASCII and the Swedish letters, the same on both sides (SQLite's
// lower() folds ASCII only).
constexpr const char* kFolds[][2] = {{"Å", "å"}, {"Ä", "ä"}, {"Ö", "ö"}, {"É", "é"}, {"Ü", "ü"}};

std::string fold(std::string s) {
    for (auto& ch : s)
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    for (auto& f : kFolds)
        for (size_t at = s.find(f[0]); at != std::string::npos; at = s.find(f[0], at))
            s.replace(at, std::string_view(f[0]).size(), f[1]);
    return s;
}

std::string fold_sql(const std::string& expr) {
    std::string e = expr;
    for (auto& f : kFolds) e = "replace(" + e + ", '" + f[0] + "', '" + f[1] + "')";
    return "lower(" + e + ")";
}

// A LIKE pattern matching `needle` anywhere, with LIKE's own characters escaped by '\'.
std::string contains_pattern(const std::string& needle) {
    std::string p = "%";
    for (char ch : needle) {
        if (ch == '\\' || ch == '%' || ch == '_') p += '\\';
        p += ch;
    }
    return p + "%";
}

// One filter value as its column's type: text as is, integers and booleans parsed.
Result<Value> typed(const Column& c, const std::string& field, const std::string& v) {
    switch (c.type) {
        case ColType::integer: {
            int64_t n = 0;
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec != std::errc() || end != v.data() + v.size()) return bad(field, "'" + v + "' is not an integer");
            return Value(n);
        }
        case ColType::boolean:
            if (v == "true" || v == "1") return Value(int64_t{1});
            if (v == "false" || v == "0") return Value(int64_t{0});
            return bad(field, "'" + v + "' is not true or false");
        default: return Value(v);
    }
}

bool is_text(const Column& c) { return c.type == ColType::text || c.type == ColType::iso_time; }
}  // namespace

// ---- rows ---------------------------------------------------------------------------------
Result<RowPage> SqlStore::rows(const AuthContext& who, Kind kind, const RowQuery& q) {
    const EntitySpec& spec = entity(kind);
    if (q.limit > kMaxRows) return bad("limit", "at most " + std::to_string(kMaxRows));
    std::string where = "(" + scope_sql(kind, who.role) + ")";
    // Values are bound by name (:a1, :a2, ...), beside the scope rule's :user and :person.
    std::vector<Value> args;
    auto arg = [&args](Value v) {
        args.push_back(std::move(v));
        return ":a" + std::to_string(args.size());
    };
    for (auto& [name, value] : q.equals) {
        auto c = known_column(spec, "equals", name);
        if (!c) return c.status();
        if (c.value()->type == ColType::str_list) {
            // A list column holds the value.
            where += " AND EXISTS (SELECT 1 FROM " + db_->json_array_values("t." + name, "j") + " WHERE j.value = " +
                     arg(value) + ")";
            continue;
        }
        if (value.empty() && c.value()->nullable) {  // "" asks for the rows without one
            where += " AND t." + name + " IS NULL";
            continue;
        }
        auto v = typed(*c.value(), "equals." + name, value);
        if (!v) return v.status();
        where += " AND t." + name + " = " + arg(std::move(v.value()));
    }
    if (!q.any_of_column.empty()) {
        auto c = known_column(spec, "any_of_column", q.any_of_column);
        if (!c) return c.status();
        if (!is_text(*c.value())) return bad("any_of_column", "'" + q.any_of_column + "' is not a text column");
        where += " AND t." + q.any_of_column + " IN (SELECT j.value FROM " +
                 db_->json_array_values("CAST(" + arg(q.any_of) + " AS TEXT)", "j") + ")";
    } else if (!q.any_of.empty()) {
        return bad("any_of_column", "any_of needs a column");
    }
    if (!q.search.empty()) {
        StrList cols = q.search_columns;
        if (cols.empty()) cols.push_back(kind == Kind::course ? "title" : "name");
        std::string any;
        const std::string pattern = arg(contains_pattern(fold(q.search)));
        for (auto& name : cols) {
            auto c = known_column(spec, "search_columns", name);
            if (!c) return c.status();
            if (!is_text(*c.value())) return bad("search_columns", "'" + name + "' is not a text column");
            any += (any.empty() ? "" : " OR ") + fold_sql("t." + name) + " LIKE " + pattern + " ESCAPE '\\'";
        }
        where += " AND (" + any + ")";
    }
    if (!q.range_column.empty()) {
        auto c = known_column(spec, "range_column", q.range_column);
        if (!c) return c.status();
        if (!q.at_least.empty()) {
            where += " AND t." + q.range_column + " >= " + arg(q.at_least);
        }
        if (!q.below.empty()) {
            where += " AND t." + q.range_column + " < " + arg(q.below);
        }
    } else if (!q.at_least.empty() || !q.below.empty()) {
        return bad("range_column", "a range needs a column");
    }
    std::string order = q.order_by.empty() ? "id" : q.order_by;
    {
        auto c = known_column(spec, "order_by", order);
        if (!c) return c.status();
    }
    const std::string from = " FROM " + std::string(spec.table) + " t WHERE " + where;
    auto bind_all = [&](sql::Stmt& st) {
        st.bind(":user", who.username).bind(":person", who.person);
        for (size_t i = 0; i < args.size(); ++i)
            if (int idx = st.index((":a" + std::to_string(i + 1)).c_str()); idx > 0) st.bind_value(idx, args[i]);
    };

    std::lock_guard lock(mu_);
    RowPage page;
    {
        auto count = db_->query("SELECT count(*)" + from);
        bind_all(*count);
        auto r = count->step();
        if (!r) return r.status();
        page.total = static_cast<size_t>(count->int64(0));
    }
    // NULLs first when ascending, last when descending, on both backends (PostgreSQL's
    // default is the other way round).
    const std::string dir = q.descending ? " DESC" : "";
    auto sel = db_->query("SELECT " + sql::column_list(spec, "t") + from + " ORDER BY CASE WHEN t." + order +
                          " IS NULL THEN 0 ELSE 1 END" + dir + ", t." + order + dir +
                          ", t.id LIMIT :limit OFFSET :offset");
    bind_all(*sel);
    sel->bind(":limit", static_cast<int64_t>(q.limit)).bind(":offset", static_cast<int64_t>(q.offset));
    for (;;) {
        auto r = sel->step();
        if (!r) return r.status();
        if (!r.value()) break;
        page.rows.push_back(sql::read_row(*sel, spec));
    }
    return page;
}

// ---- users and devices --------------------------------------------------------------------
Result<std::vector<UserInfo>> SqlStore::users() {
    std::lock_guard lock(mu_);
    std::vector<UserInfo> out;
    auto q = db_->query(std::string(
        "SELECT u.username, u.role, coalesce(u.person, ''), u.created_at, u.revoked, "
        "(SELECT count(*) FROM devices d WHERE d.username = u.username AND d.revoked = 0 AND ") +
        kNotConsole + "), (SELECT coalesce(max(d.last_seen_ms), 0) FROM devices d WHERE d.username = u.username AND " +
        kNotConsole + ") FROM users u ORDER BY u.username");
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        UserInfo u;
        u.username = q->text(0);
        u.role = q->text(1);
        u.person = q->text(2);
        u.created_at = q->text(3);
        u.revoked = q->int64(4) != 0;
        u.devices = q->int64(5);
        u.last_seen_ms = q->int64(6);
        out.push_back(std::move(u));
    }
    auto s = db_->query("SELECT username, site FROM user_sites ORDER BY username, site");
    for (;;) {
        auto r = s->step();
        if (!r) return r.status();
        if (!r.value()) break;
        std::string name = s->text(0);
        auto it = std::lower_bound(out.begin(), out.end(), name,
                                   [](const UserInfo& u, const std::string& n) { return u.username < n; });
        if (it != out.end() && it->username == name) it->sites.push_back(s->text(1));
    }
    return out;
}

Result<std::vector<TabletInfo>> SqlStore::tablets() {
    std::lock_guard lock(mu_);
    int64_t now = static_cast<int64_t>(opts_.wall());
    std::map<std::string, int64_t> rejections;
    {
        // Outcomes are kept as JSON (encode_outcome): {"seq":..,"result":"rejected",..}.
        auto q = db_->query(
            "SELECT device, count(*) FROM applied_actions WHERE applied_ms >= ? AND " +
            db_->json_text("outcome", "result") + " = 'rejected' GROUP BY device");
        q->bind(1, now - kStaleMs);
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            rejections[q->text(0)] = q->int64(1);
        }
    }
    std::map<std::string, TabletInfo> by_install;
    auto q = db_->query(std::string(
        "SELECT d.id, d.username, coalesce(u.role, ''), coalesce(d.name, ''), coalesce(d.install_id, ''), "
        "coalesce(d.app_version, ''), d.created_at, coalesce(d.last_seen_ms, 0), d.revoked "
        "FROM devices d LEFT JOIN users u ON u.username = d.username WHERE ") + kNotConsole);
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        DeviceInfo d;
        d.id = q->text(0);
        d.username = q->text(1);
        d.role = q->text(2);
        d.name = q->text(3);
        d.install_id = q->text(4);
        d.app_version = q->text(5);
        d.created_at = q->text(6);
        d.last_seen_ms = q->int64(7);
        d.revoked = q->int64(8) != 0;
        int64_t seen = d.last_seen_ms;
        if (!seen) {
            auto created = parse_iso8601(d.created_at);
            seen = created ? created.value() : 0;
        }
        d.stale = now - seen > kStaleMs;
        if (auto it = rejections.find(d.id); it != rejections.end()) d.rejections = it->second;
        TabletInfo& t = by_install[d.install_id];
        t.install_id = d.install_id;
        t.last_seen_ms = std::max(t.last_seen_ms, d.last_seen_ms);
        t.devices.push_back(std::move(d));
    }
    std::vector<TabletInfo> out;
    for (auto& [install, t] : by_install) {
        std::sort(t.devices.begin(), t.devices.end(), [](const DeviceInfo& a, const DeviceInfo& b) {
            return a.last_seen_ms != b.last_seen_ms ? a.last_seen_ms > b.last_seen_ms : a.id < b.id;
        });
        t.stale = std::all_of(t.devices.begin(), t.devices.end(), [](const DeviceInfo& d) { return d.stale; });
        out.push_back(std::move(t));
    }
    std::stable_sort(out.begin(), out.end(), [](const TabletInfo& a, const TabletInfo& b) {
        return a.last_seen_ms > b.last_seen_ms;
    });
    return out;
}

Result<int64_t> SqlStore::revoke_tablet(const std::string& install_id, const std::string& actor) {
    if (install_id.empty())
        return Status(Errc::invalid_argument, "install_id: name a tablet (devices without one are revoked one by one)");
    std::lock_guard lock(mu_);
    int64_t now = static_cast<int64_t>(opts_.wall());
    sql::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    std::vector<std::string> ids;
    int64_t devices = 0;
    {
        auto q = db_->query(std::string("SELECT d.id, d.revoked FROM devices d WHERE d.install_id = ? AND ") +
                            kNotConsole + " ORDER BY d.id");
        q->bind(1, install_id);
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            ++devices;
            if (!q->int64(1)) ids.push_back(q->text(0));
        }
    }
    if (devices == 0) return Status(Errc::not_found, "no device of tablet '" + install_id + "'");
    for (auto& id : ids) TUNDRA_TRY(revoke_one_device(*db_, id, actor, now));
    TUNDRA_TRY(append_audit(*db_, now, actor, "revoke-tablet", install_id,
                            audit_detail({{"devices_revoked", static_cast<int64_t>(ids.size())}})));
    TUNDRA_TRY(txn.commit());
    return static_cast<int64_t>(ids.size());
}

}  // namespace tundra::server
