#include "tundra/core/action.h"

namespace tundra {
namespace {
using T = ColType;
const ActionField kEnrol[] = {
    {"enrolment", T::text, true}, {"occasion", T::text, true}, {"person", T::text, true}};
const ActionField kCancel[] = {{"enrolment", T::text, true}};
const ActionField kMark[] = {{"mark", T::text, true},
                             {"occasion", T::text, true},
                             {"person", T::text, true},
                             {"status", T::text, true, &kAttendanceStatuses},
                             {"minutes", T::integer, false, nullptr, true}};
// A person who turned up without an enrolment: a confirmed enrolment and a mark, in one action.
// With `name` (and `site`, `gender`), `person` is a new provisional person registered by the
// same action: a walk-in is never blocked by a missing staff record.
const ActionField kWalkIn[] = {{"enrolment", T::text, true},
                               {"mark", T::text, true},
                               {"occasion", T::text, true},
                               {"person", T::text, true},
                               {"status", T::text, false, &kAttendanceStatuses},
                               {"minutes", T::integer, false, nullptr, true},
                               {"name", T::text, false},
                               {"site", T::text, false},
                               {"gender", T::text, false, &kGenders},
                               {"birth_year", T::integer, false, nullptr, true},
                               {"personal_id", T::text, false, nullptr, true}};
const ActionField kCourse[] = {{"course", T::text, true},
                               {"title", T::text, false},
                               {"description", T::text, false, nullptr, true},
                               {"theme", T::text, false, nullptr, true},
                               {"format", T::text, false, &kCourseFormats},
                               {"provider", T::text, false, nullptr, true},
                               {"duration_minutes", T::integer, false, nullptr, true},
                               {"organisations", T::str_list, false},
                               {"published", T::boolean, false}};
const ActionField kOccasion[] = {{"occasion", T::text, true},
                                 {"course", T::text, false},
                                 {"starts_at", T::iso_time, false},
                                 {"ends_at", T::iso_time, false},
                                 {"site", T::text, false, nullptr, true},
                                 {"online_link", T::text, false, nullptr, true},
                                 {"capacity", T::integer, false},
                                 {"enrolment_opens", T::iso_time, false, nullptr, true},
                                 {"enrolment_closes", T::iso_time, false},
                                 {"status", T::text, false, &kOccasionStatuses},
                                 {"survey_closes", T::iso_time, false, nullptr, true}};
const ActionField kDeleteOccasion[] = {{"occasion", T::text, true}};
const ActionField kPerson[] = {{"person", T::text, true},
                               {"name", T::text, false},
                               {"site", T::text, false},
                               {"profession", T::text, false, nullptr, true},
                               {"education_level", T::text, false, &kEducationLevels, true},
                               {"employment_status", T::text, false, &kEmploymentStatuses, true}};
// A person's project participation (ESF): started in `start_month`, ended in `end_month`.
const ActionField kParticipation[] = {{"participation", T::text, true},
                                      {"person", T::text, false},
                                      {"start_month", T::text, false},
                                      {"end_month", T::text, false, nullptr, true}};
const ActionField kAttest[] = {{"attestation", T::text, true},
                               {"person", T::text, true},
                               {"month", T::text, true},
                               {"minutes", T::integer, true}};
const ActionField kSurvey[] = {{"response", T::text, true},
                               {"occasion", T::text, true},
                               {"person", T::text, true},
                               {"rating_content", T::integer, true},
                               {"rating_usefulness", T::integer, true},
                               {"rating_overall", T::integer, true},
                               {"comment", T::text, false, nullptr, true}};
const ActionField kDeviation[] = {{"deviation", T::text, true},
                                  {"organisation", T::text, false},
                                  {"occasion", T::text, false, nullptr, true},
                                  {"category", T::text, false, &kDeviationCategories},
                                  {"description", T::text, false},
                                  {"status", T::text, false, &kDeviationStatuses},
                                  {"action_taken", T::text, false, nullptr, true}};
// The console's register (issue 11): organisations and sites (admins), and staff members
// added one at a time (admins anywhere, coordinators at their sites).
const ActionField kOrganisation[] = {
    {"organisation", T::text, true}, {"name", T::text, false}, {"county", T::text, false}};
const ActionField kSite[] = {
    {"site", T::text, true}, {"organisation", T::text, false}, {"name", T::text, false}};
const ActionField kAddPerson[] = {{"person", T::text, true},
                                  {"organisation", T::text, false},
                                  {"site", T::text, true},
                                  {"name", T::text, true},
                                  {"gender", T::text, true, &kGenders},
                                  {"birth_year", T::integer, false, nullptr, true},
                                  {"profession", T::text, false, nullptr, true},
                                  {"education_level", T::text, false, &kEducationLevels, true},
                                  {"employment_status", T::text, false, &kEmploymentStatuses, true}};

using W = ActionWrite;
const ActionSpec kActions[] = {
    {"enrol", Kind::enrolment, "enrolment", kEnrol, W::creates},
    {"cancel_enrolment", Kind::enrolment, "enrolment", kCancel, W::changes},
    {"mark_attendance", Kind::attendance, "mark", kMark, W::creates},
    {"walk_in", Kind::enrolment, "enrolment", kWalkIn, W::creates},
    {"upsert_course", Kind::course, "course", kCourse, W::upserts},
    {"upsert_occasion", Kind::occasion, "occasion", kOccasion, W::upserts},
    {"delete_occasion", Kind::occasion, "occasion", kDeleteOccasion, W::changes},
    {"update_person", Kind::person, "person", kPerson, W::changes},
    {"attest_time", Kind::time_attestation, "attestation", kAttest, W::upserts},
    {"submit_survey", Kind::survey_response, "response", kSurvey, W::upserts},
    {"log_deviation", Kind::deviation, "deviation", kDeviation, W::upserts},
    {"upsert_participation", Kind::participation, "participation", kParticipation, W::upserts},
    {"upsert_organisation", Kind::organisation, "organisation", kOrganisation, W::upserts},
    {"upsert_site", Kind::site, "site", kSite, W::upserts},
    {"add_person", Kind::person, "person", kAddPerson, W::creates},
};
}  // namespace

std::span<const ActionSpec> all_actions() { return kActions; }

const ActionSpec* action_spec(std::string_view type) {
    for (auto& a : kActions)
        if (a.type == type) return &a;
    return nullptr;
}

const std::string& Action::target_id() const {
    static const std::string kEmpty;
    auto* spec = action_spec(type);
    if (!spec) return kEmpty;
    auto* s = get_str(fields, spec->id_field);
    return s ? *s : kEmpty;
}

Status validate_action(const Action& a, std::string_view path, ActionCheck check) {
    std::string p(path);
    if (a.seq == 0) return Status(Errc::invalid_argument, p + ".seq: must be a positive integer");
    if (a.hlc.value == 0) return Status(Errc::invalid_argument, p + ".hlc: must be positive");
    auto* spec = action_spec(a.type);
    if (!spec) return Status(Errc::invalid_argument, p + ".type: unknown action '" + a.type + "'");
    for (auto& [name, v] : a.fields) {
        const ActionField* f = nullptr;
        for (auto& af : spec->fields)
            if (af.name == name) f = &af;
        if (!f)
            return Status(Errc::invalid_argument,
                          p + "." + name + ": not a field of '" + a.type + "'");
        Column col{f->name, f->type, f->nullable, check == ActionCheck::wire ? nullptr : f->values};
        TUNDRA_TRY(check_value(col, v, p + "." + name));
    }
    for (auto& f : spec->fields)
        if (f.required && !a.fields.count(f.name))
            return Status(Errc::invalid_argument, p + "." + std::string(f.name) + ": is required");
    const std::string& id = a.target_id();
    if (id.empty() || id.size() > 200)
        return Status(Errc::invalid_argument, p + "." + std::string(spec->id_field) +
                                                  ": must be 1-200 bytes");
    return Status::ok();
}

Status check_action_limits(const Action& a, std::string_view path) {
    for (auto& [name, v] : a.fields)
        TUNDRA_TRY(check_limits(name, v, std::string(path) + "." + name));
    return Status::ok();
}

std::string_view to_string(OutcomeResult r) {
    switch (r) {
        case OutcomeResult::applied: return "applied";
        case OutcomeResult::adjusted: return "adjusted";
        case OutcomeResult::rejected: return "rejected";
    }
    return "rejected";
}

bool parse_outcome_result(std::string_view s, OutcomeResult& out) {
    if (s == "applied") out = OutcomeResult::applied;
    else if (s == "adjusted") out = OutcomeResult::adjusted;
    else if (s == "rejected") out = OutcomeResult::rejected;
    else return false;
    return true;
}

}  // namespace tundra
