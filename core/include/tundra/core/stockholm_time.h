// Europe/Stockholm civil time without a time zone database: CET (UTC+1), and CEST (UTC+2)
// from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October (the
// EU rule, in force since 1996). Months and days the programme reports and shows are these.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tundra {

// The proleptic Gregorian calendar (H. Hinnant): days since 1970-01-01 of a date, and back.
struct CivilDate {
    int64_t y, m, d;
};
int64_t days_from_civil(int64_t y, int64_t m, int64_t d);
CivilDate civil_from_days(int64_t days);
// A wall-clock time in Sweden as a UTC instant (a time skipped or repeated at a change of
// the clocks resolves to the earlier offset's reading).
int64_t stockholm_to_utc_ms(int64_t y, int64_t m, int64_t d, int64_t hour, int64_t minute);

// Swedish time's offset from UTC at an instant: 3'600'000 (CET) or 7'200'000 ms (CEST).
int64_t stockholm_utc_offset_ms(int64_t utc_ms);
// The month ("YYYY-MM") and the day ("YYYY-MM-DD") an instant falls in, in Swedish time.
std::string stockholm_month(int64_t utc_ms);
std::string stockholm_date(int64_t utc_ms);
// "YYYY-MM-DD HH:MM" in Swedish time, for people to read.
std::string stockholm_datetime(int64_t utc_ms);
// The UTC instants a month ("YYYY-MM", see valid_month) starts and ends at: [start, end).
// A text that is not a month gives 0.
int64_t stockholm_month_start_ms(std::string_view month);
int64_t stockholm_month_end_ms(std::string_view month);
// The month after / before one ("2026-12" -> "2027-01"); an invalid month is returned as is.
std::string next_month(std::string_view month);
std::string previous_month(std::string_view month);

}  // namespace tundra
