// End-to-end rules of the brief through the real client and server code, in-process.
#include <gtest/gtest.h>

#include <map>

#include "loopback.h"

using namespace tundra;
using namespace tundra::testing;

namespace {
client::EnrolmentView find(client::Client& c, const std::string& id) {
    for (auto& e : c.enrolments().value())
        if (e.id == id) return e;
    return {};
}
constexpr uint64_t kMinute = 60000;
}  // namespace

TEST(Sync, OfflineEnrolmentIsVisibleAtOnceThenConfirmed) {
    World w;
    auto anna = w.client("anna.db", "part1");
    sync_ok(*anna);
    auto id = anna->enrol("o1");
    ASSERT_TRUE(id) << id.status().to_string();
    auto e = find(*anna, id.value());
    EXPECT_EQ(e.status, "requested");
    EXPECT_TRUE(e.pending);
    EXPECT_EQ(anna->status()->pending, 1);
    sync_ok(*anna);
    e = find(*anna, id.value());
    EXPECT_EQ(e.status, "confirmed");
    EXPECT_FALSE(e.pending);
    EXPECT_EQ(anna->status()->pending, 0);
}

TEST(Sync, ScopesLimitWhatEachDeviceReceives) {
    World w;
    auto p1 = w.client("p1.db", "part1");
    auto p3 = w.client("p3.db", "part3");
    auto c1 = w.client("c1.db", "coord1");
    auto admin = w.client("a.db", "admin");
    for (auto* c : {p1.get(), p3.get(), c1.get(), admin.get()}) sync_ok(*c);
    auto ids = [](client::Client& c, const char* table) {
        std::vector<std::string> out;
        auto snap = c.snapshot().value();
        for (auto& row : snap[table]) out.push_back(row.substr(row.find("\"id\":\"") + 6, 2));
        std::sort(out.begin(), out.end());
        return out;
    };
    EXPECT_EQ(ids(*p1, "courses"), (std::vector<std::string>{"c1"}));        // c2 is Pajala's, c3 a draft
    EXPECT_EQ(ids(*p3, "courses"), (std::vector<std::string>{"c1", "c2"}));
    EXPECT_EQ(ids(*admin, "courses"), (std::vector<std::string>{"c1", "c2", "c3"}));
    EXPECT_EQ(ids(*p1, "persons"), (std::vector<std::string>{"p1"}));
    EXPECT_EQ(ids(*c1, "persons").size(), 6u);  // s1 and s2
    EXPECT_EQ(ids(*admin, "persons").size(), 9u);
    // A coordinator cannot enrol someone outside their sites: not even in their replica.
    auto r = c1->enrol("o1", "p7");
    EXPECT_EQ(r.status().code(), Errc::not_found);
}

TEST(Sync, DroppedResponseIsRetriedAndAppliedExactlyOnce) {
    World w;
    auto anna = w.client("anna.db", "part1");
    sync_ok(*anna);
    auto id = anna->enrol("o1");
    ASSERT_TRUE(id);
    // The server commits, the answer is lost: the retry must get the original outcome.
    int n = 0;
    w.faults = [&n] { return n++ == 0 ? Fault::drop_response : Fault::none; };
    auto flaky = w.open_client("anna.db");
    auto r = flaky->sync();
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(r->requests, 2);
    ASSERT_EQ(r->outcomes.size(), 1u);
    EXPECT_EQ(r->outcomes[0].result, "applied");
    EXPECT_EQ(w.scalar("SELECT count(*) FROM enrolments WHERE person = 'p1'"), 1);
    EXPECT_EQ(w.scalar("SELECT count(*) FROM applied_actions"), 1);
}

TEST(Sync, DuplicatedRequestDoesNotDoubleApply) {
    World w;
    auto c = w.client("c.db", "coord1");
    sync_ok(*c);
    ASSERT_TRUE(c->enrol("o1", "p1"));
    ASSERT_TRUE(c->mark_attendance("o1", "p1", "present", 120));
    w.faults = [] { return Fault::duplicate; };
    auto dup = w.open_client("c.db");
    auto r = dup->sync();
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(w.scalar("SELECT count(*) FROM enrolments WHERE person = 'p1'"), 1);
    EXPECT_EQ(w.scalar("SELECT count(*) FROM attendance"), 1);
    for (auto& o : r->outcomes) EXPECT_EQ(o.result, "applied") << o.message;
}

TEST(Sync, EarlierOfflineActorPreemptsLaterSeatBeforeClose) {
    World w;
    auto p1 = w.client("p1.db", "part1");
    auto p2 = w.client("p2.db", "part2");
    sync_ok(*p1);
    sync_ok(*p2);
    w.now += kMinute;
    auto early = p1->enrol("o2");  // o2 has one seat; part1 acts first, offline
    w.now += kMinute;
    auto late = p2->enrol("o2");
    sync_ok(*p2);
    EXPECT_EQ(find(*p2, late.value()).status, "confirmed");
    w.now += kMinute;
    auto r = p1->sync();
    ASSERT_TRUE(r);
    EXPECT_EQ(find(*p1, early.value()).status, "confirmed");
    sync_ok(*p2);
    auto displaced = find(*p2, late.value());
    EXPECT_EQ(displaced.status, "waitlisted");
    EXPECT_EQ(displaced.reason, "preempted");
}

TEST(Sync, BackdatedClockIsClampedToTheLastSync) {
    World w;
    auto p1 = w.client("p1.db", "part1");
    sync_ok(*p1);
    w.now += kMinute;
    auto honest = p1->enrol("o2");  // at T+1 min
    w.now += kMinute;
    {
        auto p2 = w.client("p2.db", "part2");
        sync_ok(*p2);  // last successful sync at T+2 min
    }
    // part2's tablet clock is now a week behind: its stamp would beat everyone.
    auto p2 = w.open_client("p2.db", -7 * 24 * 60 * kMinute);
    w.now += kMinute;
    auto cheat = p2->enrol("o2");
    sync_ok(*p2);
    sync_ok(*p1);
    EXPECT_EQ(find(*p1, honest.value()).status, "confirmed");
    sync_ok(*p2);
    EXPECT_EQ(find(*p2, cheat.value()).status, "waitlisted");
}

TEST(Sync, LateEnrolmentIsRejectedVisiblyAndDismissable) {
    World w;
    auto p1 = w.client("p1.db", "part1");
    sync_ok(*p1);
    w.now += 2 * 60 * kMinute;  // o4's enrolment closed an hour ago
    auto id = p1->enrol("o4");
    ASSERT_TRUE(id);
    auto later = p1->enrol("o1");  // a later action must not be blocked
    auto r = p1->sync();
    ASSERT_TRUE(r);
    auto e = find(*p1, id.value());
    EXPECT_EQ(e.status, "rejected");
    EXPECT_EQ(e.reason, "enrolment_closed");
    EXPECT_FALSE(e.pending);
    EXPECT_NE(e.message.find("closed"), std::string::npos);
    EXPECT_EQ(find(*p1, later.value()).status, "confirmed");
    auto st = p1->status().value();
    ASSERT_EQ(st.rejected.size(), 1u);
    EXPECT_EQ(st.rejected[0].reason, "enrolment_closed");
    ASSERT_TRUE(p1->dismiss(st.rejected[0].seq));
    EXPECT_TRUE(p1->status()->rejected.empty());
    EXPECT_EQ(find(*p1, id.value()).id, "");
}

TEST(Sync, CancellationPromotesTheEarliestWaitlisted) {
    World w;
    auto c = w.client("c.db", "coord1");
    sync_ok(*c);
    auto a = c->enrol("o2", "p1");
    w.now += kMinute;
    auto b = c->enrol("o2", "p4");
    w.now += kMinute;
    auto d = c->enrol("o2", "p5");
    sync_ok(*c);
    EXPECT_EQ(find(*c, a.value()).status, "confirmed");
    EXPECT_EQ(find(*c, b.value()).status, "waitlisted");
    ASSERT_TRUE(c->cancel(a.value()));
    EXPECT_EQ(find(*c, a.value()).status, "cancelled");
    EXPECT_TRUE(find(*c, a.value()).pending);
    sync_ok(*c);
    EXPECT_EQ(find(*c, b.value()).status, "confirmed");
    EXPECT_EQ(find(*c, b.value()).reason, "promoted");
    EXPECT_EQ(find(*c, d.value()).status, "waitlisted");
}

TEST(Sync, OlderOfflineEditNeverOverwritesANewerOne) {
    World w;
    auto monday = w.client("a1.db", "admin");
    auto wednesday = w.client("a2.db", "admin");
    sync_ok(*monday);
    sync_ok(*wednesday);
    client::CourseInput old_edit{.id = "c1"};
    old_edit.title = "Monday's title";
    old_edit.provider = "Region Norrbotten";
    ASSERT_TRUE(monday->upsert_course(old_edit));
    w.now += 2 * 24 * 60 * kMinute;
    client::CourseInput new_edit{.id = "c1"};
    new_edit.title = "Wednesday's title";
    ASSERT_TRUE(wednesday->upsert_course(new_edit));
    sync_ok(*wednesday);
    w.now += 2 * 24 * 60 * kMinute;  // Monday's edit arrives on Friday
    auto r = monday->sync();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcomes[0].result, "adjusted");
    EXPECT_EQ(r->outcomes[0].reason, "superseded");
    sync_ok(*wednesday);
    for (auto* c : {monday.get(), wednesday.get()}) {
        auto courses = c->courses().value();
        auto it = std::find_if(courses.begin(), courses.end(), [](auto& x) { return x.id == "c1"; });
        EXPECT_EQ(it->title, "Wednesday's title");
        EXPECT_EQ(it->provider, "Region Norrbotten");  // a field only Monday touched still applies
    }
}

TEST(Sync, ConcurrentAttendanceMarksConvergeAndKeepHistory) {
    World w;
    add_roster(w);  // staff mark enrolled people only
    auto coord = w.client("c.db", "coord1");
    auto admin = w.client("a.db", "coord3");  // a second coordinator of the same site
    sync_ok(*coord);
    sync_ok(*admin);
    ASSERT_TRUE(coord->mark_attendance("o1", "p1", "absent"));
    w.now += kMinute;
    ASSERT_TRUE(admin->mark_attendance("o1", "p1", "present", 110));
    sync_ok(*admin);
    auto r = coord->sync();  // the older mark arrives last
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcomes[0].result, "adjusted");
    sync_ok(*admin);
    for (auto* c : {coord.get(), admin.get()}) {
        auto marks = c->attendance("o1").value();
        ASSERT_EQ(marks.size(), 1u);
        EXPECT_EQ(marks[0].status, "present");
        EXPECT_EQ(marks[0].history, 2);
    }
}

// Issue 8: a participant's check-in stamped minutes ahead loses to the coordinator's later
// correction, on the server and in every replica's view, in whichever order they arrive.
TEST(Sync, StaffsCorrectionOutranksASelfCheckInStampedAheadInEveryView) {
    World w;
    add_roster(w);  // p1 has a place on o1
    w.now += 14 * 24 * 60 * kMinute + 10 * kMinute;  // o1 started ten minutes ago
    auto part = w.client("p.db", "part1", 5 * static_cast<int64_t>(kMinute));  // clock 5 min ahead
    auto coord = w.client("c.db", "coord1");
    sync_ok(*part);
    ASSERT_TRUE(part->mark_attendance("o1", "p1", "present", 120));
    sync_ok(*part);
    sync_ok(*coord);
    ASSERT_EQ(coord->attendance("o1").value()[0].status, "present");
    w.now += kMinute;  // a minute later, the coordinator corrects: she is not here
    ASSERT_TRUE(coord->mark_attendance("o1", "p1", "absent", 0));
    auto local = coord->attendance("o1").value();
    ASSERT_EQ(local.size(), 1u);
    EXPECT_EQ(local[0].person, "p1");
    EXPECT_EQ(local[0].status, "absent") << "the queued correction is the current mark at once";
    auto r = coord->sync();
    ASSERT_TRUE(r) << r.status().to_string();
    ASSERT_EQ(r->outcomes.size(), 1u);
    EXPECT_EQ(r->outcomes[0].result, "applied") << r->outcomes[0].message;
    sync_ok(*part);
    for (auto* c : {coord.get(), part.get()}) {
        auto marks = c->attendance("o1").value();
        ASSERT_FALSE(marks.empty());
        EXPECT_EQ(marks[0].person, "p1");
        EXPECT_EQ(marks[0].status, "absent");
        EXPECT_EQ(marks[0].history, 2);
    }
}

// Issue 8: a walk-in shows at once offline (enrolment confirmed/walk_in and the mark), takes
// nobody's seat, and a lost reply does not make it twice.
TEST(Sync, AWalkInShowsAtOnceTakesNobodysSeatAndIsAppliedOnce) {
    World w;
    auto admin = w.client("a.db", "admin");
    sync_ok(*admin);
    ASSERT_TRUE(admin->enrol("o1", "p2"));
    ASSERT_TRUE(admin->enrol("o1", "p3"));  // o1 holds 2: now full
    sync_ok(*admin);
    auto coord = w.client("c.db", "coord1");
    sync_ok(*coord);
    auto receipt = coord->walk_in("o1", "p1", "present", 100);
    ASSERT_TRUE(receipt) << receipt.status().to_string();
    auto shown = [&](bool pending) {
        bool enrolled = false;
        for (auto& e : coord->enrolments().value())
            if (e.id == receipt->enrolment) {
                enrolled = true;
                EXPECT_EQ(e.status, "confirmed");
                EXPECT_EQ(e.reason, "walk_in");
                EXPECT_EQ(e.pending, pending);
            }
        EXPECT_TRUE(enrolled);
        bool marked = false;
        for (auto& m : coord->attendance("o1").value())
            if (m.person == "p1") {
                marked = true;
                EXPECT_EQ(m.status, "present");
                EXPECT_EQ(m.minutes, 100);
                EXPECT_EQ(m.pending, pending);
            }
        EXPECT_TRUE(marked);
    };
    shown(true);
    w.faults = [] { return Fault::drop_response; };  // applied; the answer is lost
    {
        auto lost = w.open_client("c.db");
        client::SyncOptions once;
        once.deadline = std::chrono::milliseconds(0);
        EXPECT_FALSE(lost->sync(once));
    }
    w.faults = {};
    EXPECT_EQ(w.scalar("SELECT count(*) FROM enrolments WHERE reason = 'walk_in'"), 1);
    shown(true);  // still queued: the device never heard back
    sync_ok(*coord);
    shown(false);
    EXPECT_EQ(w.scalar("SELECT count(*) FROM enrolments WHERE person = 'p1'"), 1);
    EXPECT_EQ(w.scalar("SELECT count(*) FROM attendance WHERE person = 'p1'"), 1);
    EXPECT_EQ(w.scalar("SELECT count(*) FROM enrolments WHERE occasion = 'o1' AND status = 'confirmed'"), 3);
    EXPECT_EQ(w.scalar("SELECT confirmed FROM occasions WHERE id = 'o1'"), 3);
    expect_converged(w, *coord, "coord1");
}

TEST(Sync, LargePullComesInPagesThatEachCommitWithTheirCursor) {
    World w;
    auto admin = w.client("a.db", "admin");
    client::SyncOptions so;
    so.page_rows = 4;
    auto r = admin->sync(so);
    ASSERT_TRUE(r);
    EXPECT_GT(r->rounds, 4);
    expect_converged(w, *admin, "admin");
}

TEST(Sync, BadCredentialsAndRevokedDevicesStopAtOnce) {
    World w;
    auto c = w.open_client("x.db");
    Status st = c->login("http://loopback", "part1", "wrong-password");
    EXPECT_EQ(st.code(), Errc::unauthorized);
    auto p1 = w.client("p1.db", "part1");
    sync_ok(*p1);
    ASSERT_TRUE(w.store->revoke_device(p1->status()->device_id));
    auto r = p1->sync();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::revoked);  // not `unauthorized`: the device wipes
    EXPECT_EQ(r.status().message().find("gave up"), std::string::npos);  // no pointless retries
    for (auto& [table, rows] : p1->snapshot().value()) EXPECT_TRUE(rows.empty()) << table;
}

TEST(Sync, AClockFarAheadIsBoundedWithAClearReason) {
    World w;
    auto honest = w.client("h.db", "admin");
    sync_ok(*honest);
    // A tablet whose clock is set a year ahead edits the course title offline...
    auto ahead = w.client("f.db", "admin", 365LL * 24 * 60 * kMinute);
    sync_ok(*ahead);
    client::CourseInput future{.id = "c1"};
    future.title = "From the future";
    ASSERT_TRUE(ahead->upsert_course(future));
    auto r = ahead->sync();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcomes[0].result, "adjusted");
    EXPECT_EQ(r->outcomes[0].reason, "clock_ahead");
    EXPECT_NE(r->outcomes[0].message.find("ahead"), std::string::npos);
    // ...and an honest edit made an hour later still wins.
    w.now += 60 * kMinute;
    client::CourseInput later{.id = "c1"};
    later.title = "An hour later";
    ASSERT_TRUE(honest->upsert_course(later));
    auto r2 = honest->sync();
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->outcomes[0].result, "applied");
    sync_ok(*ahead);
    for (auto* c : {honest.get(), ahead.get()}) {
        auto courses = c->courses().value();
        EXPECT_EQ(std::find_if(courses.begin(), courses.end(), [](auto& x) { return x.id == "c1"; })->title,
                  "An hour later");
    }
}

TEST(Sync, SkewedClocksStillOrderEditsCausally) {
    World w;
    // Two admins' tablets: one two days behind, one two days ahead of real time.
    auto behind = w.client("b.db", "admin", -2 * 24 * 60 * kMinute);
    auto fast = w.client("f.db", "admin", 2 * 24 * 60 * kMinute);
    sync_ok(*fast);
    client::CourseInput first{.id = "c1"};
    first.title = "First edit (fast clock)";
    ASSERT_TRUE(fast->upsert_course(first));
    sync_ok(*fast);
    w.now += kMinute;
    sync_ok(*behind);  // sees the first edit, and with it the fast device's stamp
    client::CourseInput second{.id = "c1"};
    second.title = "Second edit (slow clock), made after seeing the first";
    ASSERT_TRUE(behind->upsert_course(second));
    sync_ok(*behind);
    sync_ok(*fast);
    for (auto* c : {behind.get(), fast.get()}) {
        auto courses = c->courses().value();
        EXPECT_EQ(std::find_if(courses.begin(), courses.end(), [](auto& x) { return x.id == "c1"; })->title,
                  "Second edit (slow clock), made after seeing the first");
    }
}

// Issue 7, hole 7: after the message retention a retry still gets its real outcome — a
// refused action is never reported as applied, and an applied one is never applied again.
TEST(Sync, RetryAfterTheRetentionStillGetsItsRealOutcomeAndIsAppliedOnlyOnce) {
    World w;
    // Staff mark enrolled people only: p2 has a place; p1 is enrolled below.
    ASSERT_TRUE(w.store->import_json(
        R"({"enrolments":[{"id":"r-p2","occasion":"o1","person":"p2","status":"confirmed"}]})"));
    auto c = w.client("c.db", "coord1");
    sync_ok(*c);
    ASSERT_TRUE(c->mark_attendance("o1", "p2", "present", 60));
    ASSERT_TRUE(c->enrol("o1", "p1"));
    ASSERT_TRUE(c->enrol("o1", "p1"));  // the second is refused: already enrolled
    w.faults = [] { return Fault::drop_response; };  // applied; the answer never arrives
    auto lost = w.open_client("c.db");
    client::SyncOptions once;
    once.deadline = std::chrono::milliseconds(0);
    EXPECT_FALSE(lost->sync(once));
    w.faults = {};
    EXPECT_EQ(w.scalar("SELECT count(*) FROM attendance"), 1);
    // 200 days later (past outcome retention and the token's lifetime) the tablet returns.
    w.now += 200ULL * 24 * 60 * kMinute;
    auto other = w.client("o.db", "admin");
    sync_ok(*other);  // a sync runs the server's hourly clean-up
    EXPECT_EQ(w.scalar("SELECT count(*) FROM applied_actions WHERE device NOT IN "
                       "(SELECT id FROM devices WHERE username = 'admin')"), 3);
    EXPECT_EQ(w.scalar("SELECT count(*) FROM applied_actions WHERE json_extract(outcome, "
                       "'$.message') != ''"), 0);
    auto back = w.open_client("c.db");
    EXPECT_EQ(back->sync().status().code(), Errc::unauthorized);
    ASSERT_TRUE(back->login("http://loopback", "coord1", "password1"));  // same device again
    auto r = back->sync();
    ASSERT_TRUE(r) << r.status().to_string();
    ASSERT_EQ(r->outcomes.size(), 3u);
    EXPECT_EQ(r->outcomes[0].result, "applied");
    EXPECT_EQ(r->outcomes[1].result, "applied");
    EXPECT_EQ(r->outcomes[2].result, "rejected");
    EXPECT_EQ(r->outcomes[2].reason, "already_enrolled");
    EXPECT_EQ(w.scalar("SELECT count(*) FROM attendance"), 1);
    EXPECT_EQ(w.scalar("SELECT count(*) FROM enrolments"), 2);
}

TEST(Sync, AFirstSyncBringsWhatIsNeededNextBeforeTheRestOfTheCatalogue) {
    World w;
    // Forty far-future occasions (in 60+ days) with enrolments, plus o4 tomorrow.
    std::string d = R"({"occasions":[)";
    for (int i = 0; i < 40; ++i)
        d += std::string(i ? "," : "") + R"({"id":"far)" + std::to_string(i) + R"(","course":"c1","starts_at":")" +
             format_iso8601(static_cast<int64_t>(w.now.load() + (60 + i) * 24 * 60 * kMinute)) +
             R"(","ends_at":")" + format_iso8601(static_cast<int64_t>(w.now.load() + (60 + i) * 24 * 60 * kMinute + 7200000)) +
             R"(","capacity":10,"enrolment_closes":")" +
             format_iso8601(static_cast<int64_t>(w.now.load() + 50 * 24 * 60 * kMinute)) + R"("})";
    d += R"(],"enrolments":[{"id":"tomorrow","occasion":"o4","person":"p1","status":"confirmed"})";
    for (int i = 0; i < 40; ++i)
        d += R"(,{"id":"f)" + std::to_string(i) + R"(","occasion":"far)" + std::to_string(i) + R"(","person":"p2","status":"confirmed"})";
    ASSERT_TRUE(w.store->import_json(d + "]}"));
    auto c = w.client("c.db", "coord1");
    client::SyncOptions so;
    so.page_rows = 5;
    int usable_round = 0, far_round = 0;
    so.progress = [&](const client::SyncProgress& p) {
        if (!p.note.empty()) return;
        auto es = c->enrolments().value();
        bool tomorrow = false, far = false;
        for (auto& e : es) {
            tomorrow |= e.id == "tomorrow";
            far |= e.occasion.rfind("far", 0) == 0;
        }
        if (tomorrow && !usable_round) usable_round = p.round;
        if (far && !far_round) far_round = p.round;
    };
    auto r = c->sync(so);
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_GT(usable_round, 0);
    EXPECT_LT(usable_round, far_round) << "tomorrow's roster came after the far catalogue";
    expect_converged(w, *c, "coord1");
}
