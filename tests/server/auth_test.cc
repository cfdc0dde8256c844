// Issue 8, findings 4 and 8: failed logins are throttled per username and per address in the
// store, an unknown user costs the same check as a wrong password, password checks are
// admitted one at a time, and revocation and password changes reach every device.
#include <chrono>
#include <thread>

#include "../../sync-server/src/kdf_gate.h"
#include "../../sync-server/src/login_throttle.h"
#include "fixture.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
struct Auth : StoreFixture {
    HttpResponse login_as(const std::string& user, const std::string& password,
                          const std::string& address = "192.0.2.7", const std::string& device_id = "") {
        HttpRequest r;
        r.method = "POST";
        r.target = "/v1/login";
        r.headers["content-type"] = "application/json";
        r.remote_address = address;
        r.body = R"({"protocol":2,"username":")" + user + R"(","password":")" + password + R"(")" +
                 (device_id.empty() ? "" : R"(,"device_id":")" + device_id + R"(")") + "}";
        return handle_request(r, *store);
    }
    static std::string header_of(const HttpResponse& r, const std::string& name) {
        for (auto& [k, v] : r.headers)
            if (k == name) return v;
        return {};
    }
    static Errc code_of(const HttpResponse& r) {
        auto e = decode_error(r.body);
        return e ? e->code : Errc::ok;
    }
    std::string sync_body(uint64_t seq) { return enrol_json(seq, "e" + std::to_string(seq), "p1"); }
};

int64_t ms(int64_t seconds) { return seconds * 1000; }
}  // namespace

TEST(LoginThrottlePolicy, FreeFailuresThenDoublingBlocksUpToTheCap) {
    ThrottlePolicy p{.free_failures = 3, .base_ms = 1000, .cap_ms = 60'000};
    EXPECT_EQ(block_ms(p, 1), 0);
    EXPECT_EQ(block_ms(p, 3), 0);
    EXPECT_EQ(block_ms(p, 4), 1000);
    EXPECT_EQ(block_ms(p, 5), 2000);
    EXPECT_EQ(block_ms(p, 9), 32'000);
    EXPECT_EQ(block_ms(p, 10), 60'000);
    EXPECT_EQ(block_ms(p, 1'000'000), 60'000);
}

TEST(LoginThrottlePolicy, AnIpv6CustomerIsOneAddressAndMappedIpv4IsIpv4) {
    EXPECT_EQ(address_key("2001:db8:1:2:aaaa::1"), address_key("2001:db8:1:2:ffff:1:2:3"));
    EXPECT_NE(address_key("2001:db8:1:2::1"), address_key("2001:db8:1:3::1"));
    EXPECT_EQ(address_key("::ffff:192.0.2.7"), address_key("192.0.2.7"));
    EXPECT_EQ(address_key(""), "");
    EXPECT_EQ(user_key(std::string(500, 'x')).size(), std::string("user:sha256:").size() + 64);
}

TEST_P(Auth, FailedLoginsOfAUsernameAreBlockedWithDoublingWaitsAndNoPasswordCheck) {
    // Each guess from its own address: only the username's count matters here.
    for (int i = 0; i < 6; ++i) EXPECT_EQ(login_as("anna", "guess" + std::to_string(i), "198.51.100." + std::to_string(i)).status, 401);
    auto checks = store->login_stats().password_checks;
    auto blocked = login_as("anna", "password1", "198.51.100.99");  // even the right password waits
    EXPECT_EQ(blocked.status, 429);
    EXPECT_EQ(code_of(blocked), Errc::rate_limited);
    EXPECT_EQ(header_of(blocked, "Retry-After"), "1");
    EXPECT_NE(blocked.body.find("try again in 1 s"), std::string::npos) << blocked.body;
    EXPECT_EQ(store->login_stats().password_checks, checks) << "a blocked guess must cost no KDF";
    now += ms(1);
    EXPECT_EQ(login_as("anna", "guess7", "198.51.100.7").status, 401);
    auto twice = login_as("anna", "guess8", "198.51.100.8");
    EXPECT_EQ(twice.status, 429);
    EXPECT_EQ(header_of(twice, "Retry-After"), "2");
    now += ms(2);
    EXPECT_EQ(login_as("anna", "password1").status, 200);
    // A success forgets the username's failures: five more free guesses.
    for (int i = 0; i < 5; ++i) EXPECT_EQ(login_as("anna", "again" + std::to_string(i)).status, 401);
    EXPECT_EQ(login_as("anna", "password1").status, 200);
}

TEST_P(Auth, FailuresAreForgottenAfterQuietTime) {
    for (int i = 0; i < 7; ++i) login_as("anna", "guess", "198.51.100." + std::to_string(i));
    EXPECT_EQ(login_as("anna", "password1").status, 429);
    now += 61 * 60'000;  // the default forget_after is an hour
    for (int i = 0; i < 5; ++i) EXPECT_EQ(login_as("anna", "guess").status, 401);
    EXPECT_EQ(login_as("anna", "password1").status, 200);
    EXPECT_EQ(scalar("SELECT count(*) FROM login_throttle WHERE key = 'user:anna'"), 0);
}

TEST_P(Auth, AnAddressIsThrottledAcrossUsernamesButSuccessesNeverBlockIt) {
    // A care unit's shared address: many successful logins never block anybody.
    for (int i = 0; i < 50; ++i) ASSERT_EQ(login_as(i % 2 ? "anna" : "admin", "password1", "203.0.113.5").status, 200);
    // Guessing many usernames from one address: 30 free failures, then the address waits.
    for (int i = 0; i < 31; ++i) EXPECT_EQ(login_as("user" + std::to_string(i), "guess", "203.0.113.5").status, 401);
    auto r = login_as("anna", "password1", "203.0.113.5");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(code_of(r), Errc::rate_limited);
    EXPECT_EQ(login_as("anna", "password1", "203.0.113.6").status, 200) << "another address is not blocked";
    // Another host of the same IPv6 customer (/64) is the same address.
    for (int i = 0; i < 31; ++i) login_as("v6user" + std::to_string(i), "guess", "2001:db8:5:6::" + std::to_string(i + 1));
    EXPECT_EQ(login_as("anna", "password1", "2001:db8:5:6::ffff").status, 429);
}

TEST_P(Auth, ThrottleStateLivesInTheStoreSharedByEveryProcess) {
    for (int i = 0; i < 7; ++i) login_as("anna", "guess", "198.51.100." + std::to_string(i));
    // A second server process on the same store file sees the block.
    StoreOptions o;
    o.kdf_iterations = 1000;
    o.wall = [this] { return now; };
    auto other = SqlStore::open(target, o, false);
    ASSERT_TRUE(other);
    LoginRequest req;
    req.username = "anna";
    req.password = "password1";
    auto r = other.value()->login(req, "192.0.2.200");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::rate_limited);
    EXPECT_GE(r.status().retry_after_s(), 1);
}

TEST_P(Auth, SprayedUsernamesLeaveNoRowsOnceForgotten) {
    for (int i = 0; i < 20; ++i) login_as("spray" + std::to_string(i), "guess", "198.51.100." + std::to_string(i));
    EXPECT_EQ(scalar("SELECT count(*) FROM login_throttle"), 40);
    now += 2 * 60 * 60'000;
    login_as("late", "guess", "198.51.100.200");
    EXPECT_EQ(scalar("SELECT count(*) FROM login_throttle"), 2);
}

TEST_P(Auth, UnknownUserTakesTheDummyHashPathWithTheSameAnswer) {
    auto before = store->login_stats().password_checks;
    auto wrong = login_as("anna", "not-her-password");
    EXPECT_EQ(store->login_stats().password_checks, before + 1);
    auto unknown = login_as("nobody-of-that-name", "not-her-password");
    EXPECT_EQ(store->login_stats().password_checks, before + 2) << "an unknown user must cost a KDF too";
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.body, unknown.body);
    EXPECT_EQ(wrong.headers, unknown.headers);
    // Unknown usernames are throttled like known ones (else the throttle tells them apart).
    for (int i = 0; i < 5; ++i) login_as("nobody-of-that-name", "x", "198.51.100." + std::to_string(i));
    for (int i = 0; i < 5; ++i) login_as("anna", "x", "198.51.100." + std::to_string(i));
    auto a = login_as("anna", "x", "198.51.100.50"), b = login_as("nobody-of-that-name", "x", "198.51.100.51");
    EXPECT_EQ(a.status, 429);
    EXPECT_EQ(a.body, b.body);
}

// The timing itself, with the production KDF cost: an unknown user used to answer ~60x faster.
TEST(AuthTiming, AnUnknownUserTakesAsLongAsAWrongPassword) {
    auto dir = std::filesystem::temp_directory_path() / ("tundra-timing-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    StoreOptions o;
    o.kdf_iterations = 50000;
    o.durable = false;
    auto s = SqlStore::open((dir / "s.db").string(), o);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s.value()->import_json(tiny_document()));
    auto time_login = [&](const std::string& user, int i) {
        LoginRequest req;
        req.username = user;
        req.password = "wrong-password";
        auto t0 = std::chrono::steady_clock::now();
        auto r = s.value()->login(req, "198.51.100." + std::to_string(i));
        EXPECT_EQ(r.status().code(), Errc::unauthorized);
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    std::vector<double> wrong, unknown;
    for (int i = 0; i < 3; ++i) {
        wrong.push_back(time_login("anna", i));
        unknown.push_back(time_login("nobody" + std::to_string(i), 10 + i));
    }
    std::sort(wrong.begin(), wrong.end());
    std::sort(unknown.begin(), unknown.end());
    EXPECT_GT(unknown[1], wrong[1] * 0.5) << "unknown " << unknown[1] << " s, wrong " << wrong[1] << " s";
    EXPECT_LT(unknown[1], wrong[1] * 2.0) << "unknown " << unknown[1] << " s, wrong " << wrong[1] << " s";
    s.value().reset();
    std::filesystem::remove_all(dir);
}

TEST(KdfGateTest, OneCheckAtATimeABoundedQueueAndTheRestTurnedAwayAtOnce) {
    using std::chrono::milliseconds;
    KdfGate none_waiting(1, 0);
    auto first = none_waiting.enter(milliseconds(1000));
    ASSERT_TRUE(first);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(none_waiting.enter(milliseconds(1000)));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(100)) << "turned away at once";

    KdfGate one_waiting(1, 1);
    auto held = std::make_unique<KdfGate::Turn>(one_waiting.enter(milliseconds(0)));
    ASSERT_TRUE(*held);
    std::thread releaser([&] {
        std::this_thread::sleep_for(milliseconds(50));
        held.reset();
    });
    bool second_full = true;
    std::thread third([&] {
        std::this_thread::sleep_for(milliseconds(20));
        second_full = !one_waiting.enter(milliseconds(1000));  // the one waiting slot is taken
    });
    auto waited = one_waiting.enter(milliseconds(2000));
    EXPECT_TRUE(waited) << "a waiter gets the turn when it is released";
    third.join();
    releaser.join();
    EXPECT_TRUE(second_full);
}

TEST(AuthFlood, ConcurrentLoginsBeyondTheGateAreAnsweredOverloadedAtOnce) {
    auto dir = std::filesystem::temp_directory_path() / ("tundra-flood-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    StoreOptions o;
    o.kdf_iterations = 100000;
    o.durable = false;
    auto s = SqlStore::open((dir / "s.db").string(), o);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s.value()->import_json(tiny_document()));
    std::atomic<int> overloaded{0}, checked{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 3; ++i) {
                LoginRequest req;
                req.username = "flood" + std::to_string(t * 10 + i);
                req.password = "guess";
                auto r = s.value()->login(req, "198.51.100." + std::to_string(t * 10 + i));
                if (r.status().code() == Errc::overloaded) {
                    ++overloaded;
                    EXPECT_EQ(r.status().retry_after_s(), 1);
                } else {
                    EXPECT_EQ(r.status().code(), Errc::unauthorized);
                    ++checked;
                }
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_GT(overloaded.load(), 0);
    EXPECT_EQ(static_cast<uint64_t>(checked.load()), s.value()->login_stats().password_checks);
    EXPECT_EQ(static_cast<uint64_t>(overloaded.load()), s.value()->login_stats().overloaded);
    s.value().reset();
    std::filesystem::remove_all(dir);
}

// ---- finding 8: revocation and passwords -----------------------------------------------------
TEST_P(Auth, ARevokedDeviceIsAnsweredRevokedOnSyncAndOnALoginNamingIt) {
    auto r = login_as("anna", "password1");
    ASSERT_EQ(r.status, 200);
    auto resp = decode_login_response(r.body);
    ASSERT_TRUE(store->revoke_device(resp->device_id, "cli:test"));
    auto s = post("/v1/sync", sync_body(1), resp->token);
    EXPECT_EQ(s.status, 401);
    EXPECT_EQ(code_of(s), Errc::revoked);
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments"), 0) << "nothing from a revoked device is applied";
    auto again = login_as("anna", "password1", "192.0.2.7", resp->device_id);
    EXPECT_EQ(again.status, 401);
    EXPECT_EQ(code_of(again), Errc::revoked);
    EXPECT_EQ(scalar("SELECT count(*) FROM devices WHERE username = 'anna'"), 1) << "no new device handed out";
    // The wrong password never tells that the device was revoked.
    EXPECT_EQ(code_of(login_as("anna", "wrong-password", "192.0.2.7", resp->device_id)), Errc::unauthorized);
    auto trail = store->audit_trail();
    ASSERT_TRUE(trail);
    EXPECT_EQ(trail->at(0).operation, "revoke-device");
    EXPECT_EQ(trail->at(0).target, resp->device_id);
    EXPECT_EQ(trail->at(0).actor, "cli:test");
}

TEST_P(Auth, ARevokedUserCannotLogInAndEveryDeviceOfTheirsIsRevoked) {
    auto a = decode_login_response(login_as("anna", "password1").body);
    auto b = decode_login_response(login_as("anna", "password1").body);
    ASSERT_TRUE(a && b);
    auto n = store->revoke_user("anna", "cli:test");
    ASSERT_TRUE(n);
    EXPECT_EQ(n.value(), 2);
    EXPECT_EQ(code_of(post("/v1/sync", sync_body(1), a->token)), Errc::revoked);
    EXPECT_EQ(code_of(post("/v1/sync", sync_body(1), b->token)), Errc::revoked);
    auto fresh = login_as("anna", "password1");
    EXPECT_EQ(fresh.status, 401);
    EXPECT_EQ(code_of(fresh), Errc::revoked);
    EXPECT_EQ(code_of(login_as("anna", "wrong-password")), Errc::unauthorized);
    EXPECT_EQ(scalar("SELECT count(*) FROM devices WHERE username = 'anna'"), 2);
    EXPECT_EQ(store->revoke_user("nobody", "cli:test").status().code(), Errc::not_found);
    EXPECT_EQ(store->audit_trail()->at(0).detail, R"({"devices_revoked":2})");
}

TEST_P(Auth, SetPasswordEndsTokensAndTheDeviceComesBackWithItsIdentityAndSeqMemory) {
    auto first = decode_login_response(login_as("anna", "password1").body);
    ASSERT_TRUE(first);
    auto s1 = post("/v1/sync", sync_body(1), first->token);
    ASSERT_EQ(s1.status, 200);
    auto ended = store->set_password("anna", "a-new-secret", "cli:test");
    ASSERT_TRUE(ended);
    EXPECT_EQ(ended.value(), 1);
    auto stale = post("/v1/sync", sync_body(2), first->token);
    EXPECT_EQ(stale.status, 401);
    EXPECT_EQ(code_of(stale), Errc::unauthorized);
    EXPECT_NE(stale.body.find("password was changed"), std::string::npos) << stale.body;
    EXPECT_EQ(login_as("anna", "password1").status, 401) << "the old password is gone";
    auto back = login_as("anna", "a-new-secret", "192.0.2.7", first->device_id);
    ASSERT_EQ(back.status, 200) << back.body;
    auto again = decode_login_response(back.body);
    EXPECT_EQ(again->device_id, first->device_id);
    EXPECT_EQ(again->last_seq, 1u);
    // The action whose reply was lost is resent under its seq: answered, not applied again.
    auto resend = post("/v1/sync", sync_body(1), again->token);
    ASSERT_EQ(resend.status, 200);
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM applied_actions"), 1);
    auto trail = store->audit_trail();
    EXPECT_EQ(trail->at(0).operation, "set-password");
    EXPECT_EQ(trail->at(0).detail.find("a-new-secret"), std::string::npos);
    EXPECT_EQ(store->set_password("anna", "short", "cli:test").status().code(), Errc::invalid_argument);
}

TEST_P(Auth, AddUserCreatesALoginAndAnAuditEntryWithoutThePassword) {
    ASSERT_TRUE(store->add_user({.username = "stina", .role = "coordinator", .sites = {"s1"},
                                 .password = "first-secret"},
                                "cli:ops"));
    auto r = login_as("stina", "first-secret");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(decode_login_response(r.body)->user.sites, StrList{"s1"});
    auto trail = store->audit_trail();
    ASSERT_TRUE(trail);
    EXPECT_EQ(trail->at(0).actor, "cli:ops");
    EXPECT_EQ(trail->at(0).operation, "add-user");
    EXPECT_EQ(trail->at(0).target, "stina");
    EXPECT_EQ(trail->at(0).detail, R"({"role":"coordinator","sites":["s1"]})");
    EXPECT_EQ(scalar("SELECT count(*) FROM audit_log WHERE detail LIKE '%first-secret%'"), 0);
    auto code = [&](SqlStore::NewUser u) { return store->add_user(u, "cli:ops").code(); };
    EXPECT_EQ(code({.username = "stina", .role = "admin", .password = "first-secret"}), Errc::conflict);
    EXPECT_EQ(code({.username = "p", .role = "participant", .person = "p-none", .password = "first-secret"}),
              Errc::not_found);
    EXPECT_EQ(code({.username = "c", .role = "coordinator", .sites = {"s-none"}, .password = "first-secret"}),
              Errc::not_found);
    EXPECT_EQ(code({.username = "c", .role = "coordinator", .password = "first-secret"}), Errc::invalid_argument);
    EXPECT_EQ(code({.username = "a", .role = "root", .password = "first-secret"}), Errc::invalid_argument);
    EXPECT_EQ(code({.username = "a", .role = "admin", .password = "short"}), Errc::invalid_argument);
    EXPECT_EQ(code({.username = "a b", .role = "admin", .password = "first-secret"}), Errc::invalid_argument);
    EXPECT_EQ(scalar("SELECT count(*) FROM audit_log"), 1) << "a refused operation leaves no entry";
}

// ---- finding 4: an id the actor may not see is answered like an unknown id ------------------
TEST_P(Auth, AnIdTheActorMayNotSeeIsAnsweredExactlyLikeAnUnknownId) {
    ASSERT_TRUE(store->import_json(R"({
 "courses":[{"id":"c-hidden","title":"Unpublished","theme":"stress","format":"on_site","organisations":["arjeplog"],"published":false}],
 "occasions":[{"id":"o-hidden","course":"c-hidden","starts_at":"2026-12-08T08:00:00Z","ends_at":"2026-12-08T10:00:00Z","capacity":5,"enrolment_closes":"2026-12-04T08:00:00Z"}],
 "enrolments":[{"id":"e-erik","occasion":"o1","person":"p2","status":"confirmed"}]})"));
    std::string t = login("anna");
    auto outcome = [&](uint64_t seq, const std::string& action) {
        auto r = post("/v1/sync",
                      R"({"protocol":2,"actions":[{"seq":)" + std::to_string(seq) + R"(,"hlc":)" +
                          std::to_string(Hlc::from_parts(kNow, seq).value) + "," + action + "}]}",
                      t);
        EXPECT_EQ(r.status, 200) << r.body;
        auto d = decode_sync_response(r.body);
        return d && !d->outcomes.empty() ? d->outcomes[0] : Outcome{};
    };
    auto same = [](const Outcome& hidden, const Outcome& unknown, const std::string& hidden_id,
                   const std::string& unknown_id) {
        EXPECT_EQ(hidden.reason, "not_found");
        EXPECT_EQ(unknown.reason, "not_found");
        std::string m = hidden.message;
        auto at = m.find(hidden_id);
        ASSERT_NE(at, std::string::npos) << m;
        m.replace(at, hidden_id.size(), unknown_id);
        EXPECT_EQ(m, unknown.message);
    };
    // Sent one by one, in seq order. Another person (Erik), and a person who does not exist:
    auto hidden = outcome(1, R"("type":"enrol","enrolment":"ea","occasion":"o1","person":"p2")");
    auto unknown = outcome(2, R"("type":"enrol","enrolment":"eb","occasion":"o1","person":"p-none")");
    same(hidden, unknown, "p2", "p-none");
    hidden = outcome(3, R"("type":"update_person","person":"p2","profession":"x")");
    unknown = outcome(4, R"("type":"update_person","person":"p-none","profession":"x")");
    same(hidden, unknown, "p2", "p-none");
    // Erik's enrolment, and one that does not exist.
    hidden = outcome(5, R"("type":"cancel_enrolment","enrolment":"e-erik")");
    unknown = outcome(6, R"("type":"cancel_enrolment","enrolment":"e-none")");
    same(hidden, unknown, "e-erik", "e-none");
    // An occasion of a course she may not see (unpublished).
    hidden = outcome(7, R"("type":"enrol","enrolment":"ec","occasion":"o-hidden","person":"p1")");
    unknown = outcome(8, R"("type":"enrol","enrolment":"ed","occasion":"o-none","person":"p1")");
    same(hidden, unknown, "o-hidden", "o-none");
    // `forbidden` only for what she can see: her own person's name.
    EXPECT_EQ(outcome(9, R"("type":"update_person","person":"p1","name":"Someone else")").reason, "forbidden");
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments WHERE status = 'cancelled'"), 0);
}

TUNDRA_STORE_BACKENDS(Auth);
