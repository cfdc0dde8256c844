// ESF reports exactly as the store makes them (store.report_for: the same bytes as
// `tundra-server report` for the same as_of), sealed months, and the audit trail.
#include <charconv>

#include "console_routes.h"
#include "tundra/core/json.h"
#include "tundra/server/reports.h"

namespace tundra::console {
namespace {
Result<server::ReportRequest> report_request(const Call& c) {
    if (auto it = c.query.find("download"); it != c.query.end() && it->second != "1" && it->second != "0")
        return Status(Errc::invalid_argument, "download: 1 or 0");
    server::ReportRequest defaults;
    defaults.format = "json";  // the page's default; downloads ask for csv
    return server::report_request_from_query(c.params[0], c.query, defaults, {"download"});
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

namespace {
void seal_json(JsonOut& out, const server::SqlStore::Seal& s) {
    out.str("month", s.month);
    out.num("sealed_ms", s.sealed_ms);
    out.str("actor", s.actor);
}
}  // namespace

// Sealed months, newest first.
HttpResponse seals(Call& c) {
    auto all = c.store.seals();
    if (!all) return error_json(all.status());
    JsonOut out;
    out.begin();
    out.begin_array("seals");
    for (auto& s : all.value()) {
        out.begin();
        seal_json(out, s);
        out.end();
    }
    out.end_array();
    out.end();
    return ok_json(out);
}

// Answers the seal as the store recorded it (its clock, its actor).
HttpResponse seal(Call& c) {
    TUNDRA_TRY_RESPONSE(only_fields(c, {"month"}));
    std::string month;
    TUNDRA_TRY_RESPONSE(c.body.text("month", month, true, 7));
    TUNDRA_TRY_RESPONSE(c.store.seal_month(month, c.actor()));
    auto all = c.store.seals();
    if (!all) return error_json(all.status());
    JsonOut out;
    out.begin();
    for (auto& s : all.value())
        if (s.month == month) seal_json(out, s);
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
