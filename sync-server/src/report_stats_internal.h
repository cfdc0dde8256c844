// Shared pieces of the statistics reports (report_stats.cc: participants and deviations;
// report_stats_occasions.cc: attendance and surveys). Internal to the server library.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "report_builders.h"

namespace tundra::server::stats {

inline const char* const kAll = "all";
// Fixed orders of the closed categories (the margin "all" comes first in every report).
const std::vector<std::string>& genders();     // woman, man, non_binary, undisclosed
const std::vector<std::string>& age_bands();   // under_18, 18_29, 30_54, 55_plus, unknown

// The months of the scope as a set, for membership tests.
std::set<std::string> month_set(const ReportScope& scope);
// A course's theme; "unspecified" when the course has none (or is unknown).
std::string theme_of(const ReportState& s, const std::string& course);
// The organisation of an occasion: its site's organisation; "" for an online occasion (no
// site, or a site unknown as of the state), whose figures go by the persons' organisations.
std::string occasion_organisation(const ReportState& s, const ROccasion& o);
// A gender as reported: one of genders(), anything else (none recorded) as undisclosed.
std::string reported_gender(const std::string& g);
// Header members every statistics report starts with: from, to, min_cell.
std::vector<std::pair<std::string, Cell>> stats_header(const ReportScope& scope);

}  // namespace tundra::server::stats
