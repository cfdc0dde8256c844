// Issue 12, the store at scale: pull-only rounds on read snapshots that write nothing (the
// device's last-seen refreshed hourly), group commit of concurrent push rounds, the no-op
// round answered without a query, `remaining` counted once per full pull and carried in the
// cursor, and (SQLite only) the query plans of an incremental round searching by the version
// indexes rather than scanning or sorting.
#include <atomic>
#include <set>
#include <thread>

#include "fixture.h"
#include "store_internal.h"
#include "tundra/core/cursor.h"
#include "tundra/core/protocol.h"
#include "tundra/sqlite/db.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
constexpr uint64_t kMinute = 60'000;

// `Scale` runs on SQLite (the query plans are SQLite's EXPLAIN QUERY PLAN; "writes nothing"
// is read from SQLite's data_version); `ScaleBoth` on both backends.
template <class Base>
struct ScaleT : Base {
    using Base::dir;
    using Base::login;
    using Base::now;
    using Base::scalar;
    using Base::store;
    void SetUp() override {
        Base::SetUp();
        if (this->HasFatalFailure() || this->IsSkipped()) return;
        auto r = store->import_json(R"({
 "users":[{"username":"coord","password":"password1","role":"coordinator","sites":["s1"]}]})");
        ASSERT_TRUE(r) << r.status().to_string();
    }
    AuthContext who(const std::string& user) {
        auto w = store->authenticate(login(user));
        EXPECT_TRUE(w) << w.status().to_string();
        return w ? w.value() : AuthContext{};
    }
    // Pulls until caught up; returns the final cursor.
    std::string pull_all(const AuthContext& w, std::string cursor = {}, int limit = 0) {
        SyncRequest req;
        req.cursor = cursor;
        req.limit = limit;
        for (int i = 0; i < 1000; ++i) {
            auto r = store->sync(w, req);
            EXPECT_TRUE(r) << r.status().to_string();
            if (!r) break;
            req.cursor = r->cursor;
            if (!r->more) break;
        }
        return req.cursor;
    }
    // Commits by any connection, seen from a connection of its own.
    int64_t data_version(sqlite::Db& other) {
        auto q = other.query("PRAGMA data_version");
        auto r = q->step();
        return r && r.value() ? q->int64(0) : -1;
    }
    std::string cursor_key() {
        auto q = store->db().query("SELECT value FROM meta WHERE key = 'cursor_key'");
        auto r = q->step();
        return r && r.value() ? q->text(0) : "";
    }
    Row device_row(const std::string& id) {
        auto q = store->db().query(
            "SELECT coalesce(last_seen_ms, 0), token_expires_ms, last_sync_hlc FROM devices WHERE id = ?");
        q->bind(1, id);
        auto r = q->step();
        if (!r || !r.value()) return {};
        return Row{{"seen", q->int64(0)}, {"expires", q->int64(1)}, {"floor", q->int64(2)}};
    }
    Action deviation(uint64_t seq, const std::string& id) {
        return Action{seq, Hlc::from_parts(now, 0), "log_deviation",
                      Row{{"deviation", id}, {"organisation", "arjeplog"}, {"category", "technical"},
                          {"description", "Projektorn trasig"}}};
    }
};

using Scale = ScaleT<SqliteStoreFixture>;
struct ScaleBoth : ScaleT<StoreFixture> {};

int64_t num(const Row& r, const char* k) { return *get_int(r, k); }
}  // namespace

// A round without actions commits nothing, whoever asks and whatever the store holds; the
// device's last-seen time, token expiry and stamp floor are refreshed at most hourly.
TEST_F(Scale, APullOnlyRoundWritesNothingAndLastSeenIsRefreshedHourly) {
    auto anna = who("anna");
    std::string cursor = pull_all(anna);  // the first round refreshes last-seen (never seen)
    Row seen = device_row(anna.device_id);
    EXPECT_EQ(num(seen, "seen"), static_cast<int64_t>(now));
    auto other = sqlite::Db::open((dir / "s.db").string()).value();
    int64_t v = data_version(*other);
    auto commits = store->stats().commits;
    now += 59 * kMinute;
    for (int i = 0; i < 3; ++i) cursor = pull_all(anna, cursor);
    EXPECT_EQ(data_version(*other), v) << "a pull-only round wrote";
    EXPECT_EQ(store->stats().commits, commits);
    EXPECT_EQ(device_row(anna.device_id), seen);
    // An hour after the last refresh, the next pull refreshes it (a write of its own).
    now += 2 * kMinute;
    auto touches = store->stats().touches;
    SyncRequest req;
    req.cursor = cursor;
    auto r = store->sync(anna, req);
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(store->stats().touches, touches + 1);
    Row after = device_row(anna.device_id);
    EXPECT_EQ(num(after, "seen"), static_cast<int64_t>(now));
    EXPECT_GT(num(after, "expires"), num(seen, "expires"));
    EXPECT_EQ(static_cast<uint64_t>(num(after, "floor")), r->server_hlc) << "the stamp floor moves with it";
}

// The token check is a read too: it commits nothing.
TEST_F(Scale, AuthenticatingWritesNothing) {
    std::string token = login("coord");
    auto other = sqlite::Db::open((dir / "s.db").string()).value();
    int64_t v = data_version(*other);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->authenticate(token));
    EXPECT_EQ(data_version(*other), v);
}

// A device with nothing new is answered from the cursor and the store's version alone, for
// every role; with something new it gets it.
TEST_P(ScaleBoth, ANoOpRoundIsAnsweredWithoutAQueryForEveryRole) {
    for (const char* user : {"anna", "coord", "admin"}) {
        auto w = who(user);
        std::string cursor = pull_all(w);
        auto noops = store->stats().noop_rounds;
        SyncRequest req;
        req.cursor = cursor;
        auto r = store->sync(w, req);
        ASSERT_TRUE(r) << r.status().to_string();
        EXPECT_TRUE(r->changes.empty()) << user;
        EXPECT_FALSE(r->more);
        EXPECT_FALSE(r->reset);
        EXPECT_EQ(store->stats().noop_rounds, noops + 1) << user;
        auto a = decode_cursor(r->cursor, cursor_key()), b = decode_cursor(cursor, cursor_key());
        ASSERT_TRUE(a && b);
        EXPECT_EQ(a->cursor, b->cursor) << user;
    }
    // Something new: not a no-op, and the change arrives.
    auto admin = who("admin");
    std::string cursor = pull_all(admin);
    ASSERT_TRUE(store->import_json(
        R"({"persons":[{"id":"p9","organisation":"arjeplog","site":"s1","name":"Nils","gender":"man","birth_year":1970}]})"));
    SyncRequest req;
    req.cursor = cursor;
    auto noops = store->stats().noop_rounds;
    auto r = store->sync(admin, req);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->changes.size(), 1u);
    EXPECT_EQ(r->changes[0].id, "p9");
    EXPECT_EQ(store->stats().noop_rounds, noops);
}

// An import of 30 persons at site s1 (q0 … q29).
std::string thirty_persons() {
    std::string doc = R"({"persons":[)";
    for (int i = 0; i < 30; ++i)
        doc += std::string(i ? "," : "") + R"({"id":"q)" + std::to_string(i) +
               R"(","organisation":"arjeplog","site":"s1","name":"X","gender":"man","birth_year":1970})";
    return doc + "]}";
}

// `remaining` is counted when a full pull begins, carried in the cursor and lowered by each
// page; a c2 cursor (previous release) in the middle of a full pull is counted once.
TEST_P(ScaleBoth, RemainingIsCountedOnceAndCarriedInTheCursor) {
    ASSERT_TRUE(store->import_json(thirty_persons()));
    auto admin = who("admin");
    const std::string key = cursor_key();
    SyncRequest req;
    req.limit = 4;
    uint64_t total = 0, previous = 0;
    std::string mid;  // a cursor in the middle of the pull
    for (int page = 0; page < 100; ++page) {
        auto r = store->sync(admin, req);
        ASSERT_TRUE(r) << r.status().to_string();
        total += r->changes.size();
        auto c = decode_cursor(r->cursor, key);
        ASSERT_TRUE(c);
        if (!r->more) {
            EXPECT_EQ(c->cursor.remaining, SyncCursor::kUnknown);
            break;
        }
        EXPECT_EQ(c->cursor.remaining, r->remaining) << "page " << page;
        if (page > 0) {
            EXPECT_EQ(r->remaining, previous - r->changes.size()) << "page " << page;
        }
        previous = r->remaining;
        if (page == 2) mid = r->cursor;
        req.cursor = r->cursor;
    }
    EXPECT_GT(total, 30u);
    // The same position as the previous release wrote it: counted again, the same figure.
    auto m = decode_cursor(mid, key);
    ASSERT_TRUE(m);
    const SyncCursor& c = m->cursor;
    std::string body = "c2." + std::string(1, static_cast<char>(c.phase)) + "." + std::to_string(c.after) +
                       "." + std::to_string(c.v0) + "." + std::to_string(c.t0) + "." + c.scope;
    std::string c2 = body + "." + hmac_sha256_hex(key, body).substr(0, 16);
    SyncRequest from3, from2;
    from3.limit = from2.limit = 4;
    from3.cursor = mid;
    from2.cursor = c2;
    auto r3 = store->sync(admin, from3), r2 = store->sync(admin, from2);
    ASSERT_TRUE(r3 && r2) << r2.status().to_string();
    EXPECT_FALSE(r2->reset);
    EXPECT_EQ(r2->remaining, r3->remaining);
    EXPECT_EQ(r2->changes.size(), r3->changes.size());
    EXPECT_EQ(decode_cursor(r2->cursor, key)->cursor.remaining, r2->remaining);
}

// The first page of a full pull counts everything the pull will send (its priority part and
// the rest in one count per kind): what it sent plus its `remaining` is every row the pages
// bring, for every role, in pages of rows and of bytes.
TEST_P(ScaleBoth, AFullPullsFirstCountIsEveryRowItSends) {
    ASSERT_TRUE(store->import_json(thirty_persons()));
    for (const char* user : {"admin", "coord", "anna"})
        for (uint64_t max_bytes : {uint64_t{0}, uint64_t{900}}) {
            auto w = who(user);
            SyncRequest req;
            req.limit = max_bytes ? 0 : 3;
            req.max_bytes = max_bytes;
            uint64_t sent = 0, first_total = 0;
            bool more = true;
            for (int page = 0; page < 1000 && more; ++page) {
                auto r = store->sync(w, req);
                ASSERT_TRUE(r) << r.status().to_string();
                if (page == 0) first_total = r->changes.size() + (r->more ? r->remaining : 0);
                sent += r->changes.size();
                more = r->more;
                req.cursor = r->cursor;
            }
            EXPECT_FALSE(more);
            EXPECT_GT(sent, 0u) << user;
            EXPECT_EQ(first_total, sent) << user << " max_bytes " << max_bytes;
        }
}

// Many devices pushing at once through one store: rounds that arrive together share a
// commit, and every acknowledged action is in the store exactly once.
TEST_P(ScaleBoth, ConcurrentPushRoundsShareCommitsAndEachActionTakesEffectOnce) {
    // Commits take a little while (as an fsync would), so rounds arrive while one is running.
    store->db().set_fault_hook([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
        return Status::ok();
    });
    constexpr int kDevices = 6, kRounds = 8;
    std::vector<AuthContext> devices;
    for (int d = 0; d < kDevices; ++d) devices.push_back(who("coord"));
    auto before = store->stats();
    std::atomic<int> failures{0}, acknowledged{0};
    std::vector<std::thread> threads;
    for (int d = 0; d < kDevices; ++d)
        threads.emplace_back([&, d] {
            uint64_t seq = 0;
            for (int r = 0; r < kRounds; ++r) {
                SyncRequest req;
                for (int k = 0; k < 2; ++k) {
                    ++seq;
                    req.actions.push_back(deviation(seq, "d-" + std::to_string(d) + "-" + std::to_string(seq)));
                }
                auto resp = store->sync(devices[static_cast<size_t>(d)], req);
                // Sent again (a lost reply): the same outcomes, nothing applied twice.
                auto again = store->sync(devices[static_cast<size_t>(d)], req);
                if (!resp || !again || resp->outcomes.size() != 2 || again->outcomes.size() != 2) {
                    ++failures;
                    continue;
                }
                for (size_t k = 0; k < 2; ++k) {
                    if (resp->outcomes[k].result != OutcomeResult::applied ||
                        again->outcomes[k].result != OutcomeResult::applied)
                        ++failures;
                    else
                        ++acknowledged;
                }
            }
        });
    for (auto& t : threads) t.join();
    store->db().set_fault_hook(nullptr);
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(acknowledged.load(), kDevices * kRounds * 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM deviations WHERE id LIKE 'd-%'"), kDevices * kRounds * 2);
    EXPECT_EQ(scalar("SELECT count(DISTINCT id) FROM deviations WHERE id LIKE 'd-%'"), kDevices * kRounds * 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM applied_actions WHERE device IN (SELECT id FROM devices "
                     "WHERE username = 'coord')"),
              kDevices * kRounds * 2);
    auto after = store->stats();
    uint64_t rounds = after.write_rounds - before.write_rounds;
    EXPECT_EQ(rounds, static_cast<uint64_t>(kDevices * kRounds * 2));
    EXPECT_LT(after.commits - before.commits, rounds) << "no two rounds ever shared a commit";
}

// A round that fails inside a group is undone alone; a commit that fails fails every round
// of its group, and nothing of theirs is kept (their retries apply them once).
TEST_P(ScaleBoth, AFailedRoundIsUndoneAloneAndAFailedCommitFailsTheGroup) {
    auto coord = who("coord");
    AuthContext unknown = coord;
    unknown.device_id = "dev-unknown";
    SyncRequest bad, good;
    bad.actions.push_back(deviation(1, "d-bad"));
    good.actions.push_back(deviation(1, "d-good"));
    std::atomic<bool> bad_failed{false};
    store->db().set_fault_hook([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return Status::ok();
    });
    std::thread t1([&] { bad_failed = !store->sync(unknown, bad); });
    auto r = store->sync(coord, good);
    t1.join();
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_TRUE(bad_failed.load());
    EXPECT_EQ(scalar("SELECT count(*) FROM deviations WHERE id = 'd-good'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM deviations WHERE id = 'd-bad'"), 0);

    store->db().set_fault_hook([] { return Status(Errc::storage, "disk I/O error (injected)"); });
    SyncRequest next;
    next.actions.push_back(deviation(2, "d-lost"));
    auto failed = store->sync(coord, next);
    ASSERT_FALSE(failed);
    EXPECT_TRUE(errc_info(failed.status().code()).retryable);
    store->db().set_fault_hook(nullptr);
    EXPECT_EQ(scalar("SELECT count(*) FROM deviations WHERE id = 'd-lost'"), 0);
    auto retry = store->sync(coord, next);
    ASSERT_TRUE(retry) << retry.status().to_string();
    EXPECT_EQ(retry->outcomes[0].result, OutcomeResult::applied);
    EXPECT_EQ(scalar("SELECT count(*) FROM deviations WHERE id = 'd-lost'"), 1);
}

// SQLite only: the queries of an incremental round (its pages and counts, for every kind and
// role) search by the version index, and the per-round ones (token, device, scope) by keys;
// none scans a table or sorts. (PostgreSQL plans from statistics; not checked here.)
TEST_F(Scale, IncrementalRoundQueriesSearchTheVersionIndexNeverScanOrSort) {
    sql::Db& db = store->db();
    ASSERT_EQ(db.backend(), sql::Backend::sqlite);
    auto plan = [&](const std::string& sql) {
        auto q = db.query("EXPLAIN QUERY PLAN " + sql);
        std::vector<std::string> lines;
        for (auto r = q->step(); r && r.value(); r = q->step()) lines.push_back(q->text(3));
        return lines;
    };
    auto check = [&](const std::string& what, const std::string& sql, const std::string& driving,
                     const std::string& by = "version>?") {
        auto lines = plan(sql);
        std::string all;
        for (auto& l : lines) all += l + "\n";
        for (auto& l : lines) {
            // The erased persons' partial index holds only erased persons: not the table.
            if (l.find("USING INDEX persons_erased") == std::string::npos) {
                EXPECT_NE(l.rfind("SCAN ", 0), 0u) << what << ": scans\n" << all << sql;
            }
            EXPECT_EQ(l.find("TEMP B-TREE"), std::string::npos) << what << ": sorts\n" << all << sql;
        }
        if (!driving.empty()) {
            bool by_version = false;
            for (auto& l : lines)
                if (l.rfind("SEARCH t USING INDEX " + driving + " (" + by, 0) == 0 ||
                    l.rfind("SEARCH t USING COVERING INDEX " + driving + " (" + by, 0) == 0)
                    by_version = true;
            bool touches_t = false;
            for (auto& l : lines)
                if (l.rfind("SEARCH t ", 0) == 0 || l.rfind("SCAN t", 0) == 0) touches_t = true;
            // A kind the role never sees may be decided without reading the table at all.
            if (touches_t) {
                EXPECT_TRUE(by_version) << what << ": not driven by " << driving << "\n" << all << sql;
            }
        }
    };
    SyncCursor inc{.phase = SyncCursor::Phase::incremental, .after = 5};
    for (const char* role : {"participant", "coordinator", "admin"})
        for (auto& spec : all_entities()) {
            // A kind the role never sees: SQLite stops at the constant before reading a row.
            std::string scope = scope_sql(spec.kind, role);
            if (scope == "0" || scope.rfind("(0)", 0) == 0) continue;
            std::string table(spec.table), index = table + "_version", by = "version>?";
            if (scope_is_own(spec.kind, role)) {
                // A participant's own rows: their person row by its key, the rest by (person,
                // version) (schema step 8), not by passing everybody's rows written since.
                index = spec.kind == Kind::person ? "" : table + "_person_version";
                by = "person=? AND version>?";
            }
            check(std::string(role) + " " + table + " page", fetch_sql(db.backend(), spec.kind, role, inc), index, by);
            check(std::string(role) + " " + table + " count", count_sql(db.backend(), spec.kind, role, inc), index, by);
        }
    check("tombstones", "SELECT version, kind, id FROM tombstones WHERE version > 5 ORDER BY version LIMIT 10", "");
    check("scope organisations", kScopeOrgsSql, "");
    check("device state", "SELECT last_seq, last_sync_hlc, coalesce(last_seen_ms, 0) FROM devices WHERE id = 'x'", "");
    check("token",
          "SELECT d.id, d.username, d.revoked OR u.revoked, d.token_expires_ms, u.role, u.person FROM devices d "
          "JOIN users u ON u.username = d.username WHERE d.token_hash = 'x'",
          "");
    check("user sites", "SELECT site FROM user_sites WHERE username = 'x' ORDER BY site", "");
    check("meta", "SELECT key, value FROM meta WHERE key IN ('version', 'hlc')", "");
}

// An incremental pull cut by its byte budget says how much is still to come; when the batch it
// took held everything after the cursor, that is the rest of the batch (no count), and it is
// the same figure a count gives: each page's `remaining` is the previous one less what it sent,
// and the pages add up to every row written.
TEST_P(ScaleBoth, AnIncrementalPullCutByBytesCountsWhatRemainsExactly) {
    auto admin = who("admin");
    auto caught_up = pull_all(admin);
    for (int rows : {12, 400}) {  // one batch holds them all; several batches are needed
        std::string doc = R"({"persons":[)";
        std::string tag = "r" + std::to_string(rows) + "-";
        for (int i = 0; i < rows; ++i)
            doc += std::string(i ? "," : "") + R"({"id":")" + tag + std::to_string(i) +
                   R"(","organisation":"arjeplog","site":"s1","name":"Person med ett långt namn","gender":"man","birth_year":1970})";
        ASSERT_TRUE(store->import_json(doc + "]}"));
        SyncRequest req;
        req.cursor = caught_up;
        req.max_bytes = 1200;
        uint64_t total = 0, previous = 0;
        bool first = true;
        for (int page = 0; page < 1000; ++page) {
            auto r = store->sync(admin, req);
            ASSERT_TRUE(r) << r.status().to_string();
            total += r->changes.size();
            req.cursor = r->cursor;
            if (!r->more) break;
            ASSERT_GT(r->changes.size(), 0u);
            if (first) {
                EXPECT_EQ(r->remaining, static_cast<uint64_t>(rows) - r->changes.size()) << rows;
            } else {
                EXPECT_EQ(r->remaining, previous - r->changes.size()) << rows << " page " << page;
            }
            previous = r->remaining;
            first = false;
        }
        EXPECT_FALSE(first) << "the budget should have cut the pull into pages";
        EXPECT_EQ(total, static_cast<uint64_t>(rows));
        caught_up = req.cursor;
    }
}

TUNDRA_STORE_BACKENDS(ScaleBoth);
