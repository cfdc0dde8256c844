// The programme's own records in the SDK, offline: local checks of surveys, attestations,
// deviations, participations and walk-ins by name; the minutes marks suggest (Swedish months,
// summer time); `todo`; "changed for you" notices from pulled pages (and not from the user's
// own actions coming back); the replica's v4 -> v5 migration. The server is a script here.
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

int64_t at(const char* iso) { return parse_iso8601(iso).value(); }

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

Row occasion(const std::string& id, const std::string& starts, const std::string& ends,
             std::optional<std::string> survey_closes = {}) {
    Row r{{"id", id}, {"course", std::string("c1")}, {"starts_at", starts}, {"ends_at", ends},
          {"capacity", int64_t{5}}, {"enrolment_closes", starts}, {"status", std::string("planned")},
          {"confirmed", int64_t{1}}, {"waitlisted", int64_t{0}}};
    if (survey_closes) r["survey_closes"] = *survey_closes;
    return r;
}

Row mark(const std::string& id, const std::string& occ, const std::string& status,
         std::optional<int64_t> minutes, int64_t hlc, const std::string& source = "coordinator") {
    return {{"id", id}, {"occasion", occ}, {"person", std::string("p1")}, {"status", status},
            {"minutes", minutes ? Value(*minutes) : Value{}}, {"recorded_by", std::string("coord1")},
            {"source", source}, {"hlc", hlc}, {"device", std::string("d")}};
}

Row enrolment(const std::string& id, const std::string& occ, const std::string& status,
              std::optional<std::string> reason = {}) {
    return {{"id", id}, {"occasion", occ}, {"person", std::string("p1")}, {"status", status},
            {"reason", reason ? Value(*reason) : Value{}}, {"acted_hlc", int64_t{1}},
            {"updated_hlc", int64_t{1}}};
}

struct Records : ::testing::Test {
    std::filesystem::path dir;
    std::deque<Result<HttpReply>> replies;
    std::vector<std::string> bodies;
    int64_t now = at("2026-12-15T10:00:00Z");
    uint64_t cursor = 0;

    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "tundra-records-XXXXXX").string();
        dir = mkdtemp(tmpl.data());
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    std::string path(const char* name) { return (dir / name).string(); }

    std::unique_ptr<Client> open() {
        ClientOptions o;
        o.transport_factory = [this](const std::string&) {
            auto t = std::make_unique<Scripted>();
            t->replies = &replies;
            t->bodies = &bodies;
            return t;
        };
        o.sleep = [](std::chrono::milliseconds) {};
        o.wall_clock = [this] { return static_cast<uint64_t>(now); };
        auto c = Client::open(path("r.db"), o);
        EXPECT_TRUE(c) << c.status().to_string();
        return c ? std::move(c.value()) : nullptr;
    }

    // Logged in, with the rows of a small world pulled: organisation arjeplog, site s1, person p1.
    std::unique_ptr<Client> as(const std::string& role, const std::string& person = "p1",
                               StrList sites = {}) {
        auto c = open();
        LoginResponse lr;
        lr.token = "t";
        lr.device_id = "dev-0123456789";
        lr.user = {role == "participant" ? "part1" : role, role, person, std::move(sites)};
        lr.server_hlc = Hlc::from_parts(static_cast<uint64_t>(now), 0).value;
        replies.push_back(reply(200, encode(lr)));
        EXPECT_TRUE(c->login("http://test", lr.user.username, "pw"));
        pull({change(Kind::organisation, {{"id", std::string("arjeplog")}, {"name", std::string("Arjeplog")},
                                          {"county", std::string("Norrbotten")}}, 1),
              change(Kind::site, {{"id", std::string("s1")}, {"organisation", std::string("arjeplog")},
                                  {"name", std::string("Hemtjänst")}}, 2),
              change(Kind::person, {{"id", std::string("p1")}, {"organisation", std::string("arjeplog")},
                                    {"site", std::string("s1")}, {"name", std::string("Anna")},
                                    {"gender", std::string("woman")}, {"erased", false}}, 3),
              change(Kind::course, {{"id", std::string("c1")}, {"title", std::string("Stress och hälsa")},
                                    {"format", std::string("on_site")}, {"organisations", StrList{"arjeplog"}},
                                    {"published", true}}, 4)},
             *c);
        return c;
    }

    // One pulled page of server changes (and outcomes).
    void pull(std::vector<Change> changes, Client& c, std::vector<Outcome> outcomes = {}) {
        SyncResponse sr;
        sr.cursor = std::to_string(++cursor);
        sr.changes = std::move(changes);
        sr.outcomes = std::move(outcomes);
        replies.push_back(reply(200, encode(sr)));
        auto r = c.sync();
        ASSERT_TRUE(r) << r.status().to_string();
    }

    // The fields of the last action a sync would send, as JSON text.
    std::string queued_body(Client& c) {
        bodies.clear();
        replies.push_back(Status(Errc::unauthorized, "stop"));
        EXPECT_FALSE(c.sync());
        return bodies.empty() ? std::string() : bodies.back();
    }
};

std::string message(const Result<std::string>& r) { return r ? "ok " + r.value() : r.status().to_string(); }
}  // namespace

// ---- surveys -------------------------------------------------------------------------------

TEST_F(Records, ASurveyIsRefusedLocallyBeforeTheEndAfterTheCloseWithoutAnAttendedMarkOrABadRating) {
    auto c = as("participant");
    pull({change(Kind::occasion, occasion("o-future", "2026-12-20T09:00:00Z", "2026-12-20T11:00:00Z"), 10),
          change(Kind::occasion, occasion("o-old", "2026-10-01T09:00:00Z", "2026-10-01T11:00:00Z"), 11),
          change(Kind::occasion, occasion("o-closed", "2026-12-01T09:00:00Z", "2026-12-01T11:00:00Z",
                                          "2026-12-10T00:00:00Z"), 12),
          change(Kind::occasion, occasion("o-absent", "2026-12-02T09:00:00Z", "2026-12-02T11:00:00Z"), 13),
          change(Kind::occasion, occasion("o-ok", "2026-12-03T09:00:00Z", "2026-12-03T11:00:00Z"), 14),
          change(Kind::attendance, mark("m1", "o-old", "present", {}, 1), 15),
          change(Kind::attendance, mark("m2", "o-closed", "present", {}, 1), 16),
          change(Kind::attendance, mark("m3", "o-absent", "absent", {}, 1), 17),
          change(Kind::attendance, mark("m4", "o-ok", "late", 90, 1), 18),
          change(Kind::attendance, mark("m5", "o-future", "present", {}, 1), 19)},
         *c);
    SurveyInput ok{.occasion = "o-ok", .content = 4, .usefulness = 5, .overall = 4};
    auto bad = ok;
    bad.usefulness = 7;
    EXPECT_EQ(message(c->submit_survey(bad)),
              "invalid_argument: rating_usefulness (--usefulness) must be 1-5, not 7");
    bad = ok;
    bad.occasion = "o-future";
    EXPECT_EQ(message(c->submit_survey(bad)),
              "invalid_argument: the survey of o-future opens when the occasion has ended (2026-12-20 12:00)");
    bad.occasion = "o-old";  // ended 2026-10-01 11:00 UTC: 30 days later it closed
    EXPECT_EQ(message(c->submit_survey(bad)),
              "invalid_argument: the survey of o-old closed at 2026-10-31 12:00 (Swedish time)");
    bad.occasion = "o-closed";  // its own survey_closes
    EXPECT_EQ(message(c->submit_survey(bad)),
              "invalid_argument: the survey of o-closed closed at 2026-12-10 01:00 (Swedish time)");
    bad.occasion = "o-absent";
    EXPECT_EQ(message(c->submit_survey(bad)),
              "invalid_argument: no attended mark of yours at o-absent (present, late or left_early): "
              "only those who attended answer its survey");
    bad.occasion = "o-nowhere";
    EXPECT_EQ(c->submit_survey(bad).status().code(), Errc::not_found);
    EXPECT_EQ(c->status()->pending, 0) << "nothing refused was queued";

    auto first = c->submit_survey(ok);
    ASSERT_TRUE(first) << first.status().to_string();
    ok.overall = 2;
    ok.comment = "för kort";
    auto again = c->submit_survey(ok);
    ASSERT_TRUE(again) << again.status().to_string();
    EXPECT_EQ(first.value(), again.value()) << "answering again edits the one answer";
    EXPECT_EQ(c->status()->pending, 2);
    std::string body = queued_body(*c);
    EXPECT_NE(body.find(R"("type":"submit_survey")"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("rating_overall":2)"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("person":"p1")"), std::string::npos) << body;
}

TEST_F(Records, OnlyParticipantsAnswerSurveysAndAttestAndOnlyStaffKeepTheLogs) {
    auto c = as("coordinator", "", {"s1"});
    EXPECT_EQ(c->submit_survey({.occasion = "o1", .content = 3, .usefulness = 3, .overall = 3}).status().code(),
              Errc::forbidden);
    EXPECT_EQ(c->attest("2026-11", 60).status().code(), Errc::forbidden);
    auto p = as("participant");
    EXPECT_EQ(p->log_deviation({.organisation = "arjeplog", .category = "technical", .description = "x"})
                  .status().code(),
              Errc::forbidden);
    EXPECT_EQ(p->start_participation("p1", "2026-11").status().code(), Errc::forbidden);
    EXPECT_EQ(p->deviations().status().code(), Errc::forbidden);
}

// ---- attestation -----------------------------------------------------------------------------

// Summer time ends on 25 October 2026 and begins on 29 March 2026: an occasion starting at
// 22:30 UTC on 31 March is on 1 April in Sweden; one at 23:30 UTC on 31 October is on
// 1 November (CET, +1); one at 22:30 UTC on 31 October still on 31 October.
TEST_F(Records, TheSuggestionSumsCurrentAttendedMarksOfOccasionsStartingInTheSwedishMonth) {
    auto c = as("participant");
    pull({change(Kind::occasion, occasion("o-mar", "2026-03-31T21:30:00Z", "2026-03-31T23:30:00Z"), 10),
          change(Kind::occasion, occasion("o-apr", "2026-03-31T22:30:00Z", "2026-04-01T00:00:00Z"), 11),
          change(Kind::occasion, occasion("o-oct", "2026-10-31T22:30:00Z", "2026-10-31T23:15:00Z"), 12),
          change(Kind::occasion, occasion("o-nov1", "2026-10-31T23:30:00Z", "2026-11-01T01:30:00Z"), 13),
          change(Kind::occasion, occasion("o-nov2", "2026-11-10T09:00:00Z", "2026-11-10T12:00:00Z"), 14),
          change(Kind::occasion, occasion("o-nov3", "2026-11-11T09:00:00Z", "2026-11-11T12:00:00Z"), 15),
          change(Kind::occasion, occasion("o-nov4", "2026-11-12T09:00:00Z", "2026-11-12T12:00:00Z"), 16),
          change(Kind::occasion, occasion("o-nov5", "2026-11-13T09:00:00Z", "2026-11-13T12:00:00Z"), 17),
          change(Kind::attendance, mark("a1", "o-mar", "present", 100, 1), 20),
          change(Kind::attendance, mark("a2", "o-apr", "present", {}, 1), 21),   // 90 min long
          change(Kind::attendance, mark("a3", "o-oct", "left_early", 30, 1), 22),
          change(Kind::attendance, mark("a4", "o-nov1", "present", {}, 1), 23),  // 120 min long
          change(Kind::attendance, mark("a5", "o-nov2", "late", 150, 1), 24),
          // Superseded: a newer staff mark says absent.
          change(Kind::attendance, mark("a6", "o-nov3", "present", 180, 1), 25),
          change(Kind::attendance, mark("a7", "o-nov3", "absent", {}, 2), 26),
          // A self check-in is outranked by the staff mark, whatever its stamp.
          change(Kind::attendance, mark("a8", "o-nov4", "excused", {}, 1), 27),
          change(Kind::attendance, mark("a9", "o-nov4", "present", 170, 9, "self_check_in"), 28),
          // Unmarked and excused count nothing.
          change(Kind::attendance, mark("a10", "o-nov5", "unmarked", {}, 1), 29)},
         *c);
    auto expect = [&](const char* month, int64_t minutes, int64_t occasions) {
        auto s = c->attest_suggestion(month);
        ASSERT_TRUE(s) << s.status().to_string();
        EXPECT_EQ(s->suggested_minutes, minutes) << month;
        EXPECT_EQ(s->occasions, occasions) << month;
    };
    expect("2026-03", 100, 1);
    expect("2026-04", 90, 1);
    expect("2026-10", 30, 1);
    expect("2026-11", 120 + 150, 2);
    expect("2026-12", 0, 0);
    EXPECT_EQ(c->attest_suggestion("2026-13").status().to_string(),
              "invalid_argument: month: '2026-13' is not a month (YYYY-MM)");
}

TEST_F(Records, AttestingAgainEditsTheMonthsOneAttestationAndAFutureMonthIsRefused) {
    auto c = as("participant");
    EXPECT_EQ(message(c->attest("2027-01", 60)),
              "invalid_argument: month 2027-01 has not begun (it is 2026-12 in Sweden)");
    EXPECT_EQ(message(c->attest("2026-11", 50000)),
              "invalid_argument: minutes must be between 0 and 44640, not 50000");
    auto a = c->attest("2026-11", 240);
    ASSERT_TRUE(a) << a.status().to_string();
    auto s = c->attest_suggestion("2026-11").value();
    EXPECT_EQ(s.attested, 240);
    EXPECT_TRUE(s.pending);
    auto b = c->attest("2026-11", 200);
    ASSERT_TRUE(b);
    EXPECT_EQ(a.value(), b.value());
    EXPECT_EQ(c->attest_suggestion("2026-11")->attested, 200);
    // Once the server's row (its own id) is pulled, the month keeps that id.
    pull({change(Kind::time_attestation, {{"id", std::string("ta-server")}, {"person", std::string("p1")},
                                          {"month", std::string("2026-10")}, {"minutes", int64_t{30}},
                                          {"hlc", int64_t{1}}}, 40)},
         *c, {{1, OutcomeResult::applied, "", "", ""}, {2, OutcomeResult::applied, "", "", ""}});
    EXPECT_EQ(c->attest("2026-10", 45).value(), "ta-server");
}

// ---- deviations and participations ----------------------------------------------------------

TEST_F(Records, ADeviationsCategoryIsCheckedLocallyAndTheLogIsFiltered) {
    auto c = as("coordinator", "", {"s1"});
    EXPECT_EQ(message(c->log_deviation({.organisation = "arjeplog", .category = "weather", .description = "snö"})),
              "invalid_argument: category: 'weather' is not one of "
              "cancelled_session|technical|attendance|content|accessibility|other");
    EXPECT_EQ(c->log_deviation({.organisation = "nowhere", .category = "technical", .description = "x"})
                  .status().code(),
              Errc::not_found);
    EXPECT_EQ(c->log_deviation({.organisation = "arjeplog", .category = "technical", .description = ""})
                  .status().code(),
              Errc::invalid_argument);
    auto d1 = c->log_deviation({.organisation = "arjeplog", .category = "technical", .description = "Ingen ljud"});
    auto d2 = c->log_deviation({.organisation = "arjeplog", .category = "attendance", .description = "Få kom"});
    ASSERT_TRUE(d1 && d2);
    auto all = c->deviations().value();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].status, "open");
    EXPECT_TRUE(all[0].pending);
    auto handled = c->handle_deviation(d1.value(), "Bytte högtalare");
    ASSERT_TRUE(handled);
    EXPECT_EQ(handled.value(), d1.value());
    auto open = c->deviations({.status = "open"}).value();
    ASSERT_EQ(open.size(), 1u);
    EXPECT_EQ(open[0].id, d2.value());
    auto tech = c->deviations({.category = "technical"}).value();
    ASSERT_EQ(tech.size(), 1u);
    EXPECT_EQ(tech[0].action_taken, "Bytte högtalare");
    EXPECT_EQ(tech[0].status, "handled");
    EXPECT_EQ(c->deviations({.status = "closed"}).status().to_string(),
              "invalid_argument: status: 'closed' is not one of open|handled");
    EXPECT_EQ(c->handle_deviation(d2.value(), "").status().code(), Errc::invalid_argument);
    auto todo = c->todo().value();
    ASSERT_EQ(todo.open_deviations.size(), 1u) << "a coordinator's todo lists the open deviations";
    EXPECT_EQ(todo.open_deviations[0].id, d2.value());
}

TEST_F(Records, AParticipationStartsOnceAndEndsTheOpenOne) {
    auto c = as("admin", "");
    EXPECT_EQ(c->end_participation("p1", "2026-12").status().to_string(),
              "not_found: p1 has no open participation (start one with `tundra participation start p1 YYYY-MM`)");
    EXPECT_EQ(c->start_participation("p1", "2026-1").status().to_string(),
              "invalid_argument: start_month: '2026-1' is not a month (YYYY-MM)");
    EXPECT_EQ(c->start_participation("p-none", "2026-10").status().code(), Errc::not_found);
    auto id = c->start_participation("p1", "2026-10");
    ASSERT_TRUE(id) << id.status().to_string();
    auto again = c->start_participation("p1", "2026-11");
    EXPECT_EQ(again.status().code(), Errc::conflict);
    EXPECT_NE(again.status().message().find("already has an open participation (" + id.value() + ", since 2026-10)"),
              std::string::npos) << again.status().to_string();
    EXPECT_EQ(c->end_participation("p1", "2026-09").status().to_string(),
              "invalid_argument: end_month 2026-09 is before the start, 2026-10");
    auto end = c->end_participation("p1", "2026-12");
    ASSERT_TRUE(end);
    EXPECT_EQ(end.value(), id.value()) << "the open participation is ended, not a new one";
    EXPECT_EQ(c->start_participation("p1", "2026-11").status().code(), Errc::conflict) << "overlaps";
    std::string body = queued_body(*c);
    EXPECT_NE(body.find(R"("type":"upsert_participation")"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("end_month":"2026-12")"), std::string::npos) << body;
}

// ---- walk-ins by name -----------------------------------------------------------------------

TEST_F(Records, AWalkInByNameRegistersAProvisionalPersonEnrolmentAndMarkInOneAction) {
    auto c = as("coordinator", "", {"s1"});
    pull({change(Kind::occasion, occasion("o1", "2026-12-15T09:00:00Z", "2026-12-15T11:00:00Z"), 10),
          change(Kind::site, {{"id", std::string("s9")}, {"organisation", std::string("arjeplog")},
                              {"name", std::string("Annan")}}, 11)},
         *c);
    NewPersonInput p{.name = "Märta Walk", .site = "s1", .gender = "woman", .birth_year = 1970};
    auto bad = p;
    bad.gender = "female";
    EXPECT_EQ(c->walk_in_new("o1", bad).status().to_string(),
              "invalid_argument: gender: 'female' is not one of woman|man|non_binary|undisclosed");
    bad = p;
    bad.site = "s9";
    EXPECT_EQ(c->walk_in_new("o1", bad).status().code(), Errc::forbidden);
    bad = p;
    bad.birth_year = 1850;
    EXPECT_EQ(c->walk_in_new("o1", bad).status().code(), Errc::invalid_argument);
    auto r = c->walk_in_new("o1", p);
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(r->person.rfind("p-", 0), 0u) << r->person;
    EXPECT_EQ(c->status()->pending, 1) << "one action";
    auto marks = c->attendance("o1").value();
    ASSERT_EQ(marks.size(), 1u);
    EXPECT_EQ(marks[0].person_name, "Märta Walk");
    EXPECT_TRUE(marks[0].pending);
    auto es = c->enrolments().value();
    ASSERT_EQ(es.size(), 1u);
    EXPECT_EQ(es[0].status, "confirmed");
    EXPECT_EQ(es[0].reason, "walk_in");
    std::string body = queued_body(*c);
    EXPECT_NE(body.find(R"("name":"Märta Walk")"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("gender":"woman")"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("birth_year":1970)"), std::string::npos) << body;
}

// ---- todo and "changed for you" -------------------------------------------------------------

TEST_F(Records, TodoListsOpenSurveysAndMonthsToAttestWithTheSuggestedMinutes) {
    auto c = as("participant");
    pull({change(Kind::occasion, occasion("o-sep", "2026-09-10T09:00:00Z", "2026-09-10T11:00:00Z"), 10),
          change(Kind::occasion, occasion("o-nov", "2026-11-20T09:00:00Z", "2026-11-20T11:00:00Z"), 11),
          change(Kind::occasion, occasion("o-dec", "2026-12-10T09:00:00Z", "2026-12-10T10:00:00Z"), 12),
          change(Kind::occasion, occasion("o-dec2", "2026-12-11T09:00:00Z", "2026-12-11T10:00:00Z"), 13),
          change(Kind::attendance, mark("a1", "o-sep", "present", {}, 1), 20),
          change(Kind::attendance, mark("a2", "o-nov", "present", 100, 1), 21),
          change(Kind::attendance, mark("a3", "o-dec", "present", {}, 1), 22),
          change(Kind::attendance, mark("a4", "o-dec2", "present", {}, 1), 23),
          change(Kind::participation, {{"id", std::string("pt1")}, {"person", std::string("p1")},
                                       {"start_month", std::string("2026-08")}}, 24),
          change(Kind::time_attestation, {{"id", std::string("ta1")}, {"person", std::string("p1")},
                                          {"month", std::string("2026-08")}, {"minutes", int64_t{0}},
                                          {"hlc", int64_t{1}}}, 25),
          change(Kind::survey_response, {{"id", std::string("sr1")}, {"occasion", std::string("o-dec2")},
                                         {"person", std::string("p1")}, {"rating_content", int64_t{3}},
                                         {"rating_usefulness", int64_t{3}}, {"rating_overall", int64_t{3}},
                                         {"hlc", int64_t{1}}}, 26)},
         *c);
    auto t = c->todo();
    ASSERT_TRUE(t) << t.status().to_string();
    // o-sep's survey closed in October; o-dec2 is answered.
    ASSERT_EQ(t->surveys.size(), 2u);
    EXPECT_EQ(t->surveys[0].occasion, "o-nov");
    EXPECT_EQ(t->surveys[0].closes_at, "2026-12-20T11:00:00Z");
    EXPECT_EQ(t->surveys[0].closes_on, "2026-12-20");
    EXPECT_EQ(t->surveys[0].course_title, "Stress och hälsa");
    EXPECT_EQ(t->surveys[1].occasion, "o-dec");
    // August is attested; September to November have ended (December has not).
    std::vector<std::string> months;
    for (auto& m : t->months) months.push_back(m.month);
    EXPECT_EQ(months, (std::vector<std::string>{"2026-09", "2026-10", "2026-11"}));
    EXPECT_EQ(t->months[0].suggested_minutes, 120);
    EXPECT_EQ(t->months[1].suggested_minutes, 0);
    EXPECT_TRUE(t->months[1].in_participation);
    EXPECT_EQ(t->months[2].suggested_minutes, 100);
    // Answering and attesting takes them off the list at once, offline.
    ASSERT_TRUE(c->submit_survey({.occasion = "o-nov", .content = 5, .usefulness = 5, .overall = 5}));
    ASSERT_TRUE(c->attest("2026-10", 0));
    t = c->todo();
    ASSERT_EQ(t->surveys.size(), 1u);
    EXPECT_EQ(t->surveys[0].occasion, "o-dec");
    EXPECT_EQ(t->months.size(), 2u);
    // Past the 30 days, o-dec's survey is gone from the list.
    now = at("2027-01-09T10:00:00Z");
    EXPECT_TRUE(c->todo()->surveys.empty());
}

TEST_F(Records, ServerChangesToMyEnrolmentsAndOccasionsAreKeptAsNoticesUntilSeen) {
    auto c = as("participant");
    pull({change(Kind::occasion, occasion("o1", "2027-01-10T09:00:00Z", "2027-01-10T11:00:00Z"), 10),
          change(Kind::occasion, occasion("o2", "2027-01-11T09:00:00Z", "2027-01-11T11:00:00Z"), 11),
          change(Kind::occasion, occasion("o3", "2027-01-12T09:00:00Z", "2027-01-12T11:00:00Z"), 12),
          change(Kind::enrolment, enrolment("e1", "o1", "confirmed"), 13),
          change(Kind::enrolment, enrolment("e2", "o2", "waitlisted", "waitlisted"), 14),
          change(Kind::enrolment, enrolment("e3", "o3", "confirmed"), 15)},
         *c);
    EXPECT_TRUE(c->todo()->changed.empty()) << "rows new to the device are not changes";
    Row moved = occasion("o1", "2027-01-17T09:00:00Z", "2027-01-17T11:00:00Z");
    Row cancelled = occasion("o3", "2027-01-12T09:00:00Z", "2027-01-12T11:00:00Z");
    cancelled["status"] = std::string("cancelled");
    pull({change(Kind::enrolment, enrolment("e1", "o1", "waitlisted", "preempted"), 20),
          change(Kind::enrolment, enrolment("e2", "o2", "confirmed", "promoted"), 21),
          change(Kind::occasion, moved, 22),
          change(Kind::occasion, cancelled, 23),
          change(Kind::enrolment, enrolment("e3", "o3", "cancelled", "occasion_cancelled"), 24)},
         *c);
    auto t = c->todo().value();
    ASSERT_EQ(t.changed.size(), 4u);
    EXPECT_EQ(t.changed[0].kind, "preempted");
    EXPECT_EQ(t.changed[0].occasion, "o1");
    EXPECT_EQ(t.changed[0].message,
              "your seat at Stress och hälsa (o1), 2027-01-17 10:00–12:00, went to someone who "
              "enrolled first: you are on the waiting list")
        << "the occasion as it is now (it moved too)";
    EXPECT_EQ(t.changed[1].kind, "promoted");
    EXPECT_EQ(t.changed[1].message,
              "you got a seat at Stress och hälsa (o2), 2027-01-11 10:00–12:00, from the waiting list");
    EXPECT_EQ(t.changed[2].kind, "moved");
    EXPECT_EQ(t.changed[2].message,
              "Stress och hälsa (o1) moved from 2027-01-10 10:00–12:00 to 2027-01-17 10:00–12:00");
    EXPECT_EQ(t.changed[3].kind, "cancelled");
    EXPECT_EQ(t.changed[3].occasion, "o3");
    // Kept across a restart, until seen.
    c.reset();
    c = open();
    EXPECT_EQ(c->todo()->changed.size(), 4u);
    EXPECT_EQ(c->mark_notices_seen().value(), 4);
    EXPECT_TRUE(c->todo()->changed.empty());
    EXPECT_EQ(c->mark_notices_seen().value(), 0);
}

TEST_F(Records, AChangeThatIsTheUsersOwnActionComingBackIsNoNews) {
    // An admin who is also a participant moves an occasion they are enrolled on.
    auto c = as("admin", "p1");
    pull({change(Kind::occasion, occasion("o1", "2027-01-10T09:00:00Z", "2027-01-10T11:00:00Z"), 10),
          change(Kind::enrolment, enrolment("e1", "o1", "confirmed"), 11)},
         *c);
    ASSERT_TRUE(c->upsert_occasion({.id = "o1", .starts_at = "2027-01-20T09:00:00Z", .ends_at = "2027-01-20T11:00:00Z"}));
    // The server applies it: the outcome and the changed row come back in one page.
    pull({change(Kind::occasion, occasion("o1", "2027-01-20T09:00:00Z", "2027-01-20T11:00:00Z"), 20)},
         *c, {{1, OutcomeResult::applied, "", "", ""}});
    EXPECT_TRUE(c->todo()->changed.empty());
    // Someone else moves it afterwards: that is news.
    pull({change(Kind::occasion, occasion("o1", "2027-01-21T09:00:00Z", "2027-01-21T11:00:00Z"), 21)}, *c);
    auto t = c->todo().value();
    ASSERT_EQ(t.changed.size(), 1u);
    EXPECT_EQ(t.changed[0].kind, "moved");
    // Moved back before the user looked: the notice is withdrawn.
    pull({change(Kind::occasion, occasion("o1", "2027-01-20T09:00:00Z", "2027-01-20T11:00:00Z"), 22)}, *c);
    EXPECT_TRUE(c->todo()->changed.empty());
}

TEST_F(Records, NoticesAreAboutThisPersonOnly) {
    auto c = as("participant");
    Row other = enrolment("e9", "o1", "confirmed");
    other["person"] = std::string("p2");
    pull({change(Kind::occasion, occasion("o1", "2027-01-10T09:00:00Z", "2027-01-10T11:00:00Z"), 10),
          change(Kind::enrolment, other, 11)},
         *c);
    Row preempted = other;
    preempted["status"] = std::string("waitlisted");
    preempted["reason"] = std::string("preempted");
    pull({change(Kind::enrolment, preempted, 20),
          change(Kind::occasion, occasion("o1", "2027-01-11T09:00:00Z", "2027-01-11T11:00:00Z"), 21)},
         *c);
    EXPECT_TRUE(c->todo()->changed.empty()) << "not enrolled on o1, not p1's enrolment";
}

// ---- the replica's migration ----------------------------------------------------------------

TEST_F(Records, AVersion4ReplicaIsMigratedToVersion5KeepingItsRowsAndQueue) {
    std::string e;
    {
        auto c = as("participant");
        pull({change(Kind::occasion, occasion("o1", "2026-12-01T09:00:00Z", "2026-12-01T11:00:00Z"), 10)}, *c);
        auto id = c->enrol("o1");
        ASSERT_TRUE(id);
        e = id.value();
    }
    // Make the file what the build of schema 4 wrote: no issue-9 columns, no notices.
    sqlite3* db;
    ASSERT_EQ(sqlite3_open(path("r.db").c_str(), &db), SQLITE_OK);
    for (const char* sql : {"DROP TABLE notices", "DROP INDEX attendance_person",
                            "ALTER TABLE occasions DROP COLUMN survey_closes",
                            "ALTER TABLE persons DROP COLUMN provisional", "PRAGMA user_version = 4"})
        ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    auto c = open();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->status()->pending, 1);
    EXPECT_EQ(c->enrolments()->size(), 1u);
    EXPECT_EQ(c->courses()->at(0).occasions.at(0).id, "o1");
    EXPECT_TRUE(c->todo()->changed.empty());
    // The new columns and table work: a survey deadline arrives, a notice is recorded.
    Row later = occasion("o1", "2026-12-02T09:00:00Z", "2026-12-02T11:00:00Z", "2026-12-31T00:00:00Z");
    pull({change(Kind::enrolment, enrolment(e, "o1", "confirmed"), 20)}, *c,
         {{1, OutcomeResult::applied, "", "", "confirmed"}});
    pull({change(Kind::occasion, later, 21)}, *c);
    EXPECT_EQ(c->todo()->changed.size(), 1u);
    c.reset();
    ASSERT_EQ(sqlite3_open(path("r.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st;
    sqlite3_prepare_v2(db, "SELECT (SELECT user_version FROM pragma_user_version), survey_closes FROM occasions",
                       -1, &st, nullptr);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(st, 0), 6);  // and on to the current schema
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)), "2026-12-31T00:00:00Z");
    sqlite3_finalize(st);
    sqlite3_close(db);
}
