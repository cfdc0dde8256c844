// Organisations, sites, the catalogue (courses, occasions), rosters, enrolments and marks.
// Reads are the store's rows() (the pull's scope rule: coordinators see what their devices
// would); every change is an action through apply().
#include <algorithm>

#include "console_routes.h"
#include "tundra/core/json.h"
#include "tundra/core/stockholm_time.h"

namespace tundra::console {
namespace {
// A filter from the query string on a text column.
void filter(const Call& c, server::RowQuery& q, const char* param, const char* column) {
    auto it = c.query.find(param);
    if (it != c.query.end() && !it->second.empty()) q.equals.emplace_back(column, it->second);
}

HttpResponse list(Call& c, Kind kind, std::initializer_list<std::pair<const char*, const char*>> filters,
                  std::string order_by = {}) {
    auto q = list_query(c);
    if (!q) return error_json(q.status());
    for (auto& [param, column] : filters) filter(c, q.value(), param, column);
    if (!order_by.empty()) q->order_by = std::move(order_by);
    auto page = c.store.rows(c.who(), kind, q.value());
    if (!page) return error_json(page.status());
    return rows_json(page.value());
}

bool valid_day(const std::string& s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
    for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

}  // namespace

HttpResponse organisations(Call& c) { return list(c, Kind::organisation, {}, "name"); }
HttpResponse upsert_organisation(Call& c) { return act(c, "upsert_organisation", "org-"); }
HttpResponse sites(Call& c) { return list(c, Kind::site, {{"organisation", "organisation"}}, "name"); }
HttpResponse upsert_site(Call& c) { return act(c, "upsert_site", "s-"); }

HttpResponse courses(Call& c) {
    auto it = c.query.find("published");
    if (it != c.query.end() && it->second != "true" && it->second != "false" && !it->second.empty())
        return error_json(Status(Errc::invalid_argument, "published: true or false"));
    return list(c, Kind::course, {{"published", "published"}}, "title");
}

HttpResponse course(Call& c) {
    auto row = one_row(c, Kind::course, c.params[0]);
    if (!row) return error_json(row.status());
    server::RowQuery q;
    q.equals.emplace_back("course", c.params[0]);
    q.order_by = "starts_at";
    q.limit = 5000;
    auto occ = c.store.rows(c.who(), Kind::occasion, q);
    if (!occ) return error_json(occ.status());
    JsonOut out;
    out.begin();
    out.row("course", &row.value());
    out.begin_array("occasions");
    for (auto& r : occ->rows) json::put_row(out.w(), r);
    out.end_array();
    out.end();
    return ok_json(out);
}

HttpResponse create_course(Call& c) { return act(c, "upsert_course", "c-"); }
HttpResponse update_course(Call& c) { return act(c, "upsert_course", "c-", {{"course", c.params[0]}}); }

HttpResponse occasions(Call& c) {
    // Days in Europe/Stockholm, both ends included: [from 00:00, the day after `to` 00:00).
    auto day_start = [](const std::string& day, int64_t plus_days) {
        int64_t y = std::stoll(day.substr(0, 4)), m = std::stoll(day.substr(5, 2)), d = std::stoll(day.substr(8, 2));
        CivilDate cd = civil_from_days(days_from_civil(y, m, d) + plus_days);
        return format_iso8601(stockholm_to_utc_ms(cd.y, cd.m, cd.d, 0, 0));
    };
    std::string from = c.query.count("from") ? c.query.at("from") : std::string();
    std::string to = c.query.count("to") ? c.query.at("to") : std::string();
    if (!from.empty() && !valid_day(from)) return error_json(Status(Errc::invalid_argument, "from: YYYY-MM-DD"));
    if (!to.empty() && !valid_day(to)) return error_json(Status(Errc::invalid_argument, "to: YYYY-MM-DD"));
    auto q = list_query(c);
    if (!q) return error_json(q.status());
    filter(c, q.value(), "course", "course");
    filter(c, q.value(), "site", "site");
    q->order_by = "starts_at";
    if (!from.empty() || !to.empty()) {
        q->range_column = "starts_at";
        if (!from.empty()) q->at_least = day_start(from, 0);
        if (!to.empty()) q->below = day_start(to, 1);
    }
    auto page = c.store.rows(c.who(), Kind::occasion, q.value());
    if (!page) return error_json(page.status());
    return rows_json(page.value());
}

HttpResponse create_occasion(Call& c) { return act(c, "upsert_occasion", "o-"); }
HttpResponse update_occasion(Call& c) { return act(c, "upsert_occasion", "o-", {{"occasion", c.params[0]}}); }
HttpResponse cancel_occasion(Call& c) {
    if (Status st = empty_body(c); !st) return error_json(st);
    return act(c, "upsert_occasion", "o-", {{"occasion", c.params[0]}, {"status", std::string("cancelled")}});
}

HttpResponse roster(Call& c) {
    auto occ = one_row(c, Kind::occasion, c.params[0]);
    if (!occ) return error_json(occ.status());
    auto course = one_row(c, Kind::course, text(occ.value(), "course"));
    Result<Row> site = text(occ.value(), "site").empty() ? Result<Row>(Errc::not_found, "online")
                                                         : one_row(c, Kind::site, text(occ.value(), "site"));
    server::RowQuery q;
    q.equals.emplace_back("occasion", c.params[0]);
    q.limit = 5000;
    auto enrolments = c.store.rows(c.who(), Kind::enrolment, q);
    if (!enrolments) return error_json(enrolments.status());
    auto marks = c.store.rows(c.who(), Kind::attendance, q);
    if (!marks) return error_json(marks.status());
    StrList ids;
    for (auto* rows : {&enrolments->rows, &marks->rows})
        for (auto& r : *rows) ids.push_back(text(r, "person"));
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    auto people = rows_in(c, Kind::person, "id", ids);
    if (!people) return error_json(people.status());
    std::map<std::string, std::string> names;
    for (auto& p : people.value()) names[text(p, "id")] = text(p, "name");
    auto named = [&](Row r) {
        r["person_name"] = names.count(text(r, "person")) ? names[text(r, "person")] : std::string();
        return r;
    };
    std::vector<Row> listed, waitlist;
    for (auto& e : enrolments->rows) (text(e, "status") == "waitlisted" ? waitlist : listed).push_back(named(e));
    std::sort(waitlist.begin(), waitlist.end(), [](const Row& a, const Row& b) {
        return get_int(a, "waitlist_position").value_or(0) < get_int(b, "waitlist_position").value_or(0);
    });
    // Each person's current mark: by source rank, then stamp, then device (model.h).
    std::map<std::string, const Row*> current;
    auto newer = [](const Row& a, const Row& b) {
        int ra = attendance_source_rank(text(a, "source")), rb = attendance_source_rank(text(b, "source"));
        if (ra != rb) return ra > rb;
        auto ha = get_int(a, "hlc").value_or(0), hb = get_int(b, "hlc").value_or(0);
        if (ha != hb) return ha > hb;
        return text(a, "device") > text(b, "device");
    };
    for (auto& m : marks->rows) {
        auto& cur = current[text(m, "person")];
        if (!cur || newer(m, *cur)) cur = &m;
    }
    JsonOut out;
    out.begin();
    out.row("occasion", &occ.value());
    out.row("course", course ? &course.value() : nullptr);
    out.row("site", site ? &site.value() : nullptr);
    out.begin_array("enrolments");
    for (auto& r : listed) json::put_row(out.w(), r);
    out.end_array();
    out.begin_array("waitlist");
    for (auto& r : waitlist) json::put_row(out.w(), r);
    out.end_array();
    out.begin_array("attendance");
    for (auto& [person, m] : current) {
        out.begin();
        out.str("person", person);
        out.str("person_name", names.count(person) ? names[person] : std::string());
        out.str("status", text(*m, "status"));
        out.num("minutes", get_int(*m, "minutes"));
        out.end();
    }
    out.end_array();
    out.end();
    return ok_json(out);
}

HttpResponse enrol(Call& c) { return act(c, "enrol", "e-"); }
HttpResponse cancel_enrolment(Call& c) {
    if (Status st = empty_body(c); !st) return error_json(st);
    return act(c, "cancel_enrolment", "e-", {{"enrolment", c.params[0]}});
}
HttpResponse mark_attendance(Call& c) { return act(c, "mark_attendance", "m-"); }

}  // namespace tundra::console
