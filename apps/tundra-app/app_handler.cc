// Guard, shell, assets, and the API's dispatch with access checks (app_handler.h).
#include "app_handler.h"

#include <cstring>

#include "tundra/web/local_guard.h"

namespace tundra::app {
namespace {
int64_t system_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Everything the page needs comes from this server; nothing may frame it.
void secure(web::HttpResponse& r) {
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'");
    r.headers.emplace_back("X-Frame-Options", "DENY");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
}

bool allowed(Access need, const web::Session& s, const std::string& role) {
    if (need == Access::pin_setup) return true;
    if (s.state != "unlocked") return false;
    if (need == Access::participant) return role == "participant";
    if (need == Access::staff) return role == "coordinator";
    return true;
}
}  // namespace

AppHandler::AppHandler(Tablet& tablet, SyncScheduler& sync, const web::AssetTable& assets, AppHandlerOptions opts)
    : tablet_(tablet), sync_(sync), assets_(assets), opts_(std::move(opts)),
      sessions_(opts_.idle_lock, opts_.session_max, opts_.clock ? opts_.clock : system_ms),
      pins_(opts_.pin_tries_per_minute, opts_.clock ? opts_.clock : system_ms) {}

web::HttpResponse AppHandler::handle(const web::HttpRequest& req) {
    web::HttpResponse r;
    try {
        if (Status st = web::check_loopback_request(req, req.local_port); !st) {
            r = error_json(st);
        } else {
            std::string path = web::path_of(req);
            if (path == "/" || path == "/index.html") r = assets_.serve(req, "index.html");
            else if (path.rfind("/assets/", 0) == 0) r = assets_.serve(req, std::string_view(path).substr(8));
            else if (path.rfind("/api/", 0) == 0) r = api(req, path);
            else r = error_json(Status(Errc::not_found, "no such page"));
        }
    } catch (const std::exception& e) {
        r = error_json(Status(Errc::internal, e.what()));
    }
    secure(r);
    return r;
}

web::HttpResponse AppHandler::api(const web::HttpRequest& req, const std::string& path) {
    const Route* route = nullptr;
    bool path_known = false;
    for (const Route* rt = kRoutes; rt->path; ++rt) {
        if (path != rt->path) continue;
        path_known = true;
        if (req.method == rt->method) route = rt;
    }
    if (!route) {
        if (!path_known) return error_json(Status(Errc::not_found, "no such endpoint"));
        auto r = error_json(Status(Errc::invalid_argument, "method"), "method_not_allowed");
        r.status = 405;
        return r;
    }
    Call call{.req = req, .tablet = tablet_, .sync = sync_, .sessions = sessions_, .pins = pins_,
              .body = {}, .query = web::query_of(req), .token = web::cookie(req, "tundra_app"),
              .person = nullptr, .role = {}, .idle_lock_ms = opts_.idle_lock.count(),
              .now_ms = opts_.clock ? opts_.clock() : system_ms()};
    if (req.method == "POST") {
        if (Status st = web::require_json(req); !st) {
            auto r = error_json(st, "unsupported_media_type");
            r.status = 415;
            return r;
        }
        if (Status st = call.body.parse(req.body); !st) return error_json(st);
    }
    if (route->access != Access::open) {
        // Background polls (the status bar) do not count as the person's activity.
        bool touch = web::header(req, "x-tundra-background") != "1";
        auto s = sessions_.find(call.token, touch);
        if (!s) {
            auto r = error_json(Status(Errc::unauthorized, "locked"), "locked");
            r.headers.emplace_back("Set-Cookie", clear_session_cookie());
            return r;
        }
        call.person = tablet_.find(s->subject);
        auto st = call.person ? call.person->client->status() : Result<client::StatusView>(Errc::not_found, "gone");
        if (!st || !st->logged_in) {  // taken off the tablet, or wiped remotely
            sessions_.erase_subject(s->subject);
            auto r = error_json(Status(Errc::unauthorized, "locked"), "locked");
            r.headers.emplace_back("Set-Cookie", clear_session_cookie());
            return r;
        }
        call.role = st->role;
        if (!allowed(route->access, *s, call.role))
            return error_json(Status(Errc::forbidden, "not for this person"), "forbidden");
    }
    return route->fn(call);
}

web::HttpResponse error_json(const Status& st, std::string code) {
    const auto& info = errc_info(st.code());
    if (code.empty()) code = std::string(info.wire_name);
    int http = info.http_status;
    if (st.code() == Errc::network) http = 503;
    else if (st.code() == Errc::timeout) http = 504;
    else if (st.code() == Errc::cancelled) http = 409;
    else if (http == 0) http = 500;
    // The app shows its own words for every code: no server message.
    return web::error_answer(st, code, http, {.with_message = false, .max_field = 40});
}

web::HttpResponse ok_json(JsonOut& out, int status) {
    auto r = web::json_response(status, out.take());
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

web::HttpResponse ok_empty(int status) {
    JsonOut out;
    out.begin();
    out.flag("ok", true);
    out.end();
    return ok_json(out, status);
}

web::HttpResponse id_answer(const Result<std::string>& r) {
    if (!r) return error_json(r.status());
    JsonOut out;
    out.begin();
    out.str("id", r.value());
    out.end();
    return ok_json(out);
}

std::string session_cookie(const std::string& token) { return web::set_cookie("tundra_app", token); }
std::string clear_session_cookie() { return web::set_cookie("tundra_app", "", {.max_age_s = 0}); }

}  // namespace tundra::app
