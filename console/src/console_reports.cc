// ESF reports exactly as the store makes them (store.report_for: the same bytes as
// `tundra-server report` for the same as_of), sealed months, and the audit trail.
#include <charconv>

#include "console_routes.h"
#include "tundra/core/json.h"
#include "tundra/server/reports.h"

namespace tundra::console {
namespace {
Result<server::ReportRequest> report_request(const Call& c) {
    server::ReportRequest r;
    r.name = c.params[0];
    r.format = "json";  // the page's default; downloads ask for csv
    std::string month;
    for (auto& [key, value] : c.query) {
        if (key == "month") month = value;
        else if (key == "from") r.from_month = value;
        else if (key == "to") r.to_month = value;
        else if (key == "organisation") r.organisation = value;
        else if (key == "format") r.format = value;
        else if (key == "csv_dialect") r.csv_dialect = value;
        else if (key == "download") {
            if (value != "1" && value != "0") return Status(Errc::invalid_argument, "download: 1 or 0");
        } else if (key == "as_of") {
            auto t = parse_iso8601(value);
            if (!t) return Status(Errc::invalid_argument, "as_of: " + t.status().message());
            r.as_of_ms = t.value();
        } else if (key == "min_cell") {
            int v = 0;
            auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
            if (ec != std::errc() || p != value.data() + value.size())
                return Status(Errc::invalid_argument, "min_cell: expected a whole number");
            r.min_cell = v;
        } else {
            return Status(Errc::invalid_argument, key + ": unknown parameter");
        }
    }
    if (!month.empty()) {
        if (!r.from_month.empty() || !r.to_month.empty())
            return Status(Errc::invalid_argument, "month: give month, or from and to, not both");
        r.from_month = r.to_month = month;
    } else if (r.from_month.empty() || r.to_month.empty()) {
        return Status(Errc::invalid_argument, "month: required (or from and to)");
    }
    return r;
}

// A file name's safe characters.
std::string safe(std::string_view s) {
    std::string out;
    for (char ch : s)
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')
            out += ch;
    return out;
}
}  // namespace

HttpResponse report(Call& c) {
    auto rr = report_request(c);
    if (!rr) return error_json(rr.status());
    auto out = c.store.report_for(c.who(), rr.value());
    if (!out) return error_json(out.status());
    HttpResponse r;
    r.status = 200;
    r.headers.emplace_back("Content-Type", out->content_type);
    r.headers.emplace_back("X-Report-As-Of", server::format_iso8601_ms(out->as_of_ms));
    if (auto it = c.query.find("download"); it != c.query.end() && it->second == "1") {
        std::string period = rr->from_month == rr->to_month ? rr->from_month : rr->from_month + "_" + rr->to_month;
        std::string name = safe(rr->name) + "-" + safe(period);
        if (!rr->organisation.empty()) name += "-" + safe(rr->organisation);
        name += rr->format == "json" ? ".json" : ".csv";
        r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + "\"");
    }
    r.body = std::move(out->body);
    return r;
}

// Sealed months, from the audit trail's seal_month entries (written with each seal).
HttpResponse seals(Call& c) {
    auto trail = c.store.audit_trail(1'000'000);
    if (!trail) return error_json(trail.status());
    JsonOut out;
    out.begin();
    out.begin_array("seals");
    for (auto& e : trail.value()) {
        if (e.operation != "seal_month") continue;
        out.begin();
        out.str("month", e.target);
        out.num("sealed_ms", e.at_ms);
        out.str("actor", e.actor);
        out.end();
    }
    out.end_array();
    out.end();
    return ok_json(out);
}

HttpResponse seal(Call& c) {
    TUNDRA_TRY_RESPONSE(only_fields(c, {"month"}));
    std::string month;
    TUNDRA_TRY_RESPONSE(c.body.text("month", month, true, 7));
    TUNDRA_TRY_RESPONSE(c.store.seal_month(month, c.actor()));
    JsonOut out;
    out.begin();
    out.str("month", month);
    out.num("sealed_ms", c.now_ms);
    out.end();
    return ok_json(out);
}

HttpResponse audit(Call& c) {
    size_t limit = 200;
    if (auto it = c.query.find("limit"); it != c.query.end()) {
        auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), limit);
        if (ec != std::errc() || p != it->second.data() + it->second.size() || limit == 0 || limit > 5000)
            return error_json(Status(Errc::invalid_argument, "limit: a whole number from 1 to 5000"));
    }
    auto trail = c.store.audit_trail(limit);
    if (!trail) return error_json(trail.status());
    JsonOut out;
    out.begin();
    out.begin_array("rows");
    for (auto& e : trail.value()) {
        out.begin();
        out.num("at_ms", e.at_ms);
        out.str("actor", e.actor);
        out.str("operation", e.operation);
        out.str("target", e.target);
        out.str("detail", e.detail);
        out.end();
    }
    out.end_array();
    out.end();
    return ok_json(out);
}

}  // namespace tundra::console
