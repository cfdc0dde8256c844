// The people screen, sign-in, PIN unlock, locking, the status bar, sync and settings
// (app_routes.h).
#include <algorithm>
#include <filesystem>

#include "app_routes.h"
#include "pin_gate.h"
#include "tundra/core/model.h"

namespace tundra::app {
namespace {
std::string iso_or_empty(int64_t ms) { return ms > 0 ? format_iso8601(ms) : std::string(); }

web::HttpResponse with_session(web::HttpResponse r, const std::string& token) {
    r.headers.emplace_back("Set-Cookie", session_cookie(token));
    return r;
}

std::string language_of(client::Client& c) {
    auto l = c.setting("language");
    return l && (l.value() == "en" || l.value() == "sv") ? l.value() : "sv";
}

// A new session for `person`, replacing the caller's old one.
std::string begin_session(Call& call, const std::string& person, const std::string& state) {
    if (!call.token.empty()) call.sessions.erase(call.token);
    return call.sessions.create(person, state);
}
}  // namespace

web::HttpResponse people(Call& call) {
    JsonOut out;
    out.begin();
    out.begin_array("people");
    for (auto& p : call.tablet.people()) {
        auto st = p->client->status();
        if (!st) continue;
        out.begin();
        out.str("id", p->id);
        out.str("name", st->name.empty() ? st->username : st->name);
        out.str("username", st->username);
        out.str("role", st->role);
        bool signed_in = st->logged_in;
        auto pin = p->client->pin_status();
        using O = client::PinCheck::Outcome;
        out.flag("has_pin", signed_in && pin && pin->outcome != O::no_pin);
        // Wiped remotely (sign in again), or ten wrong PINs (the password unlocks).
        out.flag("needs_password", !signed_in || (pin && pin->outcome == O::password_needed));
        out.flag("signed_out", !signed_in);
        out.str("language", language_of(*p->client));
        out.end();
    }
    out.end_array();
    out.end();
    return ok_json(out);
}

web::HttpResponse sign_in(Call& call) {
    std::string username, password;
    TUNDRA_TRY_RESPONSE(call.body.text("username", username, true, 200));
    TUNDRA_TRY_RESPONSE(call.body.text("password", password, true, 1000));
    auto id = call.tablet.sign_in(username, password);
    if (!id) {
        if (id.status().code() == Errc::forbidden && id.status().message() == "admin_use_console")
            return error_json(id.status(), "admin_use_console");
        return error_json(id.status());
    }
    call.sync.sync_now(id.value());
    auto person = call.tablet.find(id.value());
    bool has_pin = person && person->client->has_pin();
    std::string token = begin_session(call, id.value(), has_pin ? "unlocked" : "pin_setup");
    JsonOut out;
    out.begin();
    out.str("person", id.value());
    out.flag("needs_pin", !has_pin);
    out.end();
    return with_session(ok_json(out), token);
}

web::HttpResponse unlock(Call& call) {
    std::string id, pin;
    TUNDRA_TRY_RESPONSE(call.body.text("person", id, true, 100));
    TUNDRA_TRY_RESPONSE(call.body.text("pin", pin, true, 20));
    auto person = call.tablet.find(id);
    if (!person) return error_json(Status(Errc::not_found, "person"));
    if (int wait = call.pins.admit(); wait > 0)
        return error_json(Status(Errc::rate_limited, "pin", wait), "pin_wait");
    auto r = person->client->check_pin(pin);
    if (!r) return error_json(r.status());
    using O = client::PinCheck::Outcome;
    switch (r->outcome) {
        case O::ok:
            break;
        case O::wait:
            return error_json(Status(Errc::rate_limited, "pin", r->retry_after_s), "pin_wait");
        case O::password_needed:
        case O::no_pin:
            return error_json(Status(Errc::forbidden, "password"), "password_needed");
        case O::wrong: {
            JsonOut out;
            out.begin();
            out.key("error");
            out.begin();
            out.str("code", "wrong_pin");
            out.num("failures", static_cast<int64_t>(r->failures));
            if (r->retry_after_s > 0) out.num("retry_after_s", static_cast<int64_t>(r->retry_after_s));
            out.end();
            out.end();
            return ok_json(out, 401);
        }
    }
    std::string token = begin_session(call, id, "unlocked");
    return with_session(ok_empty(), token);
}

web::HttpResponse unlock_password(Call& call) {
    std::string id, password;
    TUNDRA_TRY_RESPONSE(call.body.text("person", id, true, 100));
    TUNDRA_TRY_RESPONSE(call.body.text("password", password, true, 1000));
    auto person = call.tablet.find(id);
    if (!person) return error_json(Status(Errc::not_found, "person"));
    if (int wait = call.pins.admit(); wait > 0)
        return error_json(Status(Errc::rate_limited, "password", wait), "pin_wait");
    auto r = person->client->check_password(password);
    if (!r) return error_json(r.status());
    if (!r.value()) return error_json(Status(Errc::unauthorized, "password"));
    std::string token = begin_session(call, id, person->client->has_pin() ? "unlocked" : "pin_setup");
    JsonOut out;
    out.begin();
    out.flag("needs_pin", !person->client->has_pin());
    out.end();
    return with_session(ok_json(out), token);
}

web::HttpResponse set_pin(Call& call) {
    std::string pin;
    TUNDRA_TRY_RESPONSE(call.body.text("pin", pin, true, 20));
    TUNDRA_TRY_RESPONSE(call.person->client->set_pin(pin));
    call.sessions.set_state(call.token, "unlocked");
    return ok_empty();
}

web::HttpResponse lock(Call& call) {
    call.sessions.erase(call.token);
    auto r = ok_empty();
    r.headers.emplace_back("Set-Cookie", clear_session_cookie());
    return r;
}

web::HttpResponse keepalive(Call& call) {
    JsonOut out;
    out.begin();
    out.num("locks_at_ms", call.sessions.expires_at(call.token));
    out.end();
    return ok_json(out);
}

web::HttpResponse sign_out(Call& call) {
    bool export_first = false;
    TUNDRA_TRY_RESPONSE(call.body.boolean("export", export_first));
    std::string id = call.person->id;
    std::string export_path;
    if (export_first) {
        // Unsynced work leaves with the person: a file an admin can replay (tundra replay).
        std::string dir = call.tablet.options().data_dir + "/exports";
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        export_path = dir + "/" + id + "-" + std::to_string(call.now_ms) + ".json";
    }
    Status st = call.tablet.remove(id, export_path);
    if (!st) return error_json(st);
    call.sync.forget(id);
    call.sessions.erase_subject(id);
    auto r = ok_empty();
    r.headers.emplace_back("Set-Cookie", clear_session_cookie());
    return r;
}

web::HttpResponse status(Call& call) {
    auto& c = *call.person->client;
    auto st = c.status();
    if (!st) return error_json(st.status());
    auto sync = call.sync.state(call.person->id);
    JsonOut out;
    out.begin();
    out.key("user");
    out.begin();
    out.str("name", st->name.empty() ? st->username : st->name);
    out.str("username", st->username);
    out.str("role", st->role);
    out.str("person", st->person);
    out.begin_array("sites");
    for (auto& s : st->sites) json::put(out.w(), s);
    out.end_array();
    out.end();
    out.str("language", language_of(c));
    out.num("revision", static_cast<int64_t>(call.person->revision.load()));
    out.num("pending", st->pending);
    out.str_or_null("last_sync", st->last_sync);
    out.num("locks_at_ms", call.sessions.expires_at(call.token));
    out.num("idle_lock_ms", call.idle_lock_ms);
    out.key("sync");
    out.begin();
    out.flag("running", sync.running);
    out.key("fraction");
    if (sync.progress && sync.progress->rows_expected > 0)
        out.w().Double(std::min(1.0, static_cast<double>(sync.progress->pulled) /
                                         static_cast<double>(sync.progress->rows_expected)));
    else
        out.w().Null();
    out.num("pulled", sync.progress ? sync.progress->pulled : 0);
    out.num("pushed", sync.progress ? sync.progress->pushed : 0);
    out.num("rows_expected", sync.progress ? sync.progress->rows_expected : 0);
    out.real("eta_seconds", sync.progress ? sync.progress->eta_seconds : 0);
    out.str_or_null("last_error", sync.last_error);
    out.str_or_null("last_attempt", iso_or_empty(sync.last_attempt_ms));
    out.end();
    // Course titles for what rejected actions name (an occasion, or an enrolment in one);
    // looked up only when something was rejected: the status bar polls this route.
    std::map<std::string, std::string> titles;
    if (!st->rejected.empty()) {
        auto idx = occasion_index(c);
        for (auto& [id, o] : idx) titles[id] = o.course_title;
        if (auto enr = c.enrolments())
            for (auto& e : enr.value())
                if (auto it = idx.find(e.occasion); it != idx.end()) titles[e.id] = it->second.course_title;
    }
    out.begin_array("rejected");
    for (auto& r : st->rejected) {
        out.begin();
        out.num("seq", static_cast<int64_t>(r.seq));
        out.str("type", r.type);
        out.str("target", r.target);
        out.str("reason", r.reason);
        out.str_or_null("course_title", titles.count(r.target) ? titles[r.target] : std::string());
        out.end();
    }
    out.end_array();
    out.begin_array("changed");
    if (auto todo = c.todo())
        for (auto& n : todo->changed) {
            out.begin();
            out.num("id", n.id);
            out.str("kind", n.kind);
            out.str("occasion", n.occasion);
            out.str("course_title", n.course_title);
            out.str("before", n.before);
            out.str("after", n.after);
            out.str("noticed_at", n.noticed_at);
            out.end();
        }
    out.end_array();
    out.end();
    return ok_json(out);
}

web::HttpResponse sync_now(Call& call) {
    call.sync.sync_now(call.person->id);
    return ok_empty(202);
}

web::HttpResponse sync_cancel(Call& call) {
    bool was = call.sync.cancel(call.person->id);
    JsonOut out;
    out.begin();
    out.flag("cancelled", was);
    out.end();
    return ok_json(out, 202);
}

web::HttpResponse dismiss(Call& call) {
    std::optional<int64_t> seq;
    TUNDRA_TRY_RESPONSE(call.body.integer("seq", seq));
    if (*seq <= 0) return error_json(Status(Errc::invalid_argument, "seq: must be positive"));
    TUNDRA_TRY_RESPONSE(call.person->client->dismiss(static_cast<uint64_t>(*seq)));
    return ok_empty();
}

web::HttpResponse changed_seen(Call& call) {
    auto n = call.person->client->mark_notices_seen();
    if (!n) return error_json(n.status());
    JsonOut out;
    out.begin();
    out.num("seen", n.value());
    out.end();
    return ok_json(out);
}

web::HttpResponse language(Call& call) {
    std::string lang;
    TUNDRA_TRY_RESPONSE(call.body.text("language", lang, true, 10));
    if (lang != "sv" && lang != "en") return error_json(Status(Errc::invalid_argument, "language: sv or en"));
    TUNDRA_TRY_RESPONSE(call.person->client->set_setting("language", lang));
    return ok_empty();
}

web::HttpResponse password(Call& call) {
    std::string current, next;
    TUNDRA_TRY_RESPONSE(call.body.text("current", current, true, 1000));
    TUNDRA_TRY_RESPONSE(call.body.text("next", next, true, 1000));
    TUNDRA_TRY_RESPONSE(call.person->client->change_password(current, next));
    return ok_empty();
}

}  // namespace tundra::app
