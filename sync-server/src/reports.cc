// The entry to the ESF reports (docs/reports.md): request checks, which moment a report is as
// of, sealing months, the ledger's corrections for sealed months, and the output formats.
#include "tundra/server/reports.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <set>

#include "open_db.h"
#include "report_builders.h"
#include "store_internal.h"

namespace tundra::server {

namespace {
constexpr std::string_view kReportNames[] = {"ledger", "participants", "attendance", "surveys",
                                             "deviations"};
constexpr int kMaxMonths = 36;         // a statistics report's range
constexpr int kCorrectionMonths = 24;  // how far back the ledger lists corrections

int month_index(const std::string& m) {
    return std::stoi(m.substr(0, 4)) * 12 + std::stoi(m.substr(5, 2)) - 1;
}

Status invalid(const std::string& msg) { return Status(Errc::invalid_argument, msg); }
}  // namespace

bool is_report_name(std::string_view name) {
    return std::find(std::begin(kReportNames), std::end(kReportNames), name) != std::end(kReportNames);
}

Result<ReportRequest> report_request_from_query(std::string name,
                                                const std::map<std::string, std::string>& query,
                                                ReportRequest r,
                                                std::initializer_list<std::string_view> ignored) {
    r.name = std::move(name);
    std::string month;
    for (auto& [key, value] : query) {
        if (key == "month") month = value;
        else if (key == "from") r.from_month = value;
        else if (key == "to") r.to_month = value;
        else if (key == "organisation") r.organisation = value;
        else if (key == "format") r.format = value;
        else if (key == "csv_dialect") r.csv_dialect = value;
        else if (key == "as_of") {
            auto t = parse_iso8601(value);
            if (!t) return invalid("as_of: " + t.status().message());
            r.as_of_ms = t.value();
        } else if (key == "min_cell") {
            int v = 0;
            auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
            if (ec != std::errc() || p != value.data() + value.size())
                return invalid("min_cell: expected a whole number");
            r.min_cell = v;
        } else if (std::find(ignored.begin(), ignored.end(), key) == ignored.end()) {
            return invalid(key + ": unknown parameter");
        }
    }
    if (!month.empty()) {
        if (!r.from_month.empty() || !r.to_month.empty())
            return invalid("month: give month, or from and to, not both");
        r.from_month = r.to_month = month;
    } else if (r.from_month.empty() || r.to_month.empty()) {
        return invalid("month: required (or from and to)");
    }
    return r;
}

std::string format_iso8601_ms(int64_t epoch_ms) {
    std::string s = format_iso8601(epoch_ms);  // "...:SSZ"
    int64_t ms = ((epoch_ms % 1000) + 1000) % 1000;
    char buf[8];
    std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(ms));
    s.insert(s.size() - 1, buf);
    return s;
}

Status check_report_request(const ReportRequest& req, const ReportViewer& viewer) {
    if (!is_report_name(req.name))
        return invalid("report: unknown report '" + req.name +
                       "' (one of ledger|participants|attendance|surveys|deviations)");
    if (!valid_month(req.from_month))
        return invalid("from: expected a month YYYY-MM (got '" + req.from_month + "')");
    if (!valid_month(req.to_month))
        return invalid("to: expected a month YYYY-MM (got '" + req.to_month + "')");
    if (req.to_month < req.from_month)
        return invalid("to: " + req.to_month + " is before from " + req.from_month);
    if (req.name == "ledger" && req.from_month != req.to_month)
        return invalid("month: the ledger is one month at a time (give --month YYYY-MM, not a "
                       "range " + req.from_month + ".." + req.to_month + ")");
    if (month_index(req.to_month) - month_index(req.from_month) >= kMaxMonths)
        return invalid("to: a range of at most " + std::to_string(kMaxMonths) + " months");
    if (req.min_cell < 1) return invalid("min_cell: must be at least 1");
    if (req.format != "csv" && req.format != "json")
        return invalid("format: must be csv or json (got '" + req.format + "')");
    if (req.csv_dialect != "excel" && req.csv_dialect != "rfc")
        return invalid("csv_dialect: must be excel or rfc (got '" + req.csv_dialect + "')");
    if (req.as_of_ms && *req.as_of_ms < 0) return invalid("as_of: before 1970");
    if (viewer.role == "admin") return Status::ok();
    if (viewer.role != "coordinator")
        return Status(Errc::forbidden, "reports are for coordinators and admins");
    if (viewer.organisations.empty())
        return Status(Errc::forbidden, "a coordinator without sites sees no organisation's report");
    if (!req.organisation.empty() && std::find(viewer.organisations.begin(), viewer.organisations.end(), req.organisation) ==
                                          viewer.organisations.end())
        return Status(Errc::forbidden, "organisation: '" + req.organisation + "' is not one of yours");
    return Status::ok();
}

// ---- the ledger's corrections --------------------------------------------------------------------
namespace {
bool cell_equal(const Cell& a, const Cell& b) {
    if (a.index() != b.index()) return false;
    if (auto* d = std::get_if<Decimal>(&a)) {
        auto& e = std::get<Decimal>(b);
        return d->value == e.value && d->places == e.places;
    }
    if (auto* i = std::get_if<int64_t>(&a)) return *i == std::get<int64_t>(b);
    if (auto* s = std::get_if<std::string>(&a)) return *s == std::get<std::string>(b);
    return true;  // null, suppressed
}

bool row_equal(const std::vector<Cell>& a, const std::vector<Cell>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (!cell_equal(a[i], b[i])) return false;
    return true;
}

struct Correction {
    std::string month;                         // the sealed month corrected
    std::vector<Cell> row;                     // as known at the report's as_of
    std::optional<std::vector<Cell>> previously;  // as reported then; none: a new row
};

// Rows keyed by person (the first cell).
std::map<std::string, const std::vector<Cell>*> by_person(const ReportTable& t) {
    std::map<std::string, const std::vector<Cell>*> out;
    for (auto& r : t.rows) out.emplace(std::get<std::string>(r[0]), &r);
    return out;
}

// For each month S sealed as of `state` (at most 24 back), the rows of S's ledger that differ
// between now (state.as_of_ms) and B(S), the latest seal among months S..M-1: what the last
// report of S (or of a later month already listing S's corrections) showed.
Result<std::vector<Correction>> ledger_corrections(sql::Db& db, ReportState& state,
                                                   const std::string& month, const ReportScope& scope) {
    std::map<std::string, int64_t> seals;
    {
        auto q = db.query("SELECT month, sealed_ms FROM report_seals WHERE month < ?1 AND "
                          "sealed_ms <= ?2 ORDER BY month");
        q->bind(1, month).bind(2, state.as_of_ms);
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            seals.emplace(q->text(0), q->int64(1));
        }
    }
    // B(S), walking back from M-1: the running maximum of the seals seen.
    std::map<int64_t, std::vector<std::string>> months_by_basis;
    int64_t basis = -1;
    std::string s = previous_month(month);
    for (int back = 0; back < kCorrectionMonths; ++back, s = previous_month(s)) {
        auto it = seals.find(s);
        if (it == seals.end()) continue;
        basis = std::max(basis, it->second);
        months_by_basis[basis].push_back(s);
    }
    std::vector<Correction> out;
    if (months_by_basis.empty()) return out;
    std::map<std::string, ReportTable> now;
    for (auto& [b, months] : months_by_basis)
        for (auto& m : months) now.emplace(m, build_ledger(state, m, scope));
    for (auto& [b, months] : months_by_basis) {
        auto rewind = Rewind::to(db, state, b);
        if (!rewind) return rewind.status();
        for (auto& m : months) {
            ReportTable then = build_ledger(state, m, scope);
            auto before = by_person(then), after = by_person(now.at(m));
            for (auto& [person, row] : after) {
                auto it = before.find(person);
                if (it == before.end()) out.push_back({m, *row, std::nullopt});
                else if (!row_equal(*row, *it->second)) out.push_back({m, *row, *it->second});
            }
            for (auto& [person, row] : before) {
                if (after.count(person)) continue;
                std::vector<Cell> gone(row->size());
                gone[0] = person;  // a row gone: null figures
                out.push_back({m, std::move(gone), *row});
            }
        }
    }
    std::sort(out.begin(), out.end(), [](const Correction& a, const Correction& b) {
        return std::tie(a.month, std::get<std::string>(a.row[0])) <
               std::tie(b.month, std::get<std::string>(b.row[0]));
    });
    return out;
}

std::string ledger_csv(const ReportTable& t, const std::vector<Correction>& corrections,
                       CsvDialect dialect) {
    ReportTable all;
    all.columns = t.columns;
    all.columns.push_back("correction_for");
    all.rows.reserve(t.rows.size() + corrections.size());
    for (auto& r : t.rows) {
        all.rows.push_back(r);
        all.rows.back().emplace_back();
    }
    for (auto& c : corrections) {
        all.rows.push_back(c.row);
        all.rows.back().emplace_back(c.month);
    }
    return write_csv(all, dialect);
}

std::string ledger_json(const ReportTable& t, const std::vector<Correction>& corrections) {
    rapidjson::StringBuffer buf;
    json::Writer w(buf);
    w.StartObject();
    put_table_members(w, t);
    w.Key("corrections");
    w.StartArray();
    for (auto& c : corrections) {
        w.StartObject();
        w.Key("month");
        json::put(w, c.month);
        for (size_t i = 0; i < t.columns.size(); ++i) {
            json::put(w, t.columns[i]);
            put_cell(w, c.row[i]);
        }
        w.Key("previously");
        if (c.previously) put_row(w, t.columns, *c.previously);
        else w.Null();
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

std::vector<std::string> months_between(const std::string& from, const std::string& to) {
    std::vector<std::string> out;
    for (std::string m = from; m <= to; m = next_month(m)) out.push_back(m);
    return out;
}
}  // namespace

// ---- the store's entry points -------------------------------------------------------------------
Result<ReportOutput> SqlStore::report(const ReportRequest& req, const ReportViewer& viewer) {
    TUNDRA_TRY(check_report_request(req, viewer));
    const int64_t now = static_cast<int64_t>(opts_.wall());
    if (req.as_of_ms && *req.as_of_ms > now)
        return Status(Errc::invalid_argument,
                      "as_of: " + format_iso8601_ms(*req.as_of_ms) +
                          " is in the future (a report is of what the server held then)");
    // A connection of its own, reading one snapshot: a report over millions of facts does
    // not hold the store's lock that sync rounds need.
    auto conn = open_connection(db_->path(), {.create = false, .read_only = true});
    if (!conn) return conn.status();
    sql::Db& db = *conn.value();
    // One sequential read of every fact: memory-mapped pages and a larger cache instead of a
    // read system call per page.
    if (db.backend() == sql::Backend::sqlite)
        TUNDRA_TRY(db.exec("PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -65536"));
    sql::ReadTransaction snapshot(db);
    TUNDRA_TRY(snapshot.begin());

    if (!req.organisation.empty()) {
        auto q = db.query("SELECT 1 FROM organisations WHERE id = ?");
        q->bind(1, req.organisation);
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value())
            return Status(Errc::not_found, "organisation: no organisation '" + req.organisation + "'");
    }
    int64_t as_of = now;
    if (req.as_of_ms) {
        as_of = *req.as_of_ms;
    } else if (req.from_month == req.to_month) {
        auto q = db.query("SELECT sealed_ms FROM report_seals WHERE month = ?");
        q->bind(1, req.from_month);
        auto r = q->step();
        if (!r) return r.status();
        if (r.value()) as_of = q->int64(0);
    }

    ReportScope scope;
    scope.months = months_between(req.from_month, req.to_month);
    if (!req.organisation.empty()) scope.organisations = {req.organisation};
    else if (viewer.role != "admin")
        scope.organisations = {viewer.organisations.begin(), viewer.organisations.end()};
    scope.min_cell = req.min_cell;
    scope.personal_ids = viewer.role == "admin";

    auto state = load_report_state(db, as_of);
    if (!state) return state.status();
    ReportOutput out;
    out.as_of_ms = as_of;
    const CsvDialect dialect = req.csv_dialect == "rfc" ? CsvDialect::rfc : CsvDialect::excel;
    out.content_type = req.format == "json" ? "application/json" : "text/csv; charset=utf-8";
    if (req.name == "ledger") {
        ReportTable t = build_ledger(state.value(), req.from_month, scope);
        t.header = {{"month", req.from_month}, {"as_of", format_iso8601_ms(as_of)}};
        auto corrections = ledger_corrections(db, state.value(), req.from_month, scope);
        if (!corrections) return corrections.status();
        out.body = req.format == "json" ? ledger_json(t, corrections.value())
                                        : ledger_csv(t, corrections.value(), dialect);
        return out;
    }
    ReportTable t;
    if (req.name == "participants") t = build_participants(state.value(), scope);
    else if (req.name == "attendance") t = build_attendance(state.value(), scope);
    else if (req.name == "surveys") t = build_surveys(state.value(), scope);
    else t = build_deviations(state.value(), scope);
    std::vector<std::pair<std::string, Cell>> header = {
        {"report", req.name},
        {"from", req.from_month},
        {"to", req.to_month},
        {"as_of", format_iso8601_ms(as_of)},
        {"organisation", req.organisation.empty() ? Cell{} : Cell{req.organisation}},
        {"min_cell", int64_t{req.min_cell}}};
    for (auto& h : t.header)  // what a builder adds after the common members
        if (std::none_of(header.begin(), header.end(), [&](auto& e) { return e.first == h.first; }))
            header.push_back(h);
    t.header = std::move(header);
    out.body = req.format == "json" ? write_json(t) : write_csv(t, dialect);
    return out;
}

Result<ReportOutput> SqlStore::report_for(const AuthContext& who, const ReportRequest& req) {
    ReportViewer viewer{who.role, {}};
    if (who.role == "coordinator") {
        std::lock_guard lock(mu_);
        auto orgs = impl_->organisations_of(who);
        if (!orgs) return orgs.status();
        viewer.organisations = std::move(orgs.value());
    }
    return report(req, viewer);
}

Status SqlStore::seal_month(const std::string& month, const std::string& actor) {
    if (!valid_month(month)) return invalid("month: expected YYYY-MM (got '" + month + "')");
    const int64_t now = static_cast<int64_t>(opts_.wall());
    if (now < stockholm_month_end_ms(month))
        return invalid("month: " + month + " has not ended in Europe/Stockholm time; it can be sealed from " +
                       next_month(month) + "-01");
    std::lock_guard lock(mu_);
    sql::Transaction txn(*db_);
    TUNDRA_TRY(txn.begin());
    {
        auto q = db_->query("SELECT sealed_ms, actor FROM report_seals WHERE month = ?");
        q->bind(1, month);
        auto r = q->step();
        if (!r) return r.status();
        if (r.value())
            return Status(Errc::conflict, "month: " + month + " was already sealed at " +
                                              format_iso8601_ms(q->int64(0)) + " by " + q->text(1));
    }
    auto ins = db_->query("INSERT INTO report_seals (month, sealed_ms, actor) VALUES (?, ?, ?)");
    TUNDRA_TRY(ins->bind(1, month).bind(2, now).bind(3, actor).run());
    TUNDRA_TRY(append_audit(*db_, now, actor, "seal_month", month, "{}"));
    return txn.commit();
}

Result<std::vector<SqlStore::Seal>> SqlStore::seals() {
    std::lock_guard lock(mu_);
    auto q = db_->query("SELECT month, actor, sealed_ms FROM report_seals ORDER BY month DESC");
    std::vector<Seal> out;
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        out.push_back({q->text(0), q->text(1), q->int64(2)});
    }
    return out;
}

}  // namespace tundra::server
