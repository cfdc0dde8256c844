// Issue 9: a provisional person (registered at a walk-in) merged into the real one, by an
// admin or by an import with the same identity number. Everything about her moves; where
// both have a row for the same thing the real person's is kept; devices converge.
#include "flows_fixture.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
struct Merge : Flows {
    void SetUp() override {
        Flows::SetUp();
        now = kO1Start;
    }
    Outcome walk_in(const std::string& person, const std::string& occasion = "o1",
                    const std::string& personal_id = "") {
        Row r{{"enrolment", "e-" + person}, {"mark", "m-" + person}, {"occasion", occasion},
              {"person", person},           {"name", "Maja"},        {"site", "s1"},
              {"gender", "woman"}};
        if (!personal_id.empty()) r["personal_id"] = personal_id;
        return push("coord", "walk_in", r);
    }
};

// A device's replica, built only from what pulls send (rows and deletions, in order).
struct Replica {
    std::string cursor;
    std::map<std::pair<Kind, std::string>, Row> rows;

    void pull(SqlStore& store, const AuthContext& who) {
        for (int page = 0; page < 100; ++page) {
            SyncRequest req;
            req.cursor = cursor;
            auto r = store.sync(who, req);
            ASSERT_TRUE(r) << r.status().to_string();
            if (r->reset) rows.clear();
            for (auto& c : r->changes) {
                if (c.deleted) rows.erase({c.kind, c.id});
                else rows[{c.kind, c.id}] = c.row;
            }
            cursor = r->cursor;
            if (!r->more) return;
        }
        FAIL() << "pull did not finish";
    }
    std::vector<std::string> ids(Kind kind) const {
        std::vector<std::string> out;
        for (auto& [k, row] : rows)
            if (k.first == kind) out.push_back(k.second);
        return out;
    }
    std::string person_of(Kind kind, const std::string& id) const {
        auto it = rows.find({kind, id});
        if (it == rows.end()) return "<absent>";
        auto* p = get_str(it->second, "person");
        return p ? *p : "<null>";
    }
};
}  // namespace

TEST_P(Merge, EverythingAboutTheWalkInMovesToTheRealPerson) {
    EXPECT_OUTCOME(walk_in("w1"), applied, "");
    EXPECT_OUTCOME(push("coord", "upsert_participation",
                        {{"participation", "pa-w1"}, {"person", "w1"}, {"start_month", "2026-12"}}),
                   applied, "");
    // Her survey answer and attestation came with an import (she had no login yet).
    ASSERT_TRUE(store->import_json(R"({"survey_responses":[{"id":"sr-w1","occasion":"o1","person":"w1","rating_content":4,"rating_usefulness":4,"rating_overall":4}],
                                        "time_attestations":[{"person":"w1","month":"2026-12","minutes":120}]})"));
    auto rep = store->merge_person("w1", "p2", "cli:test");
    ASSERT_TRUE(rep) << rep.status().to_string();
    EXPECT_EQ(rep->enrolments.moved, 1);
    EXPECT_EQ(rep->attendance.moved, 1);
    EXPECT_EQ(rep->participations.moved, 1);
    EXPECT_EQ(rep->time_attestations.moved, 1);
    EXPECT_EQ(rep->survey_responses.moved, 1);
    EXPECT_EQ(rep->moved(), 5);
    EXPECT_EQ(rep->dropped(), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = 'w1'"), 0);
    for (auto* t : {"enrolments", "attendance", "participations", "time_attestations", "survey_responses"}) {
        EXPECT_EQ(scalar(std::string("SELECT count(*) FROM ") + t + " WHERE person = 'w1'"), 0) << t;
        EXPECT_EQ(scalar(std::string("SELECT count(*) FROM ") + t + " WHERE person = 'p2'"), 1) << t;
    }
    EXPECT_EQ(text("SELECT status || '/' || reason FROM enrolments WHERE id = 'e-w1'"), "confirmed/walk_in");
    EXPECT_EQ(scalar("SELECT count(*) FROM tombstones WHERE kind = 'person' AND id = 'w1'"), 1);
    // Audited in the same transaction, with counts.
    auto trail = store->audit_trail(1);
    ASSERT_TRUE(trail);
    ASSERT_EQ(trail->size(), 1u);
    EXPECT_EQ(trail->at(0).operation, "merge_person");
    EXPECT_EQ(trail->at(0).target, "p2");
    EXPECT_NE(trail->at(0).detail.find(R"("from":"w1")"), std::string::npos) << trail->at(0).detail;
    // The report facts follow: the moved rows are now about p2, and w1 is gone.
    EXPECT_EQ(scalar("SELECT count(*) FROM report_facts WHERE kind = 'enrolment' AND id = 'e-w1' AND person = 'p2'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM report_facts WHERE kind = 'person' AND id = 'w1' AND data IS NULL"), 1);
}

TEST_P(Merge, OnAClashTheRealPersonsRowIsKept) {
    // Erik had a place and was marked; the walk-in is him again, registered by mistake.
    now = kNow;
    EXPECT_OUTCOME(push("admin", "enrol", {{"enrolment", "e1"}, {"occasion", "o1"}, {"person", "p2"}}), applied, "");
    now = kO1Start;
    EXPECT_OUTCOME(push("coord", "mark_attendance", {{"mark", "m1"}, {"occasion", "o1"}, {"person", "p2"}, {"status", "present"}}),
                   applied, "");
    EXPECT_OUTCOME(push("coord", "upsert_participation",
                        {{"participation", "pa1"}, {"person", "p2"}, {"start_month", "2026-09"}}),
                   applied, "");
    EXPECT_OUTCOME(walk_in("w1"), applied, "");
    EXPECT_OUTCOME(push("coord", "upsert_participation",
                        {{"participation", "pa-w1"}, {"person", "w1"}, {"start_month", "2026-12"}}),
                   applied, "");
    EXPECT_EQ(scalar("SELECT confirmed FROM occasions WHERE id = 'o1'"), 2);
    auto rep = store->merge_person("w1", "p2", "cli:test");
    ASSERT_TRUE(rep) << rep.status().to_string();
    EXPECT_EQ(rep->enrolments.dropped, 1);
    EXPECT_EQ(rep->attendance.dropped, 1);
    EXPECT_EQ(rep->participations.dropped, 1);
    EXPECT_EQ(rep->moved(), 0);
    EXPECT_EQ(text("SELECT " + store->db().group_concat("id") + " FROM enrolments"), "e1");
    EXPECT_EQ(text("SELECT " + store->db().group_concat("id") + " FROM attendance"), "m1");
    EXPECT_EQ(text("SELECT " + store->db().group_concat("id") + " FROM participations"), "pa1");
    EXPECT_EQ(scalar("SELECT confirmed FROM occasions WHERE id = 'o1'"), 1);
    for (auto* id : {"e-w1", "m-w1", "pa-w1"})
        EXPECT_EQ(scalar(std::string("SELECT count(*) FROM tombstones WHERE id = '") + id + "'"), 1) << id;
}

TEST_P(Merge, OnlyAProvisionalPersonIsMergedAndNeverAnErasedOne) {
    EXPECT_OUTCOME(walk_in("w1"), applied, "");
    auto r = store->merge_person("p1", "p2", "cli:test");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::invalid_argument);
    EXPECT_NE(r.status().message().find("not provisional"), std::string::npos) << r.status().to_string();
    r = store->merge_person("w1", "w1", "cli:test");
    EXPECT_EQ(r.status().code(), Errc::invalid_argument);
    r = store->merge_person("w1", "ghost", "cli:test");
    EXPECT_EQ(r.status().code(), Errc::not_found);
    r = store->merge_person("ghost", "p2", "cli:test");
    EXPECT_EQ(r.status().code(), Errc::not_found);
    ASSERT_TRUE(store->erase_person("p2", "cli:test"));
    r = store->merge_person("w1", "p2", "cli:test");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::invalid_argument);
    EXPECT_NE(r.status().message().find("erased"), std::string::npos) << r.status().to_string();
    // Nothing was changed by the refusals.
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments WHERE person = 'w1'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = 'w1' AND provisional = 1"), 1);
}

TEST_P(Merge, AnImportWithTheSameIdentityNumberAbsorbsTheWalkIn) {
    EXPECT_OUTCOME(walk_in("w1", "o1", "199901011234"), applied, "");
    auto rep = store->import_json(R"({"persons":[{"id":"p7","organisation":"arjeplog","site":"s1","name":"Maja Nilsson","gender":"woman","birth_year":1999,"personal_id":"199901011234"}]})");
    ASSERT_TRUE(rep) << rep.status().to_string();
    EXPECT_EQ(rep->persons, 1u);
    EXPECT_EQ(rep->merged, 1u);
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = 'w1'"), 0);
    EXPECT_EQ(text("SELECT person FROM enrolments WHERE id = 'e-w1'"), "p7");
    EXPECT_EQ(text("SELECT person FROM attendance WHERE id = 'm-w1'"), "p7");
    EXPECT_EQ(scalar("SELECT provisional FROM persons WHERE id = 'p7'"), 0);
    auto trail = store->audit_trail(5);
    ASSERT_TRUE(trail);
    bool audited = false;
    for (auto& e : trail.value()) audited |= e.operation == "merge_person" && e.actor == "import" && e.target == "p7";
    EXPECT_TRUE(audited);
    // Importing it again merges nothing more.
    rep = store->import_json(R"({"persons":[{"id":"p7","organisation":"arjeplog","site":"s1","name":"Maja Nilsson","gender":"woman","birth_year":1999,"personal_id":"199901011234"}]})");
    ASSERT_TRUE(rep) << rep.status().to_string();
    EXPECT_EQ(rep->merged, 0u);
}

// A refused import merges nothing: the merge is part of its one transaction.
TEST_P(Merge, ARefusedImportMergesNothing) {
    EXPECT_OUTCOME(walk_in("w1", "o1", "199901011234"), applied, "");
    auto rep = store->import_json(R"({"persons":[{"id":"p7","organisation":"arjeplog","site":"s1","name":"Maja","gender":"woman","personal_id":"199901011234"}],
                                     "deviations":[{"id":"d1","organisation":"arjeplog","category":"nonsense","description":"x"}]})");
    ASSERT_FALSE(rep);
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = 'w1'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = 'p7'"), 0);
}

// Devices converge: the coordinator's and the admin's replicas, built only from pulls, hold
// exactly what the server says they may see, before and after the merge, with the moved rows
// under the real person and no trace of the provisional one.
TEST_P(Merge, DevicesConvergeOnTheMergedPerson) {
    EXPECT_OUTCOME(walk_in("w1"), applied, "");
    Replica coord, admin;
    coord.pull(*store, who("coord"));
    admin.pull(*store, who("admin"));
    EXPECT_EQ(coord.person_of(Kind::enrolment, "e-w1"), "w1");
    ASSERT_TRUE(store->merge_person("w1", "p2", "cli:test"));
    coord.pull(*store, who("coord"));
    admin.pull(*store, who("admin"));
    for (auto* r : {&coord, &admin}) {
        const std::string user = r == &coord ? "coord" : "admin";
        for (auto& spec : all_entities()) {
            auto v = store->visible_ids(who(user), spec.kind);
            ASSERT_TRUE(v);
            EXPECT_EQ(r->ids(spec.kind), v->by_sql) << user << " " << spec.name;
        }
        EXPECT_EQ(r->person_of(Kind::person, "w1"), "<absent>") << user;
        EXPECT_EQ(r->person_of(Kind::enrolment, "e-w1"), "p2") << user;
        EXPECT_EQ(r->person_of(Kind::attendance, "m-w1"), "p2") << user;
    }
}

// Merged into a person at a site the coordinator does not cover: her device drops the rows.
TEST_P(Merge, RowsMovedOutOfACoordinatorsSightLeaveHerDevice) {
    EXPECT_OUTCOME(walk_in("w1"), applied, "");
    Replica coord;
    coord.pull(*store, who("coord"));
    ASSERT_EQ(coord.person_of(Kind::enrolment, "e-w1"), "w1");
    ASSERT_TRUE(store->merge_person("w1", "p5", "cli:test"));  // Olle, site s2
    coord.pull(*store, who("coord"));
    EXPECT_EQ(coord.person_of(Kind::enrolment, "e-w1"), "<absent>");
    EXPECT_EQ(coord.person_of(Kind::attendance, "m-w1"), "<absent>");
    EXPECT_EQ(coord.person_of(Kind::person, "w1"), "<absent>");
}

TUNDRA_STORE_BACKENDS(Merge);
