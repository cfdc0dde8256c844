// The tablet app's flows through its JSON API, as its page drives them: a participant and a
// coordinator on one shared tablet, offline first, syncing with an in-process server.
#include "app_fixture.h"

using namespace tundra;
using namespace tundra::testing;

namespace {
constexpr uint64_t kMinute = 60000;

const rapidjson::Value* find_by(const rapidjson::Value& array, const char* key, const std::string& value) {
    for (auto& v : array.GetArray())
        if (v.HasMember(key) && v[key].IsString() && value == v[key].GetString()) return &v;
    return nullptr;
}
}  // namespace

TEST(AppFlow, TheFirstScreenListsEveryoneWhoSignedInOnThisTablet) {
    AppWorld a;
    a.sign_in("part1");
    a.sign_in("coord1");
    auto r = a.call("GET", "/api/people");
    ASSERT_EQ(r.status, 200);
    auto d = AppWorld::doc(r);
    ASSERT_EQ(d["people"].Size(), 2u);
    for (auto& p : d["people"].GetArray()) {
        EXPECT_TRUE(p["has_pin"].GetBool());
        EXPECT_STREQ(p["language"].GetString(), "sv");
    }
    // One install id for the whole tablet: both device identities are one tablet's.
    EXPECT_EQ(a.w.scalar("SELECT COUNT(DISTINCT install_id) FROM devices WHERE install_id IS NOT NULL"), 1);
    EXPECT_EQ(a.w.scalar("SELECT COUNT(*) FROM devices WHERE install_id IS NOT NULL"), 2);
}

TEST(AppFlow, EachPersonsLanguageIsRemembered) {
    AppWorld a;
    std::string anna = a.sign_in("part1");
    a.sign_in("part2");
    EXPECT_EQ(a.call("POST", "/api/language", R"({"language":"en"})", anna).status, 200);
    EXPECT_EQ(a.call("POST", "/api/language", R"({"language":"fi"})", anna).status, 400);
    auto d = AppWorld::doc(a.call("GET", "/api/people"));
    for (auto& p : d["people"].GetArray())
        EXPECT_STREQ(p["language"].GetString(), p["username"].GetString() == std::string("part1") ? "en" : "sv");
}

TEST(AppFlow, AnOfflineEnrolmentIsPendingAtOnceThenTheFairSeatDecisionAndItsReasonAppear) {
    AppWorld a;
    std::string anna = a.sign_in("part1");
    std::string bo = a.sign_in("part2");
    a.sync_person("part1");
    a.sync_person("part2");
    // o2 has one seat. Anna taps first, offline; Bo taps later but his tablet syncs first.
    auto r = a.call("POST", "/api/enrol", R"({"occasion":"o2"})", anna);
    ASSERT_EQ(r.status, 200) << r.body;
    std::string annas = AppWorld::doc(r)["id"].GetString();
    auto cat = AppWorld::doc(a.call("GET", "/api/catalogue", "", anna));
    auto* course = find_by(cat["courses"], "id", "c1");
    ASSERT_TRUE(course);
    auto* occ = find_by((*course)["occasions"], "id", "o2");
    ASSERT_TRUE(occ && (*occ)["mine"].IsObject());
    EXPECT_TRUE((*occ)["mine"]["pending"].GetBool());
    EXPECT_EQ(AppWorld::doc(a.call("GET", "/api/status", "", anna))["pending"].GetInt(), 1);
    a.w.now += kMinute;
    ASSERT_EQ(a.call("POST", "/api/enrol", R"({"occasion":"o2"})", bo).status, 200);
    a.sync_person("part2");
    a.sync_person("part1");  // the link comes back for Anna
    a.sync_person("part2");
    auto mine = AppWorld::doc(a.call("GET", "/api/enrolments", "", anna));
    auto* e = find_by(mine["enrolments"], "id", annas);
    ASSERT_TRUE(e);
    EXPECT_STREQ((*e)["status"].GetString(), "confirmed");
    EXPECT_FALSE((*e)["pending"].GetBool());
    auto his = AppWorld::doc(a.call("GET", "/api/enrolments", "", bo));
    ASSERT_EQ(his["enrolments"].Size(), 1u);
    auto& b = his["enrolments"][0];
    EXPECT_STREQ(b["status"].GetString(), "waitlisted");
    EXPECT_EQ(b["waitlist_position"].GetInt(), 1) << "a structured place in the queue";
    auto st = AppWorld::doc(a.call("GET", "/api/status", "", bo));
    auto* changed = find_by(st["changed"], "kind", "preempted");
    ASSERT_TRUE(changed) << "Bo is told, in a code the page words";
    EXPECT_STREQ((*changed)["occasion"].GetString(), "o2");
    EXPECT_EQ(a.call("POST", "/api/changed/seen", "{}", bo).status, 200);
    EXPECT_EQ(AppWorld::doc(a.call("GET", "/api/status", "", bo))["changed"].Size(), 0u);
}

TEST(AppFlow, ARejectedActionIsShownWithItsReasonCodeAndCanBeDismissed) {
    AppWorld a;
    std::string anna = a.sign_in("part1");
    a.sync_person("part1");
    a.w.now += 2 * 60 * kMinute;  // o4's enrolment closed an hour ago
    EXPECT_EQ(a.call("GET", "/api/status", "", anna).status, 401) << "two idle hours locked the app";
    anna = a.unlock("part1");
    ASSERT_EQ(a.call("POST", "/api/enrol", R"({"occasion":"o4"})", anna).status, 200);
    a.sync_person("part1");
    auto st = AppWorld::doc(a.call("GET", "/api/status", "", anna));
    ASSERT_EQ(st["rejected"].Size(), 1u);
    auto& rej = st["rejected"][0];
    EXPECT_STREQ(rej["reason"].GetString(), "enrolment_closed");
    EXPECT_FALSE(rej.HasMember("message")) << "never the server's English words";
    int64_t seq = rej["seq"].GetInt64();
    EXPECT_EQ(a.call("POST", "/api/dismiss", R"({"seq":)" + std::to_string(seq) + "}", anna).status, 200);
    EXPECT_EQ(AppWorld::doc(a.call("GET", "/api/status", "", anna))["rejected"].Size(), 0u);
}

TEST(AppFlow, ACoordinatorMarksAWholeRosterOfflineAndSyncs) {
    AppWorld a;
    add_roster(a.w);
    std::string c = a.sign_in("coord1");
    a.sync_person("coord1");
    auto days = AppWorld::doc(a.call("GET", "/api/occasions", "", c));
    ASSERT_TRUE(days["days"].IsArray());
    bool seen_o2 = false;
    for (auto& d : days["days"].GetArray())
        for (auto& o : d["occasions"].GetArray())
            if (o["id"].GetString() == std::string("o2")) seen_o2 = true;
    EXPECT_TRUE(seen_o2) << "o2 is at the coordinator's site s1 within the fortnight";
    auto roster = AppWorld::doc(a.call("GET", "/api/roster?occasion=o2", "", c));
    ASSERT_GT(roster["people"].Size(), 0u);
    EXPECT_EQ(roster["occasion"]["minutes"].GetInt(), 120) << "prefilled from the occasion's length";
    std::vector<std::string> people;
    for (auto& p : roster["people"].GetArray()) people.push_back(p["person"].GetString());
    for (auto& p : people) {
        auto r = a.call("POST", "/api/mark", R"({"occasion":"o2","person":")" + p + R"(","status":"present","minutes":120})", c);
        ASSERT_EQ(r.status, 200) << r.body;
    }
    auto bad = a.call("POST", "/api/mark", R"({"occasion":"o2","person":")" + people[0] + R"(","status":"asleep"})", c);
    EXPECT_EQ(bad.status, 400);
    auto pending = AppWorld::doc(a.call("GET", "/api/roster?occasion=o2", "", c));
    for (auto& p : pending["people"].GetArray()) {
        ASSERT_TRUE(p["mark"].IsObject());
        EXPECT_TRUE(p["mark"]["pending"].GetBool());
    }
    a.sync_person("coord1");
    auto done = AppWorld::doc(a.call("GET", "/api/roster?occasion=o2", "", c));
    for (auto& p : done["people"].GetArray()) EXPECT_FALSE(p["mark"]["pending"].GetBool());
    EXPECT_EQ(a.w.scalar("SELECT COUNT(*) FROM attendance WHERE occasion = 'o2'"), static_cast<int64_t>(people.size()));
    // Participants' screens are not a coordinator's.
    EXPECT_EQ(a.call("GET", "/api/catalogue", "", c).status, 403);
}

TEST(AppFlow, AWalkInByNameAndADeviationAreRecordedOffline) {
    AppWorld a;
    add_roster(a.w);
    std::string c = a.sign_in("coord1");
    a.sync_person("coord1");
    auto sites = AppWorld::doc(a.call("GET", "/api/sites", "", c));
    ASSERT_GT(sites["sites"].Size(), 0u);
    std::string org = sites["sites"][0]["organisation"].GetString();
    auto w = a.call("POST", "/api/walk-in",
                    R"({"occasion":"o2","name":"Ny Person","site":"s1","gender":"woman","birth_year":1980})", c);
    ASSERT_EQ(w.status, 200) << w.body;
    EXPECT_FALSE(AppWorld::doc(w)["person"].IsNull());
    auto d = a.call("POST", "/api/deviation",
                    R"({"organisation":")" + org + R"(","category":"technical","description":"Ingen projektor"})", c);
    ASSERT_EQ(d.status, 200) << d.body;
    auto wrong = a.call("POST", "/api/deviation",
                        R"({"organisation":")" + org + R"(","category":"weather","description":"x"})", c);
    EXPECT_EQ(wrong.status, 400);
    auto list = AppWorld::doc(a.call("GET", "/api/deviations?status=open", "", c));
    ASSERT_EQ(list["deviations"].Size(), 1u);
    EXPECT_TRUE(list["deviations"][0]["pending"].GetBool());
    a.sync_person("coord1");
    EXPECT_EQ(a.w.scalar("SELECT COUNT(*) FROM deviations"), 1);
    EXPECT_EQ(a.w.scalar("SELECT COUNT(*) FROM persons WHERE provisional = 1"), 1);
}

TEST(AppFlow, SurveyAndAttestationAfterAnAttendedOccasion) {
    AppWorld a;
    add_roster(a.w);
    std::string c = a.sign_in("coord1");
    std::string anna = a.sign_in("part1");
    a.sync_person("coord1");
    a.w.now += (24 * 60 + 180) * kMinute;  // o4 (tomorrow, two hours) has ended
    c = a.unlock("coord1");
    anna = a.unlock("part1");
    ASSERT_EQ(a.call("POST", "/api/mark", R"({"occasion":"o4","person":"p1","status":"present","minutes":120})", c).status, 200);
    a.sync_person("coord1");
    a.sync_person("part1");
    auto todo = AppWorld::doc(a.call("GET", "/api/todo", "", anna));
    ASSERT_TRUE(find_by(todo["surveys"], "occasion", "o4")) << "the survey waits to be answered";
    auto s = a.call("POST", "/api/survey", R"({"occasion":"o4","content":5,"usefulness":4,"overall":5,"comment":"Bra"})", anna);
    ASSERT_EQ(s.status, 200) << s.body;
    auto bad = a.call("POST", "/api/survey", R"({"occasion":"o4","content":9,"usefulness":4,"overall":5})", anna);
    EXPECT_EQ(bad.status, 400);
    auto marks = AppWorld::doc(a.call("GET", "/api/attendance", "", anna));
    ASSERT_TRUE(find_by(marks["marks"], "occasion", "o4"));
    std::string month = "2026-11";
    auto sug = AppWorld::doc(a.call("GET", "/api/attest?month=" + month, "", anna));
    EXPECT_EQ(sug["suggested_minutes"].GetInt(), 120);
    auto at = a.call("POST", "/api/attest", R"({"month":")" + month + R"(","minutes":120})", anna);
    ASSERT_EQ(at.status, 200) << at.body;
    a.sync_person("part1");
    EXPECT_EQ(a.w.scalar("SELECT COUNT(*) FROM survey_responses"), 1);
    EXPECT_EQ(a.w.scalar("SELECT minutes FROM time_attestations WHERE person = 'p1'"), 120);
}

TEST(AppFlow, SigningOutRefusesWhileWorkIsUnsyncedThenTakesThePersonOffTheTablet) {
    AppWorld a;
    std::string anna = a.sign_in("part1");
    a.sync_person("part1");
    ASSERT_EQ(a.call("POST", "/api/enrol", R"({"occasion":"o1"})", anna).status, 200);
    auto r = a.call("POST", "/api/signout", "{}", anna);
    EXPECT_EQ(r.status, 409);
    a.sync_person("part1");
    EXPECT_EQ(a.call("POST", "/api/signout", "{}", anna).status, 200);
    EXPECT_TRUE(a.tablet->people().empty());
    EXPECT_EQ(a.call("GET", "/api/status", "", anna).status, 401);
}
