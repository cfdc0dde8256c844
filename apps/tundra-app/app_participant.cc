// A participant's screens: the catalogue, enrolling and cancelling, my enrolments, my
// attendance, what is still to do, the survey and the monthly attestation (app_routes.h).
#include <algorithm>
#include <map>

#include "app_routes.h"

namespace tundra::app {
namespace {
std::string my_person(Call& call) {
    auto st = call.person->client->status();
    return st ? st->person : std::string();
}

void put_enrolment(JsonOut& out, const client::EnrolmentView& e) {
    out.str("id", e.id);
    out.str("status", e.status);
    out.flag("pending", e.pending);
    out.num("waitlist_position", e.waitlist_position);
    out.str_or_null("reason", e.reason);
}

}  // namespace

std::map<std::string, OccasionInfo> occasion_index(client::Client& c) {
    std::map<std::string, OccasionInfo> idx;
    if (auto courses = c.courses())
        for (auto& course : courses.value())
            for (auto& o : course.occasions) idx[o.id] = {course.title, o.starts_at, o.ends_at, o.site_name};
    return idx;
}

web::HttpResponse catalogue(Call& call) {
    auto& c = *call.person->client;
    auto courses = c.courses();
    if (!courses) return error_json(courses.status());
    auto mine = c.enrolments({.person = my_person(call)});
    if (!mine) return error_json(mine.status());
    // My current enrolment per occasion: a live one before a cancelled one.
    std::map<std::string, const client::EnrolmentView*> by_occasion;
    for (auto& e : mine.value()) {
        auto& slot = by_occasion[e.occasion];
        if (!slot || (slot->status == "cancelled" && e.status != "cancelled")) slot = &e;
    }
    JsonOut out;
    out.begin();
    out.begin_array("courses");
    for (auto& course : courses.value()) {
        if (!course.published) continue;
        out.begin();
        out.str("id", course.id);
        out.str("title", course.title);
        out.str("theme", course.theme);
        out.str("format", course.format);
        out.str("provider", course.provider);
        out.begin_array("occasions");
        for (auto& o : course.occasions) {
            out.begin();
            out.str("id", o.id);
            out.str("starts_at", o.starts_at);
            out.str("ends_at", o.ends_at);
            out.str("site", o.site);
            out.str("site_name", o.site_name);
            out.str_or_null("online_link", o.online_link);
            out.str("status", o.status);
            out.num("capacity", o.capacity);
            out.num("confirmed", o.confirmed);
            out.num("waitlisted", o.waitlisted);
            out.num("seats_left", o.seats_left);
            out.str_or_null("enrolment_opens", o.enrolment_opens);
            out.str_or_null("enrolment_closes", o.enrolment_closes);
            out.key("mine");
            auto it = by_occasion.find(o.id);
            if (it == by_occasion.end()) {
                out.w().Null();
            } else {
                out.begin();
                put_enrolment(out, *it->second);
                out.end();
            }
            out.end();
        }
        out.end_array();
        out.end();
    }
    out.end_array();
    out.end();
    return ok_json(out);
}

web::HttpResponse enrol(Call& call) {
    std::string occasion, person;
    TUNDRA_TRY_RESPONSE(call.body.text("occasion", occasion, true, 200));
    TUNDRA_TRY_RESPONSE(call.body.text("person", person, false, 200));
    auto r = call.person->client->enrol(occasion, person);
    if (r) call.sync.after_action(call.person->id);
    return id_answer(r);
}

web::HttpResponse cancel(Call& call) {
    std::string enrolment;
    TUNDRA_TRY_RESPONSE(call.body.text("enrolment", enrolment, true, 200));
    auto r = call.person->client->cancel(enrolment);
    if (r) call.sync.after_action(call.person->id);
    return id_answer(r);
}

web::HttpResponse my_enrolments(Call& call) {
    auto& c = *call.person->client;
    auto mine = c.enrolments({.person = my_person(call)});
    if (!mine) return error_json(mine.status());
    auto idx = occasion_index(c);
    auto list = mine.value();
    std::sort(list.begin(), list.end(), [&](auto& a, auto& b) { return idx[a.occasion].starts_at < idx[b.occasion].starts_at; });
    JsonOut out;
    out.begin();
    out.begin_array("enrolments");
    for (auto& e : list) {
        auto& o = idx[e.occasion];
        out.begin();
        put_enrolment(out, e);
        out.str("occasion", e.occasion);
        out.str("course_title", o.course_title);
        out.str("starts_at", o.starts_at);
        out.str("ends_at", o.ends_at);
        out.str("site_name", o.site_name);
        out.end();
    }
    out.end_array();
    out.end();
    return ok_json(out);
}

web::HttpResponse my_attendance(Call& call) {
    auto& c = *call.person->client;
    auto marks = c.attendance_of(my_person(call));
    if (!marks) return error_json(marks.status());
    auto idx = occasion_index(c);
    JsonOut out;
    out.begin();
    out.begin_array("marks");
    for (auto& m : marks.value()) {
        auto& o = idx[m.occasion];
        out.begin();
        out.str("occasion", m.occasion);
        out.str("course_title", o.course_title);
        out.str("starts_at", o.starts_at);
        out.str("status", m.status);
        out.num("minutes", m.minutes);
        out.flag("pending", m.pending);
        out.end();
    }
    out.end_array();
    out.end();
    return ok_json(out);
}

web::HttpResponse todo(Call& call) {
    auto t = call.person->client->todo();
    if (!t) return error_json(t.status());
    JsonOut out;
    out.begin();
    out.begin_array("surveys");
    for (auto& s : t->surveys) {
        out.begin();
        out.str("occasion", s.occasion);
        out.str("course_title", s.course_title);
        out.str("ends_at", s.ends_at);
        out.str("closes_on", s.closes_on);
        out.end();
    }
    out.end_array();
    out.begin_array("months");
    for (auto& m : t->months) {
        out.begin();
        out.str("month", m.month);
        out.num("suggested_minutes", m.suggested_minutes);
        out.num("occasions", m.occasions);
        out.flag("in_participation", m.in_participation);
        out.end();
    }
    out.end_array();
    out.end();
    return ok_json(out);
}

web::HttpResponse survey(Call& call) {
    client::SurveyInput in;
    std::optional<int64_t> content, usefulness, overall;
    std::string comment;
    TUNDRA_TRY_RESPONSE(call.body.text("occasion", in.occasion, true, 200));
    TUNDRA_TRY_RESPONSE(call.body.integer("content", content));
    TUNDRA_TRY_RESPONSE(call.body.integer("usefulness", usefulness));
    TUNDRA_TRY_RESPONSE(call.body.integer("overall", overall));
    TUNDRA_TRY_RESPONSE(call.body.text("comment", comment, false, 4000));
    in.content = *content;
    in.usefulness = *usefulness;
    in.overall = *overall;
    if (!comment.empty()) in.comment = comment;
    auto r = call.person->client->submit_survey(in);
    if (r) call.sync.after_action(call.person->id);
    return id_answer(r);
}

web::HttpResponse attest_get(Call& call) {
    auto it = call.query.find("month");
    if (it == call.query.end()) return error_json(Status(Errc::invalid_argument, "month: required"));
    auto s = call.person->client->attest_suggestion(it->second);
    if (!s) return error_json(s.status());
    JsonOut out;
    out.begin();
    out.str("month", s->month);
    out.num("suggested_minutes", s->suggested_minutes);
    out.num("occasions", s->occasions);
    out.num("attested", s->attested);
    out.flag("pending", s->pending);
    out.end();
    return ok_json(out);
}

web::HttpResponse attest_post(Call& call) {
    std::string month;
    std::optional<int64_t> minutes;
    TUNDRA_TRY_RESPONSE(call.body.text("month", month, true, 20));
    TUNDRA_TRY_RESPONSE(call.body.integer("minutes", minutes));
    auto r = call.person->client->attest(month, *minutes);
    if (r) call.sync.after_action(call.person->id);
    return id_answer(r);
}

}  // namespace tundra::app
