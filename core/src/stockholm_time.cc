// Europe/Stockholm civil time by the EU summer-time rule (see stockholm_time.h).
#include "tundra/core/stockholm_time.h"

#include <cstdio>

#include "tundra/core/model.h"

namespace tundra {
namespace {
constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kHourMs = 3'600'000;

}  // namespace

int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(int64_t z) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const int64_t m = mp < 10 ? mp + 3 : mp - 9;
    return {yoe + era * 400 + (m <= 2), m, d};
}

namespace {

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// 01:00 UTC on the last Sunday of a month of year y.
int64_t last_sunday_0100_utc(int64_t y, int64_t m) {
    int64_t last = days_from_civil(y, m, 31);  // March and October both have 31 days
    int64_t weekday = ((last % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday (4); Sunday = 0
    return (last - weekday) * kDayMs + kHourMs;
}

CivilDate local_civil(int64_t utc_ms) {
    int64_t local = utc_ms + stockholm_utc_offset_ms(utc_ms);
    return civil_from_days(floor_div(local, kDayMs));
}

bool parse_month(std::string_view month, int64_t& y, int64_t& m) {
    if (!valid_month(month)) return false;
    y = std::stoll(std::string(month.substr(0, 4)));
    m = std::stoll(std::string(month.substr(5, 2)));
    return true;
}

// Local midnight of the first day of (y, m) as UTC. The offset is read an hour before that
// midnight taken as UTC, which is within the same offset period: the clocks never change
// within hours of a month's first midnight (they change on the last Sunday, at 01:00 UTC).
int64_t month_start(int64_t y, int64_t m) {
    int64_t local = days_from_civil(y, m, 1) * kDayMs;
    int64_t guess = local - kHourMs;
    return local - stockholm_utc_offset_ms(guess);
}

std::string month_text(int64_t y, int64_t m) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "%04lld-%02lld", static_cast<long long>(y), static_cast<long long>(m));
    return buf;
}
}  // namespace

int64_t stockholm_to_utc_ms(int64_t y, int64_t m, int64_t d, int64_t hour, int64_t minute) {
    int64_t local = days_from_civil(y, m, d) * kDayMs + hour * kHourMs + minute * 60'000;
    int64_t utc = local - kHourMs;
    return stockholm_utc_offset_ms(utc) == kHourMs ? utc : local - 2 * kHourMs;
}

int64_t stockholm_utc_offset_ms(int64_t utc_ms) {
    int64_t y = civil_from_days(floor_div(utc_ms, kDayMs)).y;
    bool summer = utc_ms >= last_sunday_0100_utc(y, 3) && utc_ms < last_sunday_0100_utc(y, 10);
    return summer ? 2 * kHourMs : kHourMs;
}

std::string stockholm_month(int64_t utc_ms) {
    CivilDate c = local_civil(utc_ms);
    return month_text(c.y, c.m);
}

std::string stockholm_date(int64_t utc_ms) {
    CivilDate c = local_civil(utc_ms);
    char buf[80];
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(c.y),
                  static_cast<long long>(c.m), static_cast<long long>(c.d));
    return buf;
}

std::string stockholm_datetime(int64_t utc_ms) {
    int64_t local = utc_ms + stockholm_utc_offset_ms(utc_ms);
    int64_t minute_of_day = floor_div(local, 60'000) - floor_div(local, kDayMs) * 1440;
    char buf[80];
    std::snprintf(buf, sizeof buf, " %02lld:%02lld", static_cast<long long>(minute_of_day / 60),
                  static_cast<long long>(minute_of_day % 60));
    return stockholm_date(utc_ms) + buf;
}

int64_t stockholm_month_start_ms(std::string_view month) {
    int64_t y, m;
    if (!parse_month(month, y, m)) return 0;
    return month_start(y, m);
}

int64_t stockholm_month_end_ms(std::string_view month) {
    int64_t y, m;
    if (!parse_month(month, y, m)) return 0;
    return m == 12 ? month_start(y + 1, 1) : month_start(y, m + 1);
}

std::string next_month(std::string_view month) {
    int64_t y, m;
    if (!parse_month(month, y, m)) return std::string(month);
    return m == 12 ? month_text(y + 1, 1) : month_text(y, m + 1);
}

std::string previous_month(std::string_view month) {
    int64_t y, m;
    if (!parse_month(month, y, m)) return std::string(month);
    return m == 1 ? month_text(y - 1, 12) : month_text(y, m - 1);
}

}  // namespace tundra
