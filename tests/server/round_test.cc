// Issue 7: every decision of a sync round comes from what the device sends — retries get the
// same decision — and exactly-once and fair seats hold against lost replies, restored
// replicas and forged stamps. Direct calls on the store; one test per hole.
#include <set>

#include "fixture.h"
#include "schema.h"
#include "tundra/sqlite/db.h"
#include "tundra/core/cursor.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
constexpr uint64_t kMinute = 60'000, kDay = 24 * 60 * kMinute;

struct Round : StoreFixture {
    void SetUp() override {
        StoreFixture::SetUp();
        // A second site with its own staff, a coordinator of s1, two more participants.
        auto r = store->import_json(R"({
 "sites":[{"id":"s2","organisation":"arjeplog","name":"Särskilt boende Arjeplog"}],
 "persons":[{"id":"p3","organisation":"arjeplog","site":"s2","name":"Stina","gender":"woman","birth_year":1990}],
 "users":[{"username":"coord","password":"password1","role":"coordinator","sites":["s1"]},
          {"username":"coord.b","password":"password1","role":"coordinator","sites":["s1","s2"]},
          {"username":"erik","password":"password1","role":"participant","person":"p2"}]})");
        ASSERT_TRUE(r) << r.status().to_string();
    }
    AuthContext who(const std::string& user) {
        auto w = store->authenticate(login(user));
        EXPECT_TRUE(w) << w.status().to_string();
        return w ? w.value() : AuthContext{};
    }
    // Pulls until caught up; returns the ids seen (kind/id) and the final cursor.
    std::set<std::string> pull_all(const AuthContext& w, std::string& cursor, bool* reset = nullptr) {
        std::set<std::string> seen;
        SyncRequest req;
        req.limit = 2;
        req.cursor = cursor;
        for (int i = 0; i < 100; ++i) {
            auto r = store->sync(w, req);
            EXPECT_TRUE(r) << r.status().to_string();
            if (!r) break;
            if (reset && r->reset) *reset = true;
            for (auto& c : r->changes)
                if (!c.deleted) seen.insert(std::string(entity(c.kind).name) + "/" + c.id);
            req.cursor = r->cursor;
            if (!r->more) break;
        }
        cursor = req.cursor;
        return seen;
    }
    Action enrol(uint64_t seq, const std::string& id, const std::string& person, uint64_t at_ms,
                 const std::string& occasion = "o1") {
        return Action{seq, Hlc::from_parts(at_ms, 0), "enrol",
                      Row{{"enrolment", id}, {"occasion", occasion}, {"person", person}}};
    }
    Result<SyncResponse> push(const AuthContext& w, std::vector<Action> actions,
                              const std::string& cursor = "") {
        SyncRequest req;
        req.cursor = cursor;
        req.actions = std::move(actions);
        return store->sync(w, req);
    }
    std::string status_of(const std::string& enrolment) {
        auto q = store->db().query("SELECT status FROM enrolments WHERE id = ?");
        q->bind(1, enrolment);
        auto r = q->step();
        return r && r.value() ? q->text(0) : "";
    }
};
}  // namespace

// Hole 1: the reply to the round that starts a reset is lost; the retry (same cursor) must
// start the reset again, not continue incrementally in the new scope.
TEST_P(Round, ALostReplyToAResetRoundGetsTheSameResetAgain) {
    auto c = who("coord");
    std::string cursor;
    auto first = pull_all(c, cursor);
    EXPECT_TRUE(first.count("person/p1"));
    EXPECT_FALSE(first.count("person/p3"));
    // Re-import moves the coordinator from s1 to s2.
    ASSERT_TRUE(store->import_json(
        R"({"users":[{"username":"coord","password":"password1","role":"coordinator","sites":["s2"]}]})"));
    c = who("coord");
    SyncRequest req;
    req.cursor = cursor;
    req.limit = 2;
    auto lost = store->sync(c, req);  // committed; the answer never arrives
    ASSERT_TRUE(lost);
    EXPECT_TRUE(lost->reset);
    bool reset = false;
    auto again = pull_all(c, cursor, &reset);  // the same body, the same old cursor
    EXPECT_TRUE(reset) << "the retry was served as an ordinary page";
    EXPECT_TRUE(again.count("person/p3"));
    EXPECT_FALSE(again.count("person/p1"));
    // And once caught up, an incremental round is not a reset.
    SyncRequest inc;
    inc.cursor = cursor;
    auto r = store->sync(c, inc);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->reset);
    EXPECT_TRUE(r->changes.empty());
}

// Hole 1, second half: a device behind the deletion floor, whose reset reply is lost.
TEST_P(Round, ADeviceBehindTheFloorIsResetOnEveryRetryUntilItFollows) {
    auto a = who("admin");
    std::string cursor;
    pull_all(a, cursor);
    auto other = who("admin");
    ASSERT_TRUE(push(other, {Action{1, Hlc::from_parts(now, 0), "delete_occasion", Row{{"occasion", "o1"}}}}));
    now += 100 * kDay;  // past the 90 days' retention: the tombstone is forgotten
    ASSERT_TRUE(push(other, {}));  // a round runs the hourly clean-up
    for (int i = 0; i < 2; ++i) {
        SyncRequest req;
        req.cursor = cursor;
        auto r = store->sync(a, req);
        ASSERT_TRUE(r);
        EXPECT_TRUE(r->reset) << "retry " << i;
    }
}

// Hole 2: a first sync paused past the retention resumes its full-pull cursor; the deletion
// it missed is forgotten by then, so the server must rebuild the replica.
TEST_P(Round, AFullPullPausedPastRetentionIsRebuilt) {
    auto a = who("admin");
    SyncRequest req;
    req.limit = 1;
    auto page = store->sync(a, req);
    ASSERT_TRUE(page);
    ASSERT_TRUE(page->more);
    EXPECT_TRUE(page->reset);  // every full pull ends with a sweep on the device
    auto other = who("admin");
    ASSERT_TRUE(push(other, {Action{1, Hlc::from_parts(now, 0), "delete_occasion", Row{{"occasion", "o1"}}}}));
    now += 100 * kDay;
    ASSERT_TRUE(push(other, {}));
    req.cursor = page->cursor;
    auto resumed = store->sync(a, req);
    ASSERT_TRUE(resumed);
    EXPECT_TRUE(resumed->reset) << "the paused full pull went on without the deletion it missed";
}

TEST_P(Round, ACursorThisServerDidNotIssueIsMalformed) {
    auto a = who("admin");
    std::string cursor;
    pull_all(a, cursor);
    std::string forged = cursor;
    forged[5] = forged[5] == '1' ? '2' : '1';
    SyncRequest req;
    req.cursor = forged;
    auto r = store->sync(a, req);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::malformed);
    // A cursor of the previous protocol is honoured once, as a rebuild.
    req.cursor = "12";
    auto legacy = store->sync(a, req);
    ASSERT_TRUE(legacy);
    EXPECT_TRUE(legacy->reset);
}

// Hole 3: a brand-new device cannot stamp an enrolment before it existed.
TEST_P(Round, ANewDeviceCannotBackdateItsWayIntoASeat) {
    auto anna = who("anna");
    ASSERT_EQ(push(anna, {enrol(1, "e-anna", "p1", now)})->outcomes[0].status, "confirmed");
    now += 60 * kMinute;
    auto erik = who("erik");  // login without device_id: a new device
    auto r = push(erik, {enrol(1, "e-erik", "p2", now - 30 * kDay)});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcomes[0].status, "waitlisted");
    EXPECT_EQ(status_of("e-anna"), "confirmed");
}

// Hole 3: padding every round with 999 refused actions must not freeze the clamp.
TEST_P(Round, FullOrPaddedBatchesCannotFreezeTheStampFloor) {
    auto erik = who("erik");
    uint64_t seq = 0;
    auto padded = [&] {
        std::vector<Action> v;
        for (int i = 0; i < 1000; ++i)
            v.push_back(Action{++seq, Hlc::from_parts(now, 0), "cancel_enrolment", Row{{"enrolment", "nope"}}});
        return v;
    };
    ASSERT_TRUE(push(erik, padded()));
    now += 10 * kMinute;
    auto anna = who("anna");
    ASSERT_EQ(push(anna, {enrol(1, "e-anna", "p1", now)})->outcomes[0].status, "confirmed");
    now += 10 * kMinute;
    ASSERT_TRUE(push(erik, padded()));
    // Stamped before Anna's, sent after a round that followed hers.
    auto r = push(erik, {enrol(++seq, "e-erik", "p2", now - 15 * kMinute)});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcomes[0].status, "waitlisted");
    EXPECT_EQ(status_of("e-anna"), "confirmed");
}

// Hole 3: stamps never decrease with seq.
TEST_P(Round, StampsDoNotDecreaseWithSeq) {
    auto c = who("coord.b");
    auto r = push(c, {enrol(1, "e1", "p1", now + 5 * kMinute), enrol(2, "e3", "p3", now)});
    ASSERT_TRUE(r);
    auto q = store->db().query("SELECT acted_hlc FROM enrolments WHERE id = ?");
    q->bind(1, "e3");
    ASSERT_TRUE(q->step().value());
    EXPECT_GE(Hlc{static_cast<uint64_t>(q->int64(0))}, Hlc::from_parts(now + 5 * kMinute, 0));
}

// Hole 3: two staff enrol the same person; the earlier act, arriving second, keeps its time.
TEST_P(Round, TheEarlierOfTwoDuplicateEnrolmentsFixesTheSeatOrder) {
    auto a = who("coord");
    auto b = who("coord.b");
    auto erik = who("erik");
    now += kMinute;
    uint64_t t1 = now + 1 * kMinute, t15 = now + 2 * kMinute, t2 = now + 3 * kMinute;
    now += 5 * kMinute;
    ASSERT_TRUE(push(b, {enrol(1, "e-b", "p1", t2)}));         // later act, arrives first
    ASSERT_TRUE(push(erik, {enrol(1, "e-erik", "p2", t15)}));   // takes the one seat
    EXPECT_EQ(status_of("e-erik"), "confirmed");
    auto r = push(a, {enrol(1, "e-a", "p1", t1)});              // earliest act, arrives last
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcomes[0].result, OutcomeResult::adjusted);
    EXPECT_EQ(r->outcomes[0].reason, "already_enrolled");
    EXPECT_EQ(r->outcomes[0].status, "confirmed");
    EXPECT_EQ(status_of("e-b"), "confirmed");
    EXPECT_EQ(status_of("e-erik"), "waitlisted");
}

// Hole 4: a different action under a used seq is refused, the same one is a retry; every
// reply says how far the server is.
TEST_P(Round, ADifferentActionUnderAUsedSeqIsRefusedAsSeqReused) {
    auto anna = who("anna");
    auto first = push(anna, {enrol(1, "e1", "p1", now)});
    ASSERT_TRUE(first);
    EXPECT_EQ(first->last_seq, 1u);
    auto retry = push(anna, {enrol(1, "e1", "p1", now)});
    ASSERT_TRUE(retry);
    EXPECT_EQ(retry->outcomes[0].result, OutcomeResult::applied);
    EXPECT_EQ(retry->outcomes[0].status, "confirmed");
    // A replica restored from yesterday's backup numbers a new action 1 again.
    auto reused = push(anna, {Action{1, Hlc::from_parts(now + kMinute, 0), "cancel_enrolment",
                                     Row{{"enrolment", "e1"}}}});
    ASSERT_TRUE(reused);
    EXPECT_EQ(reused->outcomes[0].result, OutcomeResult::rejected);
    EXPECT_EQ(reused->outcomes[0].reason, "seq_reused");
    EXPECT_EQ(reused->last_seq, 1u);
    EXPECT_EQ(status_of("e1"), "confirmed");
    // Renumbered above last_seq it takes effect.
    auto renumbered = push(anna, {Action{2, Hlc::from_parts(now + kMinute, 0), "cancel_enrolment",
                                         Row{{"enrolment", "e1"}}}});
    ASSERT_TRUE(renumbered);
    EXPECT_EQ(renumbered->outcomes[0].result, OutcomeResult::applied);
    EXPECT_EQ(status_of("e1"), "cancelled");
}

TEST_P(Round, LoginTellsAReturningDeviceItsLastSeq) {
    auto resp = post("/v1/login", R"({"protocol":2,"username":"anna","password":"password1"})");
    auto l = decode_login_response(resp.body);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->last_seq, 0u);
    EXPECT_EQ(l->protocol, 2);
    auto w = store->authenticate(l->token);
    ASSERT_TRUE(push(w.value(), {enrol(1, "e1", "p1", now), enrol(2, "e2", "p1", now, "o1")}));
    auto again = post("/v1/login", R"({"protocol":2,"username":"anna","password":"password1","device_id":")" +
                                       l->device_id + R"("})");
    auto l2 = decode_login_response(again.body);
    ASSERT_TRUE(l2);
    EXPECT_EQ(l2->last_seq, 2u);
}

// Verify: the checksum covers exactly what the user may see.
TEST_P(Round, TheScopeChecksumComesWithThePageThatCompletesThePull) {
    auto c = who("coord");
    SyncRequest req;
    req.verify = true;
    req.limit = 2;
    std::optional<ScopeChecksum> sum;
    uint64_t rows = 0;
    for (int i = 0; i < 50; ++i) {
        auto r = store->sync(c, req);
        ASSERT_TRUE(r);
        rows += r->changes.size();
        if (r->more) {
            EXPECT_FALSE(r->checksum);
        }
        req.cursor = r->cursor;
        if (!r->more) {
            sum = r->checksum;
            break;
        }
    }
    ASSERT_TRUE(sum);
    EXPECT_EQ(sum->count, rows);
    auto admin = who("admin");
    SyncRequest all;
    all.verify = true;
    all.limit = 1000;
    auto r = store->sync(admin, all);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->checksum);
    EXPECT_GT(r->checksum->count, sum->count);  // the admin sees p3 and s2's staff too
}

// Schema v3 migration: a store written by the previous release keeps its exactly-once memory
// (records without a hash are trusted as the same action) and its devices' cursors (v1
// cursors are honoured once, as a rebuild).
TEST_P(Round, AStoreFromThePreviousReleaseMigratesAndKeepsItsMemory) {
    TUNDRA_SQLITE_ONLY("a v2 store is a SQLite file; PostgreSQL stores begin at the current schema");
    auto anna = who("anna");
    auto first = push(anna, {enrol(1, "e1", "p1", now)});
    ASSERT_TRUE(first);
    auto path = (dir / "s.db").string();
    store.reset();
    {
        auto db = sqlite::Db::open(path);
        ASSERT_TRUE(db);
        ASSERT_TRUE(db.value()->exec("DROP INDEX applied_actions_applied; DROP INDEX applied_actions_hash; ALTER TABLE applied_actions "
                                     "DROP COLUMN hash; DELETE FROM meta WHERE key = 'cursor_key'; DROP TABLE login_throttle; "
                                     "DROP TABLE audit_log; ALTER TABLE users DROP COLUMN revoked; DROP TABLE action_quota;"));
        ASSERT_TRUE(db.value()->set_user_version(2));
    }
    StoreOptions o;
    o.kdf_iterations = 1000;
    o.wall = [this] { return now; };
    auto s = SqlStore::open(path, o, false);
    ASSERT_TRUE(s) << s.status().to_string();
    store = std::move(s.value());
    EXPECT_EQ(store->db().user_version(), kSchemaVersion);
    EXPECT_EQ(scalar("SELECT length(value) FROM meta WHERE key = 'cursor_key'"), 64);
    SyncRequest req;
    req.cursor = "7";  // what a v1 server issued
    req.actions = {enrol(1, "e1", "p1", now)};
    auto r = store->sync(anna, req);  // the same device retries its first action
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_TRUE(r->reset);
    ASSERT_EQ(r->outcomes.size(), 1u);
    EXPECT_EQ(r->outcomes[0].result, OutcomeResult::applied);
    EXPECT_EQ(r->outcomes[0].status, "confirmed");
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments"), 1);
}

// Visibility as data: the SQL form (pulls) and the C++ form (writes) of every rule agree, for
// every kind and every role, on a world with rows both in and out of each user's scope.
TEST_P(Round, TheSqlAndCppFormsOfEveryVisibilityRuleAgree) {
    ASSERT_TRUE(store->import_json(R"({
 "organisations":[{"code":"pajala","name":"Pajala","county":"Norrbotten"}],
 "sites":[{"id":"s9","organisation":"pajala","name":"Hemtjänst Pajala"}],
 "persons":[{"id":"p9","organisation":"pajala","site":"s9","name":"Pia","gender":"woman","birth_year":1970}],
 "courses":[{"id":"c-pajala","title":"Hot och våld","theme":"threats","format":"on_site","organisations":["pajala"],"published":true},
            {"id":"c-open","title":"Alla","theme":"sam","format":"on_site","organisations":[],"published":true},
            {"id":"c-draft","title":"Utkast","theme":"sam","format":"on_site","organisations":[],"published":false}],
 "occasions":[{"id":"o-pajala","course":"c-pajala","starts_at":"2026-12-07T08:00:00Z","ends_at":"2026-12-07T10:00:00Z","capacity":5,"enrolment_closes":"2026-12-03T08:00:00Z"},
              {"id":"o-draft","course":"c-draft","starts_at":"2026-12-07T08:00:00Z","ends_at":"2026-12-07T10:00:00Z","capacity":5,"enrolment_closes":"2026-12-03T08:00:00Z"}],
 "enrolments":[{"id":"e1","occasion":"o1","person":"p1","status":"confirmed"},
               {"id":"e3","occasion":"o1","person":"p3","status":"waitlisted"},
               {"id":"e9","occasion":"o-pajala","person":"p9","status":"confirmed"}],
 "attendance":[{"occasion":"o1","person":"p1","status":"present","minutes":60},
               {"occasion":"o-pajala","person":"p9","status":"present","minutes":60}]})"));
    auto admin = who("admin");
    ASSERT_TRUE(push(admin, {Action{1, Hlc::from_parts(now, 0), "log_deviation",
                                    Row{{"deviation", "d1"}, {"organisation", "arjeplog"}, {"category", "technical"},
                                        {"description", "Nätet låg nere"}}},
                             Action{2, Hlc::from_parts(now, 1), "log_deviation",
                                    Row{{"deviation", "d9"}, {"organisation", "pajala"}, {"category", "technical"},
                                        {"description", "Strömavbrott"}}}}));
    auto att = push(who("anna"), {Action{1, Hlc::from_parts(now, 2), "attest_time",
                                         Row{{"attestation", "t1"}, {"person", "p1"}, {"month", "2026-11"},
                                             {"minutes", int64_t{120}}}}});
    ASSERT_TRUE(att);
    ASSERT_EQ(att->outcomes[0].result, OutcomeResult::applied) << att->outcomes[0].message;
    ASSERT_EQ(scalar("SELECT count(*) FROM deviations"), 2);
    ASSERT_EQ(scalar("SELECT count(*) FROM time_attestations"), 1);
    int checked = 0;
    for (const char* user : {"anna", "erik", "coord", "coord.b", "admin"}) {
        auto w = who(user);
        for (auto& spec : all_entities()) {
            auto v = store->visible_ids(w, spec.kind);
            ASSERT_TRUE(v) << v.status().to_string();
            EXPECT_EQ(v->by_sql, v->by_cpp) << user << " / " << spec.name;
            checked += static_cast<int>(v->by_sql.size());
        }
    }
    EXPECT_GT(checked, 50);
}

// Every action type core declares has a server handler (a table, not a chain of ifs).
TEST_P(Round, EveryDeclaredActionTypeHasAHandler) {
    auto admin = who("admin");
    uint64_t seq = 0;
    for (auto& spec : all_actions()) {
        auto r = push(admin, {Action{++seq, Hlc::from_parts(now, 0), std::string(spec.type), Row{}}});
        ASSERT_TRUE(r) << spec.type;
        EXPECT_EQ(r->outcomes[0].message.find("unknown action type"), std::string::npos) << spec.type;
    }
}

// After a seq_reused, nothing later in the same request is applied: the device renumbers
// them all in order (a new action must not overtake the reused one it followed).
TEST_P(Round, NothingAfterASeqReusedIsAppliedInTheSameRequest) {
    auto anna = who("anna");
    ASSERT_TRUE(push(anna, {enrol(1, "e1", "p1", now)}));
    auto r = push(anna, {Action{1, Hlc::from_parts(now + kMinute, 0), "cancel_enrolment", Row{{"enrolment", "e1"}}},
                         enrol(2, "e2", "p1", now + 2 * kMinute)});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->outcomes.size(), 1u);
    EXPECT_EQ(r->outcomes[0].reason, "seq_reused");
    EXPECT_EQ(r->last_seq, 1u);
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments WHERE id = 'e2'"), 0);
}

// Found by the soak: a backup that still holds an action under the seq it had before a
// seq_reused renumbered it. Restored, the device sends it again under the old number (or a
// new one): it was applied once, and stays applied once.
TEST_P(Round, AnActionRenumberedAndThenRestoredUnderItsOldSeqTakesEffectOnce) {
    auto anna = who("anna");
    ASSERT_TRUE(push(anna, {enrol(1, "e-a", "p1", now)}));                         // A as 1
    Action e = Action{1, Hlc::from_parts(now + kMinute, 0), "cancel_enrolment", Row{{"enrolment", "e-a"}}};
    auto reused = push(anna, {e});                                                  // E as 1: taken
    ASSERT_TRUE(reused);
    EXPECT_EQ(reused->outcomes[0].reason, "seq_reused");
    e.seq = 2;
    ASSERT_EQ(push(anna, {e})->outcomes[0].result, OutcomeResult::applied);         // E renumbered
    ASSERT_TRUE(push(anna, {enrol(3, "e-b", "p1", now + 2 * kMinute)}));           // enrols again
    EXPECT_EQ(status_of("e-b"), "confirmed");
    // A backup from before the renumbering comes back: E is queued as 1 again.
    e.seq = 1;
    auto again = push(anna, {e});
    ASSERT_TRUE(again);
    EXPECT_EQ(again->outcomes[0].result, OutcomeResult::applied);
    EXPECT_EQ(again->outcomes[0].reason, "");
    // ... or renumbered once more, above everything.
    e.seq = 4;
    auto renumbered = push(anna, {e});
    ASSERT_TRUE(renumbered);
    EXPECT_EQ(renumbered->outcomes[0].result, OutcomeResult::applied);
    EXPECT_EQ(renumbered->last_seq, 4u);
    EXPECT_EQ(status_of("e-b"), "confirmed");  // E (cancel e-a) did not run again
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments WHERE status = 'cancelled'"), 1);
}

TUNDRA_STORE_BACKENDS(Round);
