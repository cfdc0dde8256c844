// Issue 9: a walk-in who is not yet a person in the store. Staff register her (name, site,
// gender) as a provisional person, with a confirmed enrolment and the mark, in one action.
#include "flows_fixture.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
struct WalkIn : Flows {
    void SetUp() override {
        Flows::SetUp();
        now = kO1Start;
    }
    static Row newcomer(const std::string& person, const std::string& site = "s1",
                        const std::string& occasion = "o1") {
        return {{"enrolment", "e-" + person}, {"mark", "m-" + person}, {"occasion", occasion},
                {"person", person},           {"name", "Maja Nilsson"}, {"site", site},
                {"gender", "woman"},          {"birth_year", int64_t{1999}}};
    }
    int64_t persons() { return scalar("SELECT count(*) FROM persons"); }
};
}  // namespace

TEST_P(WalkIn, ACoordinatorRegistersANewcomerWithHerPlaceAndMarkInOneAction) {
    Row r = newcomer("w1");
    r["personal_id"] = "199901011234";
    r["status"] = "late";
    r["minutes"] = int64_t{90};
    Outcome o = push("coord", "walk_in", r);
    EXPECT_OUTCOME(o, applied, "");
    EXPECT_EQ(o.status, "confirmed");
    EXPECT_NE(o.message.find("provisional"), std::string::npos) << o.message;
    EXPECT_EQ(text("SELECT organisation || '/' || site || '/' || name || '/' || gender || '/' || birth_year || '/' || "
                   "provisional || '/' || personal_id FROM persons WHERE id = 'w1'"),
              "arjeplog/s1/Maja Nilsson/woman/1999/1/199901011234");
    EXPECT_EQ(text("SELECT status || '/' || reason FROM enrolments WHERE id = 'e-w1' AND person = 'w1'"),
              "confirmed/walk_in");
    EXPECT_EQ(text("SELECT status || '/' || minutes || '/' || source FROM attendance WHERE id = 'm-w1'"),
              "late/90/coordinator");
    // Her coordinator's device gets her (without the identity number, which never syncs).
    auto seen = store->visible_ids(who("coord"), Kind::person);
    ASSERT_TRUE(seen);
    EXPECT_NE(std::find(seen->by_sql.begin(), seen->by_sql.end(), "w1"), seen->by_sql.end());
    EXPECT_EQ(seen->by_sql, seen->by_cpp);
}

TEST_P(WalkIn, APersonIdInUseIsAConflictWhoeverItBelongsTo) {
    int64_t before = persons();
    EXPECT_OUTCOME(push("coord", "walk_in", newcomer("p2")), rejected, "id_conflict");
    // Aino is in Pajala, out of this coordinator's sight: the same answer.
    EXPECT_OUTCOME(push("coord", "walk_in", newcomer("p6")), rejected, "id_conflict");
    EXPECT_EQ(persons(), before);
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments"), 0);
    EXPECT_EQ(text("SELECT name FROM persons WHERE id = 'p2'"), "Erik");
}

TEST_P(WalkIn, ACoordinatorRegistersAtHerOwnSitesOnly) {
    EXPECT_OUTCOME(push("coord", "walk_in", newcomer("w1", "s2")), rejected, "forbidden");
    EXPECT_OUTCOME(push("coord", "walk_in", newcomer("w1", "s3")), rejected, "forbidden");
    EXPECT_OUTCOME(push("coord", "walk_in", newcomer("w1", "nowhere")), rejected, "not_found");
    // An occasion she cannot see registers nobody.
    EXPECT_OUTCOME(push("coord", "walk_in", newcomer("w1", "s1", "o3")), rejected, "not_found");
    EXPECT_OUTCOME(push("coord", "walk_in", newcomer("w1", "s1", "o9")), rejected, "not_found");
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = 'w1'"), 0);
    // Admins register at any site.
    EXPECT_OUTCOME(push("admin", "walk_in", newcomer("w1", "s2")), applied, "");
    EXPECT_EQ(text("SELECT organisation || '/' || site FROM persons WHERE id = 'w1'"), "arjeplog/s2");
    // Participants record no walk-ins.
    EXPECT_OUTCOME(push("anna", "walk_in", newcomer("w2")), rejected, "forbidden");
}

TEST_P(WalkIn, ANewcomerNeedsNameSiteAndGender) {
    Row r = newcomer("w1");
    r.erase("site");
    EXPECT_OUTCOME(push("coord", "walk_in", r), rejected, "invalid");
    r = newcomer("w1");
    r.erase("gender");
    EXPECT_OUTCOME(push("coord", "walk_in", r), rejected, "invalid");
    r = newcomer("w1");
    r["name"] = "";
    EXPECT_OUTCOME(push("coord", "walk_in", r), rejected, "invalid");
    r = newcomer("w1");
    r["birth_year"] = int64_t{1850};
    EXPECT_OUTCOME(push("coord", "walk_in", r), rejected, "invalid");
    // A known person's walk-in carries no newcomer's fields.
    r = newcomer("p2");
    r.erase("name");
    EXPECT_OUTCOME(push("coord", "walk_in", r), rejected, "invalid");
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = 'w1'"), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments"), 0);
    // And a known person's walk-in works as before.
    EXPECT_OUTCOME(push("coord", "walk_in", {{"enrolment", "e2"}, {"mark", "m2"}, {"occasion", "o1"}, {"person", "p2"}}),
                   applied, "");
}

// Exactly once: a retried walk-in (the reply was lost) registers nobody twice.
TEST_P(WalkIn, ARetriedWalkInRegistersHerOnce) {
    SyncRequest req;
    req.actions.push_back(Action{1, Hlc::from_parts(now, 0), "walk_in", newcomer("w1")});
    auto first = store->sync(who("coord"), req);
    ASSERT_TRUE(first) << first.status().to_string();
    ASSERT_EQ(first->outcomes.size(), 1u);
    EXPECT_OUTCOME(first->outcomes[0], applied, "");
    auto again = store->sync(who("coord"), req);
    ASSERT_TRUE(again) << again.status().to_string();
    ASSERT_EQ(again->outcomes.size(), 1u);
    EXPECT_OUTCOME(again->outcomes[0], applied, "");
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = 'w1'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM attendance"), 1);
}

TUNDRA_STORE_BACKENDS(WalkIn);
