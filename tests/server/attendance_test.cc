// Issue 8, finding 3: attendance feeds ESF reports, so it cannot be falsified. Self check-in
// only on one's own confirmed place, in the occasion's window, for at most its length; staff
// mark enrolled people and record walk-ins; staff's marks outrank a self check-in.
#include "fixture.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
constexpr uint64_t kMinute = 60'000;
// o1 runs 2026-12-07 08:00-10:00Z, capacity 1, enrolment closes 2026-12-03.
const uint64_t kStart = static_cast<uint64_t>(parse_iso8601("2026-12-07T08:00:00Z").value());

struct Attendance : StoreFixture {
    uint64_t seq = 0;
    void SetUp() override {
        StoreFixture::SetUp();
        auto r = store->import_json(R"({
 "sites":[{"id":"s2","organisation":"arjeplog","name":"Särskilt boende"}],
 "persons":[{"id":"p3","organisation":"arjeplog","site":"s1","name":"Stina","gender":"woman","birth_year":1990},
            {"id":"p4","organisation":"arjeplog","site":"s1","name":"Lisa","gender":"woman","birth_year":1985},
            {"id":"p5","organisation":"arjeplog","site":"s2","name":"Olle","gender":"man","birth_year":1960}],
 "users":[{"username":"coord","password":"password1","role":"coordinator","sites":["s1"]}],
 "courses":[{"id":"c9","title":"Utkast","format":"on_site","organisations":[],"published":false}],
 "occasions":[{"id":"o9","course":"c9","starts_at":"2026-12-07T08:00:00Z","ends_at":"2026-12-07T10:00:00Z","capacity":5,"enrolment_closes":"2026-12-03T08:00:00Z"}]})");
        ASSERT_TRUE(r) << r.status().to_string();
    }
    AuthContext who(const std::string& user) {
        auto w = store->authenticate(login(user));
        EXPECT_TRUE(w) << w.status().to_string();
        return w ? w.value() : AuthContext{};
    }
    Outcome push(const AuthContext& w, const std::string& type, Row fields, uint64_t at_ms) {
        SyncRequest req;
        req.actions.push_back(Action{++seq, Hlc::from_parts(at_ms, 0), type, std::move(fields)});
        auto r = store->sync(w, req);
        EXPECT_TRUE(r) << r.status().to_string();
        return r && !r->outcomes.empty() ? r->outcomes[0] : Outcome{};
    }
    Outcome mark(const AuthContext& w, const std::string& id, const std::string& occasion,
                 const std::string& person, const std::string& status, int64_t minutes, uint64_t at_ms) {
        return push(w, "mark_attendance",
                    {{"mark", id}, {"occasion", occasion}, {"person", person}, {"status", status},
                     {"minutes", minutes}},
                    at_ms);
    }
    void enrol(const std::string& id, const std::string& person) {
        auto o = push(who("admin"), "enrol", {{"enrolment", id}, {"occasion", "o1"}, {"person", person}}, now);
        ASSERT_NE(o.result, OutcomeResult::rejected) << o.message;
    }
    // The current mark by the documented rule: newest by (source rank, HLC, device).
    std::string current(const std::string& occasion, const std::string& person) {
        auto q = store->db().query("SELECT status FROM attendance a WHERE occasion = ? AND person = ? ORDER BY " +
                                   attendance_current_order_sql("a") + " LIMIT 1");
        q->bind(1, occasion).bind(2, person);
        return q->step().value() ? q->text(0) : "";
    }
    int64_t marks() { return scalar("SELECT count(*) FROM attendance"); }
};
}  // namespace

TEST_P(Attendance, AParticipantCannotCheckInWhereSheHasNoPlace) {
    now = kStart;
    auto anna = who("anna");
    Outcome o = mark(anna, "m1", "o1", "p1", "present", 1440, now);
    EXPECT_EQ(o.result, OutcomeResult::rejected);
    EXPECT_EQ(o.reason, "not_enrolled") << o.message;
    // An occasion of an unpublished course is not even visible to her.
    o = mark(anna, "m2", "o9", "p1", "present", 1440, now);
    EXPECT_EQ(o.reason, "not_found") << o.message;
    EXPECT_EQ(marks(), 0);
}

TEST_P(Attendance, ACoordinatorCannotMarkStaffWhoAreNotEnrolled) {
    now = kStart;
    Outcome o = mark(who("coord"), "m1", "o1", "p2", "present", 120, now);
    EXPECT_EQ(o.result, OutcomeResult::rejected);
    EXPECT_EQ(o.reason, "not_enrolled") << o.message;
    EXPECT_EQ(marks(), 0);
}

TEST_P(Attendance, SelfCheckInNeedsTheWindowAndAtMostTheOccasionsLength) {
    enrol("e1", "p1");  // confirmed (capacity 1)
    auto anna = who("anna");
    EXPECT_EQ(mark(anna, "m1", "o1", "p1", "present", 60, now).reason, "outside_window");  // two weeks early
    now = kStart - 31 * kMinute;
    anna = who("anna");
    EXPECT_EQ(mark(anna, "m2", "o1", "p1", "present", 60, now).reason, "outside_window");
    now = kStart - 29 * kMinute;
    anna = who("anna");
    EXPECT_EQ(mark(anna, "m3", "o1", "p1", "present", 121, now).reason, "invalid");
    EXPECT_EQ(marks(), 0);
    Outcome ok = mark(anna, "m4", "o1", "p1", "present", 120, now);
    EXPECT_EQ(ok.result, OutcomeResult::applied) << ok.message;
    now = kStart + 120 * kMinute + 24 * 60 * kMinute + kMinute;  // a day and a minute after the end
    anna = who("anna");
    EXPECT_EQ(mark(anna, "m5", "o1", "p1", "present", 60, now).reason, "outside_window");
    EXPECT_EQ(marks(), 1);
}

// A participant's check-in stamped ahead of the coordinator's later correction loses to it,
// whatever order they arrive in.
TEST_P(Attendance, StaffsCorrectionOutranksASelfCheckInStampedLater) {
    enrol("e1", "p1");
    now = kStart + 10 * kMinute;
    auto anna = who("anna");
    ASSERT_EQ(mark(anna, "m-self", "o1", "p1", "present", 120, now + 5 * kMinute).result,
              OutcomeResult::applied);
    auto coord = who("coord");
    Outcome fix = mark(coord, "m-fix", "o1", "p1", "absent", 0, now + kMinute);
    EXPECT_EQ(fix.result, OutcomeResult::applied) << fix.message;
    EXPECT_EQ(current("o1", "p1"), "absent");
    // And the other way round: a check-in arriving after the correction is history.
    Outcome late = mark(anna, "m-self2", "o1", "p1", "present", 120, now + 8 * kMinute);
    EXPECT_EQ(late.result, OutcomeResult::adjusted);
    EXPECT_EQ(late.reason, "superseded");
    EXPECT_EQ(current("o1", "p1"), "absent");
}

TEST_P(Attendance, StaffMarkConfirmedAndWaitlistedPeople) {
    enrol("e1", "p1");
    enrol("e2", "p2");  // waitlisted: capacity 1
    now = kStart;
    auto coord = who("coord");
    EXPECT_EQ(mark(coord, "m1", "o1", "p1", "present", 120, now).result, OutcomeResult::applied);
    EXPECT_EQ(mark(coord, "m2", "o1", "p2", "present", 120, now).result, OutcomeResult::applied);
    EXPECT_EQ(marks(), 2);
}

TEST_P(Attendance, AWalkInIsConfirmedOverCapacityTakesNobodysSeatAndCountsOnce) {
    enrol("e1", "p1");  // confirmed, the only seat
    enrol("e2", "p2");  // waitlisted
    auto coord = who("coord");
    SyncRequest req;
    req.actions.push_back(Action{++seq, Hlc::from_parts(now, 0), "walk_in",
                                 Row{{"enrolment", "e-walk"}, {"mark", "m-walk"}, {"occasion", "o1"},
                                     {"person", "p4"}, {"minutes", int64_t{90}}}});
    auto r = store->sync(coord, req);
    ASSERT_TRUE(r) << r.status().to_string();
    ASSERT_EQ(r->outcomes.size(), 1u);
    EXPECT_EQ(r->outcomes[0].result, OutcomeResult::applied) << r->outcomes[0].message;
    EXPECT_EQ(r->outcomes[0].status, "confirmed");
    auto row = [&](const std::string& sql) {
        auto q = store->db().query(sql);
        return q->step().value() ? q->text(0) : std::string("(none)");
    };
    EXPECT_EQ(row("SELECT status || '/' || coalesce(reason, '') FROM enrolments WHERE id = 'e-walk'"),
              "confirmed/walk_in");
    EXPECT_EQ(row("SELECT status || '/' || coalesce(reason, '') FROM enrolments WHERE id = 'e1'"),
              "confirmed/") << "the walk-in pre-empted a confirmed seat";
    EXPECT_EQ(row("SELECT status FROM enrolments WHERE id = 'e2'"), "waitlisted");
    EXPECT_EQ(row("SELECT confirmed || '/' || waitlisted FROM occasions WHERE id = 'o1'"), "2/1");
    EXPECT_EQ(row("SELECT person || '/' || status || '/' || minutes || '/' || source FROM attendance "
                  "WHERE id = 'm-walk'"),
              "p4/present/90/coordinator");
    // A later enrolment still waits: the walk-in did not free or take a seat.
    enrol("e3", "p3");
    EXPECT_EQ(row("SELECT status FROM enrolments WHERE id = 'e-walk'"), "confirmed");
    EXPECT_EQ(row("SELECT status FROM enrolments WHERE id = 'e1'"), "confirmed");
    // The same request again (a lost reply): the same outcome, nothing twice.
    auto again = store->sync(coord, req);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->outcomes[0].result, OutcomeResult::applied);
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments WHERE person = 'p4'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM attendance WHERE person = 'p4'"), 1);
    // Once there, the person is marked, not walked in again.
    Outcome twice = push(coord, "walk_in",
                         {{"enrolment", "e-walk2"}, {"mark", "m-walk2"}, {"occasion", "o1"}, {"person", "p4"}}, now);
    EXPECT_EQ(twice.reason, "already_enrolled");
}

TEST_P(Attendance, AWalkInOutOfScopeIsRefused) {
    auto coord = who("coord");
    Row f{{"enrolment", "e-w"}, {"mark", "m-w"}, {"occasion", "o1"}, {"person", "p5"}};  // p5 is at s2
    EXPECT_EQ(push(coord, "walk_in", f, now).reason, "not_found");
    f["occasion"] = std::string("o9");  // unpublished: coordinators do not see it
    f["person"] = std::string("p4");
    EXPECT_EQ(push(coord, "walk_in", f, now).reason, "not_found");
    f["occasion"] = std::string("o1");
    f["person"] = std::string("p1");
    EXPECT_EQ(push(who("anna"), "walk_in", f, now).reason, "forbidden");
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments"), 0);
    EXPECT_EQ(marks(), 0);
}

TUNDRA_STORE_BACKENDS(Attendance);
