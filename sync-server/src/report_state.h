// What the store held as of one moment, rebuilt from the report facts (schema v5: table
// report_facts, written by triggers on every report-relevant row). Every report is a pure
// function of a ReportState, so a report as of T is reproducible by construction: the facts
// committed up to T never change (GDPR erasure only renames them under the pseudonym and
// drops personal fields). See docs/reports.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tundra/core/status.h"
#include "tundra/core/stockholm_time.h"
#include "tundra/sqlite/db.h"

namespace tundra::server {

struct RPerson {
    std::string id, organisation, site, gender;  // gender: woman|man|non_binary|undisclosed
    std::optional<int64_t> birth_year;
    std::string education_level, employment_status;  // "" when unknown
    std::string personal_id;                          // "" when none (server only; admins)
    bool erased = false;       // id is then the pseudonym; personal fields are not shown
    bool provisional = false;  // registered at a walk-in
};
struct RParticipation {
    std::string id, person, start_month, end_month;  // end_month "" while open
};
struct RCourse {
    std::string id, title, theme, format;
};
struct ROccasion {
    std::string id, course, site, status;  // site "" for online occasions
    int64_t starts_ms = 0, ends_ms = 0, capacity = 0;
    int64_t survey_closes_ms = 0;  // survey_closes, or 30 days after the end (core)
};
struct REnrolment {
    std::string id, occasion, person, status;
};
struct RMark {
    std::string id, occasion, person, status, source, device;
    std::optional<int64_t> minutes;
    int64_t hlc = 0;
};
struct RAttestation {
    std::string id, person, month;
    int64_t minutes = 0;
};
struct RSurvey {
    std::string id, occasion, person;
    int rating_content = 0, rating_usefulness = 0, rating_overall = 0;
};
struct RDeviation {
    std::string id, organisation, occasion, category, description, status, action_taken;
    int64_t logged_ms = 0;   // when the server first recorded it
    int64_t handled_ms = 0;  // when it was first recorded as handled; 0 while open
};
struct RSite {
    std::string id, organisation, name;
};

struct ReportState {
    int64_t as_of_ms = 0;
    // Rows by id, as they were at as_of_ms (deleted rows absent).
    std::map<std::string, std::string> organisations;  // id -> name
    std::map<std::string, RSite> sites;
    std::map<std::string, RPerson> persons;
    std::map<std::string, RParticipation> participations;
    std::map<std::string, RCourse> courses;
    std::map<std::string, ROccasion> occasions;
    std::map<std::string, REnrolment> enrolments;
    std::map<std::string, RMark> marks;
    std::map<std::string, RAttestation> attestations;
    std::map<std::string, RSurvey> surveys;
    std::map<std::string, RDeviation> deviations;

    // The current mark of each (occasion, person): the newest by (source rank, hlc, device),
    // as core's attendance_source_rank orders them. Key: occasion + '\x1f' + person.
    std::map<std::string, const RMark*> current_marks() const;
    // The same marks, in no particular order, without building the keyed map (for reports
    // that only sum over them: a million marks in a fraction of the time).
    std::vector<const RMark*> current_mark_list() const;
};

// Replays every fact committed at or before `as_of_ms`. Errors: storage.
Result<ReportState> load_report_state(sql::Db& db, int64_t as_of_ms);

// The state as of an earlier moment, made in place from a later one (`state`, loaded as of a
// later moment) by replaying only the rows with facts in between; the later state comes back
// when the Rewind is destroyed. The ledger's corrections compare a month as reported then
// with the same month as known now without loading every fact twice. Errors: storage.
class Rewind {
public:
    static Result<std::unique_ptr<Rewind>> to(sql::Db& db, ReportState& state, int64_t as_of_ms);
    ~Rewind();
    Rewind(const Rewind&) = delete;
    Rewind& operator=(const Rewind&) = delete;

private:
    explicit Rewind(ReportState& s) : state_(s) {}
    ReportState& state_;
    int64_t later_ms_ = 0;
    std::vector<std::function<void()>> undo_;
};

// ---- months in Europe/Stockholm ---------------------------------------------------------------
// Months and days are Swedish time: tundra::stockholm_month, stockholm_month_start_ms,
// stockholm_month_end_ms, next_month, previous_month, stockholm_date
// (core/include/tundra/core/stockholm_time.h), the same functions the devices use.
// Age band at the month's start: under_18 | 18_29 | 30_54 | 55_plus | unknown.
std::string age_band(std::optional<int64_t> birth_year, const std::string& month);
// Whether a mark counts as attended (present, late, left_early), and its minutes: the
// mark's own, else the occasion's length.
bool mark_attended(const RMark& m);
int64_t mark_minutes(const RMark& m, const ROccasion& o);

}  // namespace tundra::server
