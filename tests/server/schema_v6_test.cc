// Schema v6 (issue 10): a store of the previous release (v5) opens, gains the device's
// install id and app version and the enrolment's waitlist position, keeps its rows, and
// numbers the waitlists it holds — under new versions, so that devices pull the positions.
#include "fixture.h"
#include "schema.h"
#include "tundra/sqlite/db.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
constexpr uint64_t kMinute = 60'000;

struct SchemaV6 : SqliteStoreFixture {
    void reopen() {
        StoreOptions o;
        o.kdf_iterations = 1000;
        o.wall = [this] { return now; };
        auto s = SqlStore::open((dir / "s.db").string(), o, false);
        ASSERT_TRUE(s) << s.status().to_string();
        store = std::move(s.value());
    }
    // Puts the file back to what the previous release wrote.
    void make_v5() {
        auto path = (dir / "s.db").string();
        store.reset();
        auto db = sqlite::Db::open(path);
        ASSERT_TRUE(db);
        ASSERT_TRUE(db.value()->exec(
            "DROP INDEX devices_install_id; ALTER TABLE devices DROP COLUMN install_id; "
            "ALTER TABLE devices DROP COLUMN app_version; "
            "ALTER TABLE enrolments DROP COLUMN waitlist_position;"));
        ASSERT_TRUE(db.value()->set_user_version(5));
    }
    int64_t columns(const std::string& table, const std::string& column) {
        return scalar("SELECT count(*) FROM pragma_table_info('" + table + "') WHERE name = '" + column + "'");
    }
};
}  // namespace

TEST_F(SchemaV6, AV5StoreMigratesKeepsItsRowsAndNumbersItsWaitlists) {
    ASSERT_TRUE(store->import_json(R"({
 "persons":[{"id":"p3","organisation":"arjeplog","site":"s1","name":"Stina","gender":"woman","birth_year":1990}],
 "users":[{"username":"erik","password":"password1","role":"participant","person":"p2"},
          {"username":"stina","password":"password1","role":"participant","person":"p3"}]})"));
    for (auto [user, id, person, minute] :
         {std::tuple{"anna", "e1", "p1", 1}, {"erik", "e2", "p2", 2}, {"stina", "e3", "p3", 3}}) {
        auto w = store->authenticate(login(user));
        ASSERT_TRUE(w);
        SyncRequest req;
        req.actions = {Action{1, Hlc::from_parts(now + static_cast<uint64_t>(minute) * kMinute, 0), "enrol",
                              Row{{"enrolment", id}, {"occasion", "o1"}, {"person", person}}}};
        ASSERT_TRUE(store->sync(w.value(), req));
    }
    // Stina's device is caught up before the upgrade.
    auto stina = store->authenticate(login("stina"));
    ASSERT_TRUE(stina);
    SyncRequest pull;
    auto first = store->sync(stina.value(), pull);
    ASSERT_TRUE(first);
    ASSERT_FALSE(first->more);
    int64_t devices = scalar("SELECT count(*) FROM devices");
    int64_t facts = scalar("SELECT count(*) FROM report_facts");

    make_v5();
    reopen();
    EXPECT_EQ(store->db().user_version(), kSchemaVersion);
    EXPECT_EQ(columns("devices", "install_id"), 1);
    EXPECT_EQ(columns("devices", "app_version"), 1);
    EXPECT_EQ(columns("enrolments", "waitlist_position"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'devices_install_id'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM devices"), devices);
    EXPECT_EQ(scalar("SELECT count(*) FROM devices WHERE install_id IS NOT NULL"), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments"), 3);
    EXPECT_EQ(scalar("SELECT coalesce(waitlist_position, 0) FROM enrolments WHERE id = 'e1'"), 0);
    EXPECT_EQ(scalar("SELECT waitlist_position FROM enrolments WHERE id = 'e2'"), 1);
    EXPECT_EQ(scalar("SELECT waitlist_position FROM enrolments WHERE id = 'e3'"), 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM report_facts"), facts) << "a position is no report fact";
    // Versions stay unique and below the store's counter.
    EXPECT_EQ(scalar("SELECT count(DISTINCT version) FROM enrolments"), 3);
    EXPECT_LE(scalar("SELECT max(version) FROM enrolments"), static_cast<int64_t>(store->current_version()));

    // The caught-up device pulls its own row again, now with its place.
    pull.cursor = first->cursor;
    auto next = store->sync(stina.value(), pull);
    ASSERT_TRUE(next) << next.status().to_string();
    bool seen = false;
    for (auto& c : next->changes)
        if (c.kind == Kind::enrolment && c.id == "e3") {
            seen = true;
            EXPECT_EQ(get_int(c.row, "waitlist_position"), 2);
        }
    EXPECT_TRUE(seen);

    // Opening again numbers nothing twice.
    uint64_t v = store->current_version();
    store.reset();
    reopen();
    EXPECT_EQ(store->current_version(), v);
}
