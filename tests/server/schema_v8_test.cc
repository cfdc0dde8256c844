// Schema step 8 (issue 12): a participant's own rows indexed by (person, version), on both
// backends. A store of the previous release (v7) opens, gains the indexes, keeps its rows,
// and a device that synced before syncs on from its cursor.
#include "fixture.h"
#include "schema.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
const char* const kStep8Indexes[] = {"participations_person_version", "enrolments_person_version",
                                     "attendance_person_version", "time_attestations_person_version",
                                     "survey_responses_person_version"};

struct SchemaV8 : StoreFixture {
    int64_t indexes() {
        std::string names;
        for (auto* n : kStep8Indexes) names += std::string(names.empty() ? "" : ", ") + "'" + n + "'";
        return scalar(backend() == sql::Backend::sqlite
                          ? "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN (" + names + ")"
                          : "SELECT count(*) FROM pg_indexes WHERE indexname IN (" + names + ")");
    }
    // Puts the store back to what the previous release wrote, and opens it again.
    void as_v7_then_reopen() {
        for (auto* n : kStep8Indexes) ASSERT_TRUE(store->db().exec(std::string("DROP INDEX ") + n));
        ASSERT_TRUE(store->db().set_user_version(7));
        ASSERT_EQ(indexes(), 0);
        store.reset();
        auto s = SqlStore::open(target, options(), false);
        ASSERT_TRUE(s) << s.status().to_string();
        store = std::move(s.value());
    }
};
}  // namespace

TEST_P(SchemaV8, AV7StoreGainsTheIndexesKeepsItsRowsAndDevicesSyncOn) {
    EXPECT_EQ(store->db().user_version(), kSchemaVersion);
    EXPECT_EQ(indexes(), 5);
    auto anna = store->authenticate(login("anna"));
    ASSERT_TRUE(anna);
    SyncRequest req;
    req.actions = {Action{1, Hlc::from_parts(now, 0), "enrol", Row{{"enrolment", "e1"}, {"occasion", "o1"}, {"person", "p1"}}}};
    auto first = store->sync(anna.value(), req);
    ASSERT_TRUE(first) << first.status().to_string();
    while (first->more) {
        SyncRequest next;
        next.cursor = first->cursor;
        first = store->sync(anna.value(), next);
        ASSERT_TRUE(first) << first.status().to_string();
    }
    int64_t enrolments = scalar("SELECT count(*) FROM enrolments");
    int64_t devices = scalar("SELECT count(*) FROM devices");

    as_v7_then_reopen();
    EXPECT_EQ(store->db().user_version(), kSchemaVersion);
    EXPECT_EQ(indexes(), 5);
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments"), enrolments);
    EXPECT_EQ(scalar("SELECT count(*) FROM devices"), devices);
    // Anna syncs on from her cursor (a new login, a new device): she cancels her enrolment, and
    // its new state comes back in the answer, found through the new index.
    auto again = store->authenticate(login("anna"));
    ASSERT_TRUE(again);
    SyncRequest on;
    on.cursor = first->cursor;
    on.actions = {Action{1, Hlc::from_parts(now, 1), "cancel_enrolment", Row{{"enrolment", "e1"}}}};
    auto r = store->sync(again.value(), on);
    ASSERT_TRUE(r) << r.status().to_string();
    ASSERT_EQ(r->outcomes.size(), 1u);
    EXPECT_EQ(r->outcomes[0].result, OutcomeResult::applied) << r->outcomes[0].reason;
    bool saw = false;
    for (auto& c : r->changes)
        if (c.kind == Kind::enrolment && c.id == "e1") saw = *get_str(c.row, "status") == "cancelled";
    EXPECT_TRUE(saw);
}

TUNDRA_STORE_BACKENDS(SchemaV8);
