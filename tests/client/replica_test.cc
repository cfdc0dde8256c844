// The SDK on its own: replica files, offline recording, retry policy. The network is a
// scripted transport here; the real server is exercised by the e2e tests.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <fstream>
#include <iterator>

#include "tundra/client/client.h"
#include "tundra/core/checksum.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::client;

namespace {
// Replies from a script, in order. A sync may post from its thread ahead (pipelined pages):
// `mu` guards the script and the bodies, and `posted` is told of every post.
struct Scripted : Transport {
    std::deque<Result<HttpReply>>* replies;
    std::vector<std::string>* bodies;
    std::mutex* mu;
    std::condition_variable* posted;
    Result<HttpReply> post(const std::string& path, const std::string& body,
                           const std::vector<std::pair<std::string, std::string>>&,
                           std::chrono::milliseconds) override {
        std::lock_guard g(*mu);
        posted->notify_all();
        bodies->push_back(path + " " + body);
        if (replies->empty()) return Status(Errc::network, "script ran out");
        auto r = replies->front();
        replies->pop_front();
        return r;
    }
};

Change change(Kind k, Row row, uint64_t v) {
    Change ch;
    ch.kind = k;
    ch.id = *get_str(row, "id");
    ch.version = v;
    ch.row = std::move(row);
    return ch;
}

Row occasion_row(const char* id) {
    return {{"id", std::string(id)}, {"course", std::string("c1")},
            {"starts_at", std::string("2026-12-01T09:00:00Z")},
            {"ends_at", std::string("2026-12-01T11:00:00Z")},
            {"capacity", int64_t{5}}, {"enrolment_closes", std::string("2026-11-29T09:00:00Z")},
            {"status", std::string("planned")}, {"confirmed", int64_t{0}},
            {"waitlisted", int64_t{0}}};
}

Row person_row(const char* id) {
    return {{"id", std::string(id)}, {"organisation", std::string("arjeplog")},
            {"site", std::string("s1")}, {"name", std::string("Anna")},
            {"gender", std::string("woman")}, {"erased", false}};
}

// How many actions a request body carries, and the page budget it asks for.
size_t actions_in(const std::string& body) {
    size_t n = 0;
    for (size_t p = body.find("\"seq\":"); p != std::string::npos; p = body.find("\"seq\":", p + 1)) ++n;
    return n;
}
uint64_t max_bytes_in(const std::string& body) {
    auto p = body.find("\"max_bytes\":");
    return p == std::string::npos ? 0 : std::stoull(body.substr(p + 12));
}

HttpReply reply(int status, std::string body, std::map<std::string, std::string> headers = {}) {
    HttpReply r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

bool has_row(Client& c, const char* table, const std::string& id) {
    auto snap = c.snapshot().value();
    for (auto& row : snap[table])
        if (row.find("\"id\":\"" + id + "\"") != std::string::npos) return true;
    return false;
}

struct ClientTest : ::testing::Test {
    std::filesystem::path dir;
    std::deque<Result<HttpReply>> replies;
    std::vector<std::string> bodies;
    std::vector<int64_t> sleeps;
    std::mutex mu;
    std::condition_variable posted;

    // Waits (up to 5 s) until `n` requests have been posted and answered from the script.
    bool wait_for_posts(size_t n) {
        std::unique_lock l(mu);
        return posted.wait_for(l, std::chrono::seconds(5), [&] { return bodies.size() >= n; });
    }

    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "tundra-client-XXXXXX").string();
        dir = mkdtemp(tmpl.data());
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    std::string path(const char* name) { return (dir / name).string(); }

    std::unique_ptr<Client> open(const char* name = "r.db") {
        ClientOptions o;
        o.transport_factory = [this](const std::string&) {
            auto t = std::make_unique<Scripted>();
            t->replies = &replies;
            t->bodies = &bodies;
            t->mu = &mu;
            t->posted = &posted;
            return t;
        };
        o.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d.count()); };
        auto c = Client::open(path(name), o);
        EXPECT_TRUE(c) << c.status().to_string();
        return c ? std::move(c.value()) : nullptr;
    }

    // Logs in as a participant (nothing synced yet).
    std::unique_ptr<Client> logged_in(uint64_t server_last_seq = 0, StrList capabilities = {}) {
        auto c = open();
        LoginResponse lr;
        lr.token = "t";
        lr.device_id = "dev-0123456789";
        lr.user = {"anna", "participant", "p1", {}};
        lr.server_hlc = Hlc::from_parts(wall_clock_ms(), 0).value;
        lr.last_seq = server_last_seq;
        lr.capabilities = std::move(capabilities);
        replies.push_back(reply(200, encode(lr)));
        EXPECT_TRUE(c->login("http://test", "anna", "pw"));
        return c;
    }

    // Logs in as a participant and pulls a catalogue with one occasion.
    std::unique_ptr<Client> ready(uint64_t server_last_seq = 0, StrList capabilities = {}) {
        auto c = logged_in(server_last_seq, std::move(capabilities));
        SyncResponse sr;
        sr.cursor = "3";
        auto add = [&](Kind k, Row row, uint64_t v) {
            Change ch;
            ch.kind = k;
            ch.id = *get_str(row, "id");
            ch.version = v;
            ch.row = std::move(row);
            sr.changes.push_back(std::move(ch));
        };
        add(Kind::person, {{"id", std::string("p1")}, {"organisation", std::string("arjeplog")},
                           {"site", std::string("s1")}, {"name", std::string("Anna")},
                           {"gender", std::string("woman")}, {"erased", false}}, 1);
        add(Kind::occasion, {{"id", std::string("o1")}, {"course", std::string("c1")},
                             {"starts_at", std::string("2026-12-01T09:00:00Z")},
                             {"ends_at", std::string("2026-12-01T11:00:00Z")},
                             {"capacity", int64_t{5}}, {"enrolment_closes", std::string("2026-11-29T09:00:00Z")},
                             {"status", std::string("planned")}, {"confirmed", int64_t{0}},
                             {"waitlisted", int64_t{0}}}, 2);
        replies.push_back(reply(200, encode(sr)));
        EXPECT_TRUE(c->sync());
        return c;
    }
};
}  // namespace

TEST_F(ClientTest, GarbageFileIsRefusedNotOverwritten) {
    FILE* f = fopen(path("g.db").c_str(), "w");
    fputs("some spreadsheet export, definitely not SQLite........................", f);
    fclose(f);
    auto c = Client::open(path("g.db"));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.status().code(), Errc::storage);
}

TEST_F(ClientTest, ReplicaFromANewerBuildIsRefused) {
    { auto c = open(); }
    sqlite3* db;
    sqlite3_open(path("r.db").c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    auto c = Client::open(path("r.db"));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.status().code(), Errc::unsupported_version);
}

TEST_F(ClientTest, NothingIsRecordedBeforeLogin) {
    auto c = open();
    EXPECT_EQ(c->enrol("o1", "p1").status().code(), Errc::unauthorized);
    EXPECT_EQ(c->sync().status().code(), Errc::unauthorized);
}

TEST_F(ClientTest, OfflineActionsSurviveReopeningAndUnknownIdsAreRefused) {
    auto c = ready();
    EXPECT_EQ(c->enrol("o-missing").status().code(), Errc::not_found);
    EXPECT_EQ(c->cancel("e-missing").status().code(), Errc::not_found);
    auto id = c->enrol("o1");
    ASSERT_TRUE(id);
    c.reset();
    auto again = open();
    EXPECT_EQ(again->status()->pending, 1);
    auto es = again->enrolments().value();
    ASSERT_EQ(es.size(), 1u);
    EXPECT_EQ(es[0].status, "requested");
    EXPECT_TRUE(es[0].pending);
}

TEST_F(ClientTest, TransientFailuresAreRetriedWithBackoffAndRetryAfter) {
    auto c = ready();
    auto id = c->enrol("o1");
    ASSERT_TRUE(id);
    replies.push_back(Status(Errc::network, "connection reset"));
    replies.push_back(reply(503, encode(ErrorBody{Errc::overloaded, "busy"}), {{"retry-after", "3"}}));
    SyncResponse ok;
    ok.cursor = "9";
    ok.outcomes.push_back({1, OutcomeResult::applied, "", "seat confirmed", "confirmed"});
    Change row;
    row.kind = Kind::enrolment;
    row.id = id.value();
    row.row = {{"id", id.value()}, {"occasion", std::string("o1")}, {"person", std::string("p1")},
               {"status", std::string("confirmed")}, {"acted_hlc", int64_t{1}}, {"updated_hlc", int64_t{1}}};
    ok.changes.push_back(row);
    replies.push_back(reply(200, encode(ok)));
    bodies.clear();
    auto r = c->sync();
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(r->requests, 3);
    ASSERT_EQ(sleeps.size(), 2u);
    EXPECT_LE(sleeps[0], 250);
    EXPECT_GE(sleeps[1], 3000);  // Retry-After is respected
    // Every attempt carried the same action with the same sequence number.
    for (auto& b : bodies) EXPECT_NE(b.find("\"seq\":1,"), std::string::npos) << b;
    EXPECT_EQ(c->enrolments()->at(0).status, "confirmed");
}

TEST_F(ClientTest, ErrorsRetryingCannotCureStopAtOnce) {
    auto c = ready();
    replies.push_back(reply(401, encode(ErrorBody{Errc::unauthorized, "this device has been revoked; ask an admin"})));
    auto r = c->sync();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::unauthorized);
    EXPECT_NE(r.status().message().find("revoked"), std::string::npos);
    EXPECT_TRUE(sleeps.empty());
}

TEST_F(ClientTest, AFailingLinkGivesUpWithinTheDeadlineAndKeepsTheQueue) {
    auto c = ready();
    ASSERT_TRUE(c->enrol("o1"));
    for (int i = 0; i < 100; ++i) replies.push_back(Status(Errc::network, "no route to host"));
    SyncOptions so;
    so.deadline = std::chrono::milliseconds(0);
    auto r = c->sync(so);
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("gave up"), std::string::npos);
    EXPECT_EQ(c->status()->pending, 1);
}

TEST_F(ClientTest, AnotherUserCannotTakeOverAReplicaWithQueuedActions) {
    auto c = ready();
    ASSERT_TRUE(c->enrol("o1"));
    LoginResponse lr;
    lr.token = "t2";
    lr.device_id = "dev-999";
    lr.user = {"erik", "participant", "p2", {}};
    replies.push_back(reply(200, encode(lr)));
    Status st = c->login("http://test", "erik", "pw");
    EXPECT_EQ(st.code(), Errc::conflict);
    EXPECT_EQ(c->status()->username, "anna");
    EXPECT_EQ(c->status()->pending, 1);
}

// Hole 4: a replica restored from a backup issues seqs the server already holds for other
// actions. The server says `seq_reused`; that is not the user's rejection: the action is
// numbered above the server's last seq and sent again.
TEST_F(ClientTest, ASeqTheServerHoldsForAnotherActionIsRenumberedAndSentAgainNotRejected) {
    auto c = ready();
    auto id = c->enrol("o1");
    ASSERT_TRUE(id);
    SyncResponse reused;
    reused.cursor = "4";
    reused.last_seq = 7;
    reused.outcomes.push_back({1, OutcomeResult::rejected, std::string(reasons::kSeqReused),
                               "seq 1 of this device holds another action", ""});
    SyncResponse ok;
    ok.cursor = "5";
    ok.last_seq = 8;
    ok.outcomes.push_back({8, OutcomeResult::applied, "", "", "requested"});
    replies.push_back(reply(200, encode(reused)));
    replies.push_back(reply(200, encode(ok)));
    bodies.clear();
    auto r = c->sync();
    ASSERT_TRUE(r) << r.status().to_string();
    ASSERT_EQ(bodies.size(), 2u);
    EXPECT_NE(bodies[0].find("\"seq\":1,"), std::string::npos) << bodies[0];
    EXPECT_NE(bodies[1].find("\"seq\":8,"), std::string::npos) << bodies[1];
    EXPECT_NE(bodies[1].find(id.value()), std::string::npos) << "the same action, renumbered";
    ASSERT_EQ(r->outcomes.size(), 1u);
    EXPECT_EQ(r->outcomes[0].result, "applied");
    auto st = c->status().value();
    EXPECT_TRUE(st.rejected.empty());
    EXPECT_EQ(st.pending, 0);
    // The next action is numbered after it.
    ASSERT_TRUE(c->enrol("o1"));
    bodies.clear();
    replies.push_back(Status(Errc::unauthorized, "stop"));
    EXPECT_FALSE(c->sync());
    EXPECT_NE(bodies[0].find("\"seq\":9,"), std::string::npos) << bodies[0];
}

TEST_F(ClientTest, NewActionsAreNumberedAboveTheLastSeqTheServerReportsAtLogin) {
    auto c = ready(41);
    ASSERT_TRUE(c->enrol("o1"));
    bodies.clear();
    replies.push_back(Status(Errc::unauthorized, "stop"));
    EXPECT_FALSE(c->sync());
    ASSERT_EQ(bodies.size(), 1u);
    EXPECT_NE(bodies[0].find("\"seq\":42,"), std::string::npos) << bodies[0];
}

TEST_F(ClientTest, LocalIdsAreUniqueWithoutTheSeq) {
    auto c = ready();
    auto a = c->enrol("o1").value();
    auto b = c->enrol("o1").value();
    EXPECT_NE(a, b);
    // Not "<device>-<seq>": a rolled-back replica issues the same seq again.
    EXPECT_NE(a.substr(a.size() - 2), "-1") << a;
    EXPECT_NE(b.substr(b.size() - 2), "-2") << b;
    EXPECT_GE(a.size(), std::string("e-01234567-").size() + 16) << a;
}

// Hole 4: the install id lives beside the replica; a copy of the replica somewhere else (a
// restored backup) has none there, forgets its device identity and logs in as a new device,
// keeping its queued actions.
TEST_F(ClientTest, ACopiedReplicaForgetsItsDeviceIdentityAndLogsInAsANewDevice) {
    std::string id;
    {
        auto c = ready();
        id = c->enrol("o1").value();
    }
    ASSERT_TRUE(std::filesystem::exists(path("r.db.install-id")));
    std::filesystem::copy_file(path("r.db"), path("copy.db"));
    auto copy = open("copy.db");
    auto st = copy->status().value();
    EXPECT_EQ(st.device_id, "");
    EXPECT_EQ(st.pending, 1) << "queued actions are kept";
    auto r = copy->sync();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::unauthorized);
    EXPECT_NE(r.status().message().find("restored"), std::string::npos) << r.status().to_string();
    LoginResponse lr;
    lr.token = "t2";
    lr.device_id = "dev-fresh";
    lr.user = {"anna", "participant", "p1", {}};
    replies.push_back(reply(200, encode(lr)));
    bodies.clear();
    ASSERT_TRUE(copy->login("http://test", "anna", "pw"));
    EXPECT_EQ(bodies[0].find("dev-0123456789"), std::string::npos) << "asked for a new identity: " << bodies[0];
    EXPECT_EQ(copy->status()->device_id, "dev-fresh");
    EXPECT_TRUE(std::filesystem::exists(path("copy.db.install-id")));
    // The first sync of the new identity is a full pull and carries the kept action.
    bodies.clear();
    replies.push_back(Status(Errc::unauthorized, "stop"));
    EXPECT_FALSE(copy->sync());
    EXPECT_NE(bodies[0].find("\"cursor\":\"\""), std::string::npos) << bodies[0];
    EXPECT_NE(bodies[0].find(id), std::string::npos) << bodies[0];
    // The original keeps its identity.
    copy.reset();
    EXPECT_EQ(open("r.db")->status()->device_id, "dev-0123456789");
}

// Every full pull ends with the mark-and-sweep; the sweep keeps the rows of queued actions;
// a reset page that comes twice starts the marks over and the result is the same.
TEST_F(ClientTest, AFullPullSweepsWhatItDidNotSendButNeverTheRowsOfQueuedActions) {
    auto c = ready();
    SyncResponse inc;
    inc.cursor = "4";
    inc.changes.push_back(change(Kind::occasion, occasion_row("o2"), 3));
    replies.push_back(reply(200, encode(inc)));
    ASSERT_TRUE(c->sync());
    ASSERT_TRUE(has_row(*c, "occasions", "o2"));
    auto e = c->enrol("o1").value();
    SyncResponse reset;
    reset.reset = true;
    reset.more = true;
    reset.cursor = "r1";
    reset.changes.push_back(change(Kind::person, person_row("p1"), 1));
    SyncResponse last;
    last.cursor = "r2";
    last.changes.push_back(change(Kind::occasion, occasion_row("o1"), 2));
    replies.push_back(reply(200, encode(reset)));
    replies.push_back(reply(200, encode(reset)));  // the same decision again
    replies.push_back(reply(200, encode(last)));
    replies.push_back(reply(401, encode(ErrorBody{Errc::unauthorized, "stop"})));
    EXPECT_FALSE(c->sync());  // the enrolment is still queued when the pull ends
    EXPECT_TRUE(has_row(*c, "occasions", "o1"));
    EXPECT_TRUE(has_row(*c, "persons", "p1"));
    EXPECT_FALSE(has_row(*c, "occasions", "o2")) << "not sent by the full pull: swept";
    auto es = c->enrolments().value();
    ASSERT_EQ(es.size(), 1u);
    EXPECT_EQ(es[0].id, e);
    EXPECT_TRUE(es[0].pending);
    EXPECT_EQ(c->status()->pending, 1);
}

TEST_F(ClientTest, AReplicaOfThePreviousSchemaIsMigratedWithItsRowsAndQueue) {
    { ASSERT_TRUE(ready()->enrol("o1")); }
    // Make the file what the previous build (schema 2) wrote: no row versions.
    sqlite3* db;
    ASSERT_EQ(sqlite3_open(path("r.db").c_str(), &db), SQLITE_OK);
    for (auto& e : all_entities()) {
        std::string sql = "ALTER TABLE " + std::string(e.table) + " DROP COLUMN version";
        ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    }
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 2", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    auto c = open();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->status()->pending, 1);
    EXPECT_EQ(c->enrolments()->size(), 1u);
    EXPECT_EQ(c->courses()->size(), 0u);
    EXPECT_TRUE(has_row(*c, "occasions", "o1"));
    c.reset();
    ASSERT_EQ(sqlite3_open(path("r.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
    sqlite3_step(st);
    EXPECT_EQ(sqlite3_column_int(st, 0), 6);  // the current schema (replica.h)
    sqlite3_finalize(st);
    EXPECT_EQ(sqlite3_exec(db, "SELECT version FROM occasions", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
}

// `verify`: the server's checksum against the replica's; a mismatch is repaired by a full
// pull (cursor cleared) and compared again.
TEST_F(ClientTest, VerifyComparesWithTheServersChecksumAndRepairsByAFullPull) {
    auto c = ready();  // p1 at version 1, o1 at version 2
    ChecksumBuilder same;
    same.add("person", "p1", 1);
    same.add("occasion", "o1", 2);
    SyncResponse ok;
    ok.cursor = "3";
    ok.checksum = same.result();
    replies.push_back(reply(200, encode(ok)));
    bodies.clear();
    auto v = c->verify();
    ASSERT_TRUE(v) << v.status().to_string();
    EXPECT_TRUE(v->ok);
    EXPECT_FALSE(v->repaired);
    EXPECT_EQ(v->local.count, 2u);
    EXPECT_EQ(v->local.hash, same.result().hash);
    EXPECT_NE(bodies[0].find("\"verify\":true"), std::string::npos) << bodies[0];

    // The server now holds o1 at version 5 and the user may no longer see p1.
    ChecksumBuilder now;
    now.add("occasion", "o1", 5);
    SyncResponse stale;
    stale.cursor = "3";
    stale.checksum = now.result();
    SyncResponse full;
    full.reset = true;
    full.cursor = "9";
    full.changes.push_back(change(Kind::occasion, occasion_row("o1"), 5));
    full.checksum = now.result();
    replies.push_back(reply(200, encode(stale)));
    replies.push_back(reply(200, encode(full)));
    bodies.clear();
    v = c->verify();
    ASSERT_TRUE(v) << v.status().to_string();
    EXPECT_FALSE(v->ok);
    EXPECT_TRUE(v->repaired);
    EXPECT_EQ(v->local.count, 1u);
    EXPECT_EQ(v->local, v->server);
    ASSERT_EQ(bodies.size(), 2u);
    EXPECT_NE(bodies[1].find("\"cursor\":\"\""), std::string::npos) << "repair is a full pull: " << bodies[1];
    EXPECT_FALSE(has_row(*c, "persons", "p1"));
}

TEST_F(ClientTest, VerifyAgainstAServerWithoutChecksumsSaysSo) {
    auto c = ready();
    SyncResponse ok;
    ok.cursor = "3";
    replies.push_back(reply(200, encode(ok)));
    auto v = c->verify();
    ASSERT_FALSE(v);
    EXPECT_EQ(v.status().code(), Errc::unsupported_version);
}

// Hole 8: a failed request is not resent as it was: the next one asks for half the page
// and carries half the actions, and success grows both back.
TEST_F(ClientTest, AFailedRequestIsFollowedByASmallerPageAndFewerActions) {
    auto c = ready(0, {"max_bytes"});
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(c->enrol("o1"));
    auto acked = [](std::initializer_list<uint64_t> seqs) {
        SyncResponse r;
        r.cursor = "c";
        for (auto s : seqs) r.outcomes.push_back({s, OutcomeResult::applied, "", "", "requested"});
        auto h = reply(200, encode(r));
        h.bytes_received = h.body.size();
        return h;
    };
    replies.push_back(Status(Errc::network, "connection cut"));
    replies.push_back(Status(Errc::network, "connection cut"));
    replies.push_back(acked({1}));
    replies.push_back(acked({2, 3}));
    replies.push_back(acked({4, 5, 6}));
    bodies.clear();
    SyncOptions so;
    so.max_actions_per_round = 4;
    auto r = c->sync(so);
    ASSERT_TRUE(r) << r.status().to_string();
    ASSERT_EQ(bodies.size(), 5u);
    std::vector<size_t> actions;
    for (auto& b : bodies) actions.push_back(actions_in(b));
    EXPECT_EQ(actions, (std::vector<size_t>{4, 2, 1, 2, 3}));
    EXPECT_EQ(max_bytes_in(bodies[1]), max_bytes_in(bodies[0]) / 2);
    EXPECT_EQ(max_bytes_in(bodies[2]), max_bytes_in(bodies[1]) / 2);
    EXPECT_GT(max_bytes_in(bodies[3]), max_bytes_in(bodies[2]));
    EXPECT_EQ(c->status()->pending, 0);
}

TEST_F(ClientTest, AReplicaLoggedInBeforeInstallIdsAdoptsOneAndKeepsItsIdentity) {
    { ready(); }
    std::filesystem::remove(path("r.db.install-id"));
    sqlite3* db;
    ASSERT_EQ(sqlite3_open(path("r.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM meta WHERE key = 'install_id'", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    auto c = open();
    EXPECT_EQ(c->status()->device_id, "dev-0123456789");
    EXPECT_TRUE(std::filesystem::exists(path("r.db.install-id")));
    c.reset();
    EXPECT_EQ(open()->status()->device_id, "dev-0123456789") << "adopted, not taken for a copy";
}

// Issue 8: a throttled login is surfaced at once with the wait, never retried.
TEST_F(ClientTest, ARateLimitedLoginIsNeverRetriedAndSaysHowLongToWait) {
    auto c = open();
    replies.push_back(reply(429, encode(ErrorBody{Errc::rate_limited, "too many failed logins"}),
                            {{"retry-after", "40"}}));
    Status st = c->login("http://test", "anna", "pw");
    EXPECT_EQ(st.code(), Errc::rate_limited);
    EXPECT_EQ(st.to_string(), "rate_limited: too many failed logins; try again in 40 s");
    EXPECT_EQ(st.retry_after_s(), 40);
    EXPECT_EQ(bodies.size(), 1u) << "one request, no retry";
    EXPECT_TRUE(sleeps.empty());
}

TEST_F(ClientTest, ALoginTurnedAwayBecauseTheServerIsBusyIsAskedAgain) {
    auto c = open();
    replies.push_back(reply(503, encode(ErrorBody{Errc::overloaded, "busy checking other logins"}),
                            {{"retry-after", "1"}}));
    LoginResponse lr;
    lr.token = "t";
    lr.device_id = "dev-0123456789";
    lr.user = {"anna", "participant", "p1", {}};
    replies.push_back(reply(200, encode(lr)));
    ASSERT_TRUE(c->login("http://test", "anna", "pw"));
    EXPECT_EQ(bodies.size(), 2u);
    ASSERT_EQ(sleeps.size(), 1u);
    EXPECT_EQ(sleeps[0], 1000);
}

// Remote wipe: `revoked` deletes the synced personal data and the token, keeps the queued
// actions, and says how many were kept.
TEST_F(ClientTest, ARevokedDeviceWipesItsSyncedDataAndKeepsItsUnsentActions) {
    auto c = ready();
    SyncResponse page;
    page.cursor = "c1";
    page.changes.push_back(change(Kind::person, person_row("p1"), 3));
    replies.push_back(reply(200, encode(page)));
    ASSERT_TRUE(c->sync());
    ASSERT_TRUE(has_row(*c, "persons", "p1"));
    ASSERT_TRUE(c->enrol("o1"));
    ASSERT_TRUE(c->update_person({.id = "p1", .profession = "undersköterska"}));
    replies.push_back(reply(401, encode(ErrorBody{Errc::revoked, "this device was revoked by an admin"})));
    auto r = c->sync();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::revoked);
    EXPECT_EQ(r.status().message(),
              "this device was revoked: synced data wiped; 2 unsent actions kept — export with "
              "`tundra logout --export FILE`");
    EXPECT_TRUE(sleeps.empty());
    for (auto& [table, rows] : c->snapshot().value()) EXPECT_TRUE(rows.empty()) << table;
    auto st = c->status();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->pending, 2);
    EXPECT_EQ(st->device_id, "dev-0123456789") << "the identity stays: a login names it again";
    EXPECT_EQ(st->role, "");
    EXPECT_EQ(c->sync().status().code(), Errc::unauthorized) << "no token left";
    EXPECT_EQ(c->enrol("o1").status().code(), Errc::unauthorized);
    // No byte of the wiped rows is left in the file or its log.
    c.reset();
    for (auto* suffix : {"", "-wal"}) {
        std::ifstream in(path("r.db") + suffix, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        EXPECT_EQ(bytes.find("arjeplog"), std::string::npos) << "r.db" << suffix;
    }
}

TEST_F(ClientTest, ALoginNamingARevokedDeviceWipesTooAndLoginsElsewhereDoNot) {
    auto c = ready();
    SyncResponse page;
    page.cursor = "c1";
    page.changes.push_back(change(Kind::person, person_row("p1"), 3));
    replies.push_back(reply(200, encode(page)));
    ASSERT_TRUE(c->sync());
    replies.push_back(reply(401, encode(ErrorBody{Errc::revoked, "this device was revoked by an admin"})));
    Status st = c->login("http://test", "anna", "pw");
    EXPECT_EQ(st.code(), Errc::revoked);
    EXPECT_NE(st.message().find("no unsent actions"), std::string::npos) << st.message();
    EXPECT_NE(bodies.back().find("dev-0123456789"), std::string::npos) << "the login named the device";
    EXPECT_FALSE(has_row(*c, "persons", "p1"));
    // Another replica of another user, told `revoked` at login, has nothing of that user's.
    auto other = open("other.db");
    replies.push_back(reply(401, encode(ErrorBody{Errc::revoked, "this user was revoked by an admin"})));
    EXPECT_EQ(other->login("http://test", "erik", "pw").to_string(), "revoked: this user was revoked by an admin");
}

// Pages of a pull are pipelined: the request for page k+1 (from the cursor page k carries) is
// on its way while page k is applied. The progress callback runs after a page is applied and
// waits for that request; without the pipeline it would wait in vain.
namespace {
SyncResponse page(const char* cursor, bool more, const char* occasion, uint64_t v) {
    SyncResponse p;
    p.cursor = cursor;
    p.more = more;
    p.remaining = more ? 1 : 0;
    p.changes.push_back(change(Kind::occasion, occasion_row(occasion), v));
    return p;
}
}  // namespace

TEST_F(ClientTest, TheNextPageIsAskedForWhileThePreviousOneIsApplied) {
    auto c = ready();
    replies.push_back(reply(200, encode(page("a", true, "o2", 3))));
    replies.push_back(reply(200, encode(page("b", true, "o3", 4))));
    replies.push_back(reply(200, encode(page("c", false, "o4", 5))));
    size_t n0 = bodies.size();
    std::vector<bool> ahead;
    SyncOptions o;
    o.progress = [&](const SyncProgress& p) {
        if (p.more) ahead.push_back(wait_for_posts(n0 + static_cast<size_t>(p.round) + 1));
    };
    auto r = c->sync(o);
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(r->requests, 3);
    EXPECT_EQ(ahead, (std::vector<bool>{true, true})) << "page k+1 was not asked for until page k was applied";
    ASSERT_EQ(bodies.size(), n0 + 3);
    EXPECT_NE(bodies[n0 + 1].find("\"cursor\":\"a\""), std::string::npos) << bodies[n0 + 1];
    EXPECT_NE(bodies[n0 + 2].find("\"cursor\":\"b\""), std::string::npos) << bodies[n0 + 2];
    for (const char* id : {"o2", "o3", "o4"}) EXPECT_TRUE(has_row(*c, "occasions", id)) << id;
}

// A page asked for ahead is not applied when the sync is cancelled before it: the replica keeps
// the cursor of the last page it applied, and the next sync asks from there.
TEST_F(ClientTest, APageAskedForAheadOfACancelIsDroppedAndAskedForAgain) {
    auto c = ready();
    replies.push_back(reply(200, encode(page("a", true, "o2", 3))));
    replies.push_back(reply(200, encode(page("b", true, "o3", 4))));
    size_t n0 = bodies.size();
    bool answered_ahead = false;
    SyncOptions o;
    o.progress = [&](const SyncProgress& p) {
        if (p.round != 1) return;
        answered_ahead = wait_for_posts(n0 + 2);
        o.cancel.cancel();
    };
    auto r = c->sync(o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::cancelled);
    EXPECT_TRUE(answered_ahead);
    EXPECT_TRUE(has_row(*c, "occasions", "o2"));
    EXPECT_FALSE(has_row(*c, "occasions", "o3")) << "a page answered after the cancel was applied";

    replies.push_back(reply(200, encode(page("b", true, "o3", 4))));
    replies.push_back(reply(200, encode(page("c", false, "o4", 5))));
    size_t n1 = bodies.size();
    auto again = c->sync();
    ASSERT_TRUE(again) << again.status().to_string();
    ASSERT_GE(bodies.size(), n1 + 1);
    EXPECT_NE(bodies[n1].find("\"cursor\":\"a\""), std::string::npos) << bodies[n1];
    for (const char* id : {"o3", "o4"}) EXPECT_TRUE(has_row(*c, "occasions", id)) << id;
}

// An action recorded while a page is in flight ahead goes in the request after it: the request
// ahead carries no action, and the one built after it takes the queue.
TEST_F(ClientTest, AnActionRecordedDuringAPipelinedPullGoesInTheNextRequest) {
    auto c = ready();
    std::string id;
    SyncResponse last = page("c", false, "o4", 5);
    last.outcomes.push_back({1, OutcomeResult::applied, "", "", "requested"});
    last.last_seq = 1;
    replies.push_back(reply(200, encode(page("a", true, "o2", 3))));
    replies.push_back(reply(200, encode(page("b", true, "o3", 4))));
    replies.push_back(reply(200, encode(last)));
    size_t n0 = bodies.size();
    SyncOptions o;
    o.progress = [&](const SyncProgress& p) {
        if (p.round == 1) id = c->enrol("o1").value();
    };
    auto r = c->sync(o);
    ASSERT_TRUE(r) << r.status().to_string();
    ASSERT_EQ(bodies.size(), n0 + 3);
    EXPECT_EQ(actions_in(bodies[n0]), 0u);
    EXPECT_EQ(actions_in(bodies[n0 + 2]), 1u) << bodies[n0 + 2];
    EXPECT_EQ(c->status()->pending, 0);
}

// A full pull marks each row it sends so that its end can sweep what it did not send. On a
// replica that holds no row of the server's (a new tablet's first sync) there is nothing to
// sweep: no marks are written, and none is needed for the pull to come out right.
namespace {
// The synced tables' secondary indexes.
const char* kRowIndexCount =
    "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('enrolments_occasion', "
    "'enrolments_person', 'attendance_occasion', 'attendance_person', 'occasions_course')";

int64_t count_in(const std::string& file, const std::string& sql) {
    sqlite3* db = nullptr;
    if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) return -1;
    sqlite3_stmt* st = nullptr;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}
}  // namespace

TEST_F(ClientTest, AFirstSyncOfAnEmptyReplicaWritesNoMarksAndStillKeepsEveryRow) {
    auto c = logged_in();
    SyncResponse first = page("a", true, "o1", 2);
    first.reset = true;
    first.changes.push_back(change(Kind::person, person_row("p1"), 1));
    replies.push_back(reply(200, encode(first)));
    replies.push_back(reply(401, encode(ErrorBody{Errc::unauthorized, "stop"})));
    EXPECT_FALSE(c->sync());  // the pull stops after its first page
    EXPECT_EQ(count_in(path("r.db"), "SELECT count(*) FROM reset_seen"), 0);
    EXPECT_EQ(count_in(path("r.db"), kRowIndexCount), 0) << "the secondary indexes wait for the pull's end";
    c.reset();
    c = open();  // reopened in the middle of the first sync: still waiting
    EXPECT_EQ(count_in(path("r.db"), kRowIndexCount), 0);
    EXPECT_EQ(count_in(path("r.db"), "SELECT count(*) FROM meta WHERE key = 'resetting' AND value = '1'"), 1);

    replies.push_back(reply(200, encode(page("b", false, "o2", 3))));
    auto r = c->sync();
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(r->removed, 0);
    EXPECT_EQ(count_in(path("r.db"), kRowIndexCount), 5) << "built when the pull ended";
    for (const char* id : {"o1", "o2"}) EXPECT_TRUE(has_row(*c, "occasions", id)) << id;
    EXPECT_TRUE(has_row(*c, "persons", "p1"));
    EXPECT_EQ(count_in(path("r.db"), "SELECT count(*) FROM meta WHERE key IN ('resetting', 'full_pull_unmarked') "
                                     "AND value = '1'"),
              0);
}

// A full pull over a replica whose only server row is under the overlay (a queued action on
// it) still marks and sweeps: the overlay is off when the pull looks for the server's rows.
TEST_F(ClientTest, AFullPullOverAServerRowUnderTheOverlayStillMarksAndSweeps) {
    auto c = ready();  // p1 and o1 from the server
    ASSERT_TRUE(c->update_person({.id = "p1", .name = std::string("Anna L")}));
    // Only the overlaid person is left of the server's rows (its server state in the shadow).
    ASSERT_EQ(count_in(path("r.db"), "SELECT count(*) FROM persons WHERE pending = 1"), 1);
    sqlite3* db;
    ASSERT_EQ(sqlite3_open(path("r.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM occasions", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);

    SyncResponse reset = page("r1", true, "o1", 2);
    reset.reset = true;
    replies.push_back(reply(200, encode(reset)));
    replies.push_back(reply(401, encode(ErrorBody{Errc::unauthorized, "stop"})));
    EXPECT_FALSE(c->sync());
    EXPECT_EQ(count_in(path("r.db"), "SELECT count(*) FROM reset_seen"), 1) << "o1 is marked";
    EXPECT_EQ(count_in(path("r.db"), kRowIndexCount), 5) << "a replica with rows keeps its indexes";

    replies.push_back(reply(200, encode(page("r2", false, "o2", 3))));  // p1 is not sent again
    replies.push_back(reply(401, encode(ErrorBody{Errc::unauthorized, "stop"})));
    auto r = c->sync();
    ASSERT_FALSE(r);  // the update is still queued when the script ends
    EXPECT_EQ(count_in(path("r.db"), "SELECT count(*) FROM shadow WHERE tbl = 'persons' AND row IS NOT NULL"), 0)
        << "the person's server state was swept";
}

// A first sync that will not go on (here: the replica's cursor is forgotten by a logout of the
// user mid-pull) must not leave the replica without its indexes: they are made at open.
TEST_F(ClientTest, AReplicaOpenedWithNoFullPullUnderWayHasItsIndexes) {
    auto c = logged_in();
    SyncResponse first = page("a", true, "o1", 2);
    first.reset = true;
    replies.push_back(reply(200, encode(first)));
    replies.push_back(reply(401, encode(ErrorBody{Errc::unauthorized, "stop"})));
    EXPECT_FALSE(c->sync());
    c.reset();
    ASSERT_EQ(count_in(path("r.db"), kRowIndexCount), 0);
    sqlite3* db;
    ASSERT_EQ(sqlite3_open(path("r.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value = '' WHERE key = 'resetting'", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    c = open();
    ASSERT_TRUE(c);
    EXPECT_EQ(count_in(path("r.db"), kRowIndexCount), 5);
}
