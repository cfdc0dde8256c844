// The SDK on its own: replica files, offline recording, retry policy. The network is a
// scripted transport here; the real server is exercised by the e2e tests.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <deque>
#include <filesystem>

#include "tundra/client/client.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::client;

namespace {
struct Scripted : Transport {
    std::deque<Result<HttpReply>>* replies;
    std::vector<std::string>* bodies;
    Result<HttpReply> post(const std::string& path, const std::string& body,
                           const std::vector<std::pair<std::string, std::string>>&,
                           std::chrono::milliseconds) override {
        bodies->push_back(path + " " + body);
        if (replies->empty()) return Status(Errc::network, "script ran out");
        auto r = replies->front();
        replies->pop_front();
        return r;
    }
};

HttpReply reply(int status, std::string body, std::map<std::string, std::string> headers = {}) {
    HttpReply r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

struct ClientTest : ::testing::Test {
    std::filesystem::path dir;
    std::deque<Result<HttpReply>> replies;
    std::vector<std::string> bodies;
    std::vector<int64_t> sleeps;

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
            return t;
        };
        o.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d.count()); };
        auto c = Client::open(path(name), o);
        EXPECT_TRUE(c) << c.status().to_string();
        return c ? std::move(c.value()) : nullptr;
    }

    // Logs in as a participant and pulls a catalogue with one occasion.
    std::unique_ptr<Client> ready() {
        auto c = open();
        LoginResponse lr;
        lr.token = "t";
        lr.device_id = "dev-0123456789";
        lr.user = {"anna", "participant", "p1", {}};
        lr.server_hlc = Hlc::from_parts(wall_clock_ms(), 0).value;
        replies.push_back(reply(200, encode(lr)));
        EXPECT_TRUE(c->login("http://test", "anna", "pw"));
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
