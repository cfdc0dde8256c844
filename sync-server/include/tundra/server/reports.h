// ESF reports (docs/reports.md): the monthly participant ledger and the statistics, computed
// from the store's append-only report facts as of any moment, formatted as CSV or JSON.
// Used by `tundra-server report`, `GET /v1/reports/{name}` and (later) the console, so the
// three give byte-for-byte the same output for the same request and `as_of`.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>

#include "tundra/core/model.h"
#include "tundra/core/status.h"

namespace tundra::server {

// Report names: ledger | participants | attendance | surveys | deviations.
bool is_report_name(std::string_view name);

struct ReportRequest {
    std::string name;
    std::string from_month, to_month;   // "YYYY-MM", inclusive; equal for one month
    std::string organisation;           // empty: every organisation the viewer may see
    std::optional<int64_t> as_of_ms;    // none: now, or a sealed month's seal
    int min_cell = 5;                   // aggregated cells of 1..min_cell-1 people: suppressed
    std::string format = "csv";         // csv | json
    std::string csv_dialect = "excel";  // excel: BOM, ';', CRLF, decimal comma | rfc: ',', '.'
};

// Who asks. Admins see every organisation and the identity numbers in the ledger;
// coordinators the aggregated reports (and the ledger without identity numbers) of their
// organisations only; participants no report.
struct ReportViewer {
    std::string role;         // admin | coordinator
    StrList organisations;    // coordinators: the organisations of their sites
};

// A report as served: the body (CSV or JSON), its media type, and the moment it is as of
// (the same request with `as_of_ms` set to it gives the same bytes).
struct ReportOutput {
    std::string body;
    std::string content_type;  // text/csv; charset=utf-8 | application/json
    int64_t as_of_ms = 0;
};

// "YYYY-MM-DDTHH:MM:SS.mmmZ", the form reports give their as_of in.
std::string format_iso8601_ms(int64_t epoch_ms);

// A request from URL query parameters (already percent-decoded, each named once): month (or
// from and to), organisation, as_of (ISO 8601), format, csv_dialect, min_cell; a name in
// `ignored` is allowed and left to the caller, any other is invalid_argument naming it.
// `GET /v1/reports/{name}` and the console read their queries with it.
Result<ReportRequest> report_request_from_query(std::string name,
                                                const std::map<std::string, std::string>& query,
                                                ReportRequest defaults = {},
                                                std::initializer_list<std::string_view> ignored = {});

// Checks a request (names, months, range of at most 36 months, min_cell >= 1, formats) and
// the viewer's right to it: invalid_argument / forbidden with a message naming the field.
Status check_report_request(const ReportRequest& req, const ReportViewer& viewer);

}  // namespace tundra::server
