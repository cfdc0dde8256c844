// The attendance and surveys statistics: per occasion (and organisation) and per course, over
// the non-cancelled occasions starting in the scope's months. docs/reports.md (Statistics).
#include <array>
#include <map>
#include <tuple>

#include "report_stats_internal.h"
#include "report_suppress.h"

namespace tundra::server {

using namespace stats;

namespace {

constexpr const char* kRatings[] = {"rating_content", "rating_usefulness", "rating_overall"};

// One occasion's figures for one organisation: the site's organisation, or for an online
// occasion each organisation its persons belong to.
struct OccRow {
    std::string course, theme, occasion, org, month;
    int64_t confirmed = 0, attended = 0, answers = 0;
    std::array<int64_t, 3> rating_sum{};
    std::array<std::array<int64_t, 5>, 3> dist{};
};
struct CourseFigures {
    std::vector<size_t> rows;        // indexes into Occasions::rows
    int64_t persons = 0, completed = 0;
};
struct Occasions {
    std::vector<OccRow> rows;  // sorted by course, start, occasion, organisation
    std::map<std::string, CourseFigures> courses;
};

Occasions collect(const ReportState& s, const ReportScope& scope) {
    const auto months = month_set(scope);
    const auto marks = s.current_marks();
    using Key = std::tuple<std::string, int64_t, std::string, std::string>;
    std::map<Key, OccRow> rows;
    auto counted = [&](const std::string& occasion) -> const ROccasion* {
        auto o = s.occasions.find(occasion);
        if (o == s.occasions.end() || o->second.status == "cancelled") return nullptr;
        return months.count(stockholm_month(o->second.starts_ms)) ? &o->second : nullptr;
    };
    auto row_for = [&](const ROccasion& o, const std::string& org) -> OccRow& {
        OccRow& r = rows[Key{o.course, o.starts_ms, o.id, org}];
        if (r.occasion.empty()) {
            r.course = o.course;
            r.theme = theme_of(s, o.course);
            r.occasion = o.id;
            r.org = org;
            r.month = stockholm_month(o.starts_ms);
        }
        return r;
    };
    // The row a person's figures on an occasion go to, or null when out of scope.
    auto row_of = [&](const ROccasion& o, const std::string& person) -> OccRow* {
        auto p = s.persons.find(person);
        if (p == s.persons.end()) return nullptr;
        std::string org = occasion_organisation(s, o);
        if (org.empty()) org = p->second.organisation;
        return scope.in_scope(org) ? &row_for(o, org) : nullptr;
    };
    for (auto& [id, o] : s.occasions) {
        if (!counted(id)) continue;
        std::string org = occasion_organisation(s, o);
        if (!org.empty() && scope.in_scope(org)) row_for(o, org);  // shown even when empty
    }
    // course -> person -> (confirmed occasions, attended ones); (occasion, person) once.
    std::map<std::string, std::map<std::string, std::pair<int64_t, int64_t>>> per_person;
    std::set<std::pair<std::string, std::string>> seen;
    for (auto& [id, e] : s.enrolments) {
        const ROccasion* o = e.status == "confirmed" ? counted(e.occasion) : nullptr;
        OccRow* r = o ? row_of(*o, e.person) : nullptr;
        if (!r || !seen.insert({e.occasion, e.person}).second) continue;
        auto m = marks.find(e.occasion + '\x1f' + e.person);
        const bool attended = m != marks.end() && mark_attended(*m->second);
        r->confirmed += 1;
        r->attended += attended ? 1 : 0;
        auto& pp = per_person[o->course][e.person];
        pp.first += 1;
        pp.second += attended ? 1 : 0;
    }
    for (auto& [id, a] : s.surveys) {
        const ROccasion* o = counted(a.occasion);
        OccRow* r = o ? row_of(*o, a.person) : nullptr;
        if (!r) continue;
        r->answers += 1;
        const int ratings[] = {a.rating_content, a.rating_usefulness, a.rating_overall};
        for (size_t k = 0; k < 3; ++k) {
            r->rating_sum[k] += ratings[k];
            if (ratings[k] >= 1 && ratings[k] <= 5) r->dist[k][static_cast<size_t>(ratings[k] - 1)] += 1;
        }
    }
    Occasions out;
    for (auto& [key, r] : rows) {
        out.courses[r.course].rows.push_back(out.rows.size());
        out.rows.push_back(std::move(r));
    }
    for (auto& [course, persons] : per_person)
        for (auto& [person, n] : persons) {
            out.courses[course].persons += 1;
            out.courses[course].completed += n.first == n.second ? 1 : 0;
        }
    return out;
}

// The attendance figures as cells. Per row: confirmed = attended + absent. Per course: each
// of the three is the sum over its rows; persons = completed + not completed (a figure the
// reader gets by difference, so it is a cell too). When every person has one enrolment on
// the course (persons == confirmed), persons, completed and not completed equal confirmed,
// attended and absent, so each pair is suppressed together.
struct AttendanceCells {
    struct Row { size_t confirmed, attended, absent; };
    struct Course { size_t confirmed, attended, absent, persons, completed, not_completed; };
    std::vector<Row> rows;
    std::map<std::string, Course> courses;
    Suppression sup;
    explicit AttendanceCells(int min_cell) : sup(min_cell) {}
};

AttendanceCells suppress_attendance(const Occasions& occ, int min_cell) {
    AttendanceCells c(min_cell);
    Suppression& s = c.sup;
    for (const OccRow& r : occ.rows) {
        AttendanceCells::Row x{s.add_cell(r.confirmed), s.add_cell(r.attended),
                               s.add_cell(r.confirmed - r.attended)};
        s.add_group(x.confirmed, {x.attended, x.absent});
        c.rows.push_back(x);
    }
    for (auto& [course, f] : occ.courses) {
        int64_t conf = 0, att = 0;
        std::vector<size_t> pc, pa, pn;
        for (size_t i : f.rows) {
            conf += occ.rows[i].confirmed;
            att += occ.rows[i].attended;
            pc.push_back(c.rows[i].confirmed);
            pa.push_back(c.rows[i].attended);
            pn.push_back(c.rows[i].absent);
        }
        AttendanceCells::Course x{s.add_cell(conf),      s.add_cell(att),         s.add_cell(conf - att),
                                  s.add_cell(f.persons), s.add_cell(f.completed), s.add_cell(f.persons - f.completed)};
        s.add_group(x.confirmed, pc);
        s.add_group(x.attended, pa);
        s.add_group(x.absent, pn);
        s.add_group(x.confirmed, {x.attended, x.absent});
        s.add_group(x.persons, {x.completed, x.not_completed});
        if (f.persons == conf) {
            for (auto [a, b] : {std::pair{x.confirmed, x.persons}, std::pair{x.attended, x.completed},
                                std::pair{x.absent, x.not_completed}}) {
                s.link(a, b);
                s.link(b, a);
            }
        }
        c.courses.emplace(course, x);
    }
    s.run();
    return c;
}

Cell count(const Suppression& s, size_t cell, int64_t value) {
    return s.suppressed(cell) ? Cell{Suppressed{}} : Cell{value};
}
// A share num/den, suppressed when any cell it rests on is; null when den is 0.
Cell share(const Suppression& s, std::initializer_list<size_t> cells, int64_t num, int64_t den) {
    for (size_t c : cells)
        if (s.suppressed(c)) return Suppressed{};
    if (den == 0) return std::monostate{};
    return Decimal{static_cast<double>(num) / static_cast<double>(den), 2};
}

}  // namespace

ReportTable build_attendance(const ReportState& s, const ReportScope& scope) {
    ReportTable t;
    t.columns = {"level",     "course",   "theme",           "occasion", "organisation",
                 "month",     "confirmed", "attended",       "absent",   "attendance_rate",
                 "persons",   "completed", "completion_rate"};
    t.header = stats_header(scope);
    const Occasions occ = collect(s, scope);
    const AttendanceCells c = suppress_attendance(occ, scope.min_cell);
    const Suppression& sup = c.sup;
    for (auto& [course, f] : occ.courses) {
        const auto& x = c.courses.at(course);
        int64_t conf = 0, att = 0;
        for (size_t i : f.rows) {
            conf += occ.rows[i].confirmed;
            att += occ.rows[i].attended;
        }
        t.rows.push_back({std::string("course"), course, theme_of(s, course), std::monostate{}, kAll,
                          std::monostate{}, count(sup, x.confirmed, conf), count(sup, x.attended, att),
                          count(sup, x.absent, conf - att),
                          share(sup, {x.confirmed, x.attended, x.absent}, att, conf),
                          count(sup, x.persons, f.persons), count(sup, x.completed, f.completed),
                          share(sup, {x.persons, x.completed, x.not_completed}, f.completed, f.persons)});
        for (size_t i : f.rows) {
            const OccRow& r = occ.rows[i];
            const auto& y = c.rows[i];
            t.rows.push_back({std::string("occasion"), r.course, r.theme, r.occasion, r.org, r.month,
                              count(sup, y.confirmed, r.confirmed), count(sup, y.attended, r.attended),
                              count(sup, y.absent, r.confirmed - r.attended),
                              share(sup, {y.confirmed, y.attended, y.absent}, r.attended, r.confirmed),
                              std::monostate{}, std::monostate{}, std::monostate{}});
        }
    }
    return t;
}

ReportTable build_surveys(const ReportState& s, const ReportScope& scope) {
    ReportTable t;
    t.columns = {"level", "course", "theme", "occasion", "organisation", "month", "answers", "response_rate"};
    for (const char* r : kRatings) t.columns.push_back(std::string(r) + "_mean");
    for (const char* r : kRatings)
        for (int v = 1; v <= 5; ++v) t.columns.push_back(std::string(r) + "_" + std::to_string(v));
    t.header = stats_header(scope);
    const Occasions occ = collect(s, scope);
    // The response rate rests on the attended count of the attendance report: suppressed
    // there, it must not be recoverable here as answers / rate.
    const AttendanceCells att = suppress_attendance(occ, scope.min_cell);
    Suppression sup(scope.min_cell);
    std::vector<size_t> row_cell;
    for (const OccRow& r : occ.rows) row_cell.push_back(sup.add_cell(r.answers));
    std::map<std::string, size_t> course_cell;
    for (auto& [course, f] : occ.courses) {
        int64_t answers = 0;
        std::vector<size_t> parts;
        for (size_t i : f.rows) {
            answers += occ.rows[i].answers;
            parts.push_back(row_cell[i]);
        }
        course_cell[course] = sup.add_cell(answers);
        sup.add_group(course_cell[course], parts);
    }
    sup.run();

    // Cells are emplaced in place: a temporary Cell copied into the row trips GCC 12's
    // -Wmaybe-uninitialized on std::variant in Release builds.
    auto figures = [&](std::vector<Cell>& row, size_t cell, bool attended_hidden, int64_t attended,
                       const OccRow& f) {
        const bool hidden = sup.suppressed(cell);
        auto hide = [&] { row.emplace_back(std::in_place_type<Suppressed>); };
        auto decimal = [&](int64_t num, int64_t den) {
            if (den == 0) row.emplace_back(std::in_place_type<std::monostate>);
            else row.emplace_back(Decimal{static_cast<double>(num) / static_cast<double>(den), 2});
        };
        if (hidden) hide();
        else row.emplace_back(std::in_place_type<int64_t>, f.answers);
        if (hidden || attended_hidden) hide();
        else decimal(f.answers, attended);
        for (size_t k = 0; k < 3; ++k) {
            if (hidden) hide();
            else decimal(f.rating_sum[k], f.answers);
        }
        for (size_t k = 0; k < 3; ++k)
            for (size_t v = 0; v < 5; ++v) {
                if (hidden) hide();
                else row.emplace_back(std::in_place_type<int64_t>, f.dist[k][v]);
            }
    };
    for (auto& [course, f] : occ.courses) {
        OccRow total;
        int64_t attended = 0;
        for (size_t i : f.rows) {
            const OccRow& r = occ.rows[i];
            total.answers += r.answers;
            attended += r.attended;
            for (size_t k = 0; k < 3; ++k) {
                total.rating_sum[k] += r.rating_sum[k];
                for (size_t v = 0; v < 5; ++v) total.dist[k][v] += r.dist[k][v];
            }
        }
        std::vector<Cell> row = {std::string("course"), course, theme_of(s, course), std::monostate{}, kAll,
                                 std::monostate{}};
        figures(row, course_cell.at(course), att.sup.suppressed(att.courses.at(course).attended), attended, total);
        t.rows.push_back(std::move(row));
        for (size_t i : f.rows) {
            const OccRow& r = occ.rows[i];
            std::vector<Cell> orow = {std::string("occasion"), r.course, r.theme, r.occasion, r.org, r.month};
            figures(orow, row_cell[i], att.sup.suppressed(att.rows[i].attended), r.attended, r);
            t.rows.push_back(std::move(orow));
        }
    }
    return t;
}

}  // namespace tundra::server
