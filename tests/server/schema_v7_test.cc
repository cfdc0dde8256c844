// Schema v7 (issue 11, the console): a store of the previous release (v6) opens, gains the
// console's session table, keeps its rows and devices, and works: a device syncs on, and a
// console session opens and changes the store through the action pipeline.
#include "fixture.h"
#include "schema.h"
#include "tundra/sqlite/db.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
struct SchemaV7 : SqliteStoreFixture {
    void reopen() {
        StoreOptions o;
        o.kdf_iterations = 1000;
        o.wall = [this] { return now; };
        auto s = SqlStore::open((dir / "s.db").string(), o, false);
        ASSERT_TRUE(s) << s.status().to_string();
        store = std::move(s.value());
    }
    // Puts the file back to what the previous release wrote.
    void make_v6() {
        auto path = (dir / "s.db").string();
        store.reset();
        auto db = sqlite::Db::open(path);
        ASSERT_TRUE(db);
        ASSERT_TRUE(db.value()->exec("DROP TABLE console_sessions;"));
        ASSERT_TRUE(db.value()->set_user_version(6));
    }
};
}  // namespace

TEST_F(SchemaV7, AV6StoreMigratesKeepsItsRowsAndWorks) {
    auto anna = store->authenticate(login("anna"));
    ASSERT_TRUE(anna);
    SyncRequest req;
    req.actions = {Action{1, Hlc::from_parts(now, 0), "enrol", Row{{"enrolment", "e1"}, {"occasion", "o1"}, {"person", "p1"}}}};
    auto first = store->sync(anna.value(), req);
    ASSERT_TRUE(first);
    int64_t devices = scalar("SELECT count(*) FROM devices");
    int64_t facts = scalar("SELECT count(*) FROM report_facts");
    uint64_t version = store->current_version();

    make_v6();
    reopen();
    EXPECT_EQ(store->db().user_version(), kSchemaVersion);
    EXPECT_EQ(scalar("SELECT count(*) FROM pragma_table_info('console_sessions')"), 6);
    EXPECT_EQ(scalar("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                     "('console_sessions_username', 'console_sessions_seen')"), 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM devices"), devices);
    EXPECT_EQ(scalar("SELECT count(*) FROM report_facts"), facts);
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments WHERE id = 'e1'"), 1);
    EXPECT_EQ(store->current_version(), version);

    // The device goes on where it was, exactly once.
    req.cursor = first->cursor;
    auto again = store->sync(anna.value(), req);
    ASSERT_TRUE(again) << again.status().to_string();
    EXPECT_EQ(again->outcomes[0].result, first->outcomes[0].result);
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments"), 1);

    // The console works on the migrated store.
    auto opened = store->console_login("admin", "password1", "10.0.0.1");
    ASSERT_TRUE(opened) << opened.status().to_string();
    auto out = store->apply_actions(opened->session.who,
                                    {Action{0, Hlc{}, "upsert_site", Row{{"site", "s7"}, {"organisation", "arjeplog"}, {"name", "Ny"}}}});
    ASSERT_TRUE(out) << out.status().to_string();
    EXPECT_EQ(out->at(0).result, OutcomeResult::applied) << out->at(0).message;

    // Opening again migrates nothing twice.
    store.reset();
    reopen();
    EXPECT_EQ(scalar("SELECT count(*) FROM console_sessions"), 1);
    EXPECT_TRUE(store->console_session(opened->token));
}
