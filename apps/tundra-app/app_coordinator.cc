// A coordinator's screens: today's and recent occasions at their sites (days in
// Europe/Stockholm), the roster with one tap per person, walk-ins, enrolling staff, and the
// deviation log (app_routes.h).
#include <algorithm>
#include <set>

#include "app_routes.h"
#include "tundra/core/model.h"
#include "tundra/core/stockholm_time.h"

namespace tundra::app {
namespace {
constexpr int64_t kDayMs = 86400'000;

int64_t minutes_between(const std::string& a, const std::string& b) {
    auto s = parse_iso8601(a), e = parse_iso8601(b);
    return s && e && e.value() > s.value() ? (e.value() - s.value()) / 60000 : 0;
}

void put_occasion(JsonOut& out, const client::OccasionView& o, const std::string& title, int64_t marked) {
    out.str("id", o.id);
    out.str("course_title", title);
    out.str("starts_at", o.starts_at);
    out.str("ends_at", o.ends_at);
    out.str("site", o.site);
    out.str("site_name", o.site_name);
    out.str("status", o.status);
    out.num("capacity", o.capacity);
    out.num("confirmed", o.confirmed);
    out.num("waitlisted", o.waitlisted);
    out.num("marked", marked);
    out.num("minutes", minutes_between(o.starts_at, o.ends_at));
}

const std::string* find_status_arg(Call& call, std::string& out) {
    auto it = call.query.find("status");
    if (it == call.query.end()) return nullptr;
    out = it->second;
    return &out;
}
}  // namespace

web::HttpResponse occasions(Call& call) {
    auto& c = *call.person->client;
    auto st = c.status();
    if (!st) return error_json(st.status());
    auto courses = c.courses();
    if (!courses) return error_json(courses.status());
    std::set<std::string> my_sites(st->sites.begin(), st->sites.end());
    int64_t now = call.now_ms;
    std::string today = stockholm_date(now);
    std::string from = stockholm_date(now - 14 * kDayMs), to = stockholm_date(now + 14 * kDayMs);
    // day -> occasions that day (by start time)
    std::map<std::string, std::vector<std::pair<const client::OccasionView*, const std::string*>>> days;
    for (auto& course : courses.value())
        for (auto& o : course.occasions) {
            if (!my_sites.empty() && !my_sites.count(o.site)) continue;
            auto starts = parse_iso8601(o.starts_at);
            if (!starts) continue;
            std::string day = stockholm_date(starts.value());
            if (day < from || day > to) continue;
            days[day].emplace_back(&o, &course.title);
        }
    // Today first, then the days just past (newest first), then the days to come.
    std::vector<std::string> order;
    if (days.count(today)) order.push_back(today);
    for (auto it = days.rbegin(); it != days.rend(); ++it)
        if (it->first < today) order.push_back(it->first);
    for (auto& [day, list] : days)
        if (day > today) order.push_back(day);
    JsonOut out;
    out.begin();
    out.str("today", today);
    out.begin_array("days");
    for (auto& day : order) {
        auto& list = days[day];
        std::sort(list.begin(), list.end(), [](auto& a, auto& b) { return a.first->starts_at < b.first->starts_at; });
        out.begin();
        out.str("date", day);
        out.begin_array("occasions");
        for (auto& [o, title] : list) {
            auto marks = c.attendance(o->id);
            out.begin();
            put_occasion(out, *o, *title, marks ? static_cast<int64_t>(marks->size()) : 0);
            out.end();
        }
        out.end_array();
        out.end();
    }
    out.end_array();
    out.end();
    return ok_json(out);
}

web::HttpResponse roster(Call& call) {
    auto& c = *call.person->client;
    auto it = call.query.find("occasion");
    if (it == call.query.end()) return error_json(Status(Errc::invalid_argument, "occasion: required"));
    const std::string& occasion = it->second;
    auto courses = c.courses();
    if (!courses) return error_json(courses.status());
    const client::OccasionView* occ = nullptr;
    const std::string* title = nullptr;
    for (auto& course : courses.value())
        for (auto& o : course.occasions)
            if (o.id == occasion) occ = &o, title = &course.title;
    if (!occ) return error_json(Status(Errc::not_found, "occasion"));
    auto enrolments = c.enrolments({.occasion = occasion});
    if (!enrolments) return error_json(enrolments.status());
    auto marks = c.attendance(occasion);
    if (!marks) return error_json(marks.status());
    std::map<std::string, const client::AttendanceView*> mark_of;
    for (auto& m : marks.value()) mark_of[m.person] = &m;
    std::vector<const client::EnrolmentView*> rows;
    for (auto& e : enrolments.value())
        if (e.status != "cancelled") rows.push_back(&e);
    auto rank = [](const client::EnrolmentView* e) { return e->status == "confirmed" ? 0 : e->status == "waitlisted" ? 1 : 2; };
    std::sort(rows.begin(), rows.end(), [&](auto* a, auto* b) {
        if (rank(a) != rank(b)) return rank(a) < rank(b);
        if (a->waitlist_position != b->waitlist_position) return a->waitlist_position.value_or(0) < b->waitlist_position.value_or(0);
        return a->person_name < b->person_name;
    });
    JsonOut out;
    out.begin();
    out.key("occasion");
    out.begin();
    put_occasion(out, *occ, *title, static_cast<int64_t>(marks->size()));
    out.end();
    out.begin_array("people");
    for (auto* e : rows) {
        out.begin();
        out.str("person", e->person);
        out.str("name", e->person_name);
        out.str("enrolment", e->id);
        out.str("status", e->status);
        out.num("waitlist_position", e->waitlist_position);
        out.flag("pending", e->pending);
        out.str_or_null("reason", e->reason);
        out.key("mark");
        auto m = mark_of.find(e->person);
        if (m == mark_of.end()) {
            out.w().Null();
        } else {
            out.begin();
            out.str("status", m->second->status);
            out.num("minutes", m->second->minutes);
            out.flag("pending", m->second->pending);
            out.end();
        }
        out.end();
    }
    out.end_array();
    out.end();
    return ok_json(out);
}

web::HttpResponse mark(Call& call) {
    std::string occasion, person, status;
    std::optional<int64_t> minutes;
    TUNDRA_TRY_RESPONSE(call.body.text("occasion", occasion, true, 200));
    TUNDRA_TRY_RESPONSE(call.body.text("person", person, true, 200));
    TUNDRA_TRY_RESPONSE(call.body.text("status", status, true, 40));
    TUNDRA_TRY_RESPONSE(call.body.integer("minutes", minutes, false));
    auto r = call.person->client->mark_attendance(occasion, person, status, minutes);
    if (r) call.sync.after_action(call.person->id);
    return id_answer(r);
}

web::HttpResponse walk_in(Call& call) {
    std::string occasion, person, status = "present";
    std::optional<int64_t> minutes, birth_year;
    TUNDRA_TRY_RESPONSE(call.body.text("occasion", occasion, true, 200));
    TUNDRA_TRY_RESPONSE(call.body.text("person", person, false, 200));
    TUNDRA_TRY_RESPONSE(call.body.text("status", status, false, 40));
    TUNDRA_TRY_RESPONSE(call.body.integer("minutes", minutes, false));
    Result<client::WalkInReceipt> r = Status(Errc::internal, "unset");
    if (!person.empty()) {
        r = call.person->client->walk_in(occasion, person, status, minutes);
    } else {
        client::NewPersonInput in;
        TUNDRA_TRY_RESPONSE(call.body.text("name", in.name, true, 200));
        TUNDRA_TRY_RESPONSE(call.body.text("site", in.site, true, 200));
        TUNDRA_TRY_RESPONSE(call.body.text("gender", in.gender, true, 40));
        TUNDRA_TRY_RESPONSE(call.body.integer("birth_year", birth_year, false));
        in.birth_year = birth_year;
        r = call.person->client->walk_in_new(occasion, in, status, minutes);
    }
    if (!r) return error_json(r.status());
    call.sync.after_action(call.person->id);
    JsonOut out;
    out.begin();
    out.str("enrolment", r->enrolment);
    out.str("mark", r->mark);
    out.str_or_null("person", r->person);
    out.end();
    return ok_json(out);
}

web::HttpResponse persons(Call& call) {
    client::PersonFilter f;
    if (auto it = call.query.find("search"); it != call.query.end()) f.search = it->second;
    if (auto it = call.query.find("site"); it != call.query.end()) f.site = it->second;
    auto list = call.person->client->persons(f);
    if (!list) return error_json(list.status());
    JsonOut out;
    out.begin();
    out.begin_array("persons");
    size_t n = 0;
    for (auto& p : list.value()) {
        if (++n > 200) break;  // a search narrows it; a screen never lists thousands
        out.begin();
        out.str("id", p.id);
        out.str("name", p.name);
        out.str("site", p.site);
        out.str("site_name", p.site_name);
        out.flag("provisional", p.provisional);
        out.end();
    }
    out.end_array();
    out.num("total", static_cast<int64_t>(list->size()));
    out.end();
    return ok_json(out);
}

web::HttpResponse sites(Call& call) {
    auto list = call.person->client->sites();
    if (!list) return error_json(list.status());
    JsonOut out;
    out.begin();
    out.begin_array("sites");
    for (auto& s : list.value()) {
        out.begin();
        out.str("id", s.id);
        out.str("name", s.name);
        out.str("organisation", s.organisation);
        out.str("organisation_name", s.organisation_name);
        out.end();
    }
    out.end_array();
    out.end();
    return ok_json(out);
}

web::HttpResponse deviations(Call& call) {
    client::DeviationFilter f;
    std::string status;
    if (find_status_arg(call, status)) f.status = status;
    auto list = call.person->client->deviations(f);
    if (!list) return error_json(list.status());
    JsonOut out;
    out.begin();
    out.begin_array("deviations");
    for (auto& d : list.value()) {
        out.begin();
        out.str("id", d.id);
        out.str("organisation", d.organisation);
        out.str_or_null("occasion", d.occasion);
        out.str("category", d.category);
        out.str("description", d.description);
        out.str("status", d.status);
        out.str_or_null("action_taken", d.action_taken);
        out.flag("pending", d.pending);
        out.end();
    }
    out.end_array();
    out.end();
    return ok_json(out);
}

web::HttpResponse log_deviation(Call& call) {
    client::DeviationInput in;
    std::string occasion;
    TUNDRA_TRY_RESPONSE(call.body.text("organisation", in.organisation, true, 200));
    TUNDRA_TRY_RESPONSE(call.body.text("category", in.category, true, 40));
    TUNDRA_TRY_RESPONSE(call.body.text("description", in.description, true, 4000));
    TUNDRA_TRY_RESPONSE(call.body.text("occasion", occasion, false, 200));
    if (!occasion.empty()) in.occasion = occasion;
    auto r = call.person->client->log_deviation(in);
    if (r) call.sync.after_action(call.person->id);
    return id_answer(r);
}

web::HttpResponse handle_deviation(Call& call) {
    std::string id, action;
    TUNDRA_TRY_RESPONSE(call.body.text("id", id, true, 200));
    TUNDRA_TRY_RESPONSE(call.body.text("action_taken", action, true, 4000));
    auto r = call.person->client->handle_deviation(id, action);
    if (r) call.sync.after_action(call.person->id);
    return id_answer(r);
}

}  // namespace tundra::app
