// Issue 9 from the command line, with the real binaries: a participant answers a survey and
// attests a month, a coordinator keeps the deviation log, starts and ends a participation and
// registers a walk-in who is not yet in the store, and server-side changes reach a participant
// as "changed for you". Each flow is recorded offline first (pending at once), then synced,
// and the outcome comes back with its reason.
//
// Needs the server rules of helper "actions" (issue 9): the participation and walk-in-by-name
// tests (`ParticipationStartsAndEnds...`, `AWalkInByName...`) fail on a server without the
// `upsert_participation` handler or the provisional-person walk_in.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "loopback.h"
#include "process.h"
#include "tundra/core/json.h"
#include "tundra/core/model.h"
#include "tundra/core/stockholm_time.h"
#include "tundra/sqlite/db.h"

using namespace tundra;
using namespace tundra::testing;

namespace {
std::string dump(const rapidjson::Value& v) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return buf.GetString();
}

constexpr int64_t kMin = 60'000, kHour = 60 * kMin, kDay = 24 * kHour;

struct RecordsCli : ::testing::Test {
    TempDir dir;
    std::unique_ptr<ServerProcess> server;
    int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    // The month before this one in Sweden, where o-lastmonth took place.
    std::string last_month = previous_month(stockholm_month(now));
    int64_t last_month_start = stockholm_month_start_ms(last_month) + 5 * kDay + 9 * kHour;

    struct Run {
        int code = -1;
        std::string out, err;
    };
    Run run(const std::string& bin, const std::string& args, const std::string& input = "") {
        std::string in = dir.file("stdin"), out = dir.file("stdout"), err = dir.file("stderr");
        std::ofstream(in) << input;
        std::string cmd = "cd '" + dir.path.string() + "' && '" + bin + "' " + args + " < '" + in +
                          "' > '" + out + "' 2> '" + err + "'";
        int st = std::system(cmd.c_str());
        return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out), slurp(err)};
    }
    Run tundra(const std::string& replica, const std::string& args) {
        return run(TUNDRA_CLI_BIN, "--replica " + replica + " " + args);
    }
    // A command that must succeed; its output.
    std::string ok(const std::string& replica, const std::string& args) {
        auto r = tundra(replica, args);
        EXPECT_EQ(r.code, 0) << "tundra " << args << "\n" << r.err;
        return r.out;
    }
    rapidjson::Document json(const std::string& text) {
        rapidjson::Document d;
        d.Parse(text.c_str());
        EXPECT_FALSE(d.HasParseError()) << text;
        return d;
    }
    std::string t(int64_t ms) { return format_iso8601(ms); }

    // The small world of the loopback tests, plus occasions that have taken place with p1's
    // marks: o-past (ended 3 days ago, present), o-absent (absent), o-lastmonth (last month,
    // present 95 min), o-today (under way), and o-future (capacity 1, p1 confirmed).
    void SetUp() override {
        ASSERT_EQ(run(TUNDRA_SERVER_BIN, "init --db s.db").code, 0);
        std::ofstream(dir.file("world.json")) << small_world_document(static_cast<uint64_t>(now));
        auto occ = [&](const char* id, int64_t starts, int64_t minutes, int64_t capacity, const char* site) {
            return std::string(R"({"id":")") + id + R"(","course":"c1","starts_at":")" + t(starts) +
                   R"(","ends_at":")" + t(starts + minutes * kMin) + R"(","capacity":)" +
                   std::to_string(capacity) + R"(,"site":")" + site + R"(","enrolment_closes":")" +
                   t(std::min(starts, now + 5 * kDay)) + R"("})";
        };
        std::string more = R"({"occasions":[)" + occ("o-past", now - 3 * kDay, 120, 10, "s1") + "," +
                           occ("o-absent", now - 2 * kDay, 60, 10, "s1") + "," +
                           occ("o-lastmonth", last_month_start, 120, 10, "s1") + "," +
                           occ("o-today", now - kHour, 120, 10, "s1") + "," +
                           occ("o-future", now + 10 * kDay, 120, 1, "s1") + R"(],
 "enrolments":[{"id":"r1","occasion":"o-past","person":"p1","status":"confirmed"},
               {"id":"r2","occasion":"o-absent","person":"p1","status":"confirmed"},
               {"id":"r3","occasion":"o-lastmonth","person":"p1","status":"confirmed"},
               {"id":"r4","occasion":"o-future","person":"p1","status":"confirmed"}],
 "attendance":[{"id":"a1","occasion":"o-past","person":"p1","status":"present"},
               {"id":"a2","occasion":"o-absent","person":"p1","status":"absent"},
               {"id":"a3","occasion":"o-lastmonth","person":"p1","status":"present","minutes":95}]})";
        std::ofstream(dir.file("more.json")) << more;
        for (auto* f : {"world.json", "more.json"}) {
            auto r = run(TUNDRA_SERVER_BIN, std::string("import --db s.db ") + f);
            ASSERT_EQ(r.code, 0) << f << ": " << r.err << r.out;
        }
        server = std::make_unique<ServerProcess>(dir.file("s.db"), dir.file("server.log"));
    }
    void login(const std::string& replica, const std::string& user) {
        auto r = run(TUNDRA_CLI_BIN, "--replica " + replica + " login --server " + server->url +
                                         " --username " + user + " --password-stdin",
                     "password1\n");
        ASSERT_EQ(r.code, 0) << r.err;
        ASSERT_EQ(tundra(replica, "sync").code, 0);
    }
    // The one outcome of a sync that pushed one action.
    rapidjson::Document sync_one(const std::string& replica) {
        auto d = json(ok(replica, "sync --json"));
        EXPECT_TRUE(d.IsObject() && d["outcomes"].IsArray() && d["outcomes"].Size() == 1)
            << dump(d);
        return d;
    }
    std::string query(const std::string& sql) {
        auto db = sqlite::Db::open(dir.file("s.db"));
        EXPECT_TRUE(db);
        if (!db) return {};
        auto q = db.value()->query(sql);
        auto r = q->step();
        return r && r.value() && !q->is_null(0) ? q->text(0) : std::string();
    }
};

std::string outcome(const rapidjson::Document& d, const char* key) {
    if (!d.IsObject() || !d.HasMember("outcomes") || d["outcomes"].Empty()) return "(none)";
    auto& o = d["outcomes"][0];
    return o.HasMember(key) && o[key].IsString() ? o[key].GetString() : std::string();
}
}  // namespace

TEST_F(RecordsCli, AParticipantAnswersASurveyOfflineThenSyncsAndAnsweringAgainEditsIt) {
    ASSERT_NO_FATAL_FAILURE(login("anna.db", "part1"));
    auto todo = json(ok("anna.db", "todo --json"));
    ASSERT_TRUE(todo["surveys"].IsArray());
    ASSERT_EQ(todo["surveys"].Size(), 1u) << ok("anna.db", "todo");
    EXPECT_STREQ(todo["surveys"][0]["occasion"].GetString(), "o-past");
    EXPECT_STREQ(todo["surveys"][0]["closes_at"].GetString(), t(now - 3 * kDay + 120 * kMin + 30 * kDay).c_str());

    auto bad = tundra("anna.db", "survey o-past --content 9 --usefulness 4 --overall 4");
    EXPECT_EQ(bad.code, 1);
    EXPECT_EQ(bad.err, "error: invalid_argument: rating_content (--content) must be 1-5, not 9\n");
    auto absent = tundra("anna.db", "survey o-absent --content 3 --usefulness 3 --overall 3");
    EXPECT_NE(absent.err.find("no attended mark of yours at o-absent"), std::string::npos) << absent.err;
    auto future = tundra("anna.db", "survey o-future --content 3 --usefulness 3 --overall 3");
    EXPECT_NE(future.err.find("opens when the occasion has ended"), std::string::npos) << future.err;

    auto rec = json(ok("anna.db", "--json survey o-past --content 4 --usefulness 5 --overall 4 --comment 'Bra, tack'"));
    ASSERT_TRUE(rec.HasMember("response")) << dump(rec);
    std::string id = rec["response"].GetString();
    EXPECT_TRUE(rec["pending"].GetBool());
    EXPECT_EQ(json(ok("anna.db", "todo --json"))["surveys"].Size(), 0u) << "answered, offline";
    auto synced = sync_one("anna.db");
    EXPECT_EQ(outcome(synced, "result"), "applied");
    EXPECT_EQ(outcome(synced, "message"), "survey answer saved");
    EXPECT_EQ(query("SELECT rating_content || rating_usefulness || rating_overall || ' ' || comment "
                    "FROM survey_responses WHERE person = 'p1' AND occasion = 'o-past'"),
              "454 Bra, tack");

    auto again = json(ok("anna.db", "--json survey o-past --content 2 --usefulness 2 --overall 3"));
    EXPECT_EQ(again["response"].GetString(), id) << "one answer per person and occasion";
    EXPECT_EQ(outcome(sync_one("anna.db"), "result"), "applied");
    EXPECT_EQ(query("SELECT count(*) || ' ' || max(rating_overall) || ' ' || coalesce(max(comment), 'null') "
                    "FROM survey_responses WHERE person = 'p1'"),
              "1 3 null");
}

TEST_F(RecordsCli, AParticipantSeesTheSuggestedMinutesAndAttestsAMonth) {
    ASSERT_NO_FATAL_FAILURE(login("anna.db", "part1"));
    // o-lastmonth (95 min), and o-past (120 min, no minutes on the mark) if it fell last month.
    int64_t expected = 95 + (stockholm_month(now - 3 * kDay) == last_month ? 120 : 0);
    auto s = json(ok("anna.db", "--json attest " + last_month));
    EXPECT_EQ(s["suggested_minutes"].GetInt64(), expected);
    EXPECT_TRUE(s["attested_minutes"].IsNull());
    EXPECT_NE(ok("anna.db", "attest " + last_month).find("your attendance marks suggest " +
                                                         std::to_string(expected) + " minutes"),
              std::string::npos);
    auto todo = json(ok("anna.db", "todo --json"));
    ASSERT_TRUE(todo["months"].IsArray());
    bool listed = false;
    for (auto& m : todo["months"].GetArray())
        if (m["month"].GetString() == last_month) {
            listed = true;
            EXPECT_EQ(m["suggested_minutes"].GetInt64(), expected);
        }
    EXPECT_TRUE(listed) << ok("anna.db", "todo");

    std::string next = next_month(stockholm_month(now));
    auto future = tundra("anna.db", "attest " + next + " 60");
    EXPECT_EQ(future.code, 1);
    EXPECT_NE(future.err.find("has not begun"), std::string::npos) << future.err;

    auto rec = json(ok("anna.db", "--json attest " + last_month + " 90"));
    std::string id = rec["attestation"].GetString();
    EXPECT_EQ(rec["minutes"].GetInt64(), 90);
    EXPECT_EQ(rec["suggested_minutes"].GetInt64(), expected);
    for (auto& m : json(ok("anna.db", "todo --json"))["months"].GetArray())
        EXPECT_NE(m["month"].GetString(), last_month) << "attested, offline";
    auto synced = sync_one("anna.db");
    EXPECT_EQ(outcome(synced, "result"), "applied");
    EXPECT_EQ(outcome(synced, "message"), "time attested for " + last_month);
    EXPECT_EQ(query("SELECT minutes FROM time_attestations WHERE person = 'p1' AND month = '" + last_month + "'"), "90");

    EXPECT_EQ(json(ok("anna.db", "--json attest " + last_month + " 95"))["attestation"].GetString(), id);
    EXPECT_EQ(outcome(sync_one("anna.db"), "result"), "applied");
    EXPECT_EQ(query("SELECT count(*) || ' ' || max(minutes) FROM time_attestations WHERE person = 'p1'"), "1 95");
    auto after = json(ok("anna.db", "--json attest " + last_month));
    EXPECT_EQ(after["attested_minutes"].GetInt64(), 95);
    EXPECT_FALSE(after["pending"].GetBool());
}

TEST_F(RecordsCli, ACoordinatorLogsHandlesAndListsDeviationsOnlyForTheirOrganisations) {
    ASSERT_NO_FATAL_FAILURE(login("coord.db", "coord1"));
    auto bad = tundra("coord.db", "deviation log --organisation arjeplog --category weather --description Snöstorm");
    EXPECT_EQ(bad.code, 1);
    EXPECT_EQ(bad.err, "error: invalid_argument: category: 'weather' is not one of "
                       "cancelled_session|technical|attendance|content|accessibility|other\n");
    auto rec = json(ok("coord.db", "--json deviation log --organisation arjeplog --category technical "
                                   "--description 'Projektorn fungerade inte' --occasion o-past"));
    std::string id = rec["deviation"].GetString();
    auto list = json(ok("coord.db", "deviation list --json"));
    ASSERT_EQ(list.Size(), 1u);
    EXPECT_STREQ(list[0]["status"].GetString(), "open");
    EXPECT_TRUE(list[0]["pending"].GetBool());
    EXPECT_EQ(json(ok("coord.db", "todo --json"))["open_deviations"].Size(), 1u);
    EXPECT_EQ(outcome(sync_one("coord.db"), "result"), "applied");
    EXPECT_EQ(query("SELECT organisation || ' ' || category || ' ' || status || ' ' || occasion FROM deviations "
                    "WHERE id = '" + id + "'"),
              "arjeplog technical open o-past");

    ok("coord.db", "deviation handle " + id + " --action-taken 'Ny projektor inköpt'");
    EXPECT_EQ(outcome(sync_one("coord.db"), "result"), "applied");
    EXPECT_EQ(query("SELECT status || ': ' || action_taken FROM deviations WHERE id = '" + id + "'"),
              "handled: Ny projektor inköpt");
    EXPECT_EQ(json(ok("coord.db", "deviation list --status open --json")).Size(), 0u);
    auto handled = json(ok("coord.db", "deviation list --status handled --category technical --json"));
    ASSERT_EQ(handled.Size(), 1u);
    EXPECT_FALSE(handled[0]["pending"].GetBool());
    EXPECT_EQ(json(ok("coord.db", "todo --json"))["open_deviations"].Size(), 0u);

    // Another municipality: recorded offline (organisations are public), refused by the server.
    ok("coord.db", "deviation log --organisation pajala --category other --description 'Inte vår'");
    auto refused = sync_one("coord.db");
    EXPECT_EQ(outcome(refused, "result"), "rejected");
    EXPECT_EQ(outcome(refused, "reason"), "forbidden");
    EXPECT_EQ(outcome(refused, "message"), "organisation 'pajala' is not one of yours");
    EXPECT_EQ(query("SELECT count(*) FROM deviations"), "1");
    // A participant keeps no log.
    ASSERT_NO_FATAL_FAILURE(login("anna.db", "part1"));
    EXPECT_NE(tundra("anna.db", "deviation list").err.find("forbidden"), std::string::npos);
}

// Needs helper "actions"'s `upsert_participation` handler on the server.
TEST_F(RecordsCli, ParticipationStartsAndEndsFromTheCliOfflineFirst) {
    ASSERT_NO_FATAL_FAILURE(login("coord.db", "coord1"));
    std::string month = stockholm_month(now);
    auto none = tundra("coord.db", "participation end p1 " + month);
    EXPECT_EQ(none.code, 1);
    EXPECT_NE(none.err.find("p1 has no open participation"), std::string::npos) << none.err;
    auto rec = json(ok("coord.db", "--json participation start p1 " + last_month));
    std::string id = rec["participation"].GetString();
    auto twice = tundra("coord.db", "participation start p1 " + month);
    EXPECT_NE(twice.err.find("already has an open participation"), std::string::npos) << twice.err;
    auto started = sync_one("coord.db");
    ASSERT_EQ(outcome(started, "result"), "applied") << dump(started);
    EXPECT_EQ(query("SELECT person || ' ' || start_month || ' ' || coalesce(end_month, 'open') FROM participations "
                    "WHERE id = '" + id + "'"),
              "p1 " + last_month + " open");
    // Ended from another device of the same coordinator: the open one is found in its replica.
    ASSERT_NO_FATAL_FAILURE(login("coord2.db", "coord1"));
    EXPECT_EQ(json(ok("coord2.db", "--json participation end p1 " + month))["participation"].GetString(), id);
    EXPECT_EQ(outcome(sync_one("coord2.db"), "result"), "applied");
    EXPECT_EQ(query("SELECT end_month FROM participations WHERE id = '" + id + "'"), month);
    // The participant sees the participation's months to attest.
    ASSERT_NO_FATAL_FAILURE(login("anna.db", "part1"));
    bool listed = false;
    for (auto& m : json(ok("anna.db", "todo --json"))["months"].GetArray())
        if (m["month"].GetString() == last_month) listed = m["in_participation"].GetBool();
    EXPECT_TRUE(listed);
}

// Needs helper "actions"'s walk_in of a new provisional person on the server.
TEST_F(RecordsCli, AWalkInByNameRegistersAProvisionalPersonOfflineAndTheServerKeepsIt) {
    ASSERT_NO_FATAL_FAILURE(login("coord.db", "coord1"));
    auto bad = tundra("coord.db", "walk-in o-today --name 'Märta Walk' --site s1 --gender female");
    EXPECT_EQ(bad.code, 1);
    EXPECT_NE(bad.err.find("gender: 'female' is not one of woman|man|non_binary|undisclosed"), std::string::npos)
        << bad.err;
    auto who = tundra("coord.db", "walk-in o-today");
    EXPECT_NE(who.err.find("say who came"), std::string::npos) << who.err;
    auto rec = json(ok("coord.db", "--json walk-in o-today --name 'Märta Walk' --site s1 --gender woman "
                                   "--birth-year 1970"));
    std::string person = rec["person"].GetString();
    EXPECT_EQ(person.rfind("p-", 0), 0u) << person;
    EXPECT_NE(ok("coord.db", "attendance list o-today").find("Märta Walk"), std::string::npos);
    auto synced = sync_one("coord.db");
    ASSERT_EQ(outcome(synced, "result"), "applied") << dump(synced);
    EXPECT_EQ(query("SELECT name || ' ' || gender || ' ' || birth_year || ' ' || coalesce(provisional, 0) || ' ' || "
                    "organisation FROM persons WHERE id = '" + person + "'"),
              "Märta Walk woman 1970 1 arjeplog");
    EXPECT_EQ(query("SELECT status || ' ' || reason FROM enrolments WHERE person = '" + person + "'"),
              "confirmed walk_in");
    EXPECT_EQ(query("SELECT status FROM attendance WHERE person = '" + person + "'"), "present");
    auto list = ok("coord.db", "attendance list o-today");
    EXPECT_NE(list.find("Märta Walk"), std::string::npos) << list;
    EXPECT_EQ(list.find("pending"), std::string::npos) << list;
}

TEST_F(RecordsCli, ServerSideChangesReachTheParticipantAsChangedForYouUntilSeen) {
    ASSERT_NO_FATAL_FAILURE(login("anna.db", "part1"));
    ASSERT_NO_FATAL_FAILURE(login("admin.db", "admin"));
    auto admin = [&](const std::string& args) {
        ok("admin.db", "occasion add --id o-future " + args);
        EXPECT_EQ(outcome(sync_one("admin.db"), "result"), "applied") << args;
    };
    admin("--capacity 0");  // p1 loses the seat
    ok("anna.db", "sync");
    auto todo = json(ok("anna.db", "todo --json"));
    ASSERT_EQ(todo["changed"].Size(), 1u) << ok("anna.db", "todo");
    EXPECT_STREQ(todo["changed"][0]["kind"].GetString(), "preempted");
    EXPECT_STREQ(todo["changed"][0]["occasion"].GetString(), "o-future");
    EXPECT_NE(ok("anna.db", "todo").find("went to someone who enrolled first"), std::string::npos);
    EXPECT_EQ(json(ok("anna.db", "--json todo --seen"))["seen"].GetInt(), 1);
    EXPECT_EQ(json(ok("anna.db", "todo --json"))["changed"].Size(), 0u);

    admin("--capacity 1");  // the seat comes back
    std::string starts = t(now + 11 * kDay), ends = t(now + 11 * kDay + 90 * kMin);
    admin("--starts-at " + starts + " --ends-at " + ends);
    ok("anna.db", "sync");
    todo = json(ok("anna.db", "todo --json"));
    ASSERT_EQ(todo["changed"].Size(), 2u) << ok("anna.db", "todo");
    std::map<std::string, std::string> after;  // kind -> after (the page's order is the server's)
    for (auto& n : todo["changed"].GetArray()) after[n["kind"].GetString()] = n["after"].GetString();
    EXPECT_EQ(after["promoted"], "confirmed");
    EXPECT_EQ(after["moved"], starts + "/" + ends);

    admin("--status cancelled");
    ok("anna.db", "sync");
    todo = json(ok("anna.db", "todo --json"));
    ASSERT_EQ(todo["changed"].Size(), 3u) << ok("anna.db", "todo");
    EXPECT_STREQ(todo["changed"][2]["kind"].GetString(), "cancelled");
    EXPECT_NE(ok("anna.db", "seen").find("3 change(s) marked seen"), std::string::npos);
    EXPECT_EQ(ok("anna.db", "todo").find("Changed for you"), std::string::npos);
    // The participant's own actions coming back are not news.
    ok("anna.db", "enrol o1");
    ok("anna.db", "sync");
    EXPECT_EQ(json(ok("anna.db", "todo --json"))["changed"].Size(), 0u);
}
