// Europe/Stockholm months and days by the EU summer-time rule, at the edges that matter.
#include <gtest/gtest.h>

#include "tundra/core/model.h"
#include "tundra/core/stockholm_time.h"

using namespace tundra;

namespace {
int64_t at(const char* iso) { return parse_iso8601(iso).value(); }
}  // namespace

TEST(StockholmTime, WinterIsUtcPlusOneAndSummerUtcPlusTwoChangingAtOneUtcOnTheLastSundays) {
    // 2026: summer time from Sunday 29 March to Sunday 25 October, 01:00 UTC.
    EXPECT_EQ(stockholm_utc_offset_ms(at("2026-03-29T00:59:59Z")), 3'600'000);
    EXPECT_EQ(stockholm_utc_offset_ms(at("2026-03-29T01:00:00Z")), 7'200'000);
    EXPECT_EQ(stockholm_utc_offset_ms(at("2026-10-25T00:59:59Z")), 7'200'000);
    EXPECT_EQ(stockholm_utc_offset_ms(at("2026-10-25T01:00:00Z")), 3'600'000);
    // 2027: 28 March and 31 October (a month whose last day is the Sunday).
    EXPECT_EQ(stockholm_utc_offset_ms(at("2027-03-28T01:00:00Z")), 7'200'000);
    EXPECT_EQ(stockholm_utc_offset_ms(at("2027-10-31T00:30:00Z")), 7'200'000);
    EXPECT_EQ(stockholm_utc_offset_ms(at("2027-10-31T01:00:00Z")), 3'600'000);
}

TEST(StockholmTime, AnInstantLateOnTheLastUtcDayBelongsToTheNextSwedishMonth) {
    EXPECT_EQ(stockholm_month(at("2026-12-31T22:59:59Z")), "2026-12");
    EXPECT_EQ(stockholm_month(at("2026-12-31T23:00:00Z")), "2027-01");  // CET
    EXPECT_EQ(stockholm_month(at("2026-06-30T21:59:59Z")), "2026-06");
    EXPECT_EQ(stockholm_month(at("2026-06-30T22:00:00Z")), "2026-07");  // CEST
    EXPECT_EQ(stockholm_date(at("2026-03-31T22:30:00Z")), "2026-04-01");
    EXPECT_EQ(stockholm_date(at("2026-03-01T00:00:00Z")), "2026-03-01");
    EXPECT_EQ(stockholm_datetime(at("2026-12-01T08:05:00Z")), "2026-12-01 09:05");
    EXPECT_EQ(stockholm_datetime(at("2026-07-01T21:59:00Z")), "2026-07-01 23:59");
}

TEST(StockholmTime, MonthBoundsAreSwedishMidnightsAndFollowTheOffsetOfThatDate) {
    EXPECT_EQ(stockholm_month_start_ms("2026-01"), at("2025-12-31T23:00:00Z"));
    EXPECT_EQ(stockholm_month_end_ms("2026-01"), at("2026-01-31T23:00:00Z"));
    EXPECT_EQ(stockholm_month_start_ms("2026-04"), at("2026-03-31T22:00:00Z"));
    EXPECT_EQ(stockholm_month_start_ms("2026-10"), at("2026-09-30T22:00:00Z"));
    EXPECT_EQ(stockholm_month_end_ms("2026-10"), at("2026-10-31T23:00:00Z"));
    EXPECT_EQ(stockholm_month_end_ms("2026-12"), at("2026-12-31T23:00:00Z"));
    EXPECT_EQ(stockholm_month_start_ms("2026-13"), 0);
    // Every instant of a month maps back to it, hour by hour over two years.
    for (int64_t t = at("2026-01-01T00:00:00Z"); t < at("2028-01-01T00:00:00Z"); t += 3'600'000) {
        std::string m = stockholm_month(t);
        ASSERT_LE(stockholm_month_start_ms(m), t) << format_iso8601(t);
        ASSERT_GT(stockholm_month_end_ms(m), t) << format_iso8601(t);
    }
}

TEST(StockholmTime, NextAndPreviousMonthCrossYears) {
    EXPECT_EQ(next_month("2026-12"), "2027-01");
    EXPECT_EQ(next_month("2026-09"), "2026-10");
    EXPECT_EQ(previous_month("2027-01"), "2026-12");
    EXPECT_EQ(previous_month("2026-10"), "2026-09");
}
