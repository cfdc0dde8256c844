// The statistics reports (report_stats.cc, report_stats_occasions.cc) against an independent,
// straightforward computation over randomly generated ReportStates (many seeds), and their
// suppression, erasure and scope rules. The expected figures here use none of the report
// code: months come from the C library's Europe/Stockholm zone, current marks, age bands and
// minutes are recomputed from the rules in docs/reports-statistics.md.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "report_builders.h"

namespace tundra::server {
namespace {

// ---- independent helpers ---------------------------------------------------------------------

// Local time in Europe/Stockholm through the C library's zone database.
std::tm stockholm_tm(int64_t ms) {
    const char* old = std::getenv("TZ");
    std::string saved = old ? old : "";
    setenv("TZ", "Europe/Stockholm", 1);
    tzset();
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm out{};
    localtime_r(&t, &out);
    if (old) setenv("TZ", saved.c_str(), 1);
    else unsetenv("TZ");
    tzset();
    return out;
}
std::string month_of(int64_t ms) {
    std::tm t = stockholm_tm(ms);
    char b[64];
    std::snprintf(b, sizeof b, "%04d-%02d", t.tm_year + 1900, t.tm_mon + 1);
    return b;
}
std::string date_of(int64_t ms) {
    std::tm t = stockholm_tm(ms);
    char b[64];
    std::snprintf(b, sizeof b, "%04d-%02d-%02d", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday);
    return b;
}
// The UTC instant of local midnight on the first of a month in Stockholm.
int64_t local_month_start(int year, int month) {
    const char* old = std::getenv("TZ");
    std::string saved = old ? old : "";
    setenv("TZ", "Europe/Stockholm", 1);
    tzset();
    std::tm t{};
    t.tm_year = year - 1900;
    t.tm_mon = month - 1;
    t.tm_mday = 1;
    t.tm_isdst = -1;
    int64_t out = static_cast<int64_t>(std::mktime(&t)) * 1000;
    if (old) setenv("TZ", saved.c_str(), 1);
    else unsetenv("TZ");
    tzset();
    return out;
}
std::string band_of(const RPerson& p, const std::string& month) {
    if (!p.birth_year) return "unknown";
    int age = std::stoi(month.substr(0, 4)) - static_cast<int>(*p.birth_year);
    return age < 18 ? "under_18" : age <= 29 ? "18_29" : age <= 54 ? "30_54" : "55_plus";
}
std::string gender_of(const RPerson& p) {
    return p.gender == "woman" || p.gender == "man" || p.gender == "non_binary" ? p.gender : "undisclosed";
}
// The current mark of (occasion, person): a coordinator's mark beats a self check-in, then
// the newer clock, then the larger device id, then the larger mark id (an import's marks can
// share a stamp).
const RMark* current_mark(const ReportState& s, const std::string& occasion, const std::string& person) {
    const RMark* best = nullptr;
    for (auto& [id, m] : s.marks) {
        if (m.occasion != occasion || m.person != person) continue;
        if (!best) {
            best = &m;
            continue;
        }
        int rm = m.source == "self_check_in" ? 0 : 1, rb = best->source == "self_check_in" ? 0 : 1;
        bool newer = rm != rb                  ? rm > rb
                     : m.hlc != best->hlc      ? m.hlc > best->hlc
                     : m.device != best->device ? m.device > best->device
                                                : m.id > best->id;
        if (newer) best = &m;
    }
    return best;
}
bool attended(const RMark* m) {
    return m && (m->status == "present" || m->status == "late" || m->status == "left_early");
}
int64_t minutes_of(const RMark& m, const ROccasion& o) {
    return m.minutes.has_value() ? *m.minutes : (o.ends_ms - o.starts_ms) / 60000;
}
std::string theme(const ReportState& s, const std::string& course) {
    auto c = s.courses.find(course);
    if (c == s.courses.end() || c->second.theme == "") return "unspecified";
    return c->second.theme;
}
std::string text(const Cell& c) {
    if (std::holds_alternative<std::monostate>(c)) return "null";
    if (auto* i = std::get_if<int64_t>(&c)) return std::to_string(*i);
    if (auto* d = std::get_if<Decimal>(&c)) {
        char b[64];
        std::snprintf(b, sizeof b, "%.*f", d->places, d->value);
        return b;
    }
    if (auto* t = std::get_if<std::string>(&c)) return *t;
    return "..";
}
std::string fixed2(double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.2f", v);
    return b;
}
std::string ratio(int64_t num, int64_t den) {
    return den == 0 ? "null" : fixed2(static_cast<double>(num) / static_cast<double>(den));
}
// Rows as text keyed by the first `key_columns` columns; a key appears once.
std::map<std::vector<std::string>, std::vector<std::string>> by_key(const ReportTable& t, size_t key_columns) {
    std::map<std::vector<std::string>, std::vector<std::string>> out;
    for (auto& row : t.rows) {
        EXPECT_EQ(row.size(), t.columns.size());
        std::vector<std::string> key, values;
        for (size_t i = 0; i < row.size(); ++i) (i < key_columns ? key : values).push_back(text(row[i]));
        EXPECT_TRUE(out.emplace(key, values).second) << "duplicate row " << key[0];
    }
    return out;
}

// ---- a random ReportState ---------------------------------------------------------------------

const int64_t kJan2026 = 1767222000000;  // 2026-01-01T00:00+01:00

ReportState random_state(uint32_t seed) {
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    ReportState s;
    s.as_of_ms = kJan2026 + 400LL * 86400000;
    const int n_orgs = 2 + pick(3);
    for (int o = 0; o < n_orgs; ++o) {
        std::string org = "org" + std::to_string(o);
        s.organisations[org] = "Kommun " + std::to_string(o);
        for (int k = 0; k <= pick(2); ++k) {
            std::string site = org + "-s" + std::to_string(k);
            s.sites[site] = {site, org, "Site " + site};
        }
    }
    std::vector<std::string> site_ids;
    for (auto& [id, x] : s.sites) site_ids.push_back(id);
    const char* genders[] = {"woman", "woman", "woman", "man", "non_binary", "undisclosed", ""};
    const int n_persons = 20 + pick(100);
    for (int i = 0; i < n_persons; ++i) {
        RPerson p;
        p.id = "p" + std::to_string(i);
        p.site = site_ids[static_cast<size_t>(pick(static_cast<int>(site_ids.size())))];
        p.organisation = s.sites[p.site].organisation;
        p.gender = genders[pick(7)];
        if (pick(10)) p.birth_year = 1955 + pick(60);
        p.erased = pick(15) == 0;
        s.persons[p.id] = p;
        for (int k = 0; k < pick(3); ++k) {
            RParticipation q;
            q.id = p.id + "-q" + std::to_string(k);
            q.person = p.id;
            q.start_month = "2026-0" + std::to_string(1 + pick(5));
            if (pick(2)) q.end_month = "2026-0" + std::to_string(1 + pick(6));  // may end before it starts
            s.participations[q.id] = q;
        }
    }
    const char* themes[] = {"stress", "ergonomi", "språk", "", "digitalisering"};
    const int n_courses = 2 + pick(4);
    for (int c = 0; c < n_courses; ++c) {
        std::string id = "c" + std::to_string(c);
        s.courses[id] = {id, "Kurs " + id, themes[pick(5)], "classroom"};
    }
    const int n_occ = 6 + pick(20);
    for (int i = 0; i < n_occ; ++i) {
        ROccasion o;
        o.id = "occ" + std::to_string(i);
        o.course = "c" + std::to_string(pick(n_courses + 1));  // sometimes a course not in the state
        if (pick(4)) o.site = site_ids[static_cast<size_t>(pick(static_cast<int>(site_ids.size())))];
        if (pick(12) == 0) o.site = "gone-site";
        o.status = pick(8) == 0 ? "cancelled" : pick(2) ? "planned" : "completed";
        // Within a few months, often right at a Stockholm month boundary (±90 minutes).
        int64_t month_start = local_month_start(2026, 1 + pick(6));
        o.starts_ms = pick(3) == 0 ? month_start + (pick(181) - 90) * 60000LL
                                   : month_start + static_cast<int64_t>(pick(28 * 24)) * 3600000LL;
        o.ends_ms = o.starts_ms + (60 + pick(180)) * 60000LL;
        o.capacity = 20;
        s.occasions[o.id] = o;
    }
    const char* enrol_status[] = {"confirmed", "confirmed", "confirmed", "cancelled", "waitlisted", "requested"};
    const char* mark_status[] = {"present", "present", "late", "left_early", "absent", "excused", "unmarked"};
    int n = 0;
    for (auto& [oid, o] : s.occasions) {
        for (auto& [pid, p] : s.persons) {
            if (pick(4)) continue;
            std::string id = "e" + std::to_string(n++);
            s.enrolments[id] = {id, oid, pid, enrol_status[pick(6)]};
            if (pick(5) == 0 && s.enrolments[id].status == "confirmed") {
                std::string dup = "e" + std::to_string(n++);  // the same person twice
                s.enrolments[dup] = {dup, oid, pid, "confirmed"};
            }
            for (int k = 0; k < (pick(3) ? 1 : pick(3)); ++k) {
                RMark m;
                m.id = "m" + std::to_string(n++);
                m.occasion = oid;
                m.person = pid;
                m.status = mark_status[pick(7)];
                m.source = pick(3) ? "coordinator" : "self_check_in";
                m.device = "d" + std::to_string(pick(3));
                m.hlc = pick(4);
                if (pick(2)) m.minutes = pick(200);
                s.marks[m.id] = m;
            }
            if (pick(2)) {
                RSurvey a;
                a.id = "a" + std::to_string(n++);
                a.occasion = oid;
                a.person = pid;
                a.rating_content = 1 + pick(5);
                a.rating_usefulness = 1 + pick(5);
                a.rating_overall = 1 + pick(5);
                s.surveys[a.id] = a;
            }
        }
    }
    // A mark and an answer of a person unknown as of the state: ignored everywhere.
    s.marks["m-ghost"] = {"m-ghost", s.occasions.begin()->first, "ghost", "present", "coordinator", "d", 60, 1};
    const char* categories[] = {"cancelled_session", "technical", "attendance", "content", "accessibility", "other"};
    for (int i = 0; i < 5 + pick(20); ++i) {
        RDeviation d;
        d.id = "dev" + std::to_string(i);
        d.organisation = "org" + std::to_string(pick(n_orgs));
        if (pick(2)) d.occasion = "occ" + std::to_string(pick(n_occ));
        d.category = categories[pick(6)];
        d.description = "Beskrivning; \"med\" åäö " + std::to_string(i);
        d.logged_ms = local_month_start(2026, 1 + pick(6)) + (pick(1441) - 720) * 60000LL;
        if (pick(2)) {
            d.status = "handled";
            d.action_taken = "Åtgärd " + std::to_string(i);
            d.handled_ms = d.logged_ms + pick(100) * 3600000LL;
        } else {
            d.status = "open";
        }
        s.deviations[d.id] = d;
    }
    return s;
}

ReportScope scope_of(std::vector<std::string> months, int min_cell, std::set<std::string> orgs = {}) {
    ReportScope sc;
    sc.months = std::move(months);
    sc.min_cell = min_cell;
    sc.organisations = std::move(orgs);
    return sc;
}
const std::vector<std::string> kMonths = {"2026-01", "2026-02", "2026-03", "2026-04", "2026-05"};

// ---- the independent computation ---------------------------------------------------------------

std::map<std::pair<std::string, std::string>, const RMark*> current_marks_of(const ReportState& s) {
    // Group the marks by (occasion, person), then let current_mark choose within each group.
    std::map<std::pair<std::string, std::string>, ReportState> groups;
    for (auto& [id, m] : s.marks) groups[{m.occasion, m.person}].marks[id] = m;
    std::map<std::pair<std::string, std::string>, const RMark*> out;
    for (auto& [key, g] : groups) {
        const RMark* m = current_mark(g, key.first, key.second);
        out[key] = &s.marks.at(m->id);
    }
    return out;
}

bool counted_occasion(const ROccasion& o, const ReportScope& sc) {
    if (o.status == "cancelled") return false;
    for (auto& m : sc.months)
        if (m == month_of(o.starts_ms)) return true;
    return false;
}

std::map<std::vector<std::string>, std::vector<std::string>> expected_participants(const ReportState& s,
                                                                                  const ReportScope& sc) {
    auto marks = current_marks_of(s);
    std::set<std::string> orgs{"all"}, themes{"all"};
    for (auto& [id, n] : s.organisations)
        if (sc.in_scope(id)) orgs.insert(id);
    for (auto& [id, p] : s.persons)
        if (sc.in_scope(p.organisation)) orgs.insert(p.organisation);
    for (auto& [id, c] : s.courses) themes.insert(theme(s, id));
    for (auto& [id, o] : s.occasions) themes.insert(theme(s, o.course));
    std::map<std::vector<std::string>, std::vector<std::string>> out;
    for (auto& month : sc.months) {
        // person -> theme -> minutes, for occasions starting this month
        std::map<std::string, std::map<std::string, int64_t>> minutes;
        for (auto& [key, m] : marks) {
            auto o = s.occasions.find(key.first);
            if (o == s.occasions.end() || o->second.status == "cancelled" || month_of(o->second.starts_ms) != month) {
                continue;
            }
            if (attended(m)) minutes[key.second][theme(s, o->second.course)] += minutes_of(*m, o->second);
        }
        std::set<std::string> participating;
        for (auto& [qid, q] : s.participations)
            if (q.start_month <= month && (q.end_month == "" || q.end_month >= month)) participating.insert(q.person);
        for (auto& org : orgs)
            for (auto& th : themes)
                for (std::string g : {"all", "woman", "man", "non_binary", "undisclosed"})
                    for (std::string b : {"all", "under_18", "18_29", "30_54", "55_plus", "unknown"}) {
                        int64_t participants = 0, attendees = 0, mins = 0;
                        for (auto& [id, p] : s.persons) {
                            if (!sc.in_scope(p.organisation)) continue;
                            if (org != "all" && p.organisation != org) continue;
                            if (g != "all" && gender_of(p) != g) continue;
                            if (b != "all" && band_of(p, month) != b) continue;
                            if (!participating.count(id)) continue;
                            auto mp = minutes.find(id);
                            if (th == "all") {
                                participants += 1;
                                if (mp != minutes.end()) {
                                    attendees += 1;
                                    for (auto& [t, x] : mp->second) mins += x;
                                }
                            } else if (mp != minutes.end() && mp->second.count(th)) {
                                participants += 1;
                                attendees += 1;
                                mins += mp->second.at(th);
                            }
                        }
                        out[{month, org, th, g, b}] = {std::to_string(participants), std::to_string(attendees),
                                                       fixed2(static_cast<double>(mins) / 60.0)};
                    }
    }
    return out;
}

// Per (occasion, organisation): confirmed persons, attended ones, answers, rating sums and
// distributions; per course the persons and those who completed.
struct OccExpected {
    std::string course, month;
    std::set<std::string> confirmed, attended;
    int64_t answers = 0;
    int64_t sum[3] = {0, 0, 0};
    int64_t dist[3][5] = {};
};
struct Expect {
    std::map<std::pair<std::string, std::string>, OccExpected> rows;  // (occasion, org)
    std::map<std::string, std::map<std::string, bool>> completed;     // course -> person -> all attended
};

Expect expected_occasions(const ReportState& s, const ReportScope& sc) {
    auto marks = current_marks_of(s);
    Expect e;
    auto site_org = [&](const ROccasion& o) {
        auto site = s.sites.find(o.site);
        return site == s.sites.end() ? std::string() : site->second.organisation;
    };
    auto row = [&](const ROccasion& o, const std::string& org) -> OccExpected& {
        auto& r = e.rows[{o.id, org}];
        r.course = o.course;
        r.month = month_of(o.starts_ms);
        return r;
    };
    for (auto& [oid, o] : s.occasions) {
        if (!counted_occasion(o, sc)) continue;
        if (site_org(o) != "" && sc.in_scope(site_org(o))) row(o, site_org(o));
        for (auto& [eid, en] : s.enrolments) {
            if (en.occasion != oid || en.status != "confirmed" || !s.persons.count(en.person)) continue;
            std::string org = site_org(o) != "" ? site_org(o) : s.persons.at(en.person).organisation;
            if (!sc.in_scope(org)) continue;
            auto& r = row(o, org);
            r.confirmed.insert(en.person);
            auto m = marks.find({oid, en.person});
            bool att = m != marks.end() && attended(m->second);
            if (att) r.attended.insert(en.person);
            auto& done = e.completed[o.course];
            done[en.person] = (done.count(en.person) ? done[en.person] : true) && att;
        }
        for (auto& [aid, a] : s.surveys) {
            if (a.occasion != oid || !s.persons.count(a.person)) continue;
            std::string org = site_org(o) != "" ? site_org(o) : s.persons.at(a.person).organisation;
            if (!sc.in_scope(org)) continue;
            auto& r = row(o, org);
            r.answers += 1;
            int v[3] = {a.rating_content, a.rating_usefulness, a.rating_overall};
            for (int k = 0; k < 3; ++k) {
                r.sum[k] += v[k];
                r.dist[k][v[k] - 1] += 1;
            }
        }
    }
    return e;
}

std::map<std::vector<std::string>, std::vector<std::string>> expected_attendance(const ReportState& s,
                                                                                const ReportScope& sc) {
    Expect e = expected_occasions(s, sc);
    std::map<std::vector<std::string>, std::vector<std::string>> out;
    std::map<std::string, std::pair<int64_t, int64_t>> course_sum;
    for (auto& [key, r] : e.rows) {
        int64_t c = static_cast<int64_t>(r.confirmed.size()), a = static_cast<int64_t>(r.attended.size());
        out[{"occasion", r.course, theme(s, r.course), key.first, key.second}] = {
            r.month, std::to_string(c), std::to_string(a), std::to_string(c - a), ratio(a, c), "null", "null", "null"};
        course_sum[r.course].first += c;
        course_sum[r.course].second += a;
    }
    for (auto& [course, cs] : course_sum) {
        int64_t persons = 0, done = 0;
        for (auto& [p, ok] : e.completed[course]) {
            persons += 1;
            done += ok ? 1 : 0;
        }
        auto [c, a] = cs;
        out[{"course", course, theme(s, course), "null", "all"}] = {
            "null", std::to_string(c), std::to_string(a), std::to_string(c - a), ratio(a, c),
            std::to_string(persons), std::to_string(done), ratio(done, persons)};
    }
    return out;
}

std::map<std::vector<std::string>, std::vector<std::string>> expected_surveys(const ReportState& s,
                                                                             const ReportScope& sc) {
    Expect e = expected_occasions(s, sc);
    std::map<std::vector<std::string>, std::vector<std::string>> out;
    std::map<std::string, OccExpected> course;
    std::map<std::string, int64_t> course_attended;
    auto figures = [](const OccExpected& r, int64_t att) {
        std::vector<std::string> v = {std::to_string(r.answers), ratio(r.answers, att)};
        for (int k = 0; k < 3; ++k) v.push_back(ratio(r.sum[k], r.answers));
        for (int k = 0; k < 3; ++k)
            for (int x = 0; x < 5; ++x) v.push_back(std::to_string(r.dist[k][x]));
        return v;
    };
    for (auto& [key, r] : e.rows) {
        auto v = figures(r, static_cast<int64_t>(r.attended.size()));
        v.insert(v.begin(), r.month);
        out[{"occasion", r.course, theme(s, r.course), key.first, key.second}] = v;
        auto& c = course[r.course];
        c.answers += r.answers;
        for (int k = 0; k < 3; ++k) {
            c.sum[k] += r.sum[k];
            for (int x = 0; x < 5; ++x) c.dist[k][x] += r.dist[k][x];
        }
        course_attended[r.course] += static_cast<int64_t>(r.attended.size());
    }
    for (auto& [id, c] : course) {
        auto v = figures(c, course_attended[id]);
        v.insert(v.begin(), "null");
        out[{"course", id, theme(s, id), "null", "all"}] = v;
    }
    return out;
}

std::map<std::vector<std::string>, std::vector<std::string>> expected_deviations(const ReportState& s,
                                                                                const ReportScope& sc) {
    std::map<std::vector<std::string>, std::vector<std::string>> out;
    std::map<std::vector<std::string>, std::pair<int64_t, int64_t>> counts;
    counts[{"count", "all", "all"}] = {0, 0};
    for (auto& [id, d] : s.deviations) {
        if (!sc.in_scope(d.organisation)) continue;
        bool in = false;
        for (auto& m : sc.months) in = in || m == month_of(d.logged_ms);
        if (!in) continue;
        out[{"deviation", d.organisation, d.category, d.id}] = {
            d.occasion == "" ? "null" : d.occasion, d.status, date_of(d.logged_ms),
            d.handled_ms ? date_of(d.handled_ms) : "null", d.description,
            d.action_taken == "" ? "null" : d.action_taken, "null", "null"};
        for (std::string org : {std::string("all"), d.organisation})
            for (std::string cat : {std::string("all"), d.category}) {
                auto& c = counts[{"count", org, cat}];
                (d.status == "handled" ? c.second : c.first) += 1;
            }
    }
    for (auto& [key, c] : counts) {
        auto k = key;
        k.push_back("null");
        out[k] = {"null", "null", "null", "null", "null", "null", std::to_string(c.first), std::to_string(c.second)};
    }
    return out;
}

// ---- figures -----------------------------------------------------------------------------------

std::vector<std::string> some_months(std::mt19937& rng) {
    size_t from = rng() % kMonths.size(), to = from + rng() % (kMonths.size() - from);
    return {kMonths.begin() + static_cast<long>(from), kMonths.begin() + static_cast<long>(to) + 1};
}

TEST(ReportStats, UnsuppressedFiguresEqualAnIndependentComputationOverManySeeds) {
    for (uint32_t seed = 1; seed <= 30; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        ReportState s = random_state(seed);
        std::mt19937 rng(seed);
        ReportScope sc = scope_of(some_months(rng), 1);
        EXPECT_EQ(by_key(build_participants(s, sc), 5), expected_participants(s, sc));
        EXPECT_EQ(by_key(build_attendance(s, sc), 5), expected_attendance(s, sc));
        EXPECT_EQ(by_key(build_surveys(s, sc), 5), expected_surveys(s, sc));
        EXPECT_EQ(by_key(build_deviations(s, sc), 4), expected_deviations(s, sc));
    }
}

TEST(ReportStats, EachReportHasItsDocumentedColumnsAndTheMinCellHeader) {
    ReportState s = random_state(7);
    ReportScope sc = scope_of({"2026-02", "2026-03"}, 4);
    auto expect_header = [&](const ReportTable& t) {
        ASSERT_EQ(t.header.size(), 3u);
        EXPECT_EQ(t.header[0].first, "from");
        EXPECT_EQ(text(t.header[0].second), "2026-02");
        EXPECT_EQ(t.header[1].first, "to");
        EXPECT_EQ(text(t.header[1].second), "2026-03");
        EXPECT_EQ(t.header[2].first, "min_cell");
        EXPECT_EQ(text(t.header[2].second), "4");
    };
    auto p = build_participants(s, sc);
    EXPECT_EQ(p.columns, (std::vector<std::string>{"month", "organisation", "theme", "gender", "age_band",
                                                   "participants", "attendees", "hours"}));
    expect_header(p);
    auto a = build_attendance(s, sc);
    EXPECT_EQ(a.columns, (std::vector<std::string>{"level", "course", "theme", "occasion", "organisation", "month",
                                                   "confirmed", "attended", "absent", "attendance_rate", "persons",
                                                   "completed", "completion_rate"}));
    expect_header(a);
    auto v = build_surveys(s, sc);
    ASSERT_EQ(v.columns.size(), 8u + 3 + 15);
    EXPECT_EQ(v.columns[7], "response_rate");
    EXPECT_EQ(v.columns[8], "rating_content_mean");
    EXPECT_EQ(v.columns[10], "rating_overall_mean");
    EXPECT_EQ(v.columns[11], "rating_content_1");
    EXPECT_EQ(v.columns[25], "rating_overall_5");
    expect_header(v);
    auto d = build_deviations(s, sc);
    EXPECT_EQ(d.columns, (std::vector<std::string>{"record", "organisation", "category", "id", "occasion", "status",
                                                   "logged", "handled", "description", "action_taken",
                                                   "open_count", "handled_count"}));
    expect_header(d);
}

TEST(ReportStats, RowsAreSortedDeterministically) {
    ReportState s = random_state(11);
    ReportScope sc = scope_of(kMonths, 5);
    // Participants: month, then organisation / theme with "all" first, then the fixed orders.
    auto p = build_participants(s, sc);
    const std::vector<std::string> g = {"all", "woman", "man", "non_binary", "undisclosed"};
    const std::vector<std::string> b = {"all", "under_18", "18_29", "30_54", "55_plus", "unknown"};
    auto rank = [](const std::vector<std::string>& v, const std::string& x) {
        return std::find(v.begin(), v.end(), x) - v.begin();
    };
    auto key = [&](const std::vector<Cell>& r) {
        auto all_first = [](const std::string& x) { return x == "all" ? std::string() : x; };
        return std::make_tuple(text(r[0]), all_first(text(r[1])), all_first(text(r[2])), rank(g, text(r[3])),
                               rank(b, text(r[4])));
    };
    for (size_t i = 1; i < p.rows.size(); ++i) EXPECT_LT(key(p.rows[i - 1]), key(p.rows[i])) << i;
    // Attendance: by course, its course row first, then its occasions by start.
    auto a = build_attendance(s, sc);
    for (size_t i = 1; i < a.rows.size(); ++i) {
        std::string prev = text(a.rows[i - 1][1]), cur = text(a.rows[i][1]);
        EXPECT_LE(prev, cur);
        EXPECT_EQ(text(a.rows[i][0]), prev != cur ? "course" : "occasion");
        if (prev == cur && text(a.rows[i - 1][0]) == "occasion") {
            EXPECT_LE(s.occasions.at(text(a.rows[i - 1][3])).starts_ms, s.occasions.at(text(a.rows[i][3])).starts_ms);
        }
    }
    // Same input, same output.
    EXPECT_EQ(by_key(build_surveys(s, sc), 5), by_key(build_surveys(s, sc), 5));
    auto again = build_participants(s, sc);
    ASSERT_EQ(again.rows.size(), p.rows.size());
    for (size_t i = 0; i < p.rows.size(); ++i) EXPECT_EQ(key(again.rows[i]), key(p.rows[i]));
}

// ---- suppression -------------------------------------------------------------------------------

bool hidden(const std::string& v) { return v == ".."; }
bool small(const std::string& v, int m) {
    if (v == ".." || v == "null") return false;
    int64_t n = std::stoll(v);
    return n >= 1 && n < m;
}
int64_t num(const std::string& v) { return std::stoll(v); }

// A group of (total, parts) of one figure, as shown (`shown`) and unsuppressed (`truth`): no
// single suppressed member; when the people add up and the total is shown, the people of the
// suppressed parts (total minus the rest) are 0 or at least m.
void expect_group_safe(const std::vector<std::string>& shown, const std::vector<std::string>& truth, int m,
                       bool people_add_up, const std::string& what) {
    int n = 0;
    for (auto& v : shown) n += hidden(v) ? 1 : 0;
    EXPECT_NE(n, 1) << what << ": one suppressed value is the total minus the rest";
    if (!people_add_up || hidden(shown[0])) return;
    int64_t revealed = num(truth[0]);
    for (size_t i = 1; i < shown.size(); ++i)
        if (!hidden(shown[i])) revealed -= num(shown[i]);
    EXPECT_TRUE(revealed == 0 || revealed >= m) << what << ": the difference reveals " << revealed << " people";
}

using Rows = std::map<std::vector<std::string>, std::vector<std::string>>;

void expect_participants_suppressed(const Rows& shown, const Rows& truth, int m) {
    ASSERT_EQ(shown.size(), truth.size());
    std::set<std::string> months, orgs, themes;
    for (auto& [key, v] : truth) {
        const auto& sv = shown.at(key);
        months.insert(key[0]);
        orgs.insert(key[1]);
        themes.insert(key[2]);
        bool h = hidden(sv[0]);
        EXPECT_EQ(hidden(sv[1]), h);
        EXPECT_EQ(hidden(sv[2]), h) << "hours go with their people";
        if (!h) { EXPECT_EQ(sv, v); }
        if (small(v[0], m) || small(v[1], m)) { EXPECT_TRUE(h) << key[0] << key[1] << key[2] << key[3] << key[4]; }
        if (v[0] == "0") { EXPECT_FALSE(h) << "a count of 0 is shown"; }
    }
    const std::vector<std::string> genders = {"woman", "man", "non_binary", "undisclosed"};
    const std::vector<std::string> bands = {"under_18", "18_29", "30_54", "55_plus", "unknown"};
    // Every group: over genders, age bands, organisations (people add up) and themes (hours do).
    for (auto& [key, v] : truth) {
        auto check = [&](size_t dim, const std::vector<std::string>& parts, bool add_up) {
            if (key[dim] != "all") return;
            // People add up: participants and attendees (hours are in the same cells). Over
            // themes only the hours add up; when no theme has anyone, the total's hours are 0
            // whatever is hidden, and its people stay hidden.
            for (size_t figure : add_up ? std::vector<size_t>{0, 1} : std::vector<size_t>{2}) {
                std::vector<std::string> s = {shown.at(key)[figure]}, t = {v[figure]};
                bool nobody = true;
                for (auto& p : parts) {
                    auto k = key;
                    k[dim] = p;
                    s.push_back(shown.at(k)[figure]);
                    t.push_back(truth.at(k)[figure]);
                    nobody = nobody && truth.at(k)[0] == "0";
                }
                if (!add_up && nobody) continue;
                expect_group_safe(s, t, m, add_up, key[0] + "/" + key[1] + "/" + key[2] + "/" + key[3] + "/" +
                                                      key[4] + " over dimension " + std::to_string(dim));
            }
        };
        std::vector<std::string> o(orgs.begin(), orgs.end()), th(themes.begin(), themes.end());
        o.erase(std::find(o.begin(), o.end(), "all"));
        th.erase(std::find(th.begin(), th.end(), "all"));
        check(1, o, true);
        check(2, th, false);
        check(3, genders, true);
        check(4, bands, true);
    }
}

TEST(ReportStats, ParticipantCellsOfFewPeopleAndEveryDifferenceRevealingThemAreSuppressed) {
    int suppressed = 0, cells = 0;
    for (uint32_t seed = 1; seed <= 12; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        ReportState s = random_state(seed);
        int m = seed % 3 == 0 ? 5 : 2 + static_cast<int>(seed % 6);
        ReportScope sc = scope_of({"2026-02", "2026-03"}, m);
        Rows shown = by_key(build_participants(s, sc), 5);
        Rows truth = by_key(build_participants(s, scope_of(sc.months, 1)), 5);
        expect_participants_suppressed(shown, truth, m);
        for (auto& [k, v] : shown) {
            suppressed += hidden(v[0]) ? 1 : 0;
            cells += 1;
        }
    }
    EXPECT_GT(suppressed, 0);
    EXPECT_LT(suppressed, cells);
}

TEST(ReportStats, AttendanceCellsAreSuppressedWithTheirRatesAndNothingIsRecoverable) {
    for (uint32_t seed = 1; seed <= 25; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        ReportState s = random_state(seed);
        int m = 2 + static_cast<int>(seed % 5);
        ReportScope sc = scope_of(kMonths, m);
        Rows shown = by_key(build_attendance(s, sc), 5), truth = by_key(build_attendance(s, scope_of(kMonths, 1)), 5);
        ASSERT_EQ(shown.size(), truth.size());
        // values: month, confirmed, attended, absent, attendance_rate, persons, completed, completion_rate
        std::map<std::string, std::vector<std::vector<std::string>>> occ_shown, occ_truth;
        for (auto& [key, v] : truth) {
            const auto& sv = shown.at(key);
            for (size_t i = 0; i < v.size(); ++i) {
                if (!hidden(sv[i])) { EXPECT_EQ(sv[i], v[i]); }
                if (small(v[i], m) && i != 4 && i != 7) { EXPECT_TRUE(hidden(sv[i])) << key[3] << " column " << i; }
            }
            expect_group_safe({sv[1], sv[2], sv[3]}, {v[1], v[2], v[3]}, m, true, "confirmed = attended + absent");
            if (!hidden(sv[4])) { EXPECT_FALSE(hidden(sv[1]) || hidden(sv[2]) || hidden(sv[3])); }
            if (key[0] == "occasion") {
                occ_shown[key[1]].push_back(sv);
                occ_truth[key[1]].push_back(v);
                continue;
            }
            // not completed = persons - completed: a cell the reader gets by difference.
            if (!hidden(sv[5]) && !hidden(sv[6])) { EXPECT_FALSE(small(std::to_string(num(v[5]) - num(v[6])), m)); }
            if (!hidden(sv[7])) { EXPECT_FALSE(hidden(sv[5]) || hidden(sv[6])); }
            if (v[5] == v[1]) {  // one enrolment per person: persons = confirmed, completed = attended
                EXPECT_EQ(hidden(sv[5]), hidden(sv[1]));
                EXPECT_EQ(hidden(sv[6]), hidden(sv[2]));
            }
        }
        for (auto& [key, v] : truth) {
            if (key[0] != "course") continue;
            for (size_t figure : {1, 2, 3}) {
                std::vector<std::string> sg = {shown.at(key)[figure]}, tg = {v[figure]};
                for (auto& r : occ_shown[key[1]]) sg.push_back(r[figure]);
                for (auto& r : occ_truth[key[1]]) tg.push_back(r[figure]);
                expect_group_safe(sg, tg, m, true, "course " + key[1] + " over its occasions");
            }
        }
    }
}

TEST(ReportStats, SurveyResultsOfFewAnswersAreSuppressedWithMeansDistributionsAndRates) {
    for (uint32_t seed = 1; seed <= 25; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        ReportState s = random_state(seed);
        int m = 2 + static_cast<int>(seed % 6);
        ReportScope sc = scope_of(kMonths, m);
        Rows shown = by_key(build_surveys(s, sc), 5), truth = by_key(build_surveys(s, scope_of(kMonths, 1)), 5);
        Rows att = by_key(build_attendance(s, sc), 5);
        ASSERT_EQ(shown.size(), truth.size());
        std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> groups;
        for (auto& [key, v] : truth) {
            const auto& sv = shown.at(key);
            bool h = hidden(sv[1]);
            if (small(v[1], m)) { EXPECT_TRUE(h); }
            for (size_t i = 3; i < v.size(); ++i) EXPECT_EQ(hidden(sv[i]), h) << "column " << i;
            for (size_t i = 0; i < v.size(); ++i)
                if (!hidden(sv[i])) { EXPECT_EQ(sv[i], v[i]); }
            // The response rate rests on the attendance report's attended count.
            if (h || hidden(att.at(key)[2])) { EXPECT_TRUE(hidden(sv[2])); }
            auto& g = groups[key[1]];
            if (key[0] == "course") {
                g.first.insert(g.first.begin(), sv[1]);
                g.second.insert(g.second.begin(), v[1]);
            } else {
                g.first.push_back(sv[1]);
                g.second.push_back(v[1]);
            }
        }
        for (auto& [course, g] : groups) expect_group_safe(g.first, g.second, m, true, "answers of " + course);
    }
}

TEST(ReportStats, DeviationsDescribeNoPeopleAndAreNeverSuppressed) {
    ReportState s = random_state(3);
    ReportScope sc = scope_of(kMonths, 50);
    EXPECT_EQ(by_key(build_deviations(s, sc), 4), expected_deviations(s, sc));
}

// ---- erasure and scope -------------------------------------------------------------------------

// Erasure as the store does it: the person's rows renamed under a pseudonym, personal fields
// dropped, the counting fields (organisation, gender, birth year) kept.
ReportState erase(ReportState s, const std::string& person, const std::string& pseudonym) {
    RPerson p = s.persons.at(person);
    s.persons.erase(person);
    p.id = pseudonym;
    p.erased = true;
    p.personal_id.clear();
    p.education_level.clear();
    p.employment_status.clear();
    s.persons[pseudonym] = p;
    for (auto& [id, x] : s.participations)
        if (x.person == person) x.person = pseudonym;
    for (auto& [id, x] : s.enrolments)
        if (x.person == person) x.person = pseudonym;
    for (auto& [id, x] : s.marks)
        if (x.person == person) x.person = pseudonym;
    for (auto& [id, x] : s.surveys)
        if (x.person == person) x.person = pseudonym;
    return s;
}

TEST(ReportStats, AnErasedPersonStillCountsInTheSameCells) {
    for (uint32_t seed = 1; seed <= 10; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        ReportState s = random_state(seed);
        // Erase a few people, the first with participations among them.
        ReportState e = s;
        int erased = 0;
        for (auto& [id, p] : s.persons) {
            if (erased == 3) break;
            e = erase(std::move(e), id, "erased-" + std::to_string(seed) + "-" + id);
            ++erased;
        }
        for (int m : {1, 5}) {
            ReportScope sc = scope_of(kMonths, m);
            EXPECT_EQ(by_key(build_participants(e, sc), 5), by_key(build_participants(s, sc), 5));
            EXPECT_EQ(by_key(build_attendance(e, sc), 5), by_key(build_attendance(s, sc), 5));
            EXPECT_EQ(by_key(build_surveys(e, sc), 5), by_key(build_surveys(s, sc), 5));
        }
    }
    // And they do count: dropping someone instead changes the figures.
    ReportState s = random_state(1);
    ReportState dropped = s;
    for (auto& [id, q] : s.participations) {
        dropped.persons.erase(q.person);
        break;
    }
    ReportScope all = scope_of(kMonths, 1);
    EXPECT_NE(by_key(build_participants(dropped, all), 5), by_key(build_participants(s, all), 5));
}

TEST(ReportStats, AnOrganisationScopeShowsOnlyItsFiguresAndTheyMatchTheFullReport) {
    int foreign_seeds = 0;
    for (uint32_t seed = 1; seed <= 10; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        ReportState s = random_state(seed);
        ReportScope full = scope_of(kMonths, 1), one = scope_of(kMonths, 1, {"org1"});
        Rows pf = by_key(build_participants(s, full), 5), p1 = by_key(build_participants(s, one), 5);
        for (auto& [key, v] : p1) {
            ASSERT_TRUE(key[1] == "all" || key[1] == "org1") << key[1];
            auto k = key;
            k[1] = "org1";
            EXPECT_EQ(v, pf.at(k)) << "the margin of one organisation is that organisation";
        }
        Rows af = by_key(build_attendance(s, full), 5), a1 = by_key(build_attendance(s, one), 5);
        bool foreign_person = false;
        for (auto& [key, v] : a1) {
            if (key[0] == "course") continue;
            EXPECT_EQ(key[4], "org1");
            EXPECT_EQ(v, af.at(key)) << "an occasion's figures do not depend on the scope";
        }
        for (auto& [eid, en] : s.enrolments) {
            auto o = s.occasions.find(en.occasion);
            auto site = s.sites.find(o->second.site);
            if (site != s.sites.end() && site->second.organisation == "org1" && s.persons.count(en.person) &&
                s.persons.at(en.person).organisation != "org1")
                foreign_person = true;
        }
        foreign_seeds += foreign_person ? 1 : 0;
        Rows d1 = by_key(build_deviations(s, one), 4);
        for (auto& [key, v] : d1) EXPECT_TRUE(key[1] == "org1" || key[1] == "all");
        EXPECT_EQ(d1, expected_deviations(s, one));
        // A coordinator's report of one organisation is the same whatever else the store holds.
        ReportState other = s;
        for (auto it = other.persons.begin(); it != other.persons.end();)
            it = it->second.organisation == "org1" ? std::next(it) : other.persons.erase(it);
        Rows p1b = by_key(build_participants(other, one), 5);
        EXPECT_EQ(p1b, p1);
    }
    EXPECT_GT(foreign_seeds, 3) << "the data exercise persons at another organisation's site";
}

}  // namespace
}  // namespace tundra::server
