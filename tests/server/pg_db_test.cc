// The PostgreSQL backend of the connection seam (pg/, tundra/pg/db.h) against a throwaway
// cluster (tests/support/pg_cluster.h), and a first SqlStore round on it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

#include "fixture.h"
#include "pg_cluster.h"
#include "schema.h"
#include "tundra/core/protocol.h"
#include "tundra/pg/db.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

// ---- parameter rewriting (no server needed) -------------------------------------------------
TEST(PgRewrite, QuestionMarksAreNumberedAsSqliteNumbersThem) {
    auto r = pg::rewrite("SELECT ?, ?3, ? FROM t WHERE a = ?1");
    EXPECT_EQ(r.sql, "SELECT $1, $3, $4 FROM t WHERE a = $1");
    EXPECT_EQ(r.params, 4);
    EXPECT_FALSE(r.writes);
}

TEST(PgRewrite, SameNameIsTheSameParameter) {
    auto r = pg::rewrite("UPDATE t SET a = :x, b = :y WHERE c = :x AND d = ?");
    EXPECT_EQ(r.sql, "UPDATE t SET a = $1, b = $2 WHERE c = $1 AND d = $3");
    EXPECT_EQ(r.params, 3);
    ASSERT_EQ(r.names.size(), 2u);
    EXPECT_EQ(r.names[0], (std::pair<std::string, int>(":x", 1)));
    EXPECT_EQ(r.names[1], (std::pair<std::string, int>(":y", 2)));
    EXPECT_TRUE(r.writes);
}

TEST(PgRewrite, LiteralsIdentifiersCommentsAndCastsAreLeftAlone) {
    std::string sql =
        "SELECT 'a?b', 'it''s :x ?', E'\\' ?', \"odd?:col\", x::bigint, $$ ? :y $$, $q$ ?$q$ "
        "-- a comment ? :z\n, /* ? /* :w */ ? */ ?";
    auto r = pg::rewrite(sql);
    EXPECT_EQ(r.params, 1);
    EXPECT_TRUE(r.names.empty());
    EXPECT_EQ(r.sql.substr(r.sql.size() - 2), "$1");
    EXPECT_EQ(r.sql.substr(0, r.sql.size() - 2), sql.substr(0, sql.size() - 1));
}

TEST(PgRewrite, WritesAreRecognisedByKeywordNotByColumnName) {
    EXPECT_TRUE(pg::rewrite("insert into t values (1)").writes);
    EXPECT_TRUE(pg::rewrite("WITH x AS (SELECT 1) DELETE FROM t").writes);
    EXPECT_TRUE(pg::rewrite("CREATE INDEX i ON t(a)").writes);
    EXPECT_FALSE(pg::rewrite("SELECT updated_hlc, 'insert' FROM t -- delete").writes);
    EXPECT_FALSE(pg::rewrite("SELECT \"update\" FROM t").writes);
}

// ---- the connection -------------------------------------------------------------------------
struct PgDbTest : ::testing::Test {
    std::string uri;
    std::unique_ptr<pg::Db> db;

    void SetUp() override {
        TUNDRA_REQUIRE_PG();
        uri = tundra::test::fresh_database();
        db = open();
    }
    std::unique_ptr<pg::Db> open(pg::OpenOptions o = {}) {
        auto d = pg::Db::open(uri, o);
        EXPECT_TRUE(d) << d.status().to_string();
        return d ? std::move(d.value()) : nullptr;
    }
    int64_t scalar(sql::Db& d, const std::string& sql) {
        auto q = d.query(sql);
        auto r = q->step();
        EXPECT_TRUE(r) << r.status().to_string();
        return r && r.value() ? q->int64(0) : -1;
    }
};

TEST_F(PgDbTest, ParametersInsideLiteralsAreNotBound) {
    auto q = db->query("SELECT '?' || ?, ':x' || :x, ?3");
    q->bind(1, "a").bind(":x", "b").bind(3, int64_t{7});
    auto r = q->step();
    ASSERT_TRUE(r) << r.status().to_string();
    ASSERT_TRUE(r.value());
    EXPECT_EQ(q->text(0), "?a");
    EXPECT_EQ(q->text(1), ":xb");
    EXPECT_EQ(q->int64(2), 7);
    EXPECT_TRUE(q->is_integer(2));
}

TEST_F(PgDbTest, TypesRoundTrip) {
    ASSERT_TRUE(db->exec("CREATE TABLE t (i BIGINT, s TEXT, b BOOLEAN, n NUMERIC, ts TIMESTAMPTZ, k INTEGER)"));
    {
        auto q = db->query("INSERT INTO t (i, s, b, n, ts, k) VALUES (?, ?, ?, ?, ?, ?)");
        q->bind(1, int64_t{9007199254740993}).bind(2, "Hemtjänst 'Arjeplog' ?").bind(3, true);
        q->bind(4, "2.5").bind(5, "2026-11-23T08:00:00Z").bind(6, int64_t{42});
        ASSERT_TRUE(q->run());
        EXPECT_EQ(db->changes(), 1);
    }
    {
        auto q = db->query("INSERT INTO t (i, s, b, n, ts, k) VALUES (?, ?, ?, ?, ?, ?)");
        q->bind(1, nullptr).bind(3, false).bind(4, int64_t{3});  // 2, 5 and 6 unbound: NULL
        ASSERT_TRUE(q->run());
    }
    auto q = db->query("SELECT i, s, b, n, extract(epoch FROM ts)::bigint, k, s IS NULL FROM t ORDER BY i NULLS LAST");
    auto r = q->step();
    ASSERT_TRUE(r && r.value()) << r.status().to_string();
    EXPECT_EQ(q->int64(0), 9007199254740993);
    EXPECT_TRUE(q->is_integer(0));
    EXPECT_EQ(q->text(1), "Hemtjänst 'Arjeplog' ?");
    EXPECT_FALSE(q->is_integer(1));
    EXPECT_EQ(q->int64(2), 1);
    EXPECT_EQ(q->text(2), "1");
    EXPECT_TRUE(q->is_integer(2));
    EXPECT_FALSE(q->is_integer(3));  // 2.5
    EXPECT_EQ(q->text(3), "2.5");
    EXPECT_EQ(q->int64(4), 1795420800);
    EXPECT_EQ(q->int64(5), 42);
    EXPECT_EQ(q->int64(6), 0);
    EXPECT_EQ(q->column_name(4), "extract");
    r = q->step();
    ASSERT_TRUE(r && r.value());
    EXPECT_TRUE(q->is_null(0));
    EXPECT_FALSE(q->is_integer(0));
    EXPECT_TRUE(q->is_null(1));
    EXPECT_EQ(q->int64(2), 0);
    EXPECT_TRUE(q->is_integer(3));  // numeric 3
    EXPECT_EQ(q->int64(3), 3);
    EXPECT_TRUE(q->is_null(5));
    EXPECT_EQ(q->int64(6), 1);
    r = q->step();
    ASSERT_TRUE(r);
    EXPECT_FALSE(r.value());
}

TEST_F(PgDbTest, ParametersPostgresCannotInferAreRetriedWithOtherTypes) {
    {   // $1 IS NULL: indeterminate type unless declared
        auto q = db->query("SELECT ? IS NULL, ? IS NULL");
        q->bind(1, nullptr).bind(2, "x");
        auto r = q->step();
        ASSERT_TRUE(r && r.value()) << r.status().to_string();
        EXPECT_EQ(q->int64(0), 1);
        EXPECT_EQ(q->int64(1), 0);
    }
    {   // substr(text, int4, int4): an int8 has no implicit cast to int4
        auto q = db->query("SELECT substr('hello', ?, ?)");
        q->bind(1, int64_t{2}).bind(2, int64_t{3});
        auto r = q->step();
        ASSERT_TRUE(r && r.value()) << r.status().to_string();
        EXPECT_EQ(q->text(0), "ell");
    }
    {   // the same statement with other kinds of binds is prepared again for them
        auto q = db->query("SELECT coalesce(?, 'none')");
        q->bind(1, "x");
        ASSERT_TRUE(q->step().value());
        EXPECT_EQ(q->text(0), "x");
        q->reset();
        q->bind(1, nullptr);
        ASSERT_TRUE(q->step().value());
        EXPECT_EQ(q->text(0), "none");
    }
}

TEST_F(PgDbTest, ARefusedPrepareDoesNotAbortTheTransaction) {
    ASSERT_TRUE(db->exec("CREATE TABLE t (a BIGINT)"));
    sql::Transaction txn(*db);
    ASSERT_TRUE(txn.begin());
    ASSERT_TRUE(db->query("INSERT INTO t VALUES (1)")->run());
    {
        auto q = db->query("SELECT ? IS NULL");  // refused with the first choice of types
        auto r = q->step();
        ASSERT_TRUE(r && r.value()) << r.status().to_string();
    }
    {
        auto bad = db->prepare("SELECT no_such_column FROM t");
        ASSERT_TRUE(bad);
        auto r = bad.value()->step();
        bad.value()->reset();
        EXPECT_FALSE(r);
    }
    ASSERT_TRUE(txn.commit());
    EXPECT_EQ(scalar(*db, "SELECT count(*) FROM t"), 1);
}

TEST_F(PgDbTest, TransactionsCommitRollBackAndSavepointsUndoPart) {
    ASSERT_TRUE(db->exec("CREATE TABLE t (a BIGINT PRIMARY KEY)"));
    {
        sql::Transaction txn(*db);
        ASSERT_TRUE(txn.begin());
        ASSERT_TRUE(db->query("INSERT INTO t VALUES (1)")->run());
    }  // rolled back
    EXPECT_EQ(scalar(*db, "SELECT count(*) FROM t"), 0);
    {
        sql::Transaction txn(*db);
        ASSERT_TRUE(txn.begin());
        ASSERT_TRUE(db->query("INSERT INTO t VALUES (1)")->run());
        {
            sql::Savepoint sp(*db);
            ASSERT_TRUE(sp.status());
            ASSERT_TRUE(db->query("INSERT INTO t VALUES (2)")->run());
            // A unique violation is a conflict; the savepoint undoes it and the
            // transaction goes on.
            auto q = db->query("INSERT INTO t VALUES (?)");
            q->bind(1, int64_t{1});
            Status st = q->run();
            EXPECT_EQ(st.code(), Errc::conflict) << st.to_string();
        }
        ASSERT_TRUE(db->query("INSERT INTO t VALUES (3)")->run());
        ASSERT_TRUE(txn.commit());
    }
    EXPECT_EQ(scalar(*db, "SELECT sum(a) FROM t"), 4);
    {
        auto q = db->query("UPDATE t SET a = a * 10");
        ASSERT_TRUE(q->run());
    }
    EXPECT_EQ(db->changes(), 2);
}

TEST_F(PgDbTest, CommitOfATransactionAStatementFailedInIsAnError) {
    ASSERT_TRUE(db->exec("CREATE TABLE t (a BIGINT PRIMARY KEY)"));
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES (1)"));
    sql::Transaction txn(*db);
    ASSERT_TRUE(txn.begin());
    ASSERT_TRUE(db->query("INSERT INTO t VALUES (2)")->run());
    EXPECT_EQ(db->query("INSERT INTO t VALUES (1)")->run().code(), Errc::conflict);
    auto next = db->query("INSERT INTO t VALUES (3)")->run();
    EXPECT_FALSE(next);
    EXPECT_NE(next.message().find("aborted"), std::string::npos) << next.message();
    Status st = txn.commit();
    EXPECT_FALSE(st);
    EXPECT_NE(st.message().find("duplicate key"), std::string::npos) << st.message();
    EXPECT_EQ(scalar(*db, "SELECT count(*) FROM t"), 1);
    // The connection is usable again.
    sql::Transaction again(*db);
    ASSERT_TRUE(again.begin());
    ASSERT_TRUE(again.commit());
}

TEST_F(PgDbTest, ReadsAThousandRows) {
    ASSERT_TRUE(db->exec("CREATE TABLE t (a BIGINT, s TEXT)"));
    sql::Transaction txn(*db);
    ASSERT_TRUE(txn.begin());
    auto ins = db->query("INSERT INTO t VALUES (?, ?)");
    for (int i = 0; i < 1000; ++i) {
        ins->bind(1, int64_t{i}).bind(2, "row " + std::to_string(i));
        ASSERT_TRUE(ins->run());
        ins->reset();
    }
    ASSERT_TRUE(txn.commit());
    auto q = db->query("SELECT a, s FROM t ORDER BY a");
    int n = 0;
    for (;;) {
        auto r = q->step();
        ASSERT_TRUE(r);
        if (!r.value()) break;
        EXPECT_EQ(q->int64(0), n);
        EXPECT_EQ(q->text_view(1), "row " + std::to_string(n));
        ++n;
    }
    EXPECT_EQ(n, 1000);
}

TEST_F(PgDbTest, UserVersionStartsAtZero) {
    EXPECT_EQ(db->user_version(), 0);
    ASSERT_TRUE(db->set_user_version(5));
    EXPECT_EQ(db->user_version(), 5);
    ASSERT_TRUE(db->set_user_version(6));
    EXPECT_EQ(open()->user_version(), 6);
}

// Gap safety: a writer waits for the one before it, and then sees its commit.
TEST_F(PgDbTest, WritersAreSerialisedAcrossConnections) {
    ASSERT_TRUE(db->exec("CREATE TABLE counter (v BIGINT); INSERT INTO counter VALUES (0)"));
    auto other = open();
    sql::Transaction a(*db);
    ASSERT_TRUE(a.begin());
    std::atomic<bool> b_began{false};
    int64_t b_saw = -1;
    std::thread t([&] {
        sql::Transaction b(*other);
        if (!b.begin()) return;
        b_began = true;
        auto q = other->query("SELECT v FROM counter");
        if (q->step().value()) b_saw = q->int64(0);
        q->reset();
        (void)other->query("UPDATE counter SET v = v + 1")->run();
        (void)b.commit();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(b_began) << "a second writer began while the first held the write lock";
    ASSERT_TRUE(db->query("UPDATE counter SET v = v + 1")->run());
    ASSERT_TRUE(a.commit());
    t.join();
    EXPECT_TRUE(b_began);
    EXPECT_EQ(b_saw, 1);  // the first writer's commit, read after the lock
    EXPECT_EQ(scalar(*db, "SELECT v FROM counter"), 2);
}

TEST_F(PgDbTest, WaitingTooLongForTheWriteLockIsBusy) {
    pg::OpenOptions o;
    o.lock_timeout_ms = 100;
    auto other = open(o);
    sql::Transaction a(*db);
    ASSERT_TRUE(a.begin());
    sql::Transaction b(*other);
    Status st = b.begin();
    EXPECT_EQ(st.code(), Errc::busy) << st.to_string();
    ASSERT_TRUE(a.commit());
    ASSERT_TRUE(b.begin());  // the refused begin left no transaction behind
    ASSERT_TRUE(b.commit());
}

TEST_F(PgDbTest, AReadTransactionSeesOneSnapshot) {
    ASSERT_TRUE(db->exec("CREATE TABLE t (a BIGINT); INSERT INTO t VALUES (1)"));
    auto writer = open();
    sql::ReadTransaction rt(*db);
    ASSERT_TRUE(rt.begin());
    ASSERT_TRUE(writer->exec("INSERT INTO t VALUES (2)"));
    EXPECT_EQ(scalar(*db, "SELECT count(*) FROM t"), 1);
    auto w = db->query("INSERT INTO t VALUES (3)")->run();
    EXPECT_FALSE(w);  // read only
}

TEST_F(PgDbTest, TheFaultHookStopsWritesButNotReads) {
    ASSERT_TRUE(db->exec("CREATE TABLE t (a BIGINT)"));
    db->set_fault_hook([] { return Status(Errc::storage, "disk full: injected"); });
    EXPECT_EQ(db->query("INSERT INTO t VALUES (1)")->run().message(), "disk full: injected");
    EXPECT_EQ(scalar(*db, "SELECT count(*) FROM t"), 0);
    sql::Transaction txn(*db);
    ASSERT_TRUE(txn.begin());
    EXPECT_FALSE(txn.commit());  // before COMMIT too
    db->set_fault_hook(nullptr);
}

TEST_F(PgDbTest, ALostConnectionIsAStorageErrorAndTheNextTransactionReconnects) {
    ASSERT_TRUE(db->exec("CREATE TABLE t (a BIGINT)"));
    auto q = db->query("INSERT INTO t VALUES (?)");
    q->bind(1, int64_t{1});
    ASSERT_TRUE(q->run());
    q->reset();
    int pid = db->backend_pid();
    auto admin = open();
    ASSERT_EQ(scalar(*admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid)), 1);
    ASSERT_TRUE(admin->exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")"));
    sql::Transaction txn(*db);
    Status first = txn.begin();
    if (first) {  // the link may be noticed only by the first statement
        q->bind(1, int64_t{2});
        first = q->run();
        q->reset();
    }
    EXPECT_EQ(first.code(), Errc::storage);
    EXPECT_NE(first.message().find("connection to PostgreSQL lost"), std::string::npos) << first.message();
    sql::Transaction again(*db);
    ASSERT_TRUE(again.begin());
    q->bind(1, int64_t{3});  // prepared again on the new connection
    ASSERT_TRUE(q->run());
    q->reset();
    ASSERT_TRUE(again.commit());
    EXPECT_NE(db->backend_pid(), pid);
    EXPECT_EQ(scalar(*db, "SELECT sum(a) FROM t"), 4);
}

TEST_F(PgDbTest, ALinkLostInsideATransactionIsNotReplacedUntilItEnds) {
    ASSERT_TRUE(db->exec("CREATE TABLE t (a BIGINT)"));
    auto admin = open();
    {
        sql::Transaction txn(*db);
        ASSERT_TRUE(txn.begin());
        ASSERT_TRUE(db->query("INSERT INTO t VALUES (1)")->run());
        ASSERT_TRUE(admin->exec("SELECT pg_terminate_backend(" + std::to_string(db->backend_pid()) + ")"));
        EXPECT_EQ(db->query("INSERT INTO t VALUES (2)")->run().code(), Errc::storage);
        // Not run on a new connection outside the transaction: it fails too.
        EXPECT_EQ(db->query("INSERT INTO t VALUES (3)")->run().code(), Errc::storage);
        EXPECT_FALSE(txn.commit());
    }
    EXPECT_EQ(scalar(*db, "SELECT count(*) FROM t"), 0);
}

TEST_F(PgDbTest, TheDialectsFragmentsWork) {
    ASSERT_TRUE(db->exec("CREATE TABLE j (doc TEXT); INSERT INTO j VALUES ('{\"a\":\"x\",\"b\":2}')"));
    auto text = [&](const std::string& sql, std::string_view bind = {}) {
        auto q = db->query(sql);
        if (!bind.empty()) q->bind(1, bind);
        auto r = q->step();
        EXPECT_TRUE(r && r.value()) << sql << ": " << (r ? "" : r.status().to_string());
        return r && r.value() ? q->opt_text(0).value_or("NULL") : std::string("?");
    };
    EXPECT_EQ(text("SELECT " + db->json_text("doc", "a") + " FROM j"), "x");
    EXPECT_EQ(text("SELECT " + db->json_text("doc", "zz") + " FROM j"), "NULL");
    EXPECT_EQ(text("SELECT " + db->json_set("doc", "c", "CAST(? AS TEXT)") + " FROM j", "y"),
              R"({"a": "x", "b": 2, "c": "y"})");
    EXPECT_EQ(text("SELECT " + db->json_set("doc", "a", "NULL") + " FROM j"), R"({"a": null, "b": 2})");
    EXPECT_EQ(text("SELECT " + db->json_remove("doc", "a") + " FROM j"), R"({"b": 2})");
    EXPECT_EQ(text("SELECT " + db->group_concat("v.value") + " FROM " +
                   db->json_array_values("'[\"p\",\"q\"]'", "v")),
              "p,q");
    EXPECT_EQ(scalar(*db, "SELECT count(*) FROM j WHERE " + db->contains("doc", "'\"b\"'")), 1);
    auto q = db->query("SELECT " + db->contains("'hello'", "?"));
    q->bind(1, "ell");
    ASSERT_TRUE(q->step().value());
    EXPECT_EQ(q->int64(0), 1);
}

TEST(PgDbOpen, AnUnreachableServerFailsClearlyWithoutTheUri) {
    auto d = pg::Db::open("postgresql://tundra:secret-pw@/nodb?host=/nonexistent-dir");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.status().code(), Errc::storage);
    EXPECT_NE(d.status().message().find("cannot connect to PostgreSQL"), std::string::npos);
    EXPECT_EQ(d.status().message().find("secret-pw"), std::string::npos);
}

// ---- the store on PostgreSQL ---------------------------------------------------------------
struct PgStoreTest : ::testing::Test {
    std::string uri;
    uint64_t now = kNow;
    std::unique_ptr<SqlStore> store;

    void SetUp() override {
        TUNDRA_REQUIRE_PG();
        uri = tundra::test::fresh_database();
        auto s = SqlStore::open(uri, options());
        ASSERT_TRUE(s) << s.status().to_string();
        store = std::move(s.value());
    }
    StoreOptions options() {
        StoreOptions o;
        o.kdf_iterations = 1000;
        o.wall = [this] { return now; };
        return o;
    }
    int64_t scalar(const std::string& sql) {
        auto q = store->db().query(sql);
        auto r = q->step();
        EXPECT_TRUE(r) << r.status().to_string();
        return r && r.value() ? q->int64(0) : -1;
    }
};

TEST_F(PgStoreTest, TheSchemaIsAtTheSqliteStoresVersionWithItsIndexes) {
    EXPECT_EQ(store->db().backend(), sql::Backend::postgres);
    EXPECT_EQ(store->db().user_version(), kSchemaVersion);
    EXPECT_EQ(scalar("SELECT count(*) FROM meta WHERE key IN ('version', 'hlc', 'tombstone_floor', "
                     "'last_purge_ms', 'cursor_key', 'pseudonym_key')"), 6);
    EXPECT_EQ(scalar("SELECT count(*) FROM meta WHERE key = 'cursor_key' AND length(value) = 64"), 1);
    for (auto* t : version_indexed_tables())
        EXPECT_EQ(scalar(std::string("SELECT count(*) FROM pg_indexes WHERE indexname = '") + t + "_version'"), 1) << t;
    // Three report-fact triggers on every table facts are kept for.
    for (auto& f : fact_sources())
        EXPECT_EQ(scalar(std::string("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND "
                                     "tgrelid = '") + f.table + "'::regclass"), 3) << f.table;
    // Text sorts byte-wise, as in SQLite, whatever the database's locale.
    ASSERT_TRUE(store->db().exec("INSERT INTO organisations VALUES ('b', 'B', 'X', 1), ('a', 'A', 'X', 2), "
                                 "('B', 'B', 'X', 3), ('_', '_', 'X', 4)"));
    auto q = store->db().query("SELECT string_agg(id, '' ORDER BY id) FROM organisations");
    ASSERT_TRUE(q->step().value());
    EXPECT_EQ(q->text(0), "B_ab");
}

TEST_F(PgStoreTest, ReportFactsAreStampedWithTheStoresClock) {
    ASSERT_TRUE(store->db().exec("INSERT INTO organisations VALUES ('o1', 'Arjeplog', 'Norrbotten', 1)"));
    ASSERT_TRUE(store->db().exec("INSERT INTO sites VALUES ('s1', 'o1', 'Hemtjänst', 2)"));
    ASSERT_TRUE(store->db().exec(
        "INSERT INTO persons (id, organisation, site, name, gender, birth_year, version) "
        "VALUES ('p1', 'o1', 's1', 'Anna', 'woman', 1980, 3)"));
    EXPECT_EQ(scalar("SELECT count(*) FROM report_facts"), 3);
    EXPECT_EQ(scalar("SELECT count(*) FROM report_facts WHERE at_ms <> " + std::to_string(kNow)), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM report_facts WHERE kind = 'person' AND person = 'p1'"), 1);
    // An update of a report column writes a fact at the clock's new time, in a write
    // transaction as outside one; an update of a column reports do not read writes none.
    now += 60'000;
    {
        sql::Transaction txn(store->db());
        ASSERT_TRUE(txn.begin());
        ASSERT_TRUE(store->db().exec("UPDATE persons SET birth_year = 1981 WHERE id = 'p1'"));
        ASSERT_TRUE(txn.commit());
    }
    ASSERT_TRUE(store->db().exec("UPDATE persons SET name = 'Anna B' WHERE id = 'p1'"));
    now += 60'000;
    auto del = store->db().query("UPDATE persons SET erased = ? WHERE id = ?");
    del->bind(1, true).bind(2, "p1");
    ASSERT_TRUE(del->run());
    EXPECT_EQ(scalar("SELECT count(*) FROM report_facts WHERE kind = 'person' AND id = 'p1'"), 3);
    EXPECT_EQ(scalar("SELECT count(*) FROM report_facts WHERE kind = 'person' AND at_ms = " +
                     std::to_string(kNow + 60'000)), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM report_facts WHERE kind = 'person' AND at_ms = " +
                     std::to_string(kNow + 120'000)), 1);
    auto q = store->db().query("SELECT data FROM report_facts WHERE kind = 'person' ORDER BY seq");
    ASSERT_TRUE(q->step().value());
    ASSERT_TRUE(q->step().value());
    EXPECT_NE(q->text(0).find("1981"), std::string::npos) << q->text(0);
    EXPECT_EQ(q->text(0).find("Anna"), std::string::npos) << "names are no report facts";
}

TEST_F(PgStoreTest, ReopeningKeepsTheStoreAndAnEmptyDatabaseIsNoStore) {
    std::string cursor_key;
    {
        auto key = store->db().query("SELECT value FROM meta WHERE key = 'cursor_key'");
        ASSERT_TRUE(key->step().value());
        cursor_key = key->text(0);
    }
    store.reset();
    auto s = SqlStore::open(uri, options(), false);
    ASSERT_TRUE(s) << s.status().to_string();
    auto again = s.value()->db().query("SELECT value FROM meta WHERE key = 'cursor_key'");
    ASSERT_TRUE(again->step().value());
    EXPECT_EQ(again->text(0), cursor_key);
    auto empty = SqlStore::open(tundra::test::fresh_database(), options(), false);
    ASSERT_FALSE(empty);
    EXPECT_NE(empty.status().message().find("not a Tundra store"), std::string::npos);
}

// Two processes starting on a new database at once: the second waits for the first's
// schema step and then finds it done.
TEST_F(PgStoreTest, TwoStoresMigratingOneDatabaseAtOnceBothOpen) {
    std::string fresh = tundra::test::fresh_database();
    Result<std::unique_ptr<SqlStore>> a(Status(Errc::internal, "not run")), b(Status(Errc::internal, "not run"));
    std::thread ta([&] { a = SqlStore::open(fresh, options()); });
    std::thread tb([&] { b = SqlStore::open(fresh, options()); });
    ta.join();
    tb.join();
    ASSERT_TRUE(a) << a.status().to_string();
    ASSERT_TRUE(b) << b.status().to_string();
    EXPECT_EQ(b.value()->db().user_version(), kSchemaVersion);
}

TEST_F(PgStoreTest, ImportLoginAndAFirstSyncRound) {
    auto imported = store->import_json(tiny_document());
    ASSERT_TRUE(imported) << imported.status().to_string();
    EXPECT_EQ(scalar("SELECT count(*) FROM report_facts WHERE at_ms <> " + std::to_string(kNow)), 0);
    HttpRequest login;
    login.method = "POST";
    login.target = "/v1/login";
    login.body = R"({"protocol":1,"username":"admin","password":"password1"})";
    login.headers["content-type"] = "application/json";
    auto resp = handle_request(login, *store);
    ASSERT_EQ(resp.status, 200) << resp.body;
    auto token = decode_login_response(resp.body);
    ASSERT_TRUE(token);
    auto who = store->authenticate(token->token);
    ASSERT_TRUE(who) << who.status().to_string();
    std::set<std::string> seen;
    SyncRequest req;
    req.limit = 2;
    for (int pages = 0; pages < 20; ++pages) {
        auto r = store->sync(who.value(), req);
        ASSERT_TRUE(r) << r.status().to_string();
        for (auto& c : r->changes) EXPECT_TRUE(seen.insert(std::string(entity(c.kind).name) + "/" + c.id).second);
        req.cursor = r->cursor;
        if (!r->more) break;
    }
    EXPECT_EQ(seen.size(), 6u);  // 1 organisation, 1 site, 2 persons, 1 course, 1 occasion
    auto again = store->sync(who.value(), req);
    ASSERT_TRUE(again) << again.status().to_string();
    EXPECT_TRUE(again->changes.empty());
    EXPECT_EQ(again->cursor, req.cursor);
}

// What the CLI prints of a URI (`init`, `backup`): never its password.
TEST(DisplayName, AUrisPasswordIsHidden) {
    EXPECT_EQ(display_name("/var/lib/tundra/store.db"), "/var/lib/tundra/store.db");
    EXPECT_EQ(display_name("postgresql://tundra:secret-pw@db.example:5432/tundra"),
              "postgresql://tundra:***@db.example:5432/tundra");
    EXPECT_EQ(display_name("postgres://tundra@db.example/tundra"), "postgres://tundra@db.example/tundra");
    EXPECT_EQ(display_name("postgresql:///tundra?host=/run/postgresql&password=s3cret&user=t"),
              "postgresql:///tundra?host=/run/postgresql&password=***&user=t");
    EXPECT_EQ(display_name("postgresql:///tundra?password=s3cret"), "postgresql:///tundra?password=***");
    EXPECT_EQ(display_name("postgresql://u:p%40ss@h/db?sslpassword=keep"), "postgresql://u:***@h/db?sslpassword=keep");
}
