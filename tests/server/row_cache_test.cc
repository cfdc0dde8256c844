// Issue 12, the row cache (row_cache.h): a row a pull sends is read and encoded once per
// version, and every device after that gets the same text. What a device receives must not
// change: the same rows, the same values, the new content after every write; the writer's
// rounds (whose transaction may still roll back) never fill it.
#include "fixture.h"
#include "row_cache.h"
#include "tundra/core/protocol.h"
#include "tundra/sql/rows.h"
#include "tundra/sqlite/db.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {

TEST(RowCache, KeepsByKindIdAndVersion) {
    RowCache cache(1 << 20);
    EXPECT_EQ(cache.find(Kind::course, "c1", 7), nullptr);
    auto kept = cache.insert(Kind::course, "c1", 7, R"({"id":"c1"})");
    ASSERT_NE(kept, nullptr);
    auto hit = cache.find(Kind::course, "c1", 7);
    ASSERT_NE(hit, nullptr);
    EXPECT_EQ(*hit, R"({"id":"c1"})");
    EXPECT_EQ(cache.find(Kind::course, "c1", 8), nullptr);     // another version
    EXPECT_EQ(cache.find(Kind::occasion, "c1", 7), nullptr);   // another kind
    EXPECT_EQ(cache.find(Kind::course, "c17", 7), nullptr);    // another id
    EXPECT_EQ(cache.find(Kind::course, "c", 17), nullptr);     // no run-together keys
    auto s = cache.stats();
    EXPECT_EQ(s.hits, 1u);
    EXPECT_EQ(s.misses, 5u);
    EXPECT_EQ(s.entries, 1u);
    // Rows at one version (the hash is the version's and the kind's): each keeps its own text.
    cache.insert(Kind::course, "c2", 7, R"({"id":"c2"})");
    cache.insert(Kind::occasion, "c1", 7, R"({"id":"o"})");
    ASSERT_NE(cache.find(Kind::course, "c2", 7), nullptr);
    EXPECT_EQ(*cache.find(Kind::course, "c2", 7), R"({"id":"c2"})");
    EXPECT_EQ(*cache.find(Kind::course, "c1", 7), R"({"id":"c1"})");
    EXPECT_EQ(*cache.find(Kind::occasion, "c1", 7), R"({"id":"o"})");
    EXPECT_EQ(cache.stats().entries, 3u);
}

TEST(RowCache, StaysWithinItsBytesLeastRecentlyUsedOutFirst) {
    RowCache cache(4096);
    std::string row(500, 'x');
    for (int i = 0; i < 100; ++i) cache.insert(Kind::person, "p" + std::to_string(i), 1, row);
    auto s = cache.stats();
    EXPECT_LE(s.bytes, 4096u);
    EXPECT_GT(s.entries, 0u);
    EXPECT_LT(s.entries, 100u);
    EXPECT_NE(cache.find(Kind::person, "p99", 1), nullptr);  // the newest stay
    EXPECT_EQ(cache.find(Kind::person, "p0", 1), nullptr);   // the oldest went
    // A used entry is kept over newer unused ones.
    std::string recent = "p" + std::to_string(100 - static_cast<int>(s.entries));
    ASSERT_NE(cache.find(Kind::person, recent, 1), nullptr);
    cache.insert(Kind::person, "new", 1, row);
    EXPECT_NE(cache.find(Kind::person, recent, 1), nullptr);
    // Bigger than the whole budget: returned, not kept.
    auto huge = cache.insert(Kind::person, "huge", 1, std::string(10000, 'y'));
    EXPECT_EQ(huge->size(), 10000u);
    EXPECT_EQ(cache.find(Kind::person, "huge", 1), nullptr);
    EXPECT_LE(cache.stats().bytes, 4096u);
}

// What the cache keeps is written straight from the statement (sql::row_json): byte for byte
// what encoding the Row read from it gives, for every kind, with nulls, escapes, non-ASCII
// text, negative and large integers, booleans and lists.
TEST(RowJson, IsWhatEncodingTheRowGivesForEveryKind) {
    auto dir = std::filesystem::temp_directory_path() / ("tundra-rowjson-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    {
        auto db = sqlite::Db::open((dir / "r.db").string()).value();
        for (auto& e : all_entities()) {
            std::string ddl = "CREATE TABLE " + std::string(e.table) + " (";
            for (auto& c : e.columns)
                ddl += std::string(c.name) +
                       (c.type == ColType::integer || c.type == ColType::boolean ? " INTEGER, " : " TEXT, ");
            ddl += "extra INTEGER)";
            ASSERT_TRUE(db->exec(ddl));
            // Row 1: every column but the id null. Row 2: a value of the column's type in each.
            for (int row = 1; row <= 2; ++row) {
                std::string params;
                for (size_t i = 0; i < e.columns.size(); ++i) params += i ? ", ?" : "?";
                auto q = db->query("INSERT INTO " + std::string(e.table) + " (" + sql::column_list(e) +
                                   ") VALUES (" + params + ")");
                int i = 0;
                for (auto& c : e.columns) {
                    ++i;
                    if (c.name == "id") q->bind(i, std::string_view(row == 1 ? "x1" : "Åsa \"2\"\n\t\\"));
                    else if (row == 1) q->bind(i, nullptr);
                    else if (c.type == ColType::integer) q->bind(i, int64_t{i % 2 ? -9007199254740993 : 42});
                    else if (c.type == ColType::boolean) q->bind(i, int64_t{i % 2});
                    else if (c.type == ColType::str_list) q->bind(i, std::string_view(R"(["a","Östra \"b\""])"));
                    else if (c.type == ColType::iso_time) q->bind(i, std::string_view("2026-12-01T09:00:00Z"));
                    else q->bind(i, std::string_view("Hälsa & omsorg <\u00e5> \x01 \xF0\x9F\x8C\xB2"));
                }
                ASSERT_TRUE(q->run()) << e.table;
            }
            auto q = db->query("SELECT " + sql::column_list(e) + " FROM " + std::string(e.table));
            int rows = 0;
            for (auto r = q->step(); r && r.value(); r = q->step()) {
                ++rows;
                EXPECT_EQ(sql::row_json(*q, e), encode_row(sql::read_row(*q, e))) << e.table;
            }
            EXPECT_EQ(rows, 2) << e.table;
        }
    }
    std::filesystem::remove_all(dir);
}

// One store file or database, opened twice: without the cache (the reference) and with it.
struct RowCacheStore : StoreFixture {
    std::unique_ptr<SqlStore> cached;
    void SetUp() override {
        StoreFixture::SetUp();
        if (HasFatalFailure() || IsSkipped()) return;
        auto o = options();
        o.row_cache_bytes = 1 << 20;
        auto s = SqlStore::open(target, o, false);
        ASSERT_TRUE(s) << s.status().to_string();
        cached = std::move(s.value());
    }
    void TearDown() override {
        cached.reset();
        StoreFixture::TearDown();
    }
    AuthContext who(SqlStore& s, const std::string& user) {
        auto w = s.authenticate(login(user));
        EXPECT_TRUE(w) << w.status().to_string();
        return w ? w.value() : AuthContext{};
    }
    // What a device receives, as it would read it off the wire: kind/id/v -> the row's JSON.
    using Received = std::map<std::string, std::string>;
    static void take(const SyncResponse& r, Received& into) {
        auto back = decode_sync_response(encode(r));
        ASSERT_TRUE(back) << back.status().to_string();
        for (auto& c : back->changes)
            into[std::string(entity(c.kind).name) + "/" + c.id + "/" + std::to_string(c.version)] =
                c.deleted ? "deleted" : encode_row(c.row);
    }
    // Pulls from `cursor` until caught up (pages of `limit` rows).
    std::string pull(SqlStore& s, const AuthContext& w, Received& into, std::string cursor = {},
                     int limit = 2) {
        SyncRequest req;
        req.cursor = cursor;
        req.limit = limit;
        for (int i = 0; i < 100; ++i) {
            auto r = s.sync(w, req);
            EXPECT_TRUE(r) << r.status().to_string();
            if (!r) break;
            take(r.value(), into);
            req.cursor = r->cursor;
            if (!r->more) break;
        }
        return req.cursor;
    }
};

TEST_P(RowCacheStore, DevicesReceiveTheSameRowsAsWithoutIt) {
    for (auto user : {"anna", "admin"}) {
        Received plain, first, second;
        pull(*store, who(*store, user), plain);
        pull(*cached, who(*cached, user), first);   // reads and keeps
        pull(*cached, who(*cached, user), second);  // from the cache
        ASSERT_FALSE(plain.empty());
        EXPECT_EQ(first, plain) << user;
        EXPECT_EQ(second, plain) << user;
    }
    auto st = cached->stats();
    EXPECT_GT(st.row_cache_hits, 0u);
    EXPECT_GT(st.row_cache_entries, 0u);
    EXPECT_EQ(store->stats().row_cache_entries, 0u);  // off unless asked for
}

TEST_P(RowCacheStore, AWriteIsSeenWithItsNewContent) {
    auto anna = who(*cached, "anna");
    Received before;
    auto cursor = pull(*cached, anna, before);
    ASSERT_TRUE(before.count("course/c1/" + std::to_string(scalar("SELECT version FROM courses WHERE id = 'c1'"))));
    // The catalogue changes (a new title), through the other store: a new version.
    auto r = store->import_json(
        R"({"courses":[{"id":"c1","title":"Stress, sömn och hälsa","theme":"stress","format":"digital_self_paced","organisations":["arjeplog"],"published":true}]})");
    ASSERT_TRUE(r) << r.status().to_string();
    Received after, plain;
    pull(*cached, anna, after, cursor);
    pull(*store, who(*store, "anna"), plain, cursor);
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after, plain);
    EXPECT_NE(after.begin()->second.find("Stress, sömn och hälsa"), std::string::npos);
}

TEST_P(RowCacheStore, TheWritersRoundsDoNotFillIt) {
    auto anna = who(*cached, "anna");
    Received seen;
    auto cursor = pull(*cached, anna, seen);
    auto entries = cached->stats().row_cache_entries;
    // A round with an action: the enrolment and the occasion's new counts come back in its
    // answer, from the writer's transaction.
    SyncRequest req;
    req.cursor = cursor;
    req.actions.push_back(Action{1, Hlc::from_parts(now, 1), "enrol",
                                 Row{{"enrolment", "e1"}, {"occasion", "o1"}, {"person", "p1"}}});
    auto r = cached->sync(anna, req);
    ASSERT_TRUE(r) << r.status().to_string();
    ASSERT_EQ(r->outcomes.size(), 1u);
    EXPECT_EQ(r->outcomes[0].result, OutcomeResult::applied);
    Received pushed;
    take(r.value(), pushed);
    EXPECT_TRUE(pushed.count("enrolment/e1/" + std::to_string(scalar("SELECT version FROM enrolments WHERE id = 'e1'"))));
    EXPECT_EQ(cached->stats().row_cache_entries, entries);
    // Committed, the same rows reach a device through a read round, and are kept then.
    Received read_sees, plain;
    pull(*cached, anna, read_sees, cursor);
    pull(*store, who(*store, "anna"), plain, cursor);
    EXPECT_EQ(read_sees, plain);
    EXPECT_TRUE(read_sees.count("enrolment/e1/" + std::to_string(scalar("SELECT version FROM enrolments WHERE id = 'e1'"))));
    EXPECT_GT(cached->stats().row_cache_entries, entries);
}

// A full pull of most of the store (an admin's) reads past the cache: it sends the same rows,
// and what the cache kept for everybody's rounds stays; its first page (before the pull is
// known to be dense) may keep a few.
TEST_P(RowCacheStore, AFullPullOfMostOfTheStoreLeavesTheCacheAlone) {
    Received plain, bulk;
    pull(*store, who(*store, "admin"), plain);
    auto before = cached->stats().row_cache_entries;
    pull(*cached, who(*cached, "admin"), bulk, {}, 2);
    EXPECT_EQ(bulk, plain);
    ASSERT_GT(plain.size(), 4u);
    EXPECT_LE(cached->stats().row_cache_entries, before + 2) << "only the first page's rows may be kept";
}

// The same past its first three quarters: a full pull is judged dense by what it has still to
// send against the versions it has still to pass, so its last pages (fewer rows left than a
// quarter of the store's versions) read past the cache too, all but the last few dozen rows.
// At a million rows those pages were a quarter of a million rows, enough to push out
// everything the cache held.
TEST_P(RowCacheStore, TheLastPagesOfADenseFullPullLeaveTheCacheAloneToo) {
    std::string doc = R"({"persons":[)";
    for (int i = 0; i < 400; ++i)
        doc += std::string(i ? "," : "") + R"({"id":"bulk)" + std::to_string(i) +
               R"(","organisation":"arjeplog","site":"s1","name":"Person )" + std::to_string(i) +
               R"(","gender":"woman","birth_year":1980})";
    doc += "]}";
    auto imported = store->import_json(doc);
    ASSERT_TRUE(imported) << imported.status().to_string();
    Received plain, bulk;
    pull(*store, who(*store, "admin"), plain, {}, 10);
    ASSERT_GT(plain.size(), 400u);
    auto before = cached->stats().row_cache_entries;
    pull(*cached, who(*cached, "admin"), bulk, {}, 10);
    EXPECT_EQ(bulk, plain);
    EXPECT_LE(cached->stats().row_cache_entries, before + 64) << "only the few rows of the last pages may be kept";
}

TUNDRA_STORE_BACKENDS(RowCacheStore);

}  // namespace
