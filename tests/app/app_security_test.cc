// The tablet app as an attacker sees it: a page on another site, a DNS-rebinding host name,
// a stolen or missing cookie, PIN guessing, and one person reaching for another's replica.
#include "app_fixture.h"

using namespace tundra;
using namespace tundra::testing;

TEST(AppSecurity, OnlyThisServersHostAndOriginAreAnsweredAndNoCorsIsEverSent) {
    AppWorld a;
    auto ok = a.call("GET", "/");
    EXPECT_EQ(ok.status, 200);
    EXPECT_NE(ok.body.find("lang=\"sv\""), std::string::npos);
    auto rebound = a.request("GET", "/api/people");
    rebound.headers["host"] = "attacker.example:8123";  // DNS rebinding: same IP, their name
    EXPECT_EQ(a.handler->handle(rebound).status, 403);
    auto cross = a.request("POST", "/api/signin", R"({"username":"part1","password":"password1"})");
    cross.headers["origin"] = "http://attacker.example";
    auto r = a.handler->handle(cross);
    EXPECT_EQ(r.status, 403);
    EXPECT_TRUE(a.tablet->people().empty()) << "nothing was done for the other site";
    auto form = a.request("POST", "/api/signin", "username=part1&password=password1");
    form.headers["content-type"] = "application/x-www-form-urlencoded";  // a cross-site form needs no preflight
    EXPECT_EQ(a.handler->handle(form).status, 415);
    for (auto* res : {&ok, &r}) {
        for (auto& [k, v] : res->headers) EXPECT_EQ(k.rfind("Access-Control-", 0), std::string::npos) << k;
        EXPECT_EQ(AppWorld::header(*res, "X-Frame-Options"), "DENY");
        EXPECT_NE(AppWorld::header(*res, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);
    }
}

TEST(AppSecurity, TheSessionCookieIsHttpOnlyStrictAndRequiredForEveryPersonalRoute) {
    AppWorld a;
    auto r = a.call("POST", "/api/signin", R"({"username":"part1","password":"password1"})");
    ASSERT_EQ(r.status, 200) << r.body;
    std::string cookie = AppWorld::header(r, "Set-Cookie");
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
    for (const char* route : {"/api/status", "/api/catalogue", "/api/enrolments", "/api/todo", "/api/roster?occasion=o1"}) {
        auto no = a.call("GET", route);
        EXPECT_EQ(no.status, 401) << route;
        EXPECT_EQ(AppWorld::error_code(no), "locked") << route;
        auto forged = a.call("GET", route, "", std::string(64, 'f'));
        EXPECT_EQ(forged.status, 401) << route;
    }
}

TEST(AppSecurity, UntilAPinIsSetTheSessionCanOnlySetOne) {
    AppWorld a;
    auto r = a.call("POST", "/api/signin", R"({"username":"part1","password":"password1"})");
    std::string t = AppWorld::token(r);
    EXPECT_EQ(a.call("GET", "/api/catalogue", "", t).status, 403);
    auto bad = a.call("POST", "/api/pin", R"({"pin":"12a4"})", t);
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(a.call("POST", "/api/pin", R"({"pin":"123"})", t).status, 400);
    EXPECT_EQ(a.call("POST", "/api/pin", R"({"pin":"1234567"})", t).status, 400);
    ASSERT_EQ(a.call("POST", "/api/pin", R"({"pin":"2580"})", t).status, 200);
    EXPECT_EQ(a.call("GET", "/api/catalogue", "", t).status, 200);
}

TEST(AppSecurity, WrongPinsAreCountedThenDelayedThenThePasswordIsNeeded) {
    AppWorld a;
    a.sign_in("part1", "2580");
    std::string id = app::Tablet::id_for("part1");
    auto attempt = [&](const std::string& pin) {
        return a.call("POST", "/api/unlock", R"({"person":")" + id + R"(","pin":")" + pin + R"("})");
    };
    for (int i = 1; i <= 4; ++i) {
        auto r = attempt("0000");
        EXPECT_EQ(r.status, 401);
        EXPECT_EQ(AppWorld::error_code(r), "wrong_pin");
        EXPECT_EQ(AppWorld::doc(r)["error"]["failures"].GetInt(), i);
    }
    attempt("0000");  // the fifth: from now on each try waits
    auto wait = attempt("2580");
    EXPECT_EQ(wait.status, 429);
    EXPECT_EQ(AppWorld::error_code(wait), "pin_wait");
    EXPECT_GT(AppWorld::doc(wait)["error"]["retry_after_s"].GetInt(), 0);
    for (int i = 6; i <= 10; ++i) {
        a.w.now += 3600'000;  // every wait over
        attempt("0000");
    }
    a.w.now += 3600'000;
    auto locked = attempt("2580");  // even the right PIN
    EXPECT_EQ(AppWorld::error_code(locked), "password_needed");
    auto pw = a.call("POST", "/api/unlock-password", R"({"person":")" + id + R"(","password":"password1"})");
    EXPECT_EQ(pw.status, 200) << pw.body;
    a.w.now += 3600'000;
    EXPECT_EQ(attempt("2580").status, 200) << "the password reset the count";
}

TEST(AppSecurity, PinGuessesAcrossManyPeopleAreBrakedTabletWide) {
    AppWorld a(/*pin_tries_per_minute=*/10);
    std::vector<std::string> ids;
    for (const char* u : {"part1", "part2", "part3"}) {
        a.sign_in(u);
        ids.push_back(app::Tablet::id_for(u));
    }
    // Four wrong PINs each stay under every replica's own delay; together they pass the
    // tablet's limit.
    int gate = 0;
    for (int round = 0; round < 4; ++round)
        for (auto& id : ids) {
            auto r = a.call("POST", "/api/unlock", R"({"person":")" + id + R"(","pin":"9999"})");
            if (AppWorld::error_code(r) == "pin_wait") ++gate;
        }
    EXPECT_EQ(gate, 2);
    a.w.now += 61000;  // a minute later the tablet takes tries again
    auto r = a.call("POST", "/api/unlock", R"({"person":")" + ids[2] + R"(","pin":"1234"})");
    EXPECT_EQ(r.status, 200) << r.body;
}

TEST(AppSecurity, ASessionReachesOnlyItsOwnPersonsReplica) {
    AppWorld a;
    std::string anna = a.sign_in("part1");
    std::string bo = a.sign_in("part2");
    a.sync_person("part1");
    a.sync_person("part2");
    auto r = a.call("POST", "/api/enrol", R"({"occasion":"o1"})", anna);
    ASSERT_EQ(r.status, 200) << r.body;
    // Bo's session sees Bo's replica: Anna's pending enrolment is not there.
    auto mine = a.call("GET", "/api/enrolments", "", bo);
    EXPECT_EQ(mine.body.find(AppWorld::doc(r)["id"].GetString()), std::string::npos);
    // Locking ends the session for good.
    EXPECT_EQ(a.call("POST", "/api/lock", "{}", anna).status, 200);
    EXPECT_EQ(a.call("GET", "/api/status", "", anna).status, 401);
}

TEST(AppSecurity, AdminsArePointedToTheConsoleAndNothingOfTheirsStays) {
    AppWorld a;
    auto r = a.call("POST", "/api/signin", R"({"username":"admin","password":"password1"})");
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(AppWorld::error_code(r), "admin_use_console");
    EXPECT_TRUE(a.tablet->people().empty());
    EXPECT_FALSE(std::filesystem::exists(a.w.dir.file("tablet/people/" + app::Tablet::id_for("admin") + ".db")));
}

TEST(AppSecurity, AWrongPasswordLeavesNoReplicaAndSaysSoInACode) {
    AppWorld a;
    auto r = a.call("POST", "/api/signin", R"({"username":"part1","password":"nope-nope"})");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(AppWorld::error_code(r), "unauthorized");
    EXPECT_TRUE(a.tablet->people().empty());
    auto bad = a.call("POST", "/api/signin", R"({"username":7})");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(AppWorld::doc(bad)["error"]["field"].GetString(), std::string("username"));
    auto junk = a.call("POST", "/api/signin", "{\"username\":\"\xff\"}");
    EXPECT_EQ(junk.status, 400);
    auto deep = a.call("POST", "/api/signin", std::string(100, '[') + std::string(100, ']'));
    EXPECT_EQ(deep.status, 400);
}

TEST(AppSecurity, IdleSessionsLockAfterFiveMinutesButBackgroundPollsDoNotCount) {
    AppWorld a;
    std::string t = a.sign_in("part1");
    a.w.now += 4 * 60000;
    auto poll = a.request("GET", "/api/status", "", t);
    poll.headers["x-tundra-background"] = "1";
    EXPECT_EQ(a.handler->handle(poll).status, 200);
    EXPECT_EQ(a.call("POST", "/api/keepalive", "{}", t).status, 200);  // "Fortsätt"
    a.w.now += 4 * 60000;
    EXPECT_EQ(a.handler->handle(poll).status, 200);
    a.w.now += 61000;
    EXPECT_EQ(a.handler->handle(poll).status, 401);
}

TEST(AppSecurity, ARemoteWipeEndsTheSessionAndThePersonMustSignInAgain) {
    AppWorld a;
    std::string anna = a.sign_in("part1");
    a.sync_person("part1");
    auto device = a.person("part1")->client->status()->device_id;
    ASSERT_TRUE(a.w.store->revoke_device(device, "test"));
    auto r = a.person("part1")->client->sync();
    EXPECT_EQ(r.status().code(), Errc::revoked);
    EXPECT_EQ(a.call("GET", "/api/catalogue", "", anna).status, 401) << "the session ended with the wipe";
    auto people = AppWorld::doc(a.call("GET", "/api/people"));
    ASSERT_EQ(people["people"].Size(), 1u);
    EXPECT_TRUE(people["people"][0]["signed_out"].GetBool());
    EXPECT_FALSE(people["people"][0]["has_pin"].GetBool()) << "the PIN went with the wipe";
    std::string id = app::Tablet::id_for("part1");
    auto pin = a.call("POST", "/api/unlock", R"({"person":")" + id + R"(","pin":"1234"})");
    EXPECT_NE(pin.status, 200) << "a wiped replica does not open with its old PIN";
}
