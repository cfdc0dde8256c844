// One function per report: a pure function of a ReportState and a scope (docs/reports.md).
// report_ledger.cc builds the ledger; report_stats.cc (participants, deviations) and
// report_stats_occasions.cc (attendance, surveys) the statistics, with small-cell suppression
// (report_suppress.h); docs/reports.md, "Statistics reports".
#pragma once

#include <set>
#include <string>
#include <vector>

#include "report_state.h"
#include "report_table.h"

namespace tundra::server {

struct ReportScope {
    std::vector<std::string> months;     // "YYYY-MM", ascending, at least one
    std::set<std::string> organisations;  // empty: all
    int min_cell = 5;                     // cells describing 1..min_cell-1 people are suppressed
    bool personal_ids = false;            // the ledger may carry identity numbers (admins)
    bool in_scope(const std::string& organisation) const {
        return organisations.empty() || organisations.count(organisation) > 0;
    }
};

// The person-level ledger of one month: columns person, organisation, gender, age_band,
// education_level, employment_status, start_month, end_month, attended_minutes,
// attested_minutes, personal_id; rows sorted by person.
// A person in several overlapping participations has one row: the earliest start_month, and
// end_month null if any is open, else the latest. Erased persons: the pseudonym, personal
// fields null, minutes kept.
ReportTable build_ledger(const ReportState& s, const std::string& month, const ReportScope& scope);
const std::vector<std::string>& ledger_columns();

// Aggregated statistics over every month of the scope, suppressed.
ReportTable build_participants(const ReportState& s, const ReportScope& scope);
ReportTable build_attendance(const ReportState& s, const ReportScope& scope);
ReportTable build_surveys(const ReportState& s, const ReportScope& scope);
ReportTable build_deviations(const ReportState& s, const ReportScope& scope);

}  // namespace tundra::server
