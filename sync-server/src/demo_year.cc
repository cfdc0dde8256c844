// The demo's project year (demo_year.h): who takes part when, which sessions were held, who
// came, what they attested and answered, and what went wrong. Compact records only; the
// import document is written by demo_data.cc.
#include "demo_year.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <random>

#include "tundra/core/stockholm_time.h"

namespace tundra::server::demo {
namespace {
constexpr int64_t kDay = 86'400'000;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void civil_from_days(int64_t z, int& y, int& m, int& d) {
    CivilDate c = tundra::civil_from_days(z);
    y = static_cast<int>(c.y), m = static_cast<int>(c.m), d = static_cast<int>(c.d);
}

int weekday(int64_t days) { return static_cast<int>(((days % 7) + 7 + 3) % 7); }  // 0 = Monday

// Days no course is given: the red days that fall on weekdays most years, and Christmas Eve.
bool holiday(int m, int d) {
    return (m == 1 && (d == 1 || d == 6)) || (m == 5 && d == 1) || (m == 6 && d == 6) ||
           (m == 12 && (d == 24 || d == 25 || d == 26 || d == 31));
}

// Fewer sessions in the summer holidays and around Christmas.
double season(int m) {
    switch (m) {
        case 7: return 0.1;
        case 6: return 0.7;
        case 8: return 0.6;
        case 12: return 0.7;
        case 1: return 0.9;
        default: return 1.0;
    }
}

struct Rand {
    std::mt19937_64 g;
    explicit Rand(uint64_t seed) : g(seed) {}
    uint64_t below(uint64_t n) { return n ? g() % n : 0; }
    int between(int lo, int hi) { return hi <= lo ? lo : lo + static_cast<int>(below(static_cast<uint64_t>(hi - lo + 1))); }
    double unit() { return static_cast<double>(g() >> 11) * 0x1.0p-53; }
    bool chance(double p) { return unit() < p; }
    // An index drawn with the given integer weights.
    template <size_t N>
    int weighted(const int (&w)[N]) {
        int total = 0;
        for (int x : w) total += x;
        int v = static_cast<int>(below(static_cast<uint64_t>(total)));
        for (size_t i = 0; i < N; ++i) {
            if (v < w[i]) return static_cast<int>(i);
            v -= w[i];
        }
        return static_cast<int>(N - 1);
    }
};

struct MonthInfo {
    int y, m;
    int64_t first;             // local day number of the 1st
    std::vector<int64_t> past;  // working days before today
    int workdays = 0;           // working days in the whole month
};

int round5(double v) { return static_cast<int>(std::lround(v / 5.0)) * 5; }

// `k` distinct members of `from`, in random order.
void sample(Rand& r, const std::vector<uint32_t>& from, size_t k, std::vector<uint32_t>& out) {
    out.clear();
    k = std::min(k, from.size());
    if (from.size() <= 3 * k) {
        out = from;
        for (size_t i = 0; i < k; ++i) std::swap(out[i], out[i + r.below(out.size() - i)]);
        out.resize(k);
        return;
    }
    while (out.size() < k) {
        uint32_t p = from[r.below(from.size())];
        if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
}

// A rating from 1 to 5, mostly 4s and 5s.
uint8_t rating(Rand& r) {
    static const int kWeights[] = {2, 6, 14, 38, 40};
    return static_cast<uint8_t>(1 + r.weighted(kWeights));
}

uint8_t near(Rand& r, uint8_t overall) {
    static const int kWeights[] = {15, 70, 15};
    int v = overall + r.weighted(kWeights) - 1;
    return static_cast<uint8_t>(std::clamp(v, 1, 5));
}

class Planner {
public:
    Planner(const YearInput& in) : in_(in), r_(0x7d3a'91c5'5eedULL ^ (uint64_t{in.seed} * 0x9e37'79b9'7f4a'7c15ULL)) {}

    ProjectYear run() {
        calendar();
        participations();
        past_occasions();
        upcoming_occasions();
        attestations();
        deviations();
        return std::move(y_);
    }

private:
    const YearInput& in_;
    Rand r_;
    ProjectYear y_;
    std::vector<MonthInfo> months_;
    int64_t today_ = 0;  // local day number
    int H_ = 1;
    std::vector<int16_t> start_, end_;  // per person; start -1: no participation
    std::vector<int32_t> attended_;     // minutes per person and month (person * H + month)

    bool active(uint32_t p, int month) const {
        return start_[p] >= 0 && start_[p] <= month && (end_[p] < 0 || month <= end_[p]);
    }

    void calendar() {
        int64_t now = in_.now_ms;
        today_ = floor_div(now + stockholm_utc_offset_ms(now), kDay);
        int cy, cm, cd;
        civil_from_days(today_, cy, cm, cd);
        H_ = std::max(1, in_.history_months);
        for (int i = 0; i < H_; ++i) {
            int back = H_ - 1 - i;
            int total = cy * 12 + (cm - 1) - back;
            MonthInfo mi{total / 12, total % 12 + 1, 0, {}, 0};
            mi.first = days_from_civil(mi.y, mi.m, 1);
            int64_t next = days_from_civil(mi.m == 12 ? mi.y + 1 : mi.y, mi.m == 12 ? 1 : mi.m + 1, 1);
            for (int64_t d = mi.first; d < next; ++d) {
                if (weekday(d) >= 5 || holiday(mi.m, static_cast<int>(d - mi.first + 1))) continue;
                ++mi.workdays;
                if (d < today_) mi.past.push_back(d);
            }
            char name[24];
            std::snprintf(name, sizeof name, "%04d-%02d", mi.y, mi.m);
            y_.months.push_back(name);
            months_.push_back(std::move(mi));
        }
    }

    // Most start in the project's first months, some later; some leave before the end.
    void participations() {
        size_t n = in_.persons.size();
        start_.assign(n, -1);
        end_.assign(n, -1);
        for (uint32_t p = 0; p < n; ++p) {
            int16_t s = -1, e = -1;
            if (in_.persons[p].demo_user) {
                s = 0;
            } else if (r_.chance(0.92)) {
                static const int kWhen[] = {70, 15, 15};
                switch (r_.weighted(kWhen)) {
                    case 0: s = 0; break;
                    case 1: s = static_cast<int16_t>(r_.between(1, 2)); break;
                    default: s = static_cast<int16_t>(r_.between(3, H_ - 2)); break;
                }
                s = static_cast<int16_t>(std::min(static_cast<int>(s), H_ - 1));
                if (s <= H_ - 4 && r_.chance(0.13)) e = static_cast<int16_t>(r_.between(s + 2, H_ - 2));
            }
            start_[p] = s;
            end_[p] = e;
            if (s >= 0) y_.participations.push_back({p, s, e});
        }
    }

    // Sessions already held (or cancelled) in each month, in each organisation in proportion
    // to its participants that month, until the marks reach the target.
    void past_occasions() {
        const size_t orgs = in_.org_sites.size();
        const size_t P = in_.persons.size();
        attended_.assign(P * static_cast<size_t>(H_), 0);
        std::vector<double> weight(orgs * static_cast<size_t>(H_), 0.0);
        for (uint32_t p = 0; p < P; ++p)
            for (int i = std::max<int>(0, start_[p]); start_[p] >= 0 && i < H_ && (end_[p] < 0 || i <= end_[p]); ++i)
                weight[in_.persons[p].org * static_cast<size_t>(H_) + static_cast<size_t>(i)] += 1.0;
        double sum = 0;
        for (size_t o = 0; o < orgs; ++o)
            for (int i = 0; i < H_; ++i) {
                auto& mi = months_[static_cast<size_t>(i)];
                double& w = weight[o * static_cast<size_t>(H_) + static_cast<size_t>(i)];
                w *= season(mi.m) * (mi.workdays ? static_cast<double>(mi.past.size()) / mi.workdays : 0.0);
                sum += w;
            }
        double target = in_.target_marks > 0 ? static_cast<double>(in_.target_marks) : 6.0 * static_cast<double>(P);
        if (sum <= 0 || in_.courses.empty()) return;

        std::vector<std::vector<uint32_t>> act(orgs);
        std::vector<uint32_t> chosen;
        // What a month's last session overshoots its share is taken from the next month's, so
        // the year's marks come to the target.
        std::vector<double> carry(orgs, 0.0);
        for (int i = 0; i < H_; ++i) {
            auto& mi = months_[static_cast<size_t>(i)];
            for (auto& a : act) a.clear();
            for (uint32_t p = 0; p < P; ++p)
                if (active(p, i)) act[in_.persons[p].org].push_back(p);
            size_t first = y_.occasions.size();
            std::vector<uint16_t> fill;
            for (uint32_t o = 0; o < orgs; ++o) {
                double& budget = carry[o];
                budget += target * weight[o * static_cast<size_t>(H_) + static_cast<size_t>(i)] / sum;
                while (!act[o].empty() && !mi.past.empty() && budget > 0) {
                    static const uint16_t kCapacities[] = {8, 10, 12, 12, 15, 16, 20};
                    uint16_t cap = kCapacities[r_.below(std::size(kCapacities))];
                    auto n = static_cast<uint16_t>(std::lround(cap * (0.6 + 0.4 * r_.unit())));
                    n = static_cast<uint16_t>(std::min<size_t>({n, cap, act[o].size()}));
                    n = std::max<uint16_t>(1, n);
                    bool cancelled = r_.chance(0.03);
                    if (!cancelled) budget -= n;
                    y_.occasions.push_back(occasion(o, mi.past[r_.below(mi.past.size())], cap, cancelled));
                    fill.push_back(n);
                }
            }
            // Within the month, by start; then the people who came.
            std::vector<size_t> order(y_.occasions.size() - first);
            for (size_t k = 0; k < order.size(); ++k) order[k] = k;
            std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
                return y_.occasions[first + a].starts_ms < y_.occasions[first + b].starts_ms;
            });
            std::vector<YearOccasion> sorted;
            std::vector<uint16_t> sorted_fill;
            for (size_t k : order) {
                sorted.push_back(y_.occasions[first + k]);
                sorted_fill.push_back(fill[k]);
            }
            std::copy(sorted.begin(), sorted.end(), y_.occasions.begin() + static_cast<std::ptrdiff_t>(first));
            for (size_t k = 0; k < sorted.size(); ++k) {
                sample(r_, act[sorted[k].org], sorted_fill[k], chosen);
                for (uint32_t p : chosen) enrol_past(static_cast<uint32_t>(first + k), p, i);
            }
        }
    }

    YearOccasion occasion(uint32_t org, int64_t local_day, uint16_t cap, bool cancelled) {
        auto course = static_cast<uint32_t>(r_.below(in_.courses.size()));
        const YearCourse& c = in_.courses[course];
        int dur = std::clamp(c.duration_minutes, 30, 480);
        // Working hours: starts on the half hour from 08:00, ends by 17:00.
        int latest = std::max(8 * 60, 17 * 60 - dur);
        int start = 8 * 60 + 30 * static_cast<int>(r_.below(static_cast<uint64_t>((latest - 8 * 60) / 30 + 1)));
        int y, m, d;
        civil_from_days(local_day, y, m, d);
        int64_t starts = stockholm_to_utc_ms(y, m, d, start / 60, start % 60);
        int32_t site = -1;
        if (!c.online && !in_.org_sites[org].empty())
            site = static_cast<int32_t>(in_.org_sites[org][r_.below(in_.org_sites[org].size())]);
        return {course, org, site, starts, starts + int64_t{dur} * 60'000, cap, cancelled};
    }

    void enrol_past(uint32_t occ, uint32_t p, int month) {
        const YearOccasion& o = y_.occasions[occ];
        YearEnrolment e{occ, p, Mark::none, o.cancelled, -1, {0, 0, 0}, -1};
        if (!o.cancelled) {
            const int len = static_cast<int>((o.ends_ms - o.starts_ms) / 60'000);
            static const int kMarks[] = {80, 6, 5, 5, 4};
            e.mark = static_cast<Mark>(1 + r_.weighted(kMarks));
            int minutes = len;
            switch (e.mark) {
                case Mark::present:
                    if (r_.chance(0.35)) e.minutes = static_cast<int16_t>(len);
                    break;
                case Mark::late:
                    minutes = std::max(5, len - 5 * r_.between(2, 6));
                    e.minutes = static_cast<int16_t>(minutes);
                    break;
                case Mark::left_early:
                    minutes = std::max(5, round5(len * (0.4 + 0.4 * r_.unit())));
                    e.minutes = static_cast<int16_t>(minutes);
                    break;
                default: minutes = 0; break;
            }
            ++y_.marks;
            attended_[p * static_cast<size_t>(H_) + static_cast<size_t>(month)] += minutes;
            // About half answer the survey; fewer have done so for the last few days' sessions.
            bool recent = o.ends_ms > in_.now_ms - 3 * kDay;
            if (minutes > 0 && r_.chance(recent ? 0.25 : 0.5)) {
                uint8_t overall = rating(r_);
                e.rating[0] = near(r_, overall);
                e.rating[1] = near(r_, overall);
                e.rating[2] = overall;
                if (r_.chance(0.18)) {
                    // Comments follow the rating: kind words for 4-5, mixed for 3, complaints below.
                    size_t band = overall >= 4 ? 0 : overall == 3 ? 1 : 2;
                    e.comment = static_cast<int16_t>(band * 6 + r_.below(6));
                }
            }
        }
        y_.enrolments.push_back(e);
    }

    // Six weeks ahead, about as many sessions as a normal month and a half, partly booked by
    // people whose participation is open (the demo logins keep a clean slate).
    void upcoming_occasions() {
        const size_t orgs = in_.org_sites.size();
        if (in_.courses.empty() || orgs == 0) return;
        int64_t past = 0;
        for (auto& o : y_.occasions) past += !o.cancelled;
        double months = 0;
        for (auto& mi : months_) months += mi.workdays ? static_cast<double>(mi.past.size()) / mi.workdays : 0.0;
        auto n = static_cast<int64_t>(std::lround(1.5 * static_cast<double>(past) / std::max(1.0, months)));
        std::vector<std::vector<uint32_t>> open(orgs);
        for (uint32_t p = 0; p < in_.persons.size(); ++p)
            if (start_[p] >= 0 && end_[p] < 0 && !in_.persons[p].demo_user) open[in_.persons[p].org].push_back(p);
        std::vector<int64_t> days;
        for (int64_t d = today_ + 2; d <= today_ + 42; ++d) {
            int y, m, dd;
            civil_from_days(d, y, m, dd);
            if (weekday(d) < 5 && !holiday(m, dd)) days.push_back(d);
        }
        std::vector<uint32_t> chosen;
        size_t first = y_.occasions.size();
        for (int64_t k = 0; k < n && !days.empty(); ++k) {
            uint32_t org = in_.persons.empty() ? 0 : in_.persons[r_.below(in_.persons.size())].org;
            static const uint16_t kCapacities[] = {8, 10, 12, 12, 15, 16, 20};
            uint16_t cap = kCapacities[r_.below(std::size(kCapacities))];
            y_.occasions.push_back(occasion(org, days[r_.below(days.size())], cap, false));
        }
        std::sort(y_.occasions.begin() + static_cast<std::ptrdiff_t>(first), y_.occasions.end(),
                  [](const YearOccasion& a, const YearOccasion& b) { return a.starts_ms < b.starts_ms; });
        for (size_t k = first; k < y_.occasions.size(); ++k) {
            const YearOccasion& o = y_.occasions[k];
            auto want = static_cast<size_t>(std::lround(o.capacity * (0.25 + 0.35 * r_.unit())));
            sample(r_, open[o.org], want, chosen);
            for (uint32_t p : chosen)
                y_.enrolments.push_back({static_cast<uint32_t>(k), p, Mark::none, false, -1, {0, 0, 0}, -1});
        }
    }

    // Months before the current one: most participants confirm their minutes, close to what
    // the marks say (some add self-study, some round); last month's are still coming in.
    void attestations() {
        for (int i = 0; i + 1 < H_; ++i) {
            bool last = i + 2 == H_;
            for (uint32_t p = 0; p < in_.persons.size(); ++p) {
                int32_t a = attended_[p * static_cast<size_t>(H_) + static_cast<size_t>(i)];
                if (a <= 0) continue;
                // The demo logins have attested all but last month, so `todo` has one to show.
                if (in_.persons[p].demo_user ? last : !r_.chance(last ? 0.55 : 0.85)) continue;
                static const int kHow[] = {65, 25, 10};
                int32_t minutes = a;
                switch (r_.weighted(kHow)) {
                    case 0: break;
                    case 1: minutes = std::max(15, a + round5(a * (r_.unit() * 0.3 - 0.15))); break;
                    default: minutes = a + 15 * r_.between(2, 8); break;
                }
                y_.attestations.push_back({p, static_cast<int16_t>(i), minutes});
            }
        }
    }

    void deviation(uint32_t org, int32_t occ, Category c, int64_t at_ms) {
        bool old = at_ms < in_.now_ms - 21 * kDay;
        bool handled = r_.chance(occ < 0 ? 0.7 : old ? 0.85 : 0.3);
        auto text = static_cast<uint16_t>(r_.below(deviation_texts(c).size()));
        auto action = static_cast<int16_t>(handled ? static_cast<int>(r_.below(deviation_actions(c).size())) : -1);
        y_.deviations.push_back({org, occ, c, text, action});
    }

    // Every cancelled session is logged; a few held ones had a problem; now and then something
    // that concerns no session. Every category occurs at least once.
    void deviations() {
        bool seen[kCategories] = {};
        int32_t last_held = -1;
        for (size_t k = 0; k < y_.occasions.size(); ++k) {
            const YearOccasion& o = y_.occasions[k];
            if (o.ends_ms >= in_.now_ms) break;
            auto occ = static_cast<int32_t>(k);
            Category c;
            if (o.cancelled) {
                if (!r_.chance(0.9)) continue;
                c = Category::cancelled_session;
            } else {
                last_held = occ;
                if (!r_.chance(0.06)) continue;
                const int kOnline[] = {0, 45, 20, 15, 8, 12}, kOnSite[] = {0, 12, 30, 20, 18, 20};
                c = static_cast<Category>(r_.weighted(o.site < 0 ? kOnline : kOnSite));
            }
            seen[static_cast<int>(c)] = true;
            deviation(o.org, occ, c, o.starts_ms);
        }
        const size_t orgs = in_.org_sites.size();
        for (uint32_t org = 0; org < orgs; ++org)
            for (int i = 0; i < H_; i += 3)
                if (r_.chance(0.12)) {
                    seen[static_cast<int>(Category::other)] = true;
                    deviation(org, -1, Category::other, in_.now_ms - (H_ - i) * 30 * kDay);
                }
        for (int c = 0; c < kCategories; ++c) {
            if (seen[c] || orgs == 0) continue;
            if (last_held >= 0 && c != static_cast<int>(Category::cancelled_session)) {
                const YearOccasion& o = y_.occasions[static_cast<size_t>(last_held)];
                deviation(o.org, last_held, static_cast<Category>(c), o.starts_ms);
            } else {
                deviation(static_cast<uint32_t>(r_.below(orgs)), -1, static_cast<Category>(c), in_.now_ms);
            }
        }
    }
};
}  // namespace

int personnummer_check_digit(const std::string& nine) {
    int sum = 0;
    for (size_t i = 0; i < nine.size(); ++i) {
        int v = (nine[i] - '0') * (i % 2 == 0 ? 2 : 1);
        sum += v / 10 + v % 10;
    }
    return (10 - sum % 10) % 10;
}

bool personnummer_ok(const std::string& id) {
    if (id.size() != 13 || id[8] != '-') return false;
    for (size_t i = 0; i < id.size(); ++i)
        if (i != 8 && (id[i] < '0' || id[i] > '9')) return false;
    std::string nine = id.substr(2, 6) + id.substr(9, 3);
    return personnummer_check_digit(nine) == id[12] - '0';
}

const char* mark_name(Mark m) {
    static const char* kNames[] = {"unmarked", "present", "late", "left_early", "absent", "excused"};
    return kNames[static_cast<int>(m)];
}

const char* category_name(Category c) {
    static const char* kNames[] = {"cancelled_session", "technical",     "attendance",
                                   "content",           "accessibility", "other"};
    return kNames[static_cast<int>(c)];
}

ProjectYear plan_year(const YearInput& in) { return Planner(in).run(); }

// Six comments per rating band: 4-5, 3, 1-2 (Planner::enrol_past relies on the layout).
const std::vector<const char*>& survey_comments() {
    static const std::vector<const char*> k = {
        "Mycket givande, tack!",
        "Bra exempel från vardagen i hemtjänsten.",
        "Äntligen fick vi tid att prata om arbetsmiljön.",
        "Kursledaren var lyhörd och engagerad.",
        "Jag tar med mig övningarna till nästa arbetsplatsträff.",
        "Skönt att träffa kollegor från andra enheter.",
        "Bra innehåll men för lite tid för frågor.",
        "Lite för mycket teori för min del.",
        "Hade gärna fått materialet i förväg.",
        "Okej, men mycket var repetition.",
        "Bra, men lokalen var för trång.",
        "Intressant, men svårt att hinna läsa på mellan passen.",
        "Ljudet var dåligt och det var svårt att höra.",
        "Fick gå innan slutet, ingen kunde ta över brukarna.",
        "Innehållet kändes inte relevant för mitt yrke.",
        "För snabbt tempo, jag hängde inte med.",
        "Länken fungerade inte förrän efter en halvtimme.",
        "Önskar att kursen hölls närmare, resan tog tre timmar.",
    };
    return k;
}

const std::vector<const char*>& deviation_texts(Category c) {
    static const std::vector<const char*> k[kCategories] = {
        {"Kursledaren sjuk, tillfället ställdes in.",
         "Inställt på grund av snöoväder, vägen över fjället stängd.",
         "För få anmälda, tillfället ställdes in.",
         "Lokalen var dubbelbokad."},
        {"Videolänken bröts efter 40 minuter.",
         "Deltagarna på distans hörde inte kursledaren.",
         "Inloggningen till lärplattformen krånglade för flera.",
         "Projektorn i lokalen fungerade inte."},
        {"Flera deltagare kunde inte gå ifrån sina arbetspass.",
         "Ingen vikarie fanns, tre deltagare uteblev.",
         "Deltagare kom sent på grund av förseningar med färdtjänsten."},
        {"Materialet fanns inte på lättläst svenska.",
         "Övningarna passade inte hemtjänstens vardag.",
         "Kursledaren hann inte gå igenom hela innehållet."},
        {"Lokalen saknade hörslinga.",
         "Ingen ramp vid entrén, en deltagare kom inte in.",
         "Presentationen saknade textning för deltagare med hörselnedsättning."},
        {"Deltagarlistan från personalavdelningen var inte uppdaterad.",
         "Parkeringen var full, deltagare missade början.",
         "Fika beställdes men levererades inte."},
    };
    return k[static_cast<int>(c)];
}

const std::vector<const char*>& deviation_actions(Category c) {
    static const std::vector<const char*> k[kCategories] = {
        {"Nytt tillfälle bokat, deltagarna ombokade.", "Deltagarna erbjöds plats på nästa tillfälle."},
        {"Bytt till reservlänk; IT har sett över utrustningen.", "Inspelningen skickades till deltagarna."},
        {"Chefen planerar in utbildningstid i schemat.", "Vikarier bokas i förväg till nästa tillfälle."},
        {"Kursledaren har anpassat materialet.", "Återkoppling skickad till utbildningsanordnaren."},
        {"Flyttat till en tillgänglig lokal.", "Hörslinga beställd; textning används framöver."},
        {"Rutinen för deltagarlistor är uppdaterad.", "Kontaktat lokalansvarig."},
    };
    return k[static_cast<int>(c)];
}

}  // namespace tundra::server::demo
