// TEMPORARY (helper reports-stats): minimal versions of the report_state.h helpers the
// statistics need, so report_stats.cc builds and is tested before reports-core's
// report_state.cc is merged. Deleted in reports-stats' final commit.
#include <cstdio>

#include "report_state.h"
#include "tundra/core/model.h"

namespace tundra::server {
namespace {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}
constexpr int64_t kDay = 86400000, kHour = 3600000;
// Last Sunday of (y, m) at 01:00 UTC.
int64_t last_sunday_1utc(int64_t y, unsigned m) {
    int64_t last = days_from_civil(y, m, 31);
    int64_t wd = (last + 4) % 7;  // 1970-01-01 was a Thursday (4); 0 = Sunday
    if (wd < 0) wd += 7;
    return (last - wd) * kDay + kHour;
}
int64_t offset_ms(int64_t utc_ms) {
    int64_t y;
    unsigned m, d;
    civil_from_days(utc_ms >= 0 ? utc_ms / kDay : (utc_ms - kDay + 1) / kDay, y, m, d);
    bool summer = utc_ms >= last_sunday_1utc(y, 3) && utc_ms < last_sunday_1utc(y, 10);
    return summer ? 2 * kHour : kHour;
}
std::string fmt_month(int64_t y, unsigned m) {
    char b[16];
    std::snprintf(b, sizeof b, "%04lld-%02u", static_cast<long long>(y), m);
    return b;
}

}  // namespace

std::string stockholm_month(int64_t utc_ms) {
    int64_t local = utc_ms + offset_ms(utc_ms);
    int64_t y;
    unsigned m, d;
    civil_from_days(local >= 0 ? local / kDay : (local - kDay + 1) / kDay, y, m, d);
    return fmt_month(y, m);
}
int64_t stockholm_month_start_ms(const std::string& month) {
    int64_t y = std::stoll(month.substr(0, 4));
    unsigned m = static_cast<unsigned>(std::stoi(month.substr(5, 2)));
    int64_t naive = days_from_civil(y, m, 1) * kDay;
    return naive - offset_ms(naive - kHour);
}
std::string next_month(const std::string& month) {
    int64_t y = std::stoll(month.substr(0, 4));
    unsigned m = static_cast<unsigned>(std::stoi(month.substr(5, 2)));
    return m == 12 ? fmt_month(y + 1, 1) : fmt_month(y, m + 1);
}
std::string previous_month(const std::string& month) {
    int64_t y = std::stoll(month.substr(0, 4));
    unsigned m = static_cast<unsigned>(std::stoi(month.substr(5, 2)));
    return m == 1 ? fmt_month(y - 1, 12) : fmt_month(y, m - 1);
}
int64_t stockholm_month_end_ms(const std::string& month) { return stockholm_month_start_ms(next_month(month)); }

std::string age_band(std::optional<int64_t> birth_year, const std::string& month) {
    if (!birth_year) return "unknown";
    int64_t age = std::stoll(month.substr(0, 4)) - *birth_year;
    if (age < 18) return "under_18";
    if (age < 30) return "18_29";
    if (age < 55) return "30_54";
    return "55_plus";
}
bool mark_attended(const RMark& m) {
    return m.status == "present" || m.status == "late" || m.status == "left_early";
}
int64_t mark_minutes(const RMark& m, const ROccasion& o) {
    return m.minutes ? *m.minutes : (o.ends_ms - o.starts_ms) / 60000;
}

std::map<std::string, const RMark*> ReportState::current_marks() const {
    std::map<std::string, const RMark*> out;
    for (auto& [id, m] : marks) {
        auto& slot = out[m.occasion + '\x1f' + m.person];
        auto key = [](const RMark& x) {
            return std::make_tuple(attendance_source_rank(x.source), x.hlc, x.device, x.id);
        };
        if (!slot || key(*slot) < key(m)) slot = &m;
    }
    return out;
}

}  // namespace tundra::server
