// The console's JSON API (docs/console.md): each route is a function of one call's context,
// declared as data in kRoutes with who may call it, so that the session, CSRF and access are
// checked in one place (console_handler.cc) and each file below answers one part:
//   console_catalogue.cc  organisations, sites, courses, occasions, rosters, enrolments, marks
//   console_people.cc     me, language, persons, participations, erase/export, users, deviations
//   console_devices.cc    tablets and devices, revocation
//   console_import.cc     import preview and apply (staff CSV or import document)
//   console_reports.cc    reports, seals, the audit trail
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tundra/console/console.h"
#include "tundra/core/action.h"
#include "tundra/web/json_io.h"

namespace tundra::console {

using web::HttpRequest;
using web::HttpResponse;
using web::JsonIn;
using web::JsonOut;

// Everything a route may use for one request.
struct Call {
    const HttpRequest& req;
    server::SqlStore& store;
    const ConsoleOptions& opts;
    const server::ConsoleSession& session;
    std::string token;                          // the session cookie
    std::vector<std::string> params;            // the path's {} segments, %-decoded
    std::map<std::string, std::string> query;   // %-decoded; a repeated key is refused earlier
    JsonIn body;                                // JSON routes' body (an empty object for GET)
    int64_t now_ms = 0;

    const server::AuthContext& who() const { return session.who; }
    bool admin() const { return session.who.role == "admin"; }
    const std::string& actor() const { return session.who.username; }
};

enum class Access {
    staff,  // coordinators and admins (coordinators see their sites only: the store's scope)
    admin,  // admins only
};

// What a route's body is: JSON (Content-Type application/json, at most max_body_bytes), or an
// upload (the import's file: text/csv or application/json, at most max_upload_bytes).
enum class Body { json, upload };

using RouteFn = HttpResponse (*)(Call&);
struct Route {
    const char* method;
    const char* path;  // under /console/api; "{}" matches one segment
    Access access;
    RouteFn fn;
    Body body = Body::json;
};
extern const Route kRoutes[];  // ends with a null path

// ---- answers --------------------------------------------------------------------------
// {"error":{"code","message","field"?}} with the HTTP status of the code; `code` overrides
// the Status's wire name; an invalid_argument or malformed message "field: ..." names the field.
HttpResponse error_json(const Status& st, std::string code = {});
HttpResponse ok_json(JsonOut& out, int status = 200);
// {"rows":[...],"total":N}
HttpResponse rows_json(const server::RowPage& page);

// In a route: returns the error answer of a failed Status.
#define TUNDRA_TRY_RESPONSE(expr)                                              \
    do {                                                                       \
        ::tundra::Status tundra_rst_ = (expr);                                 \
        if (!tundra_rst_.is_ok()) return ::tundra::console::error_json(tundra_rst_); \
    } while (0)

// ---- actions --------------------------------------------------------------------------
// An action of `type` from the JSON body: "id" (or the action's id field) names the row,
// else a new id `prefix` + 16 hex is made; every other member must be a field of the action,
// converted to its type (invalid_argument naming the field); `fixed` fields are set by the
// route (e.g. the id of the path) and may not be given in the body differently.
Result<Action> action_from_body(std::string_view type, const JsonIn& body, std::string_view prefix,
                                const Row& fixed = {});
// Runs one action through store.apply_actions as the session's user: 200
// {"id","outcome":{...}}, or 422 {"error":{"code":"rejected","reason","message"},"outcome"}.
HttpResponse apply(Call& c, Action action);
// action_from_body + apply, or the 400 naming the field.
HttpResponse act(Call& c, std::string_view type, std::string_view prefix, const Row& fixed = {});
// Routes that take no fields: invalid_argument naming the first field given.
Status empty_body(const Call& c);
// Refuses a body member not in `fields` (invalid_argument naming it).
Status only_fields(const Call& c, std::initializer_list<std::string_view> fields);
// A text column of a row ("" when absent or null).
const std::string& text(const Row& r, std::string_view column);
// A new id: prefix + 16 hex.
std::string new_id(std::string_view prefix);

// ---- queries ---------------------------------------------------------------------------
// RowQuery from the common list parameters: q, limit (<= 500, default 100), offset.
// Errors: invalid_argument naming the parameter.
Result<server::RowQuery> list_query(const Call& c);
// One row of `kind` by id that the session may see; not_found otherwise.
Result<Row> one_row(Call& c, Kind kind, const std::string& id);
// Rows of `kind` whose `column` is any of `ids` (at most 5000).
Result<std::vector<Row>> rows_in(Call& c, Kind kind, const std::string& column, const StrList& ids);

// ---- routes ------------------------------------------------------------------------------
HttpResponse me(Call&);
HttpResponse set_language(Call&);
HttpResponse organisations(Call&);
HttpResponse upsert_organisation(Call&);
HttpResponse sites(Call&);
HttpResponse upsert_site(Call&);
HttpResponse courses(Call&);
HttpResponse course(Call&);
HttpResponse create_course(Call&);
HttpResponse update_course(Call&);
HttpResponse occasions(Call&);
HttpResponse create_occasion(Call&);
HttpResponse update_occasion(Call&);
HttpResponse cancel_occasion(Call&);
HttpResponse roster(Call&);
HttpResponse enrol(Call&);
HttpResponse cancel_enrolment(Call&);
HttpResponse mark_attendance(Call&);

HttpResponse persons(Call&);
HttpResponse person(Call&);
HttpResponse add_person(Call&);
HttpResponse update_person(Call&);
HttpResponse upsert_participation(Call&);
HttpResponse erase_person(Call&);
HttpResponse export_person(Call&);
HttpResponse users(Call&);
HttpResponse add_user(Call&);
HttpResponse set_password(Call&);
HttpResponse revoke_user(Call&);
HttpResponse deviations(Call&);
HttpResponse log_deviation(Call&);

HttpResponse tablets(Call&);
HttpResponse revoke_device(Call&);
HttpResponse revoke_tablet(Call&);

HttpResponse import_preview(Call&);
HttpResponse import_apply(Call&);

HttpResponse report(Call&);
HttpResponse seals(Call&);
HttpResponse seal(Call&);
HttpResponse audit(Call&);

}  // namespace tundra::console
