// The app's JSON API (docs/app.md): each route is a function of one call's context, declared
// as data in kRoutes with who may call it, so that access is checked in one place
// (app_handler.cc) and each file below answers one part of the app.
//   app_session.cc      people, sign-in, PIN, lock, status, sync, settings
//   app_participant.cc  catalogue, enrolments, attendance, to-do, survey, attestation
//   app_coordinator.cc  occasions, roster, marks, walk-ins, staff, deviations
#pragma once

#include <map>
#include <memory>
#include <string>

#include "sync_scheduler.h"
#include "tablet.h"
#include "tundra/web/http.h"
#include "tundra/web/json_io.h"
#include "tundra/web/sessions.h"

namespace tundra::app {

using web::JsonIn;
using web::JsonOut;

class PinGate;

// Everything a route may use for one request.
struct Call {
    const web::HttpRequest& req;
    Tablet& tablet;
    SyncScheduler& sync;
    web::SessionTable& sessions;
    PinGate& pins;
    JsonIn body;
    std::map<std::string, std::string> query;
    std::string token;               // the session cookie, if any
    std::shared_ptr<Person> person;  // the session's person (routes with access >= pin_setup)
    std::string role;                // their role
    int64_t idle_lock_ms = 0;
    int64_t now_ms = 0;  // the handler's clock (days in Europe/Stockholm are counted from it)
};

enum class Access {
    open,         // no session (the people screen, sign-in, unlock)
    pin_setup,    // signed in, PIN not yet set (or unlocked)
    unlocked,     // any unlocked person
    participant,  // unlocked participant
    staff,        // unlocked coordinator
};

using RouteFn = web::HttpResponse (*)(Call&);
struct Route {
    const char* method;
    const char* path;
    Access access;
    RouteFn fn;
};
extern const Route kRoutes[];

// Answers: {"error":{"code":...}} with the HTTP status of the code. `code` overrides the
// Status's wire name (app codes such as wrong_pin); an invalid_argument whose message starts
// with "field: " names the field.
web::HttpResponse error_json(const Status& st, std::string code = {});
web::HttpResponse ok_json(JsonOut& out, int status = 200);
web::HttpResponse ok_empty(int status = 200);
// {"id": ...} for an action's row id.
web::HttpResponse id_answer(const Result<std::string>& r);
// The session cookie (set / cleared).
std::string session_cookie(const std::string& token);
std::string clear_session_cookie();

// In a route: returns the error answer of a failed Status.
#define TUNDRA_TRY_RESPONSE(expr)                                       \
    do {                                                                \
        ::tundra::Status tundra_rst_ = (expr);                          \
        if (!tundra_rst_.is_ok()) return ::tundra::app::error_json(tundra_rst_); \
    } while (0)

// What a screen shows of an occasion it names (app_participant.cc).
struct OccasionInfo {
    std::string course_title, starts_at, ends_at, site_name;
};
std::map<std::string, OccasionInfo> occasion_index(client::Client& c);

// Routes (one function per route).
web::HttpResponse people(Call&);
web::HttpResponse sign_in(Call&);
web::HttpResponse unlock(Call&);
web::HttpResponse unlock_password(Call&);
web::HttpResponse set_pin(Call&);
web::HttpResponse lock(Call&);
web::HttpResponse keepalive(Call&);
web::HttpResponse sign_out(Call&);
web::HttpResponse status(Call&);
web::HttpResponse sync_now(Call&);
web::HttpResponse sync_cancel(Call&);
web::HttpResponse dismiss(Call&);
web::HttpResponse changed_seen(Call&);
web::HttpResponse language(Call&);
web::HttpResponse password(Call&);

web::HttpResponse catalogue(Call&);
web::HttpResponse enrol(Call&);
web::HttpResponse cancel(Call&);
web::HttpResponse my_enrolments(Call&);
web::HttpResponse my_attendance(Call&);
web::HttpResponse todo(Call&);
web::HttpResponse survey(Call&);
web::HttpResponse attest_get(Call&);
web::HttpResponse attest_post(Call&);

web::HttpResponse occasions(Call&);
web::HttpResponse roster(Call&);
web::HttpResponse mark(Call&);
web::HttpResponse walk_in(Call&);
web::HttpResponse persons(Call&);
web::HttpResponse sites(Call&);
web::HttpResponse deviations(Call&);
web::HttpResponse log_deviation(Call&);
web::HttpResponse handle_deviation(Call&);

}  // namespace tundra::app
