// The Client facade, `todo`: what is still unanswered, from the replica alone — surveys open,
// months to attest, "changed for you" notices, and for staff the open deviations.
#include "client_internal.h"
#include "tundra/core/stockholm_time.h"

namespace tundra::client {
namespace {
std::string str(const Row& r, std::string_view k) {
    auto* s = get_str(r, k);
    return s ? *s : std::string();
}

// A participant's open surveys: attended occasions that have ended, whose survey has not
// closed, and that they have not answered.
Result<std::vector<SurveyTodo>> open_surveys(Replica& r, const std::string& person,
                                             const std::vector<AttendedOccasion>& attended, int64_t now) {
    auto answers = r.rows_of_person(Kind::survey_response, person);
    if (!answers) return answers.status();
    std::set<std::string> answered;
    for (auto& a : answers.value()) answered.insert(str(a, "occasion"));
    std::vector<SurveyTodo> out;
    for (auto& a : attended) {
        auto ends = parse_iso8601(a.ends_at);
        if (!ends || answered.count(a.occasion)) continue;
        int64_t closes = survey_closes_ms(ends.value(), a.survey_closes);
        if (now < ends.value() || now >= closes) continue;
        out.push_back({a.occasion, a.course_title, a.ends_at, format_iso8601(closes),
                       stockholm_date(closes - 1)});
    }
    return out;
}

// Months that have ended (Swedish time) with attended minutes or inside one of the person's
// participations, not yet attested; each with the minutes the marks suggest.
Result<std::vector<AttestTodo>> months_to_attest(Replica& r, const std::string& person,
                                                 const std::vector<AttendedOccasion>& attended,
                                                 int64_t now) {
    const std::string current = stockholm_month(now);
    auto by_month = minutes_by_month(attended);
    std::map<std::string, AttestTodo> due;
    for (auto& [month, mm] : by_month)
        if (month < current) due[month] = {month, mm.minutes, mm.occasions, false};
    auto participations = r.rows_of_person(Kind::participation, person);
    if (!participations) return participations.status();
    for (auto& p : participations.value()) {
        std::string month = str(p, "start_month"), end = str(p, "end_month");
        // At most 20 years of months: a participation is a project's, not a lifetime's.
        for (int n = 0; valid_month(month) && month < current && (end.empty() || month <= end) && n < 240;
             ++n, month = next_month(month)) {
            auto& d = due[month];
            d.month = month;
            d.in_participation = true;
            if (auto it = by_month.find(month); it != by_month.end()) {
                d.suggested_minutes = it->second.minutes;
                d.occasions = it->second.occasions;
            }
        }
    }
    auto attested = r.rows_of_person(Kind::time_attestation, person);
    if (!attested) return attested.status();
    for (auto& a : attested.value()) due.erase(str(a, "month"));
    std::vector<AttestTodo> out;
    for (auto& [month, d] : due) out.push_back(d);
    return out;
}
}  // namespace

Result<TodoView> Client::todo() {
    return impl_->locked([&]() -> Result<TodoView> {
        auto& I = *impl_;
        auto session = I.signed_in();
        if (!session) return session.status();
        const ReplicaMeta& m = session.value();
        int64_t now = static_cast<int64_t>(I.wall());
        TodoView v;
        v.role = m.role;
        v.person = m.person;
        if (m.role == "participant" && !m.person.empty()) {
            auto attended = I.replica->attended(m.person);
            if (!attended) return attended.status();
            auto surveys = open_surveys(*I.replica, m.person, attended.value(), now);
            if (!surveys) return surveys.status();
            v.surveys = std::move(surveys.value());
            auto months = months_to_attest(*I.replica, m.person, attended.value(), now);
            if (!months) return months.status();
            v.months = std::move(months.value());
        }
        if (!m.person.empty()) {
            auto changed = I.replica->notices();
            if (!changed) return changed.status();
            v.changed = std::move(changed.value());
        }
        if (m.role == "coordinator" || m.role == "admin") {
            auto open = I.replica->deviations({.status = "open"});
            if (!open) return open.status();
            v.open_deviations = std::move(open.value());
        }
        return v;
    });
}

Result<int64_t> Client::mark_notices_seen() {
    return impl_->locked([&]() -> Result<int64_t> {
        auto& I = *impl_;
        TUNDRA_TRY(I.signed_in().status());
        auto n = I.replica->mark_notices_seen(static_cast<int64_t>(I.wall()));
        if (n && n.value() > 0) I.note("dismiss", {"notice"});
        return n;
    });
}

}  // namespace tundra::client
