// What a UI needs from the SDK (issue 10), offline: change notifications, cancellable syncs,
// the PIN of a shared tablet and its delays, the offline password check, local settings, the
// views behind the app's screens, the install id several replicas share, and the replica's
// v5 -> v6 migration. The server is a script here (e2e: change_password, curl cancel).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "tundra/client/client.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::client;
using namespace std::chrono_literals;

namespace {
// A scripted server: answers from a queue, or from `handler` when one is set (which may block
// and consult the abort check, as a transfer in flight would).
struct Script {
    std::mutex mu;
    std::deque<Result<HttpReply>> replies;
    std::vector<std::string> bodies;
    std::function<Result<HttpReply>(const std::string& path, const std::function<bool()>& abort)> handler;
};

struct Scripted : Transport {
    Script* script;
    std::function<bool()> abort;
    void set_abort(std::function<bool()> a) override { abort = std::move(a); }
    Result<HttpReply> post(const std::string& path, const std::string& body,
                           const std::vector<std::pair<std::string, std::string>>&,
                           std::chrono::milliseconds) override {
        std::function<Result<HttpReply>(const std::string&, const std::function<bool()>&)> h;
        {
            std::lock_guard<std::mutex> g(script->mu);
            script->bodies.push_back(path + " " + body);
            h = script->handler;
            if (!h) {
                if (script->replies.empty()) return Status(Errc::network, "script ran out");
                auto r = script->replies.front();
                script->replies.pop_front();
                return r;
            }
        }
        return h(path, abort);
    }
};

HttpReply reply(int status, std::string body) {
    HttpReply r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

Change change(Kind k, Row row, uint64_t v) {
    Change ch;
    ch.kind = k;
    ch.id = *get_str(row, "id");
    ch.version = v;
    ch.row = std::move(row);
    return ch;
}

Row occasion(const std::string& id, const std::string& starts, const std::string& site = "s1") {
    return {{"id", id}, {"course", std::string("c1")}, {"starts_at", starts}, {"ends_at", starts},
            {"capacity", int64_t{5}}, {"enrolment_closes", starts},
            {"enrolment_opens", std::string("2026-11-01T08:00:00Z")}, {"site", site},
            {"status", std::string("planned")}, {"confirmed", int64_t{1}}, {"waitlisted", int64_t{0}}};
}

Row person(const std::string& id, const std::string& name, const std::string& site = "s1") {
    return {{"id", id}, {"organisation", std::string("arjeplog")}, {"site", site}, {"name", name},
            {"gender", std::string("woman")}, {"erased", false}};
}

Row enrolment(const std::string& id, const std::string& occ, const std::string& who, const std::string& status,
              std::optional<int64_t> position = {}, std::optional<std::string> reason = {}) {
    return {{"id", id}, {"occasion", occ}, {"person", who}, {"status", status},
            {"reason", reason ? Value(*reason) : Value{}}, {"acted_hlc", int64_t{1}},
            {"updated_hlc", int64_t{1}}, {"waitlist_position", position ? Value(*position) : Value{}}};
}

Row mark(const std::string& id, const std::string& occ, const std::string& status, int64_t hlc) {
    return {{"id", id}, {"occasion", occ}, {"person", std::string("p1")}, {"status", status},
            {"minutes", Value{}}, {"recorded_by", std::string("coord1")},
            {"source", std::string("coordinator")}, {"hlc", hlc}, {"device", std::string("d")}};
}

// What a subscriber saw, one "source:kind,kind" string per event (kinds sorted).
struct Seen {
    std::mutex mu;
    std::vector<std::string> events;
    void operator()(const ChangeEvent& e) {
        auto kinds = e.kinds;
        std::sort(kinds.begin(), kinds.end());
        std::string s = e.source + ":";
        for (auto& k : kinds) s += (s.back() == ':' ? "" : ",") + k;
        std::lock_guard<std::mutex> g(mu);
        events.push_back(s);
    }
    std::vector<std::string> take() {
        std::lock_guard<std::mutex> g(mu);
        return std::exchange(events, {});
    }
};

struct Ui : ::testing::Test {
    std::filesystem::path dir;
    Script script;
    std::atomic<int64_t> now{parse_iso8601("2026-12-15T10:00:00Z").value()};
    uint64_t cursor = 0;
    bool fake_sleep = true;
    std::string install_id_path;

    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "tundra-ui-XXXXXX").string();
        dir = mkdtemp(tmpl.data());
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    std::string path(const std::string& name) { return (dir / name).string(); }

    std::unique_ptr<Client> open(const std::string& name = "r.db", std::string app_version = {}) {
        ClientOptions o;
        o.transport_factory = [this](const std::string&) {
            auto t = std::make_unique<Scripted>();
            t->script = &script;
            return t;
        };
        if (fake_sleep) o.sleep = [](std::chrono::milliseconds) {};
        o.wall_clock = [this] { return static_cast<uint64_t>(now.load()); };
        o.install_id_path = install_id_path;
        o.app_version = std::move(app_version);
        auto c = Client::open(path(name), o);
        EXPECT_TRUE(c) << c.status().to_string();
        return c ? std::move(c.value()) : nullptr;
    }

    static HttpReply login_reply(const std::string& username, const std::string& role, const std::string& who,
                                 StrList sites = {}, const std::string& device = "dev-0123456789") {
        LoginResponse lr;
        lr.token = "t-" + username;
        lr.device_id = device;
        lr.user = {username, role, who, std::move(sites)};
        lr.server_hlc = Hlc::from_parts(wall_clock_ms(), 0).value;
        return reply(200, encode(lr));
    }

    // Logged in with the password "secret1!", and a small world pulled: organisation arjeplog,
    // sites s1 and s2, persons p1 (Anna Berg), p2 (Åsa Öberg, s2), course c1 with o1 and o2.
    std::unique_ptr<Client> as(const std::string& role, const std::string& name = "r.db") {
        auto c = open(name);
        bool participant = role == "participant";
        script.replies.push_back(login_reply(participant ? "anna" : "coord1", role, participant ? "p1" : "",
                                             participant ? StrList{} : StrList{"s1", "s2"}));
        EXPECT_TRUE(c->login("http://test", participant ? "anna" : "coord1", "secret1!"));
        pull(*c, {change(Kind::organisation, {{"id", std::string("arjeplog")}, {"name", std::string("Arjeplogs kommun")},
                                              {"county", std::string("Norrbotten")}}, 1),
                  change(Kind::site, {{"id", std::string("s1")}, {"organisation", std::string("arjeplog")},
                                      {"name", std::string("Hemtjänst")}}, 2),
                  change(Kind::site, {{"id", std::string("s2")}, {"organisation", std::string("arjeplog")},
                                      {"name", std::string("Äldreboendet")}}, 3),
                  change(Kind::person, person("p1", "Anna Berg"), 4),
                  change(Kind::person, person("p2", "Åsa Öberg", "s2"), 5),
                  change(Kind::course, {{"id", std::string("c1")}, {"title", std::string("Stress och hälsa")},
                                        {"format", std::string("on_site")}, {"organisations", StrList{"arjeplog"}},
                                        {"published", true}}, 6),
                  change(Kind::occasion, occasion("o1", "2026-12-01T09:00:00Z"), 7),
                  change(Kind::occasion, occasion("o2", "2026-12-20T09:00:00Z", "s2"), 8)});
        return c;
    }

    SyncResponse page(std::vector<Change> changes, std::vector<Outcome> outcomes = {}, bool more = false) {
        SyncResponse sr;
        sr.cursor = std::to_string(++cursor);
        sr.changes = std::move(changes);
        sr.outcomes = std::move(outcomes);
        sr.more = more;
        sr.remaining = more ? 1 : 0;
        return sr;
    }
    void pull(Client& c, std::vector<Change> changes, std::vector<Outcome> outcomes = {}) {
        script.replies.push_back(reply(200, encode(page(std::move(changes), std::move(outcomes)))));
        auto r = c.sync();
        ASSERT_TRUE(r) << r.status().to_string();
    }
};

std::string outcome_of(const Result<PinCheck>& r) {
    if (!r) return r.status().to_string();
    const char* names[] = {"ok", "wrong", "wait", "password_needed", "no_pin"};
    return std::string(names[static_cast<int>(r->outcome)]) + " failures=" + std::to_string(r->failures) +
           " retry=" + std::to_string(r->retry_after_s);
}
}  // namespace

// ---- change notifications -------------------------------------------------------------------

TEST_F(Ui, ASubscriberSeesExactlyTheKindsEachChangeTouches) {
    auto c = as("participant");
    Seen seen;
    c->subscribe([&](const ChangeEvent& e) { seen(e); });

    auto e1 = c->enrol("o1");
    ASSERT_TRUE(e1);
    EXPECT_EQ(seen.take(), (std::vector<std::string>{"action:enrolment,outbox"}));

    // A page with the answer to the enrolment and an occasion row; then one with only a person.
    script.replies.push_back(reply(200, encode(page({change(Kind::occasion, occasion("o2", "2026-12-21T09:00:00Z", "s2"), 9)},
                                                    {{1, OutcomeResult::applied, "", "", "confirmed"}}, true))));
    script.replies.push_back(reply(200, encode(page({change(Kind::person, person("p1", "Anna Berg-Ek"), 10)}))));
    ASSERT_TRUE(c->sync());
    EXPECT_EQ(seen.take(), (std::vector<std::string>{"sync:enrolment,occasion,outbox", "sync:person", "sync:sync"}));

    // The server moves p1's confirmed enrolment to the waiting list: a notice for p1.
    pull(*c, {change(Kind::enrolment, enrolment(e1.value(), "o1", "p1", "confirmed"), 11)});
    seen.take();
    pull(*c, {change(Kind::enrolment, enrolment(e1.value(), "o1", "p1", "waitlisted", 2, "preempted"), 12)});
    EXPECT_EQ(seen.take(), (std::vector<std::string>{"sync:enrolment,notice", "sync:sync"}));
    ASSERT_TRUE(c->mark_notices_seen());
    EXPECT_EQ(seen.take(), (std::vector<std::string>{"dismiss:notice"}));

    // A page that changes nothing is not announced; the end of the sync is, also a failed one.
    pull(*c, {});
    EXPECT_EQ(seen.take(), (std::vector<std::string>{"sync:sync"}));
    script.replies.push_back(Status(Errc::unauthorized, "token ended"));
    EXPECT_FALSE(c->sync());
    EXPECT_EQ(seen.take(), (std::vector<std::string>{"sync:sync"}));

    // A rejected action, dismissed.
    auto e2 = c->enrol("o2");
    ASSERT_TRUE(e2);
    pull(*c, {}, {{2, OutcomeResult::rejected, "enrolment_closed", "closed", "rejected"}});
    EXPECT_EQ(seen.take(), (std::vector<std::string>{"action:enrolment,outbox", "sync:enrolment,outbox", "sync:sync"}));
    ASSERT_TRUE(c->dismiss(2));
    EXPECT_EQ(seen.take(), (std::vector<std::string>{"dismiss:enrolment,outbox"}));

    ASSERT_TRUE(c->set_setting("language", "en"));
    EXPECT_EQ(seen.take(), (std::vector<std::string>{"settings:settings"}));
    // Reads and refused calls change nothing.
    ASSERT_TRUE(c->status());
    ASSERT_TRUE(c->enrolments());
    EXPECT_FALSE(c->enrol("o-unknown"));
    EXPECT_TRUE(seen.take().empty());

    ASSERT_TRUE(c->logout());
    auto logout = seen.take();
    ASSERT_EQ(logout.size(), 1u);
    EXPECT_EQ(logout[0].rfind("logout:", 0), 0u) << logout[0];
    for (const char* k : {"enrolment", "person", "outbox", "notice", "session", "settings"})
        EXPECT_NE(logout[0].find(k), std::string::npos) << k << " in " << logout[0];
    script.replies.push_back(login_reply("anna", "participant", "p1"));
    ASSERT_TRUE(c->login("http://test", "anna", "secret1!"));
    EXPECT_EQ(seen.take(), (std::vector<std::string>{"login:session"}));
}

TEST_F(Ui, AWalkInAnnouncesItsEnrolmentMarkAndNewPerson) {
    auto c = as("coordinator");
    Seen seen;
    c->subscribe([&](const ChangeEvent& e) { seen(e); });
    ASSERT_TRUE(c->walk_in("o1", "p1"));
    EXPECT_EQ(seen.take(), (std::vector<std::string>{"action:attendance,enrolment,outbox"}));
    ASSERT_TRUE(c->walk_in_new("o1", NewPersonInput{.name = "Bo Ek", .site = "s1", .gender = "man", .birth_year = 1970}));
    EXPECT_EQ(seen.take(), (std::vector<std::string>{"action:attendance,enrolment,outbox,person"}));
}

TEST_F(Ui, ARemoteWipeIsAnnounced) {
    auto c = as("participant");
    Seen seen;
    c->subscribe([&](const ChangeEvent& e) { seen(e); });
    script.replies.push_back(reply(401, encode(ErrorBody{Errc::revoked, "revoked"})));
    auto r = c->sync();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::revoked);
    auto events = seen.take();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].rfind("wipe:", 0), 0u) << events[0];
    EXPECT_NE(events[0].find("session"), std::string::npos);
    EXPECT_EQ(events[1], "sync:sync");
}

TEST_F(Ui, ASubscriberMayCallTheClientInsideItsCallback) {
    auto c = as("participant");
    std::vector<std::string> seen_in_callback;
    bool inside = false;
    std::string nested_sync;
    c->subscribe([&](const ChangeEvent& e) {
        // Reads, and a write that notifies again (on this thread, no lock held).
        auto st = c->status();
        auto es = c->enrolments();
        seen_in_callback.push_back(e.source + " pending=" + (st ? std::to_string(st->pending) : st.status().to_string()) +
                                   " enrolments=" + (es ? std::to_string(es->size()) : es.status().to_string()));
        if (!inside && e.source == "action") {
            inside = true;
            EXPECT_TRUE(c->set_setting("last_action", e.kinds.front()));
            // An action's notification may start a sync (the app's "sync after a batch").
            script.replies.push_back(reply(200, encode(page({}, {{1, OutcomeResult::applied, "", "", "confirmed"}}))));
            auto r = c->sync();
            EXPECT_TRUE(r) << r.status().to_string();
            inside = false;
        }
        // A sync's notification cannot start another on the same thread: refused, not a deadlock.
        if (e.source == "sync" && e.touches("sync") && nested_sync.empty()) {
            auto r = c->sync();
            nested_sync = r ? "ran" : r.status().to_string();
        }
    });
    ASSERT_TRUE(c->enrol("o1"));
    EXPECT_EQ(c->setting("last_action").value(), "enrolment");
    EXPECT_EQ(c->status()->pending, 0);
    EXPECT_EQ(nested_sync.rfind("conflict:", 0), 0u) << nested_sync;
    ASSERT_GE(seen_in_callback.size(), 3u);
    EXPECT_EQ(seen_in_callback[0], "action pending=1 enrolments=1");
}

TEST_F(Ui, AnUnsubscribedFunctionIsNotCalledAgain) {
    auto c = as("participant");
    int a = 0, b = 0;
    auto ida = c->subscribe([&](const ChangeEvent&) { ++a; });
    uint64_t idb = 0;
    idb = c->subscribe([&](const ChangeEvent&) {
        ++b;
        c->unsubscribe(idb);  // from inside its own call
    });
    EXPECT_NE(ida, idb);
    ASSERT_TRUE(c->set_setting("k", "1"));
    c->unsubscribe(ida);
    ASSERT_TRUE(c->set_setting("k", "2"));
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 1);
}

TEST_F(Ui, ChangesOnOtherThreadsAreAnnouncedOnThoseThreads) {
    auto c = as("participant");
    std::mutex mu;
    std::set<std::thread::id> threads;
    c->subscribe([&](const ChangeEvent&) {
        std::lock_guard<std::mutex> g(mu);
        threads.insert(std::this_thread::get_id());
    });
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i)
        ts.emplace_back([&c, i] { EXPECT_TRUE(c->set_setting("k" + std::to_string(i), "v")); });
    for (auto& t : ts) t.join();
    EXPECT_EQ(threads.size(), 4u);
    EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

// ---- cancellable sync -----------------------------------------------------------------------

TEST_F(Ui, ACancelledSyncStopsMidTransferAndKeepsTheRoundsBefore) {
    auto c = as("participant");
    ASSERT_TRUE(c->enrol("o1"));
    SyncCancel cancel;
    std::atomic<bool> blocked{false};
    int requests = 0;
    auto first = page({change(Kind::person, person("p1", "Anna Berg-Ek"), 20)},
                      {{1, OutcomeResult::applied, "", "", "confirmed"}}, true);
    script.handler = [&](const std::string&, const std::function<bool()>& abort) -> Result<HttpReply> {
        if (++requests == 1) return reply(200, encode(first));
        // A transfer that stalls until the transport's abort check says stop.
        blocked = true;
        for (auto until = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < until;) {
            if (abort && abort()) return Status(Errc::cancelled, "aborted");
            std::this_thread::sleep_for(5ms);
        }
        return Status(Errc::network, "never aborted");
    };
    SyncOptions so;
    so.cancel = cancel;
    Result<SyncReport> result = Status(Errc::internal, "not run");
    std::thread t([&] { result = c->sync(so); });
    while (!blocked) std::this_thread::sleep_for(1ms);
    auto cancelled_at = std::chrono::steady_clock::now();
    cancel.cancel();
    t.join();
    EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, 1s);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.status().code(), Errc::cancelled) << result.status().to_string();
    // The first round stays: its row and its answer.
    EXPECT_EQ(c->status()->pending, 0);
    EXPECT_EQ(c->status()->name, "Anna Berg-Ek");
    // The next sync continues from the first round's cursor.
    script.handler = nullptr;
    script.bodies.clear();
    pull(*c, {});
    ASSERT_FALSE(script.bodies.empty());
    EXPECT_NE(script.bodies[0].find("\"cursor\":\"" + first.cursor + "\""), std::string::npos) << script.bodies[0];
}

TEST_F(Ui, AnAnswerThatArrivesAfterTheCancelIsNotApplied) {
    auto c = as("participant");
    ASSERT_TRUE(c->enrol("o1"));
    SyncCancel cancel;
    // A transport that cannot be interrupted: the answer comes, but the sync was cancelled.
    script.handler = [&](const std::string&, const std::function<bool()>&) -> Result<HttpReply> {
        cancel.cancel();
        return reply(200, encode(page({change(Kind::person, person("p1", "Someone Else"), 20)},
                                      {{1, OutcomeResult::applied, "", "", "confirmed"}})));
    };
    SyncOptions so;
    so.cancel = cancel;
    auto r = c->sync(so);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::cancelled);
    EXPECT_EQ(c->status()->pending, 1) << "the answer was not applied: the action is sent again";
    EXPECT_EQ(c->status()->name, "Anna Berg");
}

TEST_F(Ui, ACancelledSyncStopsDuringABackOffWait) {
    fake_sleep = false;  // real waits: the back-off must end early when cancelled
    auto c = as("participant");
    script.handler = [&](const std::string&, const std::function<bool()>&) -> Result<HttpReply> {
        HttpReply r = reply(503, encode(ErrorBody{Errc::overloaded, "busy"}));
        r.headers["retry-after"] = "30";
        return r;
    };
    SyncCancel cancel;
    SyncOptions so;
    so.cancel = cancel;
    so.deadline = 120s;
    std::thread canceller([&] {
        std::this_thread::sleep_for(200ms);
        cancel.cancel();
    });
    auto started = std::chrono::steady_clock::now();
    auto r = c->sync(so);
    canceller.join();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::cancelled);
}

TEST_F(Ui, ASyncCancelledBeforeItStartsSendsNothing) {
    auto c = as("participant");
    SyncCancel cancel;
    cancel.cancel();
    SyncOptions so;
    so.cancel = cancel;
    script.bodies.clear();
    auto r = c->sync(so);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::cancelled);
    EXPECT_TRUE(script.bodies.empty());
}

// ---- PIN and offline password -----------------------------------------------------------------

TEST_F(Ui, WrongPinsWaitLongerAndLongerThenThePasswordIsNeeded) {
    auto c = as("participant");
    EXPECT_FALSE(c->has_pin());
    EXPECT_EQ(outcome_of(c->check_pin("1234")), "no_pin failures=0 retry=0");
    for (const char* bad : {"123", "1234567", "12a4", ""}) {
        Status st = c->set_pin(bad);
        EXPECT_EQ(st.code(), Errc::invalid_argument) << bad;
        EXPECT_NE(st.message().find("pin"), std::string::npos);
    }
    ASSERT_TRUE(c->set_pin("2468"));
    EXPECT_TRUE(c->has_pin());
    EXPECT_EQ(outcome_of(c->check_pin("2468")), "ok failures=0 retry=0");

    for (int i = 1; i <= 4; ++i)
        EXPECT_EQ(outcome_of(c->check_pin("0000")), "wrong failures=" + std::to_string(i) + " retry=0");
    EXPECT_EQ(outcome_of(c->check_pin("0000")), "wrong failures=5 retry=30");
    EXPECT_EQ(outcome_of(c->pin_status()), "wait failures=5 retry=30");
    // During the wait even the right PIN is refused, unchecked and uncounted.
    EXPECT_EQ(outcome_of(c->check_pin("2468")), "wait failures=5 retry=30");
    now += 10'000;
    EXPECT_EQ(outcome_of(c->check_pin("0000")), "wait failures=5 retry=20");
    // Counted in the replica: reopening (a restart of the app) does not reset it.
    c.reset();
    c = open();
    EXPECT_EQ(outcome_of(c->check_pin("2468")), "wait failures=5 retry=20");
    int wait = 30;
    for (int failures = 6; failures <= 9; ++failures) {
        now += wait * 1000;
        wait *= 2;
        EXPECT_EQ(outcome_of(c->check_pin("1111")),
                  "wrong failures=" + std::to_string(failures) + " retry=" + std::to_string(wait));
    }
    EXPECT_EQ(wait, 480);
    now += 480'000;
    EXPECT_EQ(outcome_of(c->check_pin("1111")), "password_needed failures=10 retry=0");
    now += 86'400'000;
    EXPECT_EQ(outcome_of(c->check_pin("2468")), "password_needed failures=10 retry=0");
    EXPECT_EQ(outcome_of(c->pin_status()), "password_needed failures=10 retry=0");
    // The password (checked offline against the login's verifier) forgives the wrong PINs.
    auto wrong = c->check_password("secret1?");
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.status().code(), Errc::unauthorized);
    ASSERT_TRUE(c->check_password("secret1!"));
    EXPECT_EQ(outcome_of(c->check_pin("2468")), "ok failures=0 retry=0");
}

TEST_F(Ui, ARightPinResetsTheCountAndANewPinTooAndTheStatusCountsNothing) {
    auto c = as("participant");
    EXPECT_EQ(outcome_of(c->pin_status()), "no_pin failures=0 retry=0");
    ASSERT_TRUE(c->set_pin("123456"));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(c->check_pin("654321")->outcome, PinCheck::Outcome::wrong);
    // Asking how things stand checks and counts nothing.
    for (int i = 0; i < 3; ++i) EXPECT_EQ(outcome_of(c->pin_status()), "ok failures=3 retry=0");
    EXPECT_EQ(c->check_pin("123456")->outcome, PinCheck::Outcome::ok);
    EXPECT_EQ(outcome_of(c->check_pin("654321")), "wrong failures=1 retry=0");
    ASSERT_TRUE(c->set_pin("9999"));
    EXPECT_EQ(outcome_of(c->check_pin("123456")), "wrong failures=1 retry=0");
    EXPECT_EQ(outcome_of(c->check_pin("9999")), "ok failures=0 retry=0");
}

TEST_F(Ui, APinNeedsALoginAndThePasswordCheckNeedsAVerifier) {
    auto c = open();
    EXPECT_EQ(c->set_pin("1234").code(), Errc::unauthorized);
    auto r = c->check_password("secret1!");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::conflict);
}

TEST_F(Ui, LogoutForgetsThePinThePasswordVerifierAndTheSettings) {
    auto c = as("participant");
    ASSERT_TRUE(c->set_pin("1234"));
    ASSERT_TRUE(c->set_setting("language", "en"));
    ASSERT_TRUE(c->logout());
    EXPECT_FALSE(c->has_pin());
    EXPECT_EQ(c->check_password("secret1!").status().code(), Errc::conflict);
    EXPECT_EQ(c->setting("language").value(), "");
    // Nothing of them is left in the file either.
    c.reset();
    sqlite3* db;
    ASSERT_EQ(sqlite3_open(path("r.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st;
    sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM unlock) + (SELECT count(*) FROM settings)", -1, &st, nullptr);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

TEST_F(Ui, AnotherUsersLoginForgetsThePreviousPinAndARevokedDeviceToo) {
    {
        auto c = as("participant");
        ASSERT_TRUE(c->set_pin("1234"));
        script.replies.push_back(login_reply("bo", "participant", "p2"));
        ASSERT_TRUE(c->login("http://test", "bo", "another1"));
        EXPECT_FALSE(c->has_pin());
        EXPECT_EQ(c->check_password("secret1!").status().code(), Errc::unauthorized);
        EXPECT_TRUE(c->check_password("another1"));
    }
    auto c = as("participant", "r2.db");
    ASSERT_TRUE(c->set_pin("1234"));
    script.replies.push_back(reply(401, encode(ErrorBody{Errc::revoked, "revoked"})));
    EXPECT_EQ(c->sync().status().code(), Errc::revoked);
    EXPECT_FALSE(c->has_pin());
    EXPECT_EQ(c->check_password("secret1!").status().code(), Errc::conflict);
}

// ---- settings -------------------------------------------------------------------------------

TEST_F(Ui, SettingsAreKeptInTheReplicaAndNeverSent) {
    {
        auto c = as("participant");
        EXPECT_EQ(c->setting("language").value(), "");
        ASSERT_TRUE(c->set_setting("language", "en"));
        ASSERT_TRUE(c->set_setting("language", "sv"));
        EXPECT_EQ(c->set_setting("", "x").code(), Errc::invalid_argument);
    }
    auto c = open();
    EXPECT_EQ(c->setting("language").value(), "sv");
    script.bodies.clear();
    pull(*c, {});
    ASSERT_EQ(script.bodies.size(), 1u);
    EXPECT_EQ(script.bodies[0].find("language"), std::string::npos);
    ASSERT_TRUE(c->set_setting("language", ""));  // empty: removed
    EXPECT_EQ(c->setting("language").value(), "");
}

// ---- views ----------------------------------------------------------------------------------

TEST_F(Ui, EnrolmentsAreFilteredByOccasionAndPersonAndCarryTheWaitlistPosition) {
    auto c = as("coordinator");
    pull(*c, {change(Kind::enrolment, enrolment("e1", "o1", "p1", "confirmed"), 20),
              change(Kind::enrolment, enrolment("e2", "o1", "p2", "waitlisted", 1, "waitlisted"), 21),
              change(Kind::enrolment, enrolment("e3", "o2", "p1", "waitlisted", 3, "waitlisted"), 22),
              // A stale position on a row that is no longer waiting is not shown.
              change(Kind::enrolment, enrolment("e4", "o2", "p2", "confirmed", 2), 23)});
    auto ids = [](const Result<std::vector<EnrolmentView>>& r) {
        std::string s;
        for (auto& e : r.value())
            s += e.id + (e.waitlist_position ? "#" + std::to_string(*e.waitlist_position) : "") + " ";
        return s;
    };
    EXPECT_EQ(ids(c->enrolments()), "e1 e2#1 e3#3 e4 ");
    EXPECT_EQ(ids(c->enrolments({.occasion = "o1"})), "e1 e2#1 ");
    EXPECT_EQ(ids(c->enrolments({.person = "p1"})), "e1 e3#3 ");
    EXPECT_EQ(ids(c->enrolments({.occasion = "o2", .person = "p2"})), "e4 ");
    EXPECT_EQ(ids(c->enrolments({.occasion = "o-none"})), "");
}

TEST_F(Ui, PersonsAreFoundByPartOfTheNameInAnyCaseAndBySite) {
    auto c = as("coordinator");
    Row erased = person("p3", "Raderad");
    erased["erased"] = true;
    pull(*c, {change(Kind::person, erased, 20),
              change(Kind::person, person("p4", "Örjan Åberg", "s2"), 21)});
    auto names = [](const Result<std::vector<PersonView>>& r) {
        std::string s;
        for (auto& p : r.value()) s += p.name + "@" + p.site_name + " ";
        return s;
    };
    EXPECT_EQ(names(c->persons()), "Anna Berg@Hemtjänst Åsa Öberg@Äldreboendet Örjan Åberg@Äldreboendet ");
    EXPECT_EQ(names(c->persons({.search = "ÅBERG"})), "Örjan Åberg@Äldreboendet ");
    EXPECT_EQ(names(c->persons({.search = "berg"})), "Anna Berg@Hemtjänst Åsa Öberg@Äldreboendet Örjan Åberg@Äldreboendet ");
    EXPECT_EQ(names(c->persons({.search = "åsa"})), "Åsa Öberg@Äldreboendet ");
    EXPECT_EQ(names(c->persons({.site = "s1"})), "Anna Berg@Hemtjänst ");
    EXPECT_EQ(names(c->persons({.site = "s2", .search = "ör"})), "Örjan Åberg@Äldreboendet ");
}

TEST_F(Ui, SitesOccasionsAndStatusCarryTheNamesTheReplicaHolds) {
    auto c = as("participant");
    auto sites = c->sites().value();
    ASSERT_EQ(sites.size(), 2u);
    EXPECT_EQ(sites[0].id, "s1");
    EXPECT_EQ(sites[0].name, "Hemtjänst");
    EXPECT_EQ(sites[0].organisation_name, "Arjeplogs kommun");
    auto occasions = c->courses()->at(0).occasions;
    ASSERT_EQ(occasions.size(), 2u);
    EXPECT_EQ(occasions[1].site_name, "Äldreboendet");
    EXPECT_EQ(occasions[1].enrolment_opens, "2026-11-01T08:00:00Z");
    EXPECT_EQ(c->status()->name, "Anna Berg");
}

TEST_F(Ui, APersonsAttendanceIsTheCurrentMarkPerOccasionNewestFirst) {
    auto c = as("coordinator");
    pull(*c, {change(Kind::attendance, mark("a1", "o1", "absent", 1), 20),
              change(Kind::attendance, mark("a2", "o1", "present", 5), 21),
              change(Kind::attendance, mark("a3", "o2", "late", 2), 22)});
    auto marks = c->attendance_of("p1").value();
    ASSERT_EQ(marks.size(), 2u);
    EXPECT_EQ(marks[0].occasion, "o2");
    EXPECT_EQ(marks[0].status, "late");
    EXPECT_EQ(marks[1].occasion, "o1");
    EXPECT_EQ(marks[1].status, "present");
    EXPECT_EQ(marks[1].history, 2);
    EXPECT_EQ(marks[1].person_name, "Anna Berg");
    EXPECT_TRUE(c->attendance_of("p2")->empty());
    EXPECT_EQ(c->attendance_of("p-none").status().code(), Errc::not_found);
    // A mark made here shows at once, pending.
    ASSERT_TRUE(c->mark_attendance("o2", "p1", "present"));
    marks = c->attendance_of("p1").value();
    EXPECT_EQ(marks[0].status, "present");
    EXPECT_TRUE(marks[0].pending);
}

// ---- login: install id and app version --------------------------------------------------------

TEST_F(Ui, LoginSendsTheInstallIdAndTheAppVersion) {
    auto c = open("r.db", "tundra-app/1.2");
    script.replies.push_back(login_reply("anna", "participant", "p1"));
    ASSERT_TRUE(c->login("http://test", "anna", "secret1!"));
    std::ifstream in(path("r.db.install-id"));
    std::string id;
    std::getline(in, id);
    ASSERT_EQ(id.size(), 32u);
    ASSERT_EQ(script.bodies.size(), 1u);
    auto req = decode_login_request(script.bodies[0].substr(script.bodies[0].find(' ') + 1));
    ASSERT_TRUE(req) << req.status().to_string();
    EXPECT_EQ(req->install_id, id);
    EXPECT_EQ(req->app_version, "tundra-app/1.2");
}

TEST_F(Ui, ReplicasSharingOneInstallIdFileLogInUnderOneInstallId) {
    // A shared tablet: one replica per person in one folder, one install id for the tablet.
    install_id_path = path("install-id");
    const int people = 6;
    script.handler = [&](const std::string&, const std::function<bool()>&) -> Result<HttpReply> {
        return login_reply("u", "participant", "p1");
    };
    {
        std::vector<std::unique_ptr<Client>> clients;
        for (int i = 0; i < people; ++i) clients.push_back(open("person" + std::to_string(i) + ".db"));
        std::vector<std::thread> ts;
        for (auto& c : clients)
            ts.emplace_back([&c] { EXPECT_TRUE(c->login("http://test", "u", "secret1!")); });
        for (auto& t : ts) t.join();
    }
    std::set<std::string> ids;
    for (auto& b : script.bodies) ids.insert(decode_login_request(b.substr(b.find(' ') + 1))->install_id);
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_EQ(ids.begin()->size(), 32u);
    // Every replica still holds its device identity when reopened: none looks like a copy.
    for (int i = 0; i < people; ++i) {
        auto c = open("person" + std::to_string(i) + ".db");
        EXPECT_EQ(c->status()->device_id, "dev-0123456789") << i;
    }
    EXPECT_FALSE(std::filesystem::exists(path("person0.db.install-id")));
}

// ---- migration ------------------------------------------------------------------------------

TEST_F(Ui, AVersion5ReplicaIsMigratedToVersion6KeepingItsRowsAndQueue) {
    {
        auto c = as("participant");
        ASSERT_TRUE(c->enrol("o1"));
    }
    // Make the file what the released build of schema 5 wrote.
    sqlite3* db;
    ASSERT_EQ(sqlite3_open(path("r.db").c_str(), &db), SQLITE_OK);
    for (const char* sql : {"DROP TABLE unlock", "DROP TABLE settings", "DROP INDEX enrolments_person",
                            "ALTER TABLE enrolments DROP COLUMN waitlist_position", "PRAGMA user_version = 5"})
        ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    auto c = open();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->status()->pending, 1);
    EXPECT_EQ(c->enrolments()->size(), 1u);
    EXPECT_FALSE(c->has_pin());
    // The new column and tables work: a waiting place arrives, a PIN and a setting are kept.
    pull(*c, {change(Kind::enrolment, enrolment("e9", "o2", "p1", "waitlisted", 4, "waitlisted"), 30)},
         {{1, OutcomeResult::applied, "", "", "confirmed"}});
    EXPECT_EQ(c->enrolments({.occasion = "o2"})->at(0).waitlist_position, 4);
    ASSERT_TRUE(c->set_pin("1234"));
    ASSERT_TRUE(c->set_setting("language", "en"));
    c.reset();
    ASSERT_EQ(sqlite3_open(path("r.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st;
    sqlite3_prepare_v2(db, "SELECT user_version FROM pragma_user_version", -1, &st, nullptr);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(st, 0), 6);
    sqlite3_finalize(st);
    sqlite3_close(db);
}
