// The store's side of the project console (issue 11): sessions (sign-in checked as a login,
// idle and absolute expiry, revocation), changes as actions of the user's console device
// through the sync pipeline, scoped lists, users, tablets and revoking a tablet.
#include <algorithm>
#include <map>

#include "fixture.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
constexpr uint64_t kMinute = 60'000;
constexpr uint64_t kDay = 86'400'000;

struct Console : StoreFixture {
    std::map<std::string, std::string> tokens;  // device id -> token
    void SetUp() override {
        StoreFixture::SetUp();
        ASSERT_TRUE(store->import_json(R"({
 "organisations":[{"code":"jokkmokk","name":"Jokkmokk","county":"Norrbotten"}],
 "sites":[{"id":"s2","organisation":"jokkmokk","name":"Äldreboende Jokkmokk"}],
 "persons":[{"id":"p3","organisation":"jokkmokk","site":"s2","name":"Åsa Öberg","gender":"woman","birth_year":1970},
            {"id":"p4","organisation":"arjeplog","site":"s1","name":"Annika 100%_sure","gender":"woman","birth_year":1985}],
 "users":[{"username":"coord","password":"password1","role":"coordinator","sites":["s1"]},
          {"username":"asa","password":"password1","role":"participant","person":"p3"}]})"));
    }
    ConsoleSession sign_in(const std::string& user) {
        auto s = store->console_login(user, "password1", "10.0.0.1");
        EXPECT_TRUE(s) << s.status().to_string();
        auto again = store->console_session(s ? s->token : "x");
        EXPECT_TRUE(again) << again.status().to_string();
        return again ? again.value() : ConsoleSession{};
    }
    AuthContext device(const std::string& user, const std::string& install_id = {}) {
        LoginRequest req;
        req.username = user;
        req.password = "password1";
        req.device_name = "Platta";
        req.install_id = install_id;
        req.app_version = "1.2.0";
        auto r = store->login(req, "10.0.0.2");
        EXPECT_TRUE(r) << r.status().to_string();
        if (r) tokens[r->device_id] = r->token;
        auto w = store->authenticate(r ? r->token : "");
        EXPECT_TRUE(w);
        return w ? w.value() : AuthContext{};
    }
    static Action act(const std::string& type, Row fields) { return Action{0, Hlc{}, type, std::move(fields)}; }
    std::vector<Outcome> apply(const AuthContext& who, std::vector<Action> actions) {
        auto r = store->apply_actions(who, std::move(actions));
        EXPECT_TRUE(r) << r.status().to_string();
        return r ? r.value() : std::vector<Outcome>{};
    }
    Outcome apply1(const AuthContext& who, const std::string& type, Row fields) {
        auto o = apply(who, {act(type, std::move(fields))});
        return o.empty() ? Outcome{} : o[0];
    }
    std::vector<std::string> ids(const RowPage& p) {
        std::vector<std::string> out;
        for (auto& r : p.rows) out.push_back(*get_str(r, "id"));
        return out;
    }
    RowPage list(const AuthContext& who, Kind kind, RowQuery q = {}) {
        auto r = store->rows(who, kind, q);
        EXPECT_TRUE(r) << r.status().to_string();
        return r ? r.value() : RowPage{};
    }
};
}  // namespace

// ---- sessions -----------------------------------------------------------------------------
TEST_P(Console, ACoordinatorSignsInAndAParticipantIsForbiddenOnlyWithTheRightPassword) {
    auto opened = store->console_login("coord", "password1", "10.0.0.1");
    ASSERT_TRUE(opened) << opened.status().to_string();
    EXPECT_EQ(opened->token.size(), 64u);
    EXPECT_EQ(opened->session.who.role, "coordinator");
    EXPECT_EQ(opened->session.who.sites, StrList{"s1"});
    EXPECT_EQ(opened->session.who.device_id, "console:coord");
    EXPECT_EQ(opened->session.lang, "sv");
    EXPECT_EQ(opened->session.created_ms, static_cast<int64_t>(now));
    EXPECT_EQ(opened->session.expires_ms, static_cast<int64_t>(now + 30 * kMinute));
    EXPECT_FALSE(opened->session.csrf.empty());
    EXPECT_EQ(scalar("SELECT count(*) FROM console_sessions WHERE token_hash = '" + opened->token + "'"), 0)
        << "only the token's hash is stored";
    EXPECT_EQ(scalar("SELECT count(*) FROM console_sessions"), 1);
    auto s = store->console_session(opened->token);
    ASSERT_TRUE(s) << s.status().to_string();
    EXPECT_EQ(s->who.username, "coord");
    EXPECT_EQ(s->csrf, opened->session.csrf);
    EXPECT_EQ(scalar("SELECT count(*) FROM audit_log WHERE operation = 'console-login' AND actor = 'coord'"), 1);

    auto wrong = store->console_login("anna", "wrong-password", "10.0.0.1");
    EXPECT_EQ(wrong.status().code(), Errc::unauthorized);
    auto participant = store->console_login("anna", "password1", "10.0.0.1");
    EXPECT_EQ(participant.status().code(), Errc::forbidden);
    EXPECT_EQ(scalar("SELECT count(*) FROM console_sessions"), 1);
    EXPECT_TRUE(store->console_login("admin", "password1", "10.0.0.1"));
}

TEST_P(Console, AWrongPasswordAndAnUnknownUserAnswerAlikeAndAreThrottledWithLogin) {
    auto checks = store->login_stats().password_checks;
    auto wrong = store->console_login("coord", "nope-nope", "10.0.0.1");
    auto unknown = store->console_login("nobody", "nope-nope", "10.0.0.1");
    EXPECT_EQ(wrong.status().code(), Errc::unauthorized);
    EXPECT_EQ(unknown.status().code(), Errc::unauthorized);
    EXPECT_EQ(wrong.status().message(), unknown.status().message());
    EXPECT_EQ(store->login_stats().password_checks, checks + 2) << "the unknown user costs a check too";
    bool throttled = false;
    for (int i = 0; i < 10 && !throttled; ++i)
        throttled = store->console_login("coord", "nope-nope", "10.0.0.1").status().code() == Errc::rate_limited;
    ASSERT_TRUE(throttled);
    // The right password waits too, in the console and on a device (one throttle).
    EXPECT_EQ(store->console_login("coord", "password1", "10.0.0.9").status().code(), Errc::rate_limited);
    LoginRequest req;
    req.username = "coord";
    req.password = "password1";
    EXPECT_EQ(store->login(req, "10.0.0.9").status().code(), Errc::rate_limited);
}

TEST_P(Console, ASessionEndsAfterThirtyIdleMinutes) {
    auto opened = store->console_login("admin", "password1", "10.0.0.1");
    ASSERT_TRUE(opened);
    for (int i = 0; i < 4; ++i) {
        now += 29 * kMinute;
        auto s = store->console_session(opened->token);
        ASSERT_TRUE(s) << i << s.status().to_string();
        EXPECT_EQ(s->seen_ms, static_cast<int64_t>(now));
        EXPECT_EQ(s->expires_ms, static_cast<int64_t>(now + 30 * kMinute));
    }
    now += 30 * kMinute;
    EXPECT_EQ(store->console_session(opened->token).status().code(), Errc::unauthorized);
    now -= 10 * kMinute;  // gone for good, not only while the clock says so
    EXPECT_EQ(store->console_session(opened->token).status().code(), Errc::unauthorized);
    EXPECT_EQ(scalar("SELECT count(*) FROM console_sessions"), 0);
}

TEST_P(Console, ASessionEndsTwelveHoursAfterSignInHoweverBusy) {
    auto opened = store->console_login("admin", "password1", "10.0.0.1");
    ASSERT_TRUE(opened);
    uint64_t start = now;
    while (now + 20 * kMinute < start + 12 * 3600'000ULL) {
        now += 20 * kMinute;
        auto s = store->console_session(opened->token);
        ASSERT_TRUE(s) << s.status().to_string();
        EXPECT_LE(s->expires_ms, static_cast<int64_t>(start + 12 * 3600'000ULL));
    }
    now = start + 12 * 3600'000ULL;
    EXPECT_EQ(store->console_session(opened->token).status().code(), Errc::unauthorized);
}

TEST_P(Console, SeenIsWrittenAtMostOnceAMinute) {
    auto opened = store->console_login("admin", "password1", "10.0.0.1");
    ASSERT_TRUE(opened);
    now += 30'000;
    ASSERT_TRUE(store->console_session(opened->token));
    EXPECT_EQ(scalar("SELECT seen_ms FROM console_sessions"), static_cast<int64_t>(now - 30'000));
    now += 30'000;
    ASSERT_TRUE(store->console_session(opened->token));
    EXPECT_EQ(scalar("SELECT seen_ms FROM console_sessions"), static_cast<int64_t>(now));
}

TEST_P(Console, ARevokedUsersSessionDiesAndLogoutEndsASession) {
    auto coord = store->console_login("coord", "password1", "10.0.0.1");
    auto admin = store->console_login("admin", "password1", "10.0.0.1");
    ASSERT_TRUE(coord && admin);
    ASSERT_TRUE(store->revoke_user("coord", "admin"));
    EXPECT_EQ(scalar("SELECT count(*) FROM console_sessions WHERE username = 'coord'"), 0) << "ended at once";
    EXPECT_EQ(store->console_session(coord->token).status().code(), Errc::unauthorized);
    EXPECT_EQ(store->console_login("coord", "password1", "10.0.0.1").status().code(), Errc::revoked);
    ASSERT_TRUE(store->console_session(admin->token));
    ASSERT_TRUE(store->console_logout(admin->token));
    EXPECT_EQ(store->console_session(admin->token).status().code(), Errc::unauthorized);
    EXPECT_EQ(store->console_session("").status().code(), Errc::unauthorized);
    EXPECT_EQ(store->console_session(std::string(500, 'a')).status().code(), Errc::unauthorized);
}

TEST_P(Console, ANewPasswordEndsTheUsersSessionsAndTheConsoleHoldsNoToken) {
    auto opened = store->console_login("coord", "password1", "10.0.0.1");
    ASSERT_TRUE(opened);
    ASSERT_EQ(apply1(opened->session.who, "add_person", {{"person", "p40"}, {"site", "s1"}, {"name", "X"}, {"gender", "man"}}).result,
              OutcomeResult::applied);
    auto ended = store->set_password("coord", "password2", "admin");
    ASSERT_TRUE(ended);
    EXPECT_EQ(ended.value(), 0) << "the console device holds no token to end";
    EXPECT_EQ(store->console_session(opened->token).status().code(), Errc::unauthorized);
    EXPECT_TRUE(store->console_login("coord", "password2", "10.0.0.1"));
}

TEST_P(Console, TheLanguageIsSwedishOrEnglish) {
    auto opened = store->console_login("admin", "password1", "10.0.0.1");
    ASSERT_TRUE(opened);
    ASSERT_TRUE(store->set_console_language(opened->token, "en"));
    EXPECT_EQ(store->console_session(opened->token)->lang, "en");
    auto bad = store->set_console_language(opened->token, "de");
    EXPECT_EQ(bad.code(), Errc::invalid_argument);
    EXPECT_NE(bad.message().find("lang"), std::string::npos);
    EXPECT_EQ(store->console_session(opened->token)->lang, "en");
    EXPECT_EQ(store->set_console_language("unknown-token", "sv").code(), Errc::unauthorized);
}

TEST_P(Console, EndedSessionsArePurgedAtSignIn) {
    ASSERT_TRUE(store->console_login("admin", "password1", "10.0.0.1"));
    ASSERT_TRUE(store->console_login("coord", "password1", "10.0.0.1"));
    now += 13 * 3600'000ULL;
    ASSERT_TRUE(store->console_login("admin", "password1", "10.0.0.1"));
    EXPECT_EQ(scalar("SELECT count(*) FROM console_sessions"), 1);
}

// ---- changes ------------------------------------------------------------------------------
TEST_P(Console, AdminsKeepTheRegisterThroughActions) {
    auto admin = sign_in("admin").who;
    auto out = apply(admin, {act("upsert_organisation", {{"organisation", "gallivare"}, {"name", "Gällivare"}, {"county", "Norrbotten"}}),
                             act("upsert_site", {{"site", "s9"}, {"organisation", "gallivare"}, {"name", "Hemtjänst Malmberget"}}),
                             act("add_person", {{"person", "p9"}, {"site", "s9"}, {"name", "Mats"}, {"gender", "man"},
                                                {"birth_year", int64_t{1966}}, {"education_level", std::string("isced_3_4")}})});
    ASSERT_EQ(out.size(), 3u);
    for (auto& o : out) EXPECT_EQ(o.result, OutcomeResult::applied) << o.message;
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = 'p9' AND organisation = 'gallivare' AND erased = 0 "
                     "AND provisional = 0"), 1);
    // LWW stamps and report facts, as for any edit.
    EXPECT_EQ(scalar("SELECT count(*) FROM field_stamps WHERE kind = 'person' AND id = 'p9' AND device = 'console:admin'"), 6)
        << "the five fields given and the organisation";
    EXPECT_EQ(scalar("SELECT count(*) FROM report_facts WHERE kind IN ('organisation', 'site', 'person') AND id IN "
                     "('gallivare', 's9', 'p9')"), 3);
    // An edit of the name keeps the county.
    EXPECT_EQ(apply1(admin, "upsert_organisation", {{"organisation", "gallivare"}, {"name", "Gällivare kommun"}}).result,
              OutcomeResult::applied);
    EXPECT_EQ(scalar("SELECT count(*) FROM organisations WHERE id = 'gallivare' AND county = 'Norrbotten' AND name = 'Gällivare kommun'"), 1);
    // Refusals.
    EXPECT_EQ(apply1(admin, "upsert_organisation", {{"organisation", "x"}, {"name", "No county"}}).reason, "invalid");
    EXPECT_EQ(apply1(admin, "upsert_site", {{"site", "s8"}, {"organisation", "nowhere"}, {"name", "X"}}).reason, "not_found");
    EXPECT_EQ(apply1(admin, "upsert_site", {{"site", "s9"}, {"organisation", "arjeplog"}}).reason, "in_use")
        << "a site with persons stays with its organisation";
    EXPECT_EQ(apply1(admin, "add_person", {{"person", "p9"}, {"site", "s1"}, {"name", "Again"}, {"gender", "man"}}).reason,
              "id_conflict");
    EXPECT_EQ(apply1(admin, "add_person", {{"person", "p10"}, {"organisation", "jokkmokk"}, {"site", "s1"}, {"name", "X"},
                                           {"gender", "man"}}).reason,
              "invalid");
    EXPECT_EQ(apply1(admin, "add_person", {{"person", "p10"}, {"site", "s1"}, {"name", "X"}, {"gender", "man"},
                                           {"birth_year", int64_t{1800}}}).reason,
              "invalid");
    EXPECT_EQ(apply1(admin, "add_person", {{"person", "p10"}, {"site", "s1"}, {"name", "X"}, {"gender", "robot"}}).reason,
              "invalid");
}

TEST_P(Console, ACoordinatorAddsPersonsAtTheirSitesOnlyAndEditsNoRegister) {
    auto coord = sign_in("coord").who;
    auto ok = apply1(coord, "add_person", {{"person", "p20"}, {"site", "s1"}, {"name", "Lena"}, {"gender", "woman"}});
    EXPECT_EQ(ok.result, OutcomeResult::applied) << ok.message;
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = 'p20' AND organisation = 'arjeplog'"), 1);
    EXPECT_EQ(apply1(coord, "add_person", {{"person", "p21"}, {"site", "s2"}, {"name", "X"}, {"gender", "man"}}).reason,
              "forbidden");
    EXPECT_EQ(apply1(coord, "upsert_site", {{"site", "s1"}, {"name", "Renamed"}}).reason, "forbidden");
    EXPECT_EQ(apply1(coord, "upsert_organisation", {{"organisation", "arjeplog"}, {"name", "Renamed"}}).reason, "forbidden");
    // A participant's device may not add anyone.
    auto anna = device("anna");
    SyncRequest req;
    req.actions = {Action{1, Hlc::from_parts(now, 0), "add_person",
                          Row{{"person", "p22"}, {"site", "s1"}, {"name", "X"}, {"gender", "man"}}}};
    auto r = store->sync(anna, req);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcomes[0].reason, "forbidden");
}

// The console and a device get the same answer for the same action: one pipeline.
TEST_P(Console, ACoordinatorsConsoleActionOutsideTheirSitesIsRefusedLikeTheirDevices) {
    auto console = sign_in("coord").who;
    auto tablet = device("coord");
    Row edit{{"person", "p3"}, {"name", "Not mine"}};
    auto by_console = apply1(console, "update_person", edit);
    SyncRequest req;
    req.actions = {Action{1, Hlc::from_parts(now, 0), "update_person", edit}};
    auto by_device = store->sync(tablet, req);
    ASSERT_TRUE(by_device);
    EXPECT_EQ(by_console.result, OutcomeResult::rejected);
    EXPECT_EQ(by_console.reason, by_device->outcomes[0].reason);
    EXPECT_EQ(by_console.message, by_device->outcomes[0].message);
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE name = 'Not mine'"), 0);
    // Participation start and end for their staff; not for others'.
    auto start = apply1(console, "upsert_participation", {{"participation", "pt1"}, {"person", "p1"}, {"start_month", "2026-09"}});
    EXPECT_EQ(start.result, OutcomeResult::applied) << start.message;
    auto end = apply1(console, "upsert_participation", {{"participation", "pt1"}, {"end_month", "2026-11"}});
    EXPECT_EQ(end.result, OutcomeResult::applied) << end.message;
    EXPECT_EQ(scalar("SELECT count(*) FROM participations WHERE id = 'pt1' AND end_month = '2026-11'"), 1);
    EXPECT_EQ(apply1(console, "upsert_participation", {{"participation", "pt2"}, {"person", "p3"}, {"start_month", "2026-09"}}).reason,
              "not_found");
    auto admin = sign_in("admin").who;
    EXPECT_EQ(apply1(admin, "upsert_participation", {{"participation", "pt2"}, {"person", "p3"}, {"start_month", "2026-09"}}).result,
              OutcomeResult::applied);
}

TEST_P(Console, AnAdminsCourseReachesADevicesPull) {
    auto anna = device("anna");
    SyncRequest pull;
    auto first = store->sync(anna, pull);
    ASSERT_TRUE(first);
    auto admin = sign_in("admin").who;
    auto o = apply1(admin, "upsert_course", {{"course", "c2"}, {"title", "Ergonomi"}, {"format", std::string("live_online")},
                                             {"organisations", StrList{"arjeplog"}}, {"published", true}});
    ASSERT_EQ(o.result, OutcomeResult::applied) << o.message;
    pull.cursor = first->cursor;
    auto next = store->sync(anna, pull);
    ASSERT_TRUE(next) << next.status().to_string();
    bool seen = false;
    for (auto& c : next->changes) seen |= c.kind == Kind::course && c.id == "c2" && *get_str(c.row, "title") == "Ergonomi";
    EXPECT_TRUE(seen);
}

TEST_P(Console, ConsoleActionsAreNumberedAndRecordedExactlyOnce) {
    auto admin = sign_in("admin").who;
    auto first = apply(admin, {act("upsert_organisation", {{"organisation", "o7"}, {"name", "A"}, {"county", "B"}}),
                               act("upsert_organisation", {{"organisation", "o8"}, {"name", "A"}})});
    ASSERT_EQ(first.size(), 2u);
    EXPECT_EQ(first[0].seq, 1u);
    EXPECT_EQ(first[1].seq, 2u);
    EXPECT_EQ(first[1].result, OutcomeResult::rejected);
    auto second = apply(admin, {act("upsert_organisation", {{"organisation", "o7"}, {"name", "C"}})});
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].seq, 3u);
    EXPECT_EQ(second[0].result, OutcomeResult::applied) << second[0].message;
    EXPECT_EQ(scalar("SELECT last_seq FROM devices WHERE id = 'console:admin'"), 3);
    EXPECT_EQ(scalar("SELECT count(*) FROM applied_actions WHERE device = 'console:admin'"), 3);
    EXPECT_EQ(scalar("SELECT count(*) FROM applied_actions WHERE device = 'console:admin' AND hash <> '' "
                     "AND " + store->db().json_text("outcome", "result") + " = 'rejected' AND seq = 2"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM devices WHERE id = 'console:admin' AND install_id = 'console' AND name = 'Console'"), 1);
    // Stamps come from the store's clock and go forward.
    EXPECT_EQ(scalar("SELECT count(*) FROM field_stamps WHERE kind = 'organisation' AND id = 'o7' AND field = 'name' "
                     "AND hlc > (SELECT hlc FROM field_stamps WHERE kind = 'organisation' AND id = 'o7' AND field = 'county')"), 1);
    // Nobody gets a token for the console device, not even its user naming it at login.
    LoginRequest req;
    req.username = "admin";
    req.password = "password1";
    req.device_id = "console:admin";
    auto login = store->login(req, "10.0.0.3");
    ASSERT_TRUE(login);
    EXPECT_NE(login->device_id, "console:admin");
    EXPECT_EQ(scalar("SELECT last_seq FROM devices WHERE id = 'console:admin'"), 3);
    // Only a console session's user comes in this way.
    AuthContext tablet = device("admin");
    EXPECT_EQ(store->apply_actions(tablet, {}).status().code(), Errc::invalid_argument);
}

// ---- lists --------------------------------------------------------------------------------
TEST_P(Console, ACoordinatorListsOnlyWhatTheirDevicesWouldPull) {
    auto admin = sign_in("admin").who;
    auto anna = device("anna");
    SyncRequest req;
    req.actions = {Action{1, Hlc::from_parts(now, 0), "enrol", Row{{"enrolment", "e1"}, {"occasion", "o1"}, {"person", "p1"}}}};
    ASSERT_TRUE(store->sync(anna, req));
    // Åsa's organisation is not among the course's: an admin enrols her from the console.
    EXPECT_NE(apply1(admin, "enrol", {{"enrolment", "e3"}, {"occasion", "o1"}, {"person", "p3"}}).result,
              OutcomeResult::rejected);
    auto coord = sign_in("coord").who;
    for (Kind kind : {Kind::person, Kind::enrolment, Kind::course, Kind::deviation, Kind::survey_response}) {
        auto visible = store->visible_ids(coord, kind);
        ASSERT_TRUE(visible);
        EXPECT_EQ(ids(list(coord, kind)), visible->by_sql) << entity(kind).name;
    }
    EXPECT_EQ(ids(list(coord, Kind::person)), (std::vector<std::string>{"p1", "p2", "p4"}));
    EXPECT_EQ(ids(list(coord, Kind::enrolment)), std::vector<std::string>{"e1"});
    EXPECT_EQ(ids(list(admin, Kind::enrolment)), (std::vector<std::string>{"e1", "e3"}));
    EXPECT_EQ(list(admin, Kind::person).total, 4u);
}

TEST_P(Console, ListsFilterSearchOrderAndPage) {
    auto admin = sign_in("admin").who;
    RowQuery q;
    q.search = "ANN";
    EXPECT_EQ(ids(list(admin, Kind::person, q)), (std::vector<std::string>{"p1", "p4"}));
    q.search = "åsa ö";  // Swedish letters fold too
    EXPECT_EQ(ids(list(admin, Kind::person, q)), std::vector<std::string>{"p3"});
    q.search = "100%_";  // LIKE's own characters are plain text
    EXPECT_EQ(ids(list(admin, Kind::person, q)), std::vector<std::string>{"p4"});
    q.search = "%";
    EXPECT_EQ(ids(list(admin, Kind::person, q)), std::vector<std::string>{"p4"});
    q = {};
    q.search = "undersk";
    q.search_columns = {"name", "profession"};
    EXPECT_EQ(ids(list(admin, Kind::person, q)), std::vector<std::string>{"p1"});

    q = {};
    q.equals = {{"site", "s1"}, {"gender", "woman"}};
    EXPECT_EQ(ids(list(admin, Kind::person, q)), (std::vector<std::string>{"p1", "p4"}));
    q = {};
    q.equals = {{"site", ""}};
    EXPECT_TRUE(list(admin, Kind::person, q).rows.empty()) << "everyone has a site";
    q = {};
    q.equals = {{"profession", ""}};
    EXPECT_EQ(ids(list(admin, Kind::person, q)), (std::vector<std::string>{"p3", "p4"})) << "no profession given";
    q = {};
    q.equals = {{"birth_year", "1975"}};
    EXPECT_EQ(ids(list(admin, Kind::person, q)), std::vector<std::string>{"p2"});
    q = {};
    q.any_of_column = "site";
    q.any_of = {"s2", "nowhere"};
    EXPECT_EQ(ids(list(admin, Kind::person, q)), std::vector<std::string>{"p3"});
    q = {};
    q.order_by = "birth_year";
    q.descending = true;
    q.limit = 2;
    q.offset = 1;
    auto page = list(admin, Kind::person, q);
    EXPECT_EQ(ids(page), (std::vector<std::string>{"p1", "p2"}));
    EXPECT_EQ(page.total, 4u);
    ASSERT_EQ(page.rows.size(), 2u);
    EXPECT_EQ(get_int(page.rows[0], "birth_year"), 1980);  // decoded as the model's values
    EXPECT_EQ(page.rows[0].at("erased"), Value(false));

    // Booleans and lists.
    ASSERT_EQ(apply1(admin, "upsert_course", {{"course", "c2"}, {"title", "Draft"}, {"format", std::string("live_online")}}).result,
              OutcomeResult::applied);
    q = {};
    q.equals = {{"published", "false"}};
    EXPECT_EQ(ids(list(admin, Kind::course, q)), std::vector<std::string>{"c2"});
    q.equals = {{"organisations", "arjeplog"}};
    EXPECT_EQ(ids(list(admin, Kind::course, q)), std::vector<std::string>{"c1"});
    q = {};
    q.search = "draf";
    EXPECT_EQ(ids(list(admin, Kind::course, q)), std::vector<std::string>{"c2"});
    q = {};
    q.range_column = "starts_at";
    q.at_least = "2026-12-07T00:00:00Z";
    q.below = "2026-12-08T00:00:00Z";
    EXPECT_EQ(ids(list(admin, Kind::occasion, q)), std::vector<std::string>{"o1"});
    q.at_least = "2026-12-08T00:00:00Z";
    q.below = {};
    EXPECT_TRUE(list(admin, Kind::occasion, q).rows.empty());
}

TEST_P(Console, ListsRefuseWhatTheKindDoesNotHave) {
    auto admin = sign_in("admin").who;
    auto expect_bad = [&](Kind kind, RowQuery q, const std::string& named) {
        auto r = store->rows(admin, kind, q);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.status().code(), Errc::invalid_argument);
        EXPECT_NE(r.status().message().find(named), std::string::npos) << r.status().message();
    };
    RowQuery q;
    q.equals = {{"personal_id", "19800101-1234"}};
    expect_bad(Kind::person, q, "personal_id");
    q = {};
    q.order_by = "name; DROP TABLE persons";
    expect_bad(Kind::person, q, "order_by");
    q = {};
    q.search = "x";
    q.search_columns = {"password_hash"};
    expect_bad(Kind::person, q, "password_hash");
    q = {};
    q.equals = {{"birth_year", "nineteen"}};
    expect_bad(Kind::person, q, "birth_year");
    q = {};
    q.limit = 5001;
    expect_bad(Kind::person, q, "limit");
    q = {};
    q.any_of = {"x"};
    expect_bad(Kind::person, q, "any_of_column");
    EXPECT_EQ(scalar("SELECT count(*) FROM persons"), 4);
}

TEST_P(Console, ErasedPersonsAreNeverListed) {
    auto admin = sign_in("admin").who;
    ASSERT_TRUE(store->erase_person("p2", "admin"));
    auto people = ids(list(admin, Kind::person));
    EXPECT_EQ(people, (std::vector<std::string>{"p1", "p3", "p4"}));
    RowQuery q;
    q.equals = {{"erased", "true"}};
    EXPECT_TRUE(list(admin, Kind::person, q).rows.empty());
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE erased = 1"), 1);
}

// ---- users and tablets --------------------------------------------------------------------
TEST_P(Console, UsersShowTheirSitesAndTabletsButNotTheConsole) {
    auto coord = sign_in("coord").who;
    ASSERT_EQ(apply1(coord, "add_person", {{"person", "p30"}, {"site", "s1"}, {"name", "X"}, {"gender", "man"}}).result,
              OutcomeResult::applied);
    auto tablet = device("coord", "tab-1");
    SyncRequest req;
    ASSERT_TRUE(store->sync(tablet, req));
    auto users = store->users();
    ASSERT_TRUE(users);
    std::vector<std::string> names;
    for (auto& u : users.value()) names.push_back(u.username);
    EXPECT_EQ(names, (std::vector<std::string>{"admin", "anna", "asa", "coord"}));
    auto& c = users.value()[3];
    EXPECT_EQ(c.role, "coordinator");
    EXPECT_EQ(c.sites, StrList{"s1"});
    EXPECT_EQ(c.devices, 1);
    EXPECT_EQ(c.last_seen_ms, static_cast<int64_t>(now));
    EXPECT_FALSE(c.revoked);
    EXPECT_EQ(users.value()[1].person, "p1");
    ASSERT_TRUE(store->revoke_user("coord", "admin"));
    users = store->users();
    EXPECT_TRUE(users.value()[3].revoked);
    EXPECT_EQ(users.value()[3].devices, 0);
}

TEST_P(Console, TabletsGroupDevicesFlagStaleOnesAndCountRejections) {
    auto anna = device("anna", "tab-1");
    auto coord = device("coord", "tab-1");
    auto asa = device("asa", "tab-2");
    auto cli = device("admin");  // no install id
    auto admin = sign_in("admin").who;
    ASSERT_EQ(apply(admin, {act("upsert_organisation", {{"organisation", "o9"}, {"name", "N"}, {"county", "C"}})}).size(), 1u);
    ASSERT_TRUE(store->sync(anna, SyncRequest{}));
    now += 10 * kDay;
    SyncRequest req;
    req.actions = {Action{1, Hlc::from_parts(now, 0), "enrol", Row{{"enrolment", "e1"}, {"occasion", "nowhere"}, {"person", "p3"}}}};
    auto refused = store->sync(asa, req);
    ASSERT_TRUE(refused);
    ASSERT_EQ(refused->outcomes[0].result, OutcomeResult::rejected);
    now += 5 * kDay;  // anna's tablet was last seen 15 days ago, asa's 5; coord's and the CLI's never
    auto t = store->tablets();
    ASSERT_TRUE(t) << t.status().to_string();
    ASSERT_EQ(t->size(), 3u) << "the console is no tablet";
    EXPECT_EQ(t->at(0).install_id, "tab-2");
    EXPECT_FALSE(t->at(0).stale);
    EXPECT_EQ(t->at(0).devices[0].rejections, 1);
    EXPECT_EQ(t->at(0).last_seen_ms, static_cast<int64_t>(now - 5 * kDay));
    EXPECT_EQ(t->at(1).install_id, "tab-1");
    EXPECT_TRUE(t->at(1).stale);
    ASSERT_EQ(t->at(1).devices.size(), 2u);
    EXPECT_EQ(t->at(1).devices[0].id, anna.device_id) << "newest seen first";
    EXPECT_EQ(t->at(1).devices[0].rejections, 0);
    EXPECT_EQ(t->at(1).devices[0].app_version, "1.2.0");
    EXPECT_EQ(t->at(1).devices[0].role, "participant");
    EXPECT_EQ(t->at(1).devices[1].id, coord.device_id);
    EXPECT_EQ(t->at(1).devices[1].last_seen_ms, 0);
    EXPECT_TRUE(t->at(1).devices[1].stale) << "never seen, created 15 days ago";
    EXPECT_EQ(t->at(2).install_id, "");
    ASSERT_EQ(t->at(2).devices.size(), 1u);
    EXPECT_EQ(t->at(2).devices[0].id, cli.device_id);
    // Ten days on, asa's tablet is stale and its old rejection no longer counts.
    now += 10 * kDay;
    t = store->tablets();
    ASSERT_TRUE(t);
    EXPECT_EQ(t->at(0).install_id, "tab-2");
    EXPECT_TRUE(t->at(0).stale);
    EXPECT_EQ(t->at(0).devices[0].rejections, 0);
}

TEST_P(Console, RevokingATabletRevokesEachOfItsDevices) {
    auto anna = device("anna", "tab-1");
    auto coord = device("coord", "tab-1");
    auto asa = device("asa", "tab-2");
    auto n = store->revoke_tablet("tab-1", "admin");
    ASSERT_TRUE(n) << n.status().to_string();
    EXPECT_EQ(n.value(), 2);
    for (auto* w : {&anna, &coord})
        EXPECT_EQ(store->authenticate(tokens[w->device_id]).status().code(), Errc::revoked);
    EXPECT_TRUE(store->authenticate(tokens[asa.device_id]));
    EXPECT_EQ(scalar("SELECT count(*) FROM audit_log WHERE operation = 'revoke-device' AND actor = 'admin'"), 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM audit_log WHERE operation = 'revoke-tablet' AND target = 'tab-1'"), 1);
    EXPECT_EQ(store->revoke_tablet("tab-1", "admin").value(), 0) << "already revoked";
    EXPECT_EQ(store->revoke_tablet("tab-404", "admin").status().code(), Errc::not_found);
    EXPECT_EQ(store->revoke_tablet("", "admin").status().code(), Errc::invalid_argument);
    EXPECT_EQ(store->revoke_tablet("console", "admin").status().code(), Errc::not_found);
    ASSERT_EQ(apply(sign_in("admin").who, {}).size(), 0u);  // the admin's console device exists now
    EXPECT_EQ(store->revoke_tablet("console", "admin").status().code(), Errc::not_found);
    EXPECT_EQ(store->revoke_device("console:admin", "admin").code(), Errc::invalid_argument);
}

TUNDRA_STORE_BACKENDS(Console);
