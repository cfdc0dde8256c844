// TEMPORARY (reports-core branch only; deleted before the final commit): lets this branch link
// until report_stats.cc from the reports-stats helper is merged.
#include "report_builders.h"

namespace tundra::server {
namespace {
ReportTable empty_table(std::vector<std::string> columns) {
    ReportTable t;
    t.columns = std::move(columns);
    return t;
}
}  // namespace
ReportTable build_participants(const ReportState&, const ReportScope&) { return empty_table({"month"}); }
ReportTable build_attendance(const ReportState&, const ReportScope&) { return empty_table({"occasion"}); }
ReportTable build_surveys(const ReportState&, const ReportScope&) { return empty_table({"occasion"}); }
ReportTable build_deviations(const ReportState&, const ReportScope&) { return empty_table({"deviation"}); }
}  // namespace tundra::server
