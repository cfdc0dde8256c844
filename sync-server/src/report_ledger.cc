// The monthly participant ledger (docs/reports.md, "The ledger"): one row per person whose
// participation overlaps the month, with their attended and attested minutes.
#include <string_view>
#include <unordered_map>

#include "report_builders.h"

namespace tundra::server {

const std::vector<std::string>& ledger_columns() {
    static const std::vector<std::string> k = {
        "person",     "organisation",      "gender",      "age_band",
        "education_level", "employment_status", "start_month", "end_month",
        "attended_minutes", "attested_minutes", "personal_id"};
    return k;
}

namespace {
struct Span {
    std::string start, end;  // end "" while open
};
Cell text_or_null(const std::string& s) { return s.empty() ? Cell{} : Cell{s}; }
}  // namespace

ReportTable build_ledger(const ReportState& s, const std::string& month, const ReportScope& scope) {
    ReportTable t;
    t.columns = ledger_columns();
    // Who takes part in the month: participations with start <= M <= end (or open). Several
    // overlapping participations make one row: the earliest start, and open if any is open,
    // else the latest end. Keys are views into the state (no allocation per row).
    std::unordered_map<std::string_view, Span> spans;
    for (auto& [id, p] : s.participations) {
        if (p.start_month > month || (!p.end_month.empty() && p.end_month < month)) continue;
        auto [it, fresh] = spans.try_emplace(p.person, Span{p.start_month, p.end_month});
        if (fresh) continue;
        Span& sp = it->second;
        if (p.start_month < sp.start) sp.start = p.start_month;
        if (sp.end.empty() || p.end_month.empty()) sp.end.clear();
        else if (p.end_month > sp.end) sp.end = p.end_month;
    }
    if (spans.empty()) return t;
    // Attended minutes: the current mark on each occasion starting in the month (Stockholm),
    // cancelled occasions excluded.
    const int64_t from = stockholm_month_start_ms(month), to = stockholm_month_end_ms(month);
    std::unordered_map<std::string_view, const ROccasion*> in_month;
    for (auto& [id, o] : s.occasions)
        if (o.status != "cancelled" && o.starts_ms >= from && o.starts_ms < to) in_month.emplace(id, &o);
    std::unordered_map<std::string_view, int64_t> minutes;
    for (const RMark* m : s.current_mark_list()) {
        if (!mark_attended(*m)) continue;
        auto o = in_month.find(m->occasion);
        if (o == in_month.end() || !spans.count(m->person)) continue;
        minutes[m->person] += mark_minutes(*m, *o->second);
    }
    std::unordered_map<std::string_view, int64_t> attested;
    for (auto& [id, a] : s.attestations)
        if (a.month == month) attested[a.person] = a.minutes;

    // Rows in the order of the persons (sorted by id).
    for (auto& [person_id, p] : s.persons) {
        auto sit = spans.find(person_id);
        if (sit == spans.end()) continue;
        const Span& span = sit->second;
        if (!scope.in_scope(p.organisation)) continue;
        std::vector<Cell> row;
        row.reserve(t.columns.size());
        row.emplace_back(p.id);
        row.emplace_back(text_or_null(p.organisation));
        if (p.erased) {
            // Erased (GDPR): counted under the pseudonym; no personal field.
            row.insert(row.end(), 4, Cell{});
        } else {
            row.emplace_back(text_or_null(p.gender));
            row.emplace_back(age_band(p.birth_year, month));
            row.emplace_back(text_or_null(p.education_level));
            row.emplace_back(text_or_null(p.employment_status));
        }
        row.emplace_back(span.start);
        row.emplace_back(text_or_null(span.end));
        auto mi = minutes.find(person_id);
        row.emplace_back(mi == minutes.end() ? int64_t{0} : mi->second);
        auto at = attested.find(person_id);
        row.emplace_back(at == attested.end() ? Cell{} : Cell{at->second});
        row.emplace_back(scope.personal_ids && !p.erased ? text_or_null(p.personal_id) : Cell{});
        t.rows.push_back(std::move(row));
    }
    return t;
}

}  // namespace tundra::server
