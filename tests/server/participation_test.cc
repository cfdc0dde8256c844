// Issue 9: a person's ESF project participation (start and end month), recorded by staff for
// the persons they see; one open participation per person; per-field last-writer-wins.
#include "flows_fixture.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
using Participation = Flows;

Row part(const std::string& id, const std::string& person, const std::string& start,
         std::optional<std::string> end = std::nullopt) {
    Row r{{"participation", id}, {"person", person}, {"start_month", start}};
    if (end) r["end_month"] = *end;
    return r;
}
}  // namespace

TEST_P(Participation, ACoordinatorStartsAndEndsAParticipationOfHerStaff) {
    EXPECT_OUTCOME(push("coord", "upsert_participation", part("pa1", "p1", "2026-11")), applied, "");
    EXPECT_EQ(text("SELECT start_month || '/' || coalesce(end_month, 'open') FROM participations WHERE id = 'pa1'"),
              "2026-11/open");
    EXPECT_OUTCOME(push("coord", "upsert_participation", {{"participation", "pa1"}, {"end_month", "2027-02"}}),
                   applied, "");
    EXPECT_EQ(text("SELECT start_month || '/' || coalesce(end_month, 'open') FROM participations WHERE id = 'pa1'"),
              "2026-11/2027-02");
    // Ended by mistake: cleared again.
    EXPECT_OUTCOME(push("coord", "upsert_participation", {{"participation", "pa1"}, {"end_month", Value{}}}),
                   applied, "");
    EXPECT_EQ(text("SELECT coalesce(end_month, 'open') FROM participations WHERE id = 'pa1'"), "open");
    // Admins record anyone's.
    EXPECT_OUTCOME(push("admin", "upsert_participation", part("pa6", "p6", "2026-10")), applied, "");
}

TEST_P(Participation, ParticipantsCannotRecordParticipationsNotEvenTheirOwn) {
    EXPECT_OUTCOME(push("anna", "upsert_participation", part("pa1", "p1", "2026-11")), rejected, "forbidden");
    EXPECT_EQ(scalar("SELECT count(*) FROM participations"), 0);
}

TEST_P(Participation, ACoordinatorCannotStartOneForSomeoneOutsideHerSites) {
    // Aino is in Pajala: for Arjeplog's coordinator she does not exist.
    EXPECT_OUTCOME(push("coord", "upsert_participation", part("pa6", "p6", "2026-11")), rejected, "not_found");
    // Olle is in Arjeplog but at a site she does not cover.
    EXPECT_OUTCOME(push("coord", "upsert_participation", part("pa5", "p5", "2026-11")), rejected, "not_found");
    EXPECT_OUTCOME(push("coord2", "upsert_participation", part("pa6", "p6", "2026-11")), applied, "");
    // Nor can she edit (or learn of) a participation she cannot see.
    EXPECT_OUTCOME(push("coord", "upsert_participation", {{"participation", "pa6"}, {"end_month", "2026-12"}}),
                   rejected, "not_found");
    EXPECT_EQ(text("SELECT coalesce(end_month, 'open') FROM participations WHERE id = 'pa6'"), "open");
    EXPECT_EQ(scalar("SELECT count(*) FROM participations"), 1);
}

TEST_P(Participation, MonthsMustBeValidAndTheEndNotBeforeTheStart) {
    EXPECT_OUTCOME(push("coord", "upsert_participation", part("pa1", "p1", "2026-13")), rejected, "invalid");
    EXPECT_OUTCOME(push("coord", "upsert_participation", part("pa1", "p1", "26-11")), rejected, "invalid");
    EXPECT_OUTCOME(push("coord", "upsert_participation", part("pa1", "p1", "2026-11", "2026-10")), rejected,
                   "invalid");
    EXPECT_OUTCOME(push("coord", "upsert_participation", {{"participation", "pa1"}, {"person", "p1"}}), rejected,
                   "invalid");
    EXPECT_EQ(scalar("SELECT count(*) FROM participations"), 0);
    EXPECT_OUTCOME(push("coord", "upsert_participation", part("pa1", "p1", "2026-11", "2026-11")), applied, "");
    // An edit that would end it before it started is refused and changes nothing.
    EXPECT_OUTCOME(push("coord", "upsert_participation", {{"participation", "pa1"}, {"start_month", "2027-01"}}),
                   rejected, "invalid");
    EXPECT_EQ(text("SELECT start_month FROM participations WHERE id = 'pa1'"), "2026-11");
    // A participation stays with its person.
    Outcome o = push("coord", "upsert_participation", {{"participation", "pa1"}, {"person", "p2"}});
    EXPECT_OUTCOME(o, rejected, "invalid");
    EXPECT_EQ(text("SELECT person FROM participations WHERE id = 'pa1'"), "p1");
}

TEST_P(Participation, APersonHasOneOpenParticipationAtATime) {
    EXPECT_OUTCOME(push("coord", "upsert_participation", part("pa1", "p1", "2026-09")), applied, "");
    Outcome o = push("coord", "upsert_participation", part("pa2", "p1", "2026-11"));
    EXPECT_OUTCOME(o, rejected, "invalid");
    EXPECT_NE(o.message.find("open participation"), std::string::npos) << o.message;
    EXPECT_NE(o.message.find("pa1"), std::string::npos) << o.message;
    // Ended, a new one may start; and the ended one cannot be reopened while it runs.
    EXPECT_OUTCOME(push("coord", "upsert_participation", {{"participation", "pa1"}, {"end_month", "2026-10"}}),
                   applied, "");
    EXPECT_OUTCOME(push("coord", "upsert_participation", part("pa2", "p1", "2026-11")), applied, "");
    EXPECT_OUTCOME(push("coord", "upsert_participation", {{"participation", "pa1"}, {"end_month", Value{}}}),
                   rejected, "invalid");
    EXPECT_EQ(scalar("SELECT count(*) FROM participations WHERE person = 'p1' AND end_month IS NULL"), 1);
}

// Two staff edit the same participation offline: each field keeps the newest edit, whatever
// order the edits arrive in.
TEST_P(Participation, EachFieldKeepsTheNewestEdit) {
    EXPECT_OUTCOME(push("coord", "upsert_participation", part("pa1", "p1", "2026-09"), now), applied, "");
    now += 10 * kMinute;
    EXPECT_OUTCOME(push("admin", "upsert_participation", {{"participation", "pa1"}, {"end_month", "2027-03"}},
                        now - 2 * kMinute),
                   applied, "");
    EXPECT_OUTCOME(push("coord", "upsert_participation",
                        {{"participation", "pa1"}, {"end_month", "2027-01"}, {"start_month", "2026-08"}},
                        now - 5 * kMinute),
                   adjusted, "superseded");
    EXPECT_EQ(text("SELECT start_month || '/' || end_month FROM participations WHERE id = 'pa1'"), "2026-08/2027-03");
}

// Exactly once: the same action sent again (a lost reply) is answered from memory.
TEST_P(Participation, ARetriedActionIsAppliedOnce) {
    SyncRequest req;
    req.actions.push_back(Action{1, Hlc::from_parts(now, 0), "upsert_participation", part("pa1", "p1", "2026-09")});
    auto first = store->sync(who("coord"), req);
    ASSERT_TRUE(first) << first.status().to_string();
    uint64_t v = store->current_version();
    auto again = store->sync(who("coord"), req);
    ASSERT_TRUE(again) << again.status().to_string();
    ASSERT_EQ(again->outcomes.size(), 1u);
    EXPECT_EQ(again->outcomes[0].result, OutcomeResult::applied);
    EXPECT_EQ(store->current_version(), v);
    EXPECT_EQ(scalar("SELECT count(*) FROM participations"), 1);
}

// The participant sees her own participation on her device, and her coordinator sees it;
// the other municipality's coordinator does not.
TEST_P(Participation, ParticipationsAreSeenLikeTheirPerson) {
    EXPECT_OUTCOME(push("coord", "upsert_participation", part("pa1", "p1", "2026-09")), applied, "");
    for (auto [user, n] : {std::pair{"anna", 1u}, {"coord", 1u}, {"coord2", 0u}, {"erik", 0u}}) {
        auto ids = store->visible_ids(who(user), Kind::participation);
        ASSERT_TRUE(ids);
        EXPECT_EQ(ids->by_sql.size(), n) << user;
        EXPECT_EQ(ids->by_sql, ids->by_cpp) << user;
    }
}

TUNDRA_STORE_BACKENDS(Participation);
