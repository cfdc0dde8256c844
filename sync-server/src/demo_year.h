// The demo's project year (issue 9), as compact records: participations, occasions over the
// past months and the coming weeks, enrolments and attendance marks, time attestations, survey
// answers and deviations. demo_data.cc names the records and writes the import document.
//
// Everything is drawn from one seeded generator, so the same input gives the same year. The
// records index into the caller's persons, organisations, sites and courses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tundra/core/stockholm_time.h"

namespace tundra::server::demo {

// The Swedish calendar is core's (tundra/core/stockholm_time.h): days_from_civil,
// stockholm_to_utc_ms, stockholm_utc_offset_ms, stockholm_month.
// Whether a "YYYY-MM-DD-NNNN" style number (8 digits, '-', 4 digits) has the Luhn check digit
// of a Swedish personnummer (computed over the 10 digits YYMMDDNNN).
bool personnummer_ok(const std::string& id);
// The check digit for the 9 digits YYMMDDNNN.
int personnummer_check_digit(const std::string& nine_digits);

// ---- input ----------------------------------------------------------------------------------
struct YearPerson {
    uint32_t org = 0;
    bool demo_user = false;  // a demo login: always a participant, no upcoming enrolments
};
struct YearCourse {
    int duration_minutes = 120;
    bool online = false;  // live_online or digital_self_paced: a link instead of a site
};
struct YearInput {
    std::vector<YearPerson> persons;
    std::vector<std::vector<uint32_t>> org_sites;  // site indices per organisation
    std::vector<YearCourse> courses;               // published courses only
    int64_t now_ms = 0;
    int history_months = 12;  // months of history, the current (Stockholm) month the last
    int64_t target_marks = 0;
    uint32_t seed = 0;
};

// ---- output ---------------------------------------------------------------------------------
enum class Mark : uint8_t { none, present, late, left_early, absent, excused };
const char* mark_name(Mark m);

struct YearParticipation {
    uint32_t person;
    int16_t start;  // month index into ProjectYear::months
    int16_t end;    // month index, -1 while open
};
struct YearOccasion {
    uint32_t course;
    uint32_t org;
    int32_t site;  // -1: online
    int64_t starts_ms, ends_ms;
    uint16_t capacity;
    bool cancelled;
};
// One enrolment, and for an occasion that took place its attendance mark and survey answer.
struct YearEnrolment {
    uint32_t occasion;
    uint32_t person;
    Mark mark;               // none: upcoming, or the occasion was cancelled
    bool cancelled;          // the enrolment (the occasion was cancelled)
    int16_t minutes;         // -1: the mark carries no minutes (the occasion's length counts)
    uint8_t rating[3];       // content, usefulness, overall; 0 = no survey answer
    int16_t comment;         // index into survey_comments(), -1 none
};
struct YearAttestation {
    uint32_t person;
    int16_t month;
    int32_t minutes;
};
enum class Category : uint8_t { cancelled_session, technical, attendance, content, accessibility, other };
constexpr int kCategories = 6;
const char* category_name(Category c);
struct YearDeviation {
    uint32_t org;
    int32_t occasion;  // -1: none
    Category category;
    uint16_t text;     // index into deviation_texts(category)
    int16_t action;    // index into deviation_actions(category), -1: open
};

struct ProjectYear {
    std::vector<std::string> months;  // "YYYY-MM", oldest first; the last is the current month
    std::vector<YearParticipation> participations;
    std::vector<YearOccasion> occasions;  // by start
    std::vector<YearEnrolment> enrolments;
    std::vector<YearAttestation> attestations;
    std::vector<YearDeviation> deviations;
    int64_t marks = 0;  // enrolments with a mark
};

ProjectYear plan_year(const YearInput& in);

const std::vector<const char*>& survey_comments();
const std::vector<const char*>& deviation_texts(Category c);
const std::vector<const char*>& deviation_actions(Category c);

}  // namespace tundra::server::demo
