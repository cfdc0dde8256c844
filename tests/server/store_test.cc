#include <unistd.h>
#include <filesystem>
#include <set>

#include "fixture.h"
#include "schema.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

using SqlStoreTest = StoreFixture;

TEST_P(SqlStoreTest, PagesAreExactAndTheLastCursorCoversEverything) {
    auto who = store->authenticate(login("admin"));
    ASSERT_TRUE(who);
    std::set<std::string> seen;
    SyncRequest req;
    req.limit = 2;
    int pages = 0;
    for (;;) {
        auto r = store->sync(who.value(), req);
        ASSERT_TRUE(r) << r.status().to_string();
        for (auto& c : r->changes) EXPECT_TRUE(seen.insert(std::string(entity(c.kind).name) + "/" + c.id).second);
        req.cursor = r->cursor;
        ++pages;
        if (!r->more) break;
    }
    EXPECT_EQ(seen.size(), 6u);  // 1 organisation, 1 site, 2 persons, 1 course, 1 occasion
    EXPECT_GE(pages, 3);  // the priority part of a first pull, then the rest
    auto again = store->sync(who.value(), req);
    EXPECT_TRUE(again->changes.empty());
    EXPECT_EQ(again->cursor, req.cursor);
}

TEST_P(SqlStoreTest, ReopeningKeepsVersionsAndClockMonotonic) {
    uint64_t v = store->current_version();
    auto path = target;
    store.reset();
    now -= 3600'000;  // the server's clock went back an hour over the restart
    StoreOptions o;
    o.wall = [this] { return now; };
    auto s = SqlStore::open(path, o, false);
    ASSERT_TRUE(s);
    EXPECT_EQ(s.value()->current_version(), v);
}

TEST_P(SqlStoreTest, OpeningSomethingElseFailsClearly) {
    TUNDRA_SQLITE_ONLY("a file that is not a database; a PostgreSQL URI names a server");
    auto p = (dir / "garbage.db").string();
    FILE* f = fopen(p.c_str(), "w");
    fputs("this is not a database, just text that is long enough to matter...............", f);
    fclose(f);
    auto s = SqlStore::open(p, {}, false);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.status().code(), Errc::storage);
}

// Schema v4: a store from the previous release (v3) gains the throttle table, the audit
// trail and revocable users, and keeps its rows.
TEST(StoreMigration, V3StoreGainsThrottleAndAuditTrail) {
    auto dir = std::filesystem::temp_directory_path() /
               ("tundra-mig4-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto path = (dir / "s.db").string();
    {
        auto s = SqlStore::open(path);
        ASSERT_TRUE(s) << s.status().to_string();
        auto rep = s.value()->import_json(
            R"({"organisations":[{"code":"o1","name":"Kiruna","county":"Norrbotten"}]})");
        ASSERT_TRUE(rep) << rep.status().to_string();
        ASSERT_TRUE(s.value()->db().exec(
            "DROP TABLE login_throttle; DROP TABLE audit_log; ALTER TABLE users DROP COLUMN revoked; "
            "DROP TABLE action_quota; DROP INDEX persons_erased; DELETE FROM meta WHERE key = 'pseudonym_key';"));
        ASSERT_TRUE(s.value()->db().set_user_version(3));
    }
    auto s = SqlStore::open(path, {}, false);
    ASSERT_TRUE(s) << s.status().to_string();
    EXPECT_EQ(s.value()->db().user_version(), kSchemaVersion);
    EXPECT_EQ(s.value()->count("organisations").value(), 1);
    EXPECT_EQ(s.value()->count("login_throttle").value(), 0);
    auto idx = s.value()->db().query(
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'login_throttle_last'");
    ASSERT_TRUE(idx->step().value());
    EXPECT_EQ(idx->int64(0), 1);
    EXPECT_EQ(s.value()->count("action_quota").value(), 0);
    {
        auto q = s.value()->db().query("SELECT length(value) FROM meta WHERE key = 'pseudonym_key'");
        ASSERT_TRUE(q->step().value());
        EXPECT_EQ(q->int64(0), 64);  // the erasure pseudonyms' secret (privacy.cc)
    }
    ASSERT_TRUE(s.value()->audit("cli:root", "import", "", R"({"rows":1})"));
    auto trail = s.value()->audit_trail();
    ASSERT_TRUE(trail);
    ASSERT_EQ(trail->size(), 1u);
    EXPECT_EQ(trail.value()[0].operation, "import");
    EXPECT_EQ(trail.value()[0].actor, "cli:root");
    std::filesystem::remove_all(dir);
}

TUNDRA_STORE_BACKENDS(SqlStoreTest);
