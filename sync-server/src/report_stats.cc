// The participants and deviations statistics, and helpers shared with the attendance and
// surveys reports (report_stats_occasions.cc). docs/reports.md (Statistics) documents every
// column and figure; suppression is report_suppress.h.
#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include "report_stats_internal.h"
#include "report_suppress.h"

namespace tundra::server {
namespace stats {

const std::vector<std::string>& genders() {
    static const std::vector<std::string> k = {"woman", "man", "non_binary", "undisclosed"};
    return k;
}
const std::vector<std::string>& age_bands() {
    static const std::vector<std::string> k = {"under_18", "18_29", "30_54", "55_plus", "unknown"};
    return k;
}
std::set<std::string> month_set(const ReportScope& scope) {
    return {scope.months.begin(), scope.months.end()};
}
std::string theme_of(const ReportState& s, const std::string& course) {
    auto c = s.courses.find(course);
    return c == s.courses.end() || c->second.theme.empty() ? "unspecified" : c->second.theme;
}
std::string occasion_organisation(const ReportState& s, const ROccasion& o) {
    auto site = s.sites.find(o.site);
    return site == s.sites.end() ? "" : site->second.organisation;
}
std::string reported_gender(const std::string& g) {
    auto& k = genders();
    return std::find(k.begin(), k.end(), g) == k.end() ? "undisclosed" : g;
}

std::vector<std::pair<std::string, Cell>> stats_header(const ReportScope& scope) {
    return {{"from", scope.months.front()},
            {"to", scope.months.back()},
            {"min_cell", static_cast<int64_t>(scope.min_cell)}};
}

}  // namespace stats

using namespace stats;

// ---- participants ----------------------------------------------------------------------------
namespace {

// One person's attended minutes in one month, by theme (occasions starting in the month, not
// cancelled, current mark present|late|left_early).
struct Attended {
    std::map<std::string, int64_t> minutes_by_theme;  // a theme present = attended at least once
};

// month -> person -> attendance, for the scope's months.
std::map<std::string, std::map<std::string, Attended>> attended_by_month(const ReportState& s,
                                                                          const std::set<std::string>& months) {
    std::map<std::string, std::map<std::string, Attended>> out;
    for (auto& [key, m] : s.current_marks()) {
        if (!mark_attended(*m)) continue;
        auto o = s.occasions.find(m->occasion);
        if (o == s.occasions.end() || o->second.status == "cancelled") continue;
        std::string month = stockholm_month(o->second.starts_ms);
        if (!months.count(month)) continue;
        out[month][m->person].minutes_by_theme[theme_of(s, o->second.course)] += mark_minutes(*m, o->second);
    }
    return out;
}

// A participation overlapping the month: started by it and not ended before it.
bool participates(const std::string& person, const std::string& month,
                  const std::multimap<std::string, const RParticipation*>& by_person) {
    auto [lo, hi] = by_person.equal_range(person);
    for (auto it = lo; it != hi; ++it) {
        const RParticipation& p = *it->second;
        if (p.start_month <= month && (p.end_month.empty() || p.end_month >= month)) return true;
    }
    return false;
}

// The cube of one month: organisation x theme x gender x age band, index 0 of each = "all".
struct Cube {
    std::vector<std::string> orgs, themes, genders, bands;  // each starting with "all"
    struct Acc {
        int64_t participants = 0, attendees = 0, minutes = 0;
    };
    std::vector<Acc> acc;
    size_t at(size_t o, size_t t, size_t g, size_t b) const {
        return ((o * themes.size() + t) * genders.size() + g) * bands.size() + b;
    }
    static size_t index(const std::vector<std::string>& v, const std::string& x) {
        return static_cast<size_t>(std::find(v.begin(), v.end(), x) - v.begin());
    }
};

void add_person(Cube& c, size_t o, size_t g, size_t b, const Attended* a) {
    for (size_t oo : {size_t{0}, o})
        for (size_t gg : {size_t{0}, g})
            for (size_t bb : {size_t{0}, b}) {
                auto& all = c.acc[c.at(oo, 0, gg, bb)];
                all.participants += 1;
                if (!a) continue;
                all.attendees += 1;
                for (auto& [theme, minutes] : a->minutes_by_theme) {
                    auto& t = c.acc[c.at(oo, Cube::index(c.themes, theme), gg, bb)];
                    t.participants += 1;
                    t.attendees += 1;
                    t.minutes += minutes;
                    all.minutes += minutes;
                }
            }
}

// Declares the cube's cells and groups: every margin is the sum of its parts over gender,
// age band and organisation (a person is in one of each); over themes only the hours add up
// (a person can attend several themes).
Suppression suppress_cube(const Cube& c, int min_cell) {
    Suppression s(min_cell);
    for (auto& a : c.acc) s.add_cell(a.participants, {a.attendees});
    const size_t no = c.orgs.size(), nt = c.themes.size(), ng = c.genders.size(), nb = c.bands.size();
    for (size_t o = 0; o < no; ++o)
        for (size_t t = 0; t < nt; ++t)
            for (size_t g = 0; g < ng; ++g)
                for (size_t b = 0; b < nb; ++b) {
                    std::vector<size_t> parts;
                    if (o == 0) {
                        for (size_t x = 1; x < no; ++x) parts.push_back(c.at(x, t, g, b));
                        s.add_group(c.at(o, t, g, b), std::move(parts));
                        parts.clear();
                    }
                    if (t == 0) {
                        for (size_t x = 1; x < nt; ++x) parts.push_back(c.at(o, x, g, b));
                        s.add_group(c.at(o, t, g, b), std::move(parts), /*people_add_up=*/false);
                        parts.clear();
                    }
                    if (g == 0) {
                        for (size_t x = 1; x < ng; ++x) parts.push_back(c.at(o, t, x, b));
                        s.add_group(c.at(o, t, g, b), std::move(parts));
                        parts.clear();
                    }
                    if (b == 0) {
                        for (size_t x = 1; x < nb; ++x) parts.push_back(c.at(o, t, g, x));
                        s.add_group(c.at(o, t, g, b), std::move(parts));
                    }
                }
    s.run();
    return s;
}

}  // namespace

ReportTable build_participants(const ReportState& s, const ReportScope& scope) {
    ReportTable t;
    t.columns = {"month", "organisation", "theme", "gender", "age_band", "participants", "attendees", "hours"};
    t.header = stats_header(scope);
    const auto months = month_set(scope);
    const auto attended = attended_by_month(s, months);
    std::multimap<std::string, const RParticipation*> by_person;
    for (auto& [id, p] : s.participations) by_person.emplace(p.person, &p);

    Cube proto;
    std::set<std::string> orgs, themes;
    for (auto& [id, name] : s.organisations)
        if (scope.in_scope(id)) orgs.insert(id);
    for (auto& [id, p] : s.persons)
        if (scope.in_scope(p.organisation)) orgs.insert(p.organisation);
    for (auto& [id, c] : s.courses) themes.insert(theme_of(s, id));
    for (auto& [id, o] : s.occasions) themes.insert(theme_of(s, o.course));
    auto with_all = [](auto&& xs) {
        std::vector<std::string> v{kAll};
        v.insert(v.end(), xs.begin(), xs.end());
        return v;
    };
    proto.orgs = with_all(orgs);
    proto.themes = with_all(themes);
    proto.genders = with_all(genders());
    proto.bands = with_all(age_bands());

    for (const std::string& month : scope.months) {
        Cube c = proto;
        c.acc.assign(c.orgs.size() * c.themes.size() * c.genders.size() * c.bands.size(), {});
        auto am = attended.find(month);
        for (auto& [id, p] : s.persons) {
            if (!scope.in_scope(p.organisation) || !participates(id, month, by_person)) continue;
            const Attended* a = nullptr;
            if (am != attended.end()) {
                auto it = am->second.find(id);
                if (it != am->second.end()) a = &it->second;
            }
            add_person(c, Cube::index(c.orgs, p.organisation), Cube::index(c.genders, reported_gender(p.gender)),
                       Cube::index(c.bands, age_band(p.birth_year, month)), a);
        }
        Suppression sup = suppress_cube(c, scope.min_cell);
        for (size_t o = 0; o < c.orgs.size(); ++o)
            for (size_t th = 0; th < c.themes.size(); ++th)
                for (size_t g = 0; g < c.genders.size(); ++g)
                    for (size_t b = 0; b < c.bands.size(); ++b) {
                        size_t i = c.at(o, th, g, b);
                        const auto& a = c.acc[i];
                        std::vector<Cell> row = {month, c.orgs[o], c.themes[th], c.genders[g], c.bands[b]};
                        if (sup.suppressed(i)) {
                            row.insert(row.end(), {Suppressed{}, Suppressed{}, Suppressed{}});
                        } else {
                            row.insert(row.end(), {a.participants, a.attendees,
                                                   Decimal{static_cast<double>(a.minutes) / 60.0, 2}});
                        }
                        t.rows.push_back(std::move(row));
                    }
    }
    return t;
}

// ---- deviations ------------------------------------------------------------------------------

ReportTable build_deviations(const ReportState& s, const ReportScope& scope) {
    ReportTable t;
    t.columns = {"record",  "organisation", "category",    "id",         "occasion",     "status",
                 "logged",  "handled",      "description", "action_taken", "open_count", "handled_count"};
    t.header = stats_header(scope);
    const auto months = month_set(scope);
    std::vector<const RDeviation*> log;
    for (auto& [id, d] : s.deviations)
        if (scope.in_scope(d.organisation) && months.count(stockholm_month(d.logged_ms))) log.push_back(&d);
    std::sort(log.begin(), log.end(), [](const RDeviation* a, const RDeviation* b) {
        return std::tie(a->logged_ms, a->id) < std::tie(b->logged_ms, b->id);
    });
    // Counts by organisation x category, with "all" margins; every combination that occurs.
    std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> counts;
    for (const RDeviation* d : log)
        for (const std::string& org : {std::string(kAll), d->organisation})
            for (const std::string& cat : {std::string(kAll), d->category}) {
                auto& c = counts[{org == kAll ? "" : org, cat == kAll ? "" : cat}];
                (d->status == "handled" ? c.second : c.first) += 1;
            }
    if (counts.empty()) counts[{"", ""}] = {0, 0};
    for (auto& [key, c] : counts)
        t.rows.push_back({std::string("count"), key.first.empty() ? kAll : key.first,
                          key.second.empty() ? kAll : key.second, std::monostate{}, std::monostate{},
                          std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{},
                          std::monostate{}, c.first, c.second});
    auto text_or_null = [](const std::string& x) -> Cell { return x.empty() ? Cell{} : Cell{x}; };
    for (const RDeviation* d : log)
        t.rows.push_back({std::string("deviation"), d->organisation, d->category, d->id,
                          text_or_null(d->occasion), d->status, stockholm_date(d->logged_ms),
                          d->handled_ms ? Cell{stockholm_date(d->handled_ms)} : Cell{},
                          d->description, text_or_null(d->action_taken), std::monostate{},
                          std::monostate{}});
    return t;
}

}  // namespace tundra::server
