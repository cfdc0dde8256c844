// The Client facade, the programme's own records: survey answers, time attestations, the
// deviation log, project participations and walk-ins not yet in the store. Each is checked
// against the replica, then recorded like every action (Replica::record), pending until a sync.
#include "client_internal.h"
#include "tundra/core/stockholm_time.h"

namespace tundra::client {
namespace {
std::string str(const Row& r, std::string_view k) {
    auto* s = get_str(r, k);
    return s ? *s : std::string();
}

Status participant_only(const ReplicaMeta& m, const char* what) {
    if (m.role != "participant" || m.person.empty())
        return Status(Errc::forbidden, std::string("only participants ") + what +
                                           ", for themselves (nobody does it for someone else)");
    return Status::ok();
}

Status staff_only(const ReplicaMeta& m, const char* what) {
    if (m.role != "coordinator" && m.role != "admin")
        return Status(Errc::forbidden, std::string("only coordinators and admins ") + what);
    return Status::ok();
}

Status check_month(const std::string& month, const char* field = "month") {
    if (!valid_month(month))
        return Status(Errc::invalid_argument,
                      std::string(field) + ": '" + month + "' is not a month (YYYY-MM)");
    return Status::ok();
}

bool is_open(const Row& participation) { return str(participation, "end_month").empty(); }
}  // namespace

std::map<std::string, MonthMinutes> minutes_by_month(const std::vector<AttendedOccasion>& attended) {
    std::map<std::string, MonthMinutes> out;
    for (auto& a : attended) {
        auto starts = parse_iso8601(a.starts_at);
        if (!starts) continue;
        auto& m = out[stockholm_month(starts.value())];
        m.minutes += a.minutes;
        m.occasions += 1;
    }
    return out;
}

Result<std::string> Client::submit_survey(const SurveyInput& in) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        auto session = I.signed_in();
        if (!session) return session.status();
        const ReplicaMeta& m = session.value();
        TUNDRA_TRY(participant_only(m, "answer surveys"));
        for (auto [field, flag, v] : {std::tuple{"rating_content", "--content", in.content},
                                      {"rating_usefulness", "--usefulness", in.usefulness},
                                      {"rating_overall", "--overall", in.overall}})
            if (v < 1 || v > 5)
                return Status(Errc::invalid_argument, std::string(field) + " (" + flag +
                                                          ") must be 1-5, not " + std::to_string(v));
        auto occ = I.replica->load_row(Kind::occasion, in.occasion);
        if (!occ) return occ.status();
        if (!occ.value())
            return Status(Errc::not_found, "unknown occasion '" + in.occasion +
                                               "' (not in this replica; try `tundra sync`)");
        const Row& o = *occ.value();
        int64_t now = static_cast<int64_t>(I.wall());
        auto ends = parse_iso8601(str(o, "ends_at"));
        if (!ends) return Status(Errc::storage, "occasion '" + in.occasion + "' has no valid end");
        if (now < ends.value())
            return Status(Errc::invalid_argument, "the survey of " + in.occasion +
                                                      " opens when the occasion has ended (" +
                                                      stockholm_datetime(ends.value()) + ")");
        int64_t closes = survey_closes_ms(ends.value(), str(o, "survey_closes"));
        if (now >= closes)
            return Status(Errc::invalid_argument, "the survey of " + in.occasion + " closed at " +
                                                      stockholm_datetime(closes) + " (Swedish time)");
        auto attended = I.replica->attended(m.person);
        if (!attended) return attended.status();
        bool was_there = false;
        for (auto& a : attended.value()) was_there |= a.occasion == in.occasion;
        if (!was_there)
            return Status(Errc::invalid_argument,
                          "no attended mark of yours at " + in.occasion +
                              " (present, late or left_early): only those who attended answer its survey");
        // One answer per person and occasion: answering again edits it.
        auto held = I.replica->keyed_row(Kind::survey_response, m.person, "occasion", in.occasion);
        if (!held) return held.status();
        std::string id = held.value() ? str(held.value()->row, "id") : new_id("sr", m);
        Row f{{"response", id},
              {"occasion", in.occasion},
              {"person", m.person},
              {"rating_content", in.content},
              {"rating_usefulness", in.usefulness},
              {"rating_overall", in.overall}};
        f["comment"] = in.comment && !in.comment->empty() ? Value(*in.comment) : Value{};
        return I.record("submit_survey", std::move(f));
    });
}

namespace {
Result<AttestSuggestion> suggest(Replica& r, const std::string& person, const std::string& month) {
    TUNDRA_TRY(check_month(month));
    AttestSuggestion s;
    s.month = month;
    auto attended = r.attended(person);
    if (!attended) return attended.status();
    auto by_month = minutes_by_month(attended.value());
    if (auto it = by_month.find(month); it != by_month.end()) {
        s.suggested_minutes = it->second.minutes;
        s.occasions = it->second.occasions;
    }
    auto held = r.keyed_row(Kind::time_attestation, person, "month", month);
    if (!held) return held.status();
    if (held.value()) {
        s.attested = get_int(held.value()->row, "minutes");
        s.pending = held.value()->pending;
    }
    return s;
}
}  // namespace

Result<AttestSuggestion> Client::attest_suggestion(const std::string& month) {
    return impl_->locked([&]() -> Result<AttestSuggestion> {
        auto& I = *impl_;
        auto session = I.signed_in();
        if (!session) return session.status();
        TUNDRA_TRY(participant_only(session.value(), "attest time"));
        return suggest(*I.replica, session.value().person, month);
    });
}

Result<std::string> Client::attest(const std::string& month, int64_t minutes) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        auto session = I.signed_in();
        if (!session) return session.status();
        const ReplicaMeta& m = session.value();
        TUNDRA_TRY(participant_only(m, "attest time"));
        TUNDRA_TRY(check_month(month));
        if (minutes < 0 || minutes > 31 * 24 * 60)
            return Status(Errc::invalid_argument, "minutes must be between 0 and 44640, not " +
                                                      std::to_string(minutes));
        std::string current = stockholm_month(static_cast<int64_t>(I.wall()));
        if (month > current)
            return Status(Errc::invalid_argument,
                          "month " + month + " has not begun (it is " + current + " in Sweden)");
        // One attestation per person and month: attesting again edits it.
        auto held = I.replica->keyed_row(Kind::time_attestation, m.person, "month", month);
        if (!held) return held.status();
        std::string id = held.value() ? str(held.value()->row, "id") : new_id("ta", m);
        return I.record("attest_time", Row{{"attestation", id},
                                           {"person", m.person},
                                           {"month", month},
                                           {"minutes", minutes}});
    });
}

Result<std::string> Client::log_deviation(const DeviationInput& in) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        auto session = I.signed_in();
        if (!session) return session.status();
        const ReplicaMeta& m = session.value();
        TUNDRA_TRY(staff_only(m, "log deviations"));
        if (!kDeviationCategories.contains(in.category))
            return Status(Errc::invalid_argument, "category: '" + in.category + "' is not one of " +
                                                      kDeviationCategories.list());
        if (in.description.empty())
            return Status(Errc::invalid_argument, "description: say what happened (--description TEXT)");
        if (in.organisation.empty())
            return Status(Errc::invalid_argument, "organisation: say which (--organisation CODE)");
        TUNDRA_TRY(I.need(Kind::organisation, in.organisation));
        Row f{{"deviation", new_id("d", m)},
              {"organisation", in.organisation},
              {"category", in.category},
              {"description", in.description},
              {"status", std::string("open")}};
        if (in.occasion && !in.occasion->empty()) {
            TUNDRA_TRY(I.need(Kind::occasion, *in.occasion));
            f["occasion"] = *in.occasion;
        }
        return I.record("log_deviation", std::move(f));
    });
}

Result<std::string> Client::handle_deviation(const std::string& id, const std::string& action_taken) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        auto session = I.signed_in();
        if (!session) return session.status();
        TUNDRA_TRY(staff_only(session.value(), "handle deviations"));
        if (action_taken.empty())
            return Status(Errc::invalid_argument, "action_taken: say what was done (--action-taken TEXT)");
        TUNDRA_TRY(I.need(Kind::deviation, id));
        return I.record("log_deviation", Row{{"deviation", id},
                                             {"status", std::string("handled")},
                                             {"action_taken", action_taken}});
    });
}

Result<std::vector<DeviationView>> Client::deviations(const DeviationFilter& filter) {
    return impl_->locked([&]() -> Result<std::vector<DeviationView>> {
        auto& I = *impl_;
        auto session = I.signed_in();
        if (!session) return session.status();
        TUNDRA_TRY(staff_only(session.value(), "read the deviation log"));
        if (!filter.status.empty() && !kDeviationStatuses.contains(filter.status))
            return Status(Errc::invalid_argument, "status: '" + filter.status + "' is not one of " +
                                                      kDeviationStatuses.list());
        if (!filter.category.empty() && !kDeviationCategories.contains(filter.category))
            return Status(Errc::invalid_argument, "category: '" + filter.category + "' is not one of " +
                                                      kDeviationCategories.list());
        return I.replica->deviations(filter);
    });
}

Result<std::string> Client::start_participation(const std::string& person, const std::string& month) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        auto session = I.signed_in();
        if (!session) return session.status();
        const ReplicaMeta& m = session.value();
        TUNDRA_TRY(staff_only(m, "start participations"));
        TUNDRA_TRY(check_month(month, "start_month"));
        TUNDRA_TRY(I.need(Kind::person, person));
        auto held = I.replica->rows_of_person(Kind::participation, person);
        if (!held) return held.status();
        for (auto& p : held.value()) {
            if (is_open(p))
                return Status(Errc::conflict, person + " already has an open participation (" +
                                                  str(p, "id") + ", since " + str(p, "start_month") +
                                                  "): end it first");
            if (str(p, "start_month") <= month && month <= str(p, "end_month"))
                return Status(Errc::conflict, month + " lies in " + person + "'s participation " +
                                                  str(p, "id") + " (" + str(p, "start_month") + " to " +
                                                  str(p, "end_month") + ")");
        }
        return I.record("upsert_participation", Row{{"participation", new_id("pt", m)},
                                                    {"person", person},
                                                    {"start_month", month}});
    });
}

Result<std::string> Client::end_participation(const std::string& person, const std::string& month) {
    return impl_->locked([&]() -> Result<std::string> {
        auto& I = *impl_;
        auto session = I.signed_in();
        if (!session) return session.status();
        TUNDRA_TRY(staff_only(session.value(), "end participations"));
        TUNDRA_TRY(check_month(month, "end_month"));
        TUNDRA_TRY(I.need(Kind::person, person));
        auto held = I.replica->rows_of_person(Kind::participation, person);
        if (!held) return held.status();
        const Row* open = nullptr;
        for (auto& p : held.value())
            if (is_open(p)) open = &p;
        if (!open)
            return Status(Errc::not_found, person + " has no open participation (start one with "
                                                    "`tundra participation start " + person + " YYYY-MM`)");
        if (month < str(*open, "start_month"))
            return Status(Errc::invalid_argument, "end_month " + month + " is before the start, " +
                                                      str(*open, "start_month"));
        return I.record("upsert_participation", Row{{"participation", str(*open, "id")},
                                                    {"person", person},
                                                    {"end_month", month}});
    });
}

Result<WalkInReceipt> Client::walk_in_new(const std::string& occasion, const NewPersonInput& p,
                                          const std::string& status, std::optional<int64_t> minutes) {
    return impl_->locked([&]() -> Result<WalkInReceipt> {
        auto& I = *impl_;
        auto session = I.signed_in();
        if (!session) return session.status();
        const ReplicaMeta& m = session.value();
        TUNDRA_TRY(staff_only(m, "record walk-ins"));
        if (!kAttendanceStatuses.contains(status))
            return Status(Errc::invalid_argument, "status must be one of " + kAttendanceStatuses.list());
        if (minutes && (*minutes < 0 || *minutes > 1440))
            return Status(Errc::invalid_argument, "minutes must be between 0 and 1440");
        TUNDRA_TRY(I.need(Kind::occasion, occasion));
        if (p.name.empty()) return Status(Errc::invalid_argument, "name: say who came (--name NAME)");
        if (p.site.empty()) return Status(Errc::invalid_argument, "site: say where they work (--site SITE)");
        if (!kGenders.contains(p.gender))
            return Status(Errc::invalid_argument, "gender: '" + p.gender + "' is not one of " + kGenders.list());
        int64_t year = std::stoll(stockholm_month(static_cast<int64_t>(I.wall())).substr(0, 4));
        if (p.birth_year && (*p.birth_year < 1900 || *p.birth_year > year))
            return Status(Errc::invalid_argument, "birth_year must be between 1900 and " + std::to_string(year));
        TUNDRA_TRY(I.need(Kind::site, p.site));
        if (m.role == "coordinator" && ("," + m.sites + ",").find("," + p.site + ",") == std::string::npos)
            return Status(Errc::forbidden, "site '" + p.site + "' is not one of yours (" + m.sites + ")");
        WalkInReceipt out{new_id("e", m), new_id("m", m), new_id("p", m)};
        Row f{{"enrolment", out.enrolment}, {"mark", out.mark}, {"occasion", occasion},
              {"person", out.person}, {"status", status}, {"name", p.name},
              {"site", p.site}, {"gender", p.gender}};
        if (minutes) f["minutes"] = *minutes;
        if (p.birth_year) f["birth_year"] = *p.birth_year;
        if (p.personal_id && !p.personal_id->empty()) f["personal_id"] = *p.personal_id;
        auto id = I.record("walk_in", std::move(f));
        if (!id) return id.status();
        return out;
    });
}

}  // namespace tundra::client
