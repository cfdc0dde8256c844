// Issue 12, operations: the store epoch. Every cursor names the store it came from; a backup's
// copy is a new store that remembers which store and version it was taken from, so that after a
// restore a device whose cursor is past the backup rebuilds its replica (full pull and sweep)
// instead of skipping the rows the restored store numbers again. Direct calls on the store.
#include <sys/stat.h>

#include <set>

#include "fixture.h"
#include "tundra/core/cursor.h"
#include "tundra/core/protocol.h"
#include "tundra/sqlite/db.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
struct Epoch : SqliteStoreFixture {  // backups are SQLite files (pg_dump for PostgreSQL)
    void SetUp() override {
        SqliteStoreFixture::SetUp();
        auto r = store->import_json(R"({
 "users":[{"username":"coord","password":"password1","role":"coordinator","sites":["s1"]}]})");
        ASSERT_TRUE(r) << r.status().to_string();
    }
    AuthContext who(SqlStore& s, const std::string& token) {
        auto w = s.authenticate(token);
        EXPECT_TRUE(w) << w.status().to_string();
        return w ? w.value() : AuthContext{};
    }
    std::string meta(SqlStore& s, const std::string& key) {
        auto q = s.db().query("SELECT value FROM meta WHERE key = ?");
        q->bind(1, key);
        auto r = q->step();
        return r && r.value() ? q->text(0) : "";
    }
    // Pulls until caught up; whether any page was a reset, and the final cursor.
    struct Pulled {
        bool reset = false;
        std::string cursor;
        std::set<std::string> seen;
    };
    Pulled pull_all(SqlStore& s, const AuthContext& w, const std::string& cursor) {
        Pulled p;
        SyncRequest req;
        req.limit = 2;
        req.cursor = cursor;
        for (int i = 0; i < 100; ++i) {
            auto r = s.sync(w, req);
            EXPECT_TRUE(r) << r.status().to_string();
            if (!r) break;
            p.reset = p.reset || r->reset;
            for (auto& c : r->changes)
                if (!c.deleted) p.seen.insert(std::string(entity(c.kind).name) + "/" + c.id);
            req.cursor = r->cursor;
            if (!r->more) break;
        }
        p.cursor = req.cursor;
        return p;
    }
    SyncCursor decoded(SqlStore& s, const std::string& cursor) {
        auto d = decode_cursor(cursor, meta(s, "cursor_key"));
        EXPECT_TRUE(d) << d.status().to_string();
        return d ? d->cursor : SyncCursor{};
    }
    // A change every coordinator of s1 pulls: a new person at s1.
    void change_something(const std::string& id) {
        auto r = store->import_json(R"({"persons":[{"id":")" + id +
                                    R"(","organisation":"arjeplog","site":"s1","name":"Ny","gender":"woman","birth_year":1999}]})");
        ASSERT_TRUE(r) << r.status().to_string();
    }
    std::unique_ptr<SqlStore> open_copy(const std::string& path) {
        StoreOptions o;
        o.kdf_iterations = 1000;
        o.wall = [this] { return now; };
        auto s = SqlStore::open(path, o, false);
        EXPECT_TRUE(s) << s.status().to_string();
        return s ? std::move(s.value()) : nullptr;
    }
    // The previous release's cursor form, signed with this store's key.
    std::string c2_cursor(SqlStore& s, const SyncCursor& c) {
        std::string body = "c2." + std::string(1, static_cast<char>(c.phase)) + "." + std::to_string(c.after) +
                           "." + std::to_string(c.v0) + "." + std::to_string(c.t0) + "." + c.scope;
        return body + "." + hmac_sha256_hex(meta(s, "cursor_key"), body).substr(0, 16);
    }
};
}  // namespace

TEST_F(Epoch, EveryCursorCarriesTheStoresEpoch) {
    std::string epoch = meta(*store, "store_epoch");
    EXPECT_EQ(epoch.size(), 32u);
    auto p = pull_all(*store, who(*store, login("coord")), "");
    EXPECT_EQ(decoded(*store, p.cursor).epoch, epoch);
    // A full pull's pages too.
    SyncRequest req;
    req.limit = 1;
    auto r = store->sync(who(*store, login("admin")), req);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->more);
    EXPECT_EQ(decoded(*store, r->cursor).epoch, epoch);
}

TEST_F(Epoch, AStoreWithoutAnEpochGetsOneWhenOpenedAndKeepsIt) {
    auto path = (dir / "s.db").string();
    ASSERT_TRUE(store->db().exec("DELETE FROM meta WHERE key = 'store_epoch'"));
    store.reset();
    store = open_copy(path);
    ASSERT_TRUE(store);
    std::string epoch = meta(*store, "store_epoch");
    EXPECT_EQ(epoch.size(), 32u);
    store.reset();
    store = open_copy(path);
    ASSERT_TRUE(store);
    EXPECT_EQ(meta(*store, "store_epoch"), epoch);
}

TEST_F(Epoch, ABackupIsANewStoreThatRemembersWhereAndWhenItWasTaken) {
    std::string epoch = meta(*store, "store_epoch");
    change_something("p9");
    uint64_t version = store->current_version();
    auto to = (dir / "backup.db").string();
    auto rep = store->backup(to);
    ASSERT_TRUE(rep) << rep.status().to_string();
    EXPECT_EQ(rep->version, version);
    EXPECT_GT(rep->bytes, 0u);
    struct stat st {};
    ASSERT_EQ(::stat(to.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto copy = open_copy(to);
    ASSERT_TRUE(copy);
    EXPECT_NE(meta(*copy, "store_epoch"), epoch);
    EXPECT_EQ(meta(*copy, "store_epoch"), rep->epoch);
    EXPECT_EQ(meta(*copy, "restored_from_epoch"), epoch);
    EXPECT_EQ(meta(*copy, "restored_at_version"), std::to_string(version));
    EXPECT_EQ(copy->current_version(), version);
    EXPECT_EQ(meta(*store, "store_epoch"), epoch);  // the store itself goes on as it was
    EXPECT_EQ(meta(*store, "restored_from_epoch"), "");
    // Never over a file: not another, not the store itself.
    auto again = store->backup(to);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.status().code(), Errc::conflict);
    auto self = store->backup((dir / "s.db").string());
    ASSERT_FALSE(self);
    EXPECT_EQ(self.status().code(), Errc::invalid_argument);
}

// The restore drill at the store level. Device A syncs after the backup, B does not; the
// store is restored from the backup. A's cursor is past the backup: A rebuilds. B's is not: B
// goes on incrementally and gets exactly what changed after its cursor.
TEST_F(Epoch, AfterARestoreACursorPastTheBackupResetsAndOneBeforeItGoesOn) {
    std::string token_a = login("coord"), token_b = login("coord");
    auto a = pull_all(*store, who(*store, token_a), "");
    auto b = pull_all(*store, who(*store, token_b), "");
    auto to = (dir / "backup.db").string();
    auto rep = store->backup(to);
    ASSERT_TRUE(rep) << rep.status().to_string();
    change_something("p-lost");  // after the backup: lost by the restore
    a = pull_all(*store, who(*store, token_a), a.cursor);
    EXPECT_FALSE(a.reset);
    EXPECT_TRUE(a.seen.count("person/p-lost"));

    store.reset();
    auto restored = open_copy(to);
    ASSERT_TRUE(restored);
    // The restored store goes on from the backup's version; its new rows reuse numbers A saw.
    auto r = restored->import_json(R"({"persons":[{"id":"p-new","organisation":"arjeplog","site":"s1","name":"Ny","gender":"man","birth_year":1990}]})");
    ASSERT_TRUE(r) << r.status().to_string();

    auto a2 = pull_all(*restored, who(*restored, token_a), a.cursor);
    EXPECT_TRUE(a2.reset) << "a cursor past the backup must rebuild the replica";
    EXPECT_TRUE(a2.seen.count("person/p-new"));
    EXPECT_FALSE(a2.seen.count("person/p-lost"));
    EXPECT_EQ(decoded(*restored, a2.cursor).epoch, meta(*restored, "store_epoch"));

    auto b2 = pull_all(*restored, who(*restored, token_b), b.cursor);
    EXPECT_FALSE(b2.reset) << "a cursor from before the backup goes on incrementally";
    EXPECT_EQ(b2.seen, (std::set<std::string>{"person/p-new"}));
    EXPECT_EQ(decoded(*restored, b2.cursor).epoch, meta(*restored, "store_epoch"));
    // Once converted, B's next round is an ordinary incremental one.
    auto b3 = pull_all(*restored, who(*restored, token_b), b2.cursor);
    EXPECT_FALSE(b3.reset);
    EXPECT_TRUE(b3.seen.empty());
}

// A full pull that began before the backup and was still going: its position is in the
// common history, so it goes on after the restore; one that began after the backup resets.
TEST_F(Epoch, AFullPullGoesOnAfterARestoreOnlyIfItBeganBeforeTheBackup) {
    std::string token = login("admin");
    SyncRequest req;
    req.limit = 1;
    auto first = store->sync(who(*store, token), req);
    ASSERT_TRUE(first);
    ASSERT_TRUE(first->more);
    auto to = (dir / "backup.db").string();
    ASSERT_TRUE(store->backup(to));
    change_something("p-lost");
    auto late = store->sync(who(*store, token), req);  // a full pull begun after the backup
    ASSERT_TRUE(late);
    ASSERT_TRUE(late->more);
    store.reset();
    auto restored = open_copy(to);
    ASSERT_TRUE(restored);
    auto early = pull_all(*restored, who(*restored, token), first->cursor);
    EXPECT_FALSE(early.reset);
    auto after = pull_all(*restored, who(*restored, token), late->cursor);
    EXPECT_TRUE(after.reset);
    EXPECT_FALSE(after.seen.count("person/p-lost"));
}

// Devices still holding the previous release's cursor (c2, no epoch): accepted by a store that
// was never restored; a restored store cannot tell when they were issued, so they rebuild.
TEST_F(Epoch, APreviousReleaseCursorIsAcceptedUnlessTheStoreWasRestored) {
    std::string token = login("coord");
    auto p = pull_all(*store, who(*store, token), "");
    std::string old = c2_cursor(*store, decoded(*store, p.cursor));
    auto same = pull_all(*store, who(*store, token), old);
    EXPECT_FALSE(same.reset);
    EXPECT_TRUE(same.seen.empty());
    EXPECT_EQ(decoded(*store, same.cursor).epoch, meta(*store, "store_epoch"));

    auto to = (dir / "backup.db").string();
    ASSERT_TRUE(store->backup(to));
    store.reset();
    auto restored = open_copy(to);
    ASSERT_TRUE(restored);
    auto after = pull_all(*restored, who(*restored, token), old);
    EXPECT_TRUE(after.reset);
}

// A cursor of an epoch the store neither has nor was restored from (a store restored twice,
// or another store's key reused) rebuilds too.
TEST_F(Epoch, ACursorOfAnUnknownEpochResets) {
    std::string token = login("coord");
    auto p = pull_all(*store, who(*store, token), "");
    SyncCursor c = decoded(*store, p.cursor);
    c.epoch = std::string(32, 'a');
    auto r = pull_all(*store, who(*store, token), encode_cursor(c, meta(*store, "cursor_key")));
    EXPECT_TRUE(r.reset);
}
