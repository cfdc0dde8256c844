// The signed-in user, persons and their participations, erasure and export (GDPR), logins,
// deviations. Person changes are actions (add_person, update_person, upsert_participation);
// logins, erasure and export are the store's admin operations with the console user as the
// audit trail's actor (as the tundra-server subcommands with "cli:<user>").
#include <algorithm>
#include <set>

#include "console_routes.h"
#include "tundra/core/json.h"

namespace tundra::console {
namespace {
// A file name for Content-Disposition: the id's safe characters only.
std::string file_part(std::string_view id) {
    std::string out;
    for (char ch : id)
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')
            out += ch;
    return out.empty() ? "person" : out;
}
}  // namespace

HttpResponse me(Call& c) {
    const auto& s = c.session;
    // Coordinators: the organisations of their sites (what their reports cover).
    std::set<std::string> orgs;
    if (!s.who.sites.empty()) {
        auto sites = rows_in(c, Kind::site, "id", s.who.sites);
        if (!sites) return error_json(sites.status());
        for (auto& r : sites.value()) orgs.insert(text(r, "organisation"));
    }
    JsonOut out;
    out.begin();
    out.str("username", s.who.username);
    out.str("role", s.who.role);
    out.str_or_null("person", s.who.person);
    out.begin_array("sites");
    for (auto& site : s.who.sites) json::put(out.w(), site);
    out.end_array();
    out.begin_array("organisations");
    for (auto& o : orgs) json::put(out.w(), o);
    out.end_array();
    out.str("csrf", s.csrf);
    out.str("lang", s.lang.empty() ? "sv" : s.lang);
    out.num("expires_ms", s.expires_ms);
    out.num("idle_ms", s.expires_ms - s.seen_ms);
    out.num("now_ms", c.now_ms);
    out.end();
    return ok_json(out);
}

HttpResponse set_language(Call& c) {
    TUNDRA_TRY_RESPONSE(only_fields(c, {"lang"}));
    std::string lang;
    TUNDRA_TRY_RESPONSE(c.body.text("lang", lang, true, 10));
    if (lang != "sv" && lang != "en") return error_json(Status(Errc::invalid_argument, "lang: sv or en"));
    TUNDRA_TRY_RESPONSE(c.store.set_console_language(c.token, lang));
    JsonOut out;
    out.begin();
    out.str("lang", lang);
    out.end();
    return ok_json(out);
}

HttpResponse persons(Call& c) {
    auto q = list_query(c);
    if (!q) return error_json(q.status());
    for (const char* f : {"site", "organisation"})
        if (auto it = c.query.find(f); it != c.query.end() && !it->second.empty()) q->equals.emplace_back(f, it->second);
    q->order_by = "name";
    auto page = c.store.rows(c.who(), Kind::person, q.value());
    if (!page) return error_json(page.status());
    return rows_json(page.value());
}

HttpResponse person(Call& c) {
    const std::string& id = c.params[0];
    auto row = one_row(c, Kind::person, id);
    if (!row) return error_json(row.status());
    server::RowQuery q;
    q.equals.emplace_back("person", id);
    q.limit = 5000;
    auto parts = c.store.rows(c.who(), Kind::participation, q);
    if (!parts) return error_json(parts.status());
    auto enrolments = c.store.rows(c.who(), Kind::enrolment, q);
    if (!enrolments) return error_json(enrolments.status());
    StrList occasion_ids;
    for (auto& e : enrolments->rows) occasion_ids.push_back(text(e, "occasion"));
    auto occs = rows_in(c, Kind::occasion, "id", occasion_ids);
    if (!occs) return error_json(occs.status());
    StrList course_ids;
    for (auto& o : occs.value()) course_ids.push_back(text(o, "course"));
    auto courses = rows_in(c, Kind::course, "id", course_ids);
    if (!courses) return error_json(courses.status());
    std::map<std::string, std::string> titles;
    for (auto& co : courses.value()) titles[text(co, "id")] = text(co, "title");
    std::map<std::string, const Row*> occ_by_id;
    for (auto& o : occs.value()) occ_by_id[text(o, "id")] = &o;
    std::vector<Row> listed;
    for (auto& e : enrolments->rows) {
        Row r = e;
        auto it = occ_by_id.find(text(e, "occasion"));
        r["course_title"] = it == occ_by_id.end() ? std::string() : titles[text(*it->second, "course")];
        r["starts_at"] = it == occ_by_id.end() ? std::string() : text(*it->second, "starts_at");
        listed.push_back(std::move(r));
    }
    std::sort(listed.begin(), listed.end(),
              [](const Row& a, const Row& b) { return text(a, "starts_at") > text(b, "starts_at"); });
    StrList usernames;
    if (c.admin()) {
        auto users = c.store.users();
        if (!users) return error_json(users.status());
        for (auto& u : users.value())
            if (u.person == id) usernames.push_back(u.username);
    }
    JsonOut out;
    out.begin();
    out.row("person", &row.value());
    out.begin_array("participations");
    for (auto& p : parts->rows) json::put_row(out.w(), p);
    out.end_array();
    out.begin_array("enrolments");
    for (auto& e : listed) json::put_row(out.w(), e);
    out.end_array();
    out.begin_array("users");
    for (auto& u : usernames) json::put(out.w(), u);
    out.end_array();
    out.end();
    return ok_json(out);
}

HttpResponse add_person(Call& c) { return act(c, "add_person", "p-"); }
HttpResponse update_person(Call& c) { return act(c, "update_person", "p-", {{"person", c.params[0]}}); }
HttpResponse upsert_participation(Call& c) { return act(c, "upsert_participation", "pa-"); }

HttpResponse erase_person(Call& c) {
    TUNDRA_TRY_RESPONSE(only_fields(c, {"confirm"}));
    std::string confirm;
    TUNDRA_TRY_RESPONSE(c.body.text("confirm", confirm, true, 200));
    if (confirm != c.params[0])
        return error_json(Status(Errc::invalid_argument, "confirm: must repeat the person's id"));
    auto rep = c.store.erase_person(c.params[0], c.actor());
    if (!rep) return error_json(rep.status());
    const auto& r = rep.value();
    JsonOut out;
    out.begin();
    out.str("pseudonym", r.pseudonym);
    out.flag("already_erased", r.already_erased);
    out.num("rows_moved", r.rows_moved);
    out.num("enrolments_cancelled", r.enrolments_cancelled);
    out.num("comments_cleared", r.comments_cleared);
    out.num("users_removed", r.users_removed);
    out.num("devices_revoked", r.devices_revoked);
    out.num("texts_redacted", r.texts_redacted);
    out.flag("wal_truncated", r.wal_truncated);
    out.end();
    return ok_json(out);
}

HttpResponse export_person(Call& c) {
    auto doc = c.store.export_person(c.params[0], c.actor());
    if (!doc) return error_json(doc.status());
    auto r = web::json_response(200, std::move(doc.value()));
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + file_part(c.params[0]) + ".json\"");
    return r;
}

HttpResponse users(Call& c) {
    auto list = c.store.users();
    if (!list) return error_json(list.status());
    JsonOut out;
    out.begin();
    out.begin_array("rows");
    for (auto& u : list.value()) {
        out.begin();
        out.str("username", u.username);
        out.str("role", u.role);
        out.str_or_null("person", u.person);
        out.begin_array("sites");
        for (auto& s : u.sites) json::put(out.w(), s);
        out.end_array();
        out.str("created_at", u.created_at);
        out.flag("revoked", u.revoked);
        out.num("devices", u.devices);
        out.num("last_seen_ms", u.last_seen_ms);
        out.end();
    }
    out.end_array();
    out.end();
    return ok_json(out);
}

HttpResponse add_user(Call& c) {
    TUNDRA_TRY_RESPONSE(only_fields(c, {"username", "role", "person", "sites", "password"}));
    server::SqlStore::NewUser u;
    TUNDRA_TRY_RESPONSE(c.body.text("username", u.username, true, kMaxIdBytes));
    TUNDRA_TRY_RESPONSE(c.body.text("role", u.role, true, 20));
    TUNDRA_TRY_RESPONSE(c.body.text("person", u.person, false, kMaxIdBytes));
    TUNDRA_TRY_RESPONSE(c.body.text("password", u.password, true, 1000));
    if (const auto* sites = json::find(c.body.object(), "sites"); sites && !sites->IsNull()) {
        if (!sites->IsArray()) return error_json(Status(Errc::invalid_argument, "sites: must be a list of site ids"));
        for (auto& s : sites->GetArray()) {
            if (!s.IsString() || s.GetStringLength() == 0 || s.GetStringLength() > kMaxIdBytes)
                return error_json(Status(Errc::invalid_argument, "sites: must be a list of site ids"));
            u.sites.emplace_back(s.GetString(), s.GetStringLength());
        }
    }
    std::string username = u.username;
    TUNDRA_TRY_RESPONSE(c.store.add_user(u, c.actor()));
    JsonOut out;
    out.begin();
    out.str("username", username);
    out.end();
    return ok_json(out, 201);
}

HttpResponse set_password(Call& c) {
    TUNDRA_TRY_RESPONSE(only_fields(c, {"password"}));
    std::string password;
    TUNDRA_TRY_RESPONSE(c.body.text("password", password, true, 1000));
    auto ended = c.store.set_password(c.params[0], password, c.actor());
    if (!ended) return error_json(ended.status());
    JsonOut out;
    out.begin();
    out.num("tokens_ended", ended.value());
    out.end();
    return ok_json(out);
}

HttpResponse revoke_user(Call& c) {
    TUNDRA_TRY_RESPONSE(empty_body(c));
    auto n = c.store.revoke_user(c.params[0], c.actor());
    if (!n) return error_json(n.status());
    JsonOut out;
    out.begin();
    out.num("devices_revoked", n.value());
    out.end();
    return ok_json(out);
}

HttpResponse deviations(Call& c) {
    auto q = list_query(c);
    if (!q) return error_json(q.status());
    for (const char* f : {"organisation", "status"})
        if (auto it = c.query.find(f); it != c.query.end() && !it->second.empty()) q->equals.emplace_back(f, it->second);
    q->search_columns = {"description"};
    auto page = c.store.rows(c.who(), Kind::deviation, q.value());
    if (!page) return error_json(page.status());
    return rows_json(page.value());
}

HttpResponse log_deviation(Call& c) { return act(c, "log_deviation", "d-"); }

}  // namespace tundra::console
