// Issue 9: a participant answers the survey of an occasion she attended, from its end until
// its survey closes (30 days by default), once per occasion (later edits replace); and she
// attests her own minutes for a month that has begun (Swedish time).
#include "flows_fixture.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
struct Survey : Flows {
    // Anna (p1) enrolled on o1 and marked by her coordinator.
    void attend(const std::string& mark_status) {
        EXPECT_OUTCOME(push("admin", "enrol", {{"enrolment", "e1"}, {"occasion", "o1"}, {"person", "p1"}}), applied, "");
        now = kO1Start;
        EXPECT_OUTCOME(push("coord", "mark_attendance",
                            {{"mark", "m1"}, {"occasion", "o1"}, {"person", "p1"}, {"status", mark_status}}),
                       applied, "");
    }
    Row answer(const std::string& id, int64_t overall, const std::string& person = "p1",
               const std::string& occasion = "o1") {
        return {{"response", id},           {"occasion", occasion},   {"person", person},
                {"rating_content", int64_t{4}}, {"rating_usefulness", int64_t{3}}, {"rating_overall", overall}};
    }
    Outcome answer_at(uint64_t at, const Row& r, const std::string& user = "anna") {
        now = at;
        return push(user, "submit_survey", r, at);
    }
};
}  // namespace

TEST_P(Survey, SheAnswersOnceTheOccasionHasEndedAndMayEditUntilItCloses) {
    attend("present");
    EXPECT_OUTCOME(answer_at(kO1End - kMinute, answer("r1", 5)), rejected, "outside_window");
    EXPECT_OUTCOME(answer_at(kO1End + kMinute, answer("r1", 5)), applied, "");
    // A second answer (another id, as from her second device) replaces the first.
    EXPECT_OUTCOME(answer_at(kO1End + 2 * kDay, answer("r2", 2)), applied, "");
    EXPECT_EQ(scalar("SELECT count(*) FROM survey_responses"), 1);
    EXPECT_EQ(scalar("SELECT rating_overall FROM survey_responses WHERE person = 'p1' AND occasion = 'o1'"), 2);
    // Closed 30 days after the end.
    Outcome o = answer_at(kO1End + 30 * kDay, answer("r1", 4));
    EXPECT_OUTCOME(o, rejected, "outside_window");
    EXPECT_NE(o.message.find("2027-01-06T10:00:00Z"), std::string::npos) << o.message;
    EXPECT_EQ(scalar("SELECT rating_overall FROM survey_responses"), 2);
}

TEST_P(Survey, AnOccasionsOwnSurveyCloseIsKept) {
    EXPECT_OUTCOME(push("admin", "upsert_occasion", {{"occasion", "o1"}, {"survey_closes", "2026-12-07T09:00:00Z"}}),
                   rejected, "invalid");
    EXPECT_OUTCOME(push("admin", "upsert_occasion", {{"occasion", "o1"}, {"survey_closes", "2026-12-09T12:00:00+01:00"}}),
                   applied, "");
    EXPECT_EQ(text("SELECT survey_closes FROM occasions WHERE id = 'o1'"), "2026-12-09T11:00:00Z");
    attend("late");
    EXPECT_OUTCOME(answer_at(kO1End + kDay, answer("r1", 5)), applied, "");
    EXPECT_OUTCOME(answer_at(kO1End + 3 * kDay, answer("r1", 4)), rejected, "outside_window");
    // Cleared, the default of 30 days applies again.
    EXPECT_OUTCOME(push("admin", "upsert_occasion", {{"occasion", "o1"}, {"survey_closes", Value{}}}), applied, "");
    EXPECT_OUTCOME(answer_at(kO1End + 3 * kDay, answer("r1", 4)), applied, "");
}

// An answer made offline before the survey closed counts when it was made, even if it reaches
// the server after the close.
TEST_P(Survey, AnAnswerMadeOfflineBeforeTheCloseCountsWhenItWasMade) {
    attend("present");
    EXPECT_OUTCOME(answer_at(kO1End + kDay, answer("r1", 3)), applied, "");
    now = kO1End + 31 * kDay;  // the server's clock when her tablet finally syncs
    EXPECT_OUTCOME(push("anna", "submit_survey", answer("r1", 5), kO1End + 29 * kDay), applied, "");
    EXPECT_EQ(scalar("SELECT rating_overall FROM survey_responses"), 5);
    EXPECT_OUTCOME(push("anna", "submit_survey", answer("r1", 1), kO1End + 31 * kDay), rejected, "outside_window");
    EXPECT_EQ(scalar("SELECT rating_overall FROM survey_responses"), 5);
}

TEST_P(Survey, OnlyAnOccasionSheAttendedCanBeAnswered) {
    // Enrolled but never marked.
    EXPECT_OUTCOME(push("admin", "enrol", {{"enrolment", "e1"}, {"occasion", "o1"}, {"person", "p1"}}), applied, "");
    EXPECT_OUTCOME(answer_at(kO1End + kMinute, answer("r1", 5)), rejected, "not_enrolled");
    // Marked absent.
    now = kO1Start;
    EXPECT_OUTCOME(push("coord", "mark_attendance", {{"mark", "m1"}, {"occasion", "o1"}, {"person", "p1"}, {"status", "absent"}}),
                   applied, "");
    EXPECT_OUTCOME(answer_at(kO1End + kMinute, answer("r1", 5)), rejected, "not_enrolled");
    // The coordinator's correction to left_early makes her an attendee.
    now = kO1End;
    EXPECT_OUTCOME(push("coord", "mark_attendance",
                        {{"mark", "m2"}, {"occasion", "o1"}, {"person", "p1"}, {"status", "left_early"}, {"minutes", int64_t{60}}}),
                   applied, "");
    EXPECT_OUTCOME(answer_at(kO1End + kMinute, answer("r1", 5)), applied, "");
}

TEST_P(Survey, NobodyAnswersForSomeoneElse) {
    attend("present");
    EXPECT_OUTCOME(answer_at(kO1End + kMinute, answer("r1", 5, "p1"), "erik"), rejected, "forbidden");
    EXPECT_OUTCOME(answer_at(kO1End + kMinute, answer("r1", 5, "p1"), "coord"), rejected, "forbidden");
    EXPECT_OUTCOME(answer_at(kO1End + kMinute, answer("r1", 5, "p1"), "admin"), rejected, "forbidden");
    // An occasion she cannot see (another municipality's course) is unknown to her.
    EXPECT_OUTCOME(answer_at(kO1End + 2 * kDay, answer("r1", 5, "p1", "o3")), rejected, "not_found");
    EXPECT_EQ(scalar("SELECT count(*) FROM survey_responses"), 0);
}

TEST_P(Survey, RatingsAreOneToFive) {
    attend("present");
    EXPECT_OUTCOME(answer_at(kO1End + kMinute, answer("r1", 6)), rejected, "invalid");
    EXPECT_OUTCOME(answer_at(kO1End + kMinute, answer("r1", 0)), rejected, "invalid");
    EXPECT_EQ(scalar("SELECT count(*) FROM survey_responses"), 0);
}

// ---- time attestation ---------------------------------------------------------------------
namespace {
struct Attest : Flows {
    Row attest(const std::string& id, const std::string& month, int64_t minutes, const std::string& person = "p1") {
        return {{"attestation", id}, {"person", person}, {"month", month}, {"minutes", minutes}};
    }
};
}  // namespace

TEST_P(Attest, AMonthIsAttestedOnceItHasBegunInSwedishTime) {
    // 2026-11-30T23:30Z is already 1 December in Stockholm (UTC+1).
    now = static_cast<uint64_t>(parse_iso8601("2026-11-30T22:30:00Z").value());
    EXPECT_OUTCOME(push("anna", "attest_time", attest("t1", "2026-12", 120)), rejected, "invalid");
    now = static_cast<uint64_t>(parse_iso8601("2026-11-30T23:30:00Z").value());
    EXPECT_OUTCOME(push("anna", "attest_time", attest("t1", "2026-12", 120)), applied, "");
    EXPECT_OUTCOME(push("anna", "attest_time", attest("t2", "2026-11", 300)), applied, "");
    EXPECT_OUTCOME(push("anna", "attest_time", attest("t3", "2027-01", 60)), rejected, "invalid");
    // Summer time: 1 July begins at 22:00 UTC on 30 June.
    now = static_cast<uint64_t>(parse_iso8601("2027-06-30T22:00:00Z").value());
    EXPECT_OUTCOME(push("anna", "attest_time", attest("t4", "2027-07", 60)), applied, "");
    EXPECT_EQ(scalar("SELECT count(*) FROM time_attestations"), 3);
}

TEST_P(Attest, MinutesAndMonthAreChecked) {
    EXPECT_OUTCOME(push("anna", "attest_time", attest("t1", "2026-11", 44641)), rejected, "invalid");
    EXPECT_OUTCOME(push("anna", "attest_time", attest("t1", "2026-11", -1)), rejected, "invalid");
    EXPECT_OUTCOME(push("anna", "attest_time", attest("t1", "2026-00", 10)), rejected, "invalid");
    EXPECT_OUTCOME(push("anna", "attest_time", attest("t1", "2026-11", 44640)), applied, "");
    // Re-attested: the month keeps one row, with the newer minutes.
    now += kMinute;
    EXPECT_OUTCOME(push("anna", "attest_time", attest("t9", "2026-11", 600)), applied, "");
    EXPECT_EQ(scalar("SELECT count(*) FROM time_attestations"), 1);
    EXPECT_EQ(scalar("SELECT minutes FROM time_attestations"), 600);
}

TEST_P(Attest, OnlyTheParticipantAttestsHerOwnTime) {
    EXPECT_OUTCOME(push("erik", "attest_time", attest("t1", "2026-11", 60, "p1")), rejected, "forbidden");
    EXPECT_OUTCOME(push("coord", "attest_time", attest("t1", "2026-11", 60, "p1")), rejected, "forbidden");
    EXPECT_OUTCOME(push("admin", "attest_time", attest("t1", "2026-11", 60, "p1")), rejected, "forbidden");
    EXPECT_EQ(scalar("SELECT count(*) FROM time_attestations"), 0);
}

TUNDRA_STORE_BACKENDS(Attest);
TUNDRA_STORE_BACKENDS(Survey);
