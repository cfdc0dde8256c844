// Deletions, scope changes and long absences: deleted rows leave every replica and never
// come back; a device too far behind is rebuilt without losing its queued actions.
#include <gtest/gtest.h>

#include "loopback.h"

using namespace tundra;
using namespace tundra::testing;

namespace {
constexpr uint64_t kMinute = 60000, kDay = 24 * 60 * kMinute;

}  // namespace

TEST(Absence, DeletedOccasionLeavesEveryReplicaAndNeverComesBack) {
    World w;
    auto admin = w.client("a.db", "admin");
    auto pajala = w.client("p3.db", "part3");
    sync_ok(*admin);
    sync_ok(*pajala);
    ASSERT_TRUE(has(*pajala, "occasions", "o3"));
    // Offline, the participant enrols in o3 while the admin deletes it.
    auto e = pajala->enrol("o3");
    ASSERT_TRUE(e);
    ASSERT_TRUE(admin->delete_occasion("o3"));
    EXPECT_FALSE(has(*admin, "occasions", "o3"));  // gone locally at once
    sync_ok(*admin);
    auto r = pajala->sync();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcomes[0].result, "rejected");
    EXPECT_EQ(r->outcomes[0].reason, "not_found");
    EXPECT_FALSE(has(*pajala, "occasions", "o3"));
    sync_ok(*pajala);
    EXPECT_FALSE(has(*pajala, "occasions", "o3"));
    EXPECT_EQ(w.scalar("SELECT count(*) FROM occasions WHERE id = 'o3'"), 0);
}

TEST(Absence, OccasionWithEnrolmentsCannotBeDeleted) {
    World w;
    auto admin = w.client("a.db", "admin");
    sync_ok(*admin);
    ASSERT_TRUE(admin->enrol("o1", "p1"));
    ASSERT_TRUE(admin->delete_occasion("o1"));
    auto r = admin->sync();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->outcomes[1].result, "rejected");
    EXPECT_EQ(r->outcomes[1].reason, "in_use");
    EXPECT_TRUE(has(*admin, "occasions", "o1"));  // the overlay is taken off: the row is back
}

TEST(Absence, APersonWhoMovesLeavesTheOldSitesDevices) {
    World w;
    auto admin = w.client("a.db", "admin");
    auto arjeplog = w.client("c1.db", "coord1");
    auto pajala = w.client("c2.db", "coord2");
    for (auto* c : {admin.get(), arjeplog.get(), pajala.get()}) sync_ok(*c);
    ASSERT_TRUE(arjeplog->enrol("o1", "p4"));
    ASSERT_TRUE(arjeplog->mark_attendance("o1", "p4", "present", 90));
    sync_ok(*arjeplog);
    client::PersonInput move{.id = "p4"};
    move.site = "s3";  // from Arjeplog's nursing home to Pajala's home care
    ASSERT_TRUE(admin->update_person(move));
    sync_ok(*admin);
    sync_ok(*arjeplog);
    sync_ok(*pajala);
    EXPECT_FALSE(has(*arjeplog, "persons", "p4"));
    EXPECT_EQ(arjeplog->attendance("o1").value().size(), 0u);
    EXPECT_TRUE(has(*pajala, "persons", "p4"));
    EXPECT_EQ(pajala->attendance("o1").value().size(), 1u);
    EXPECT_EQ(pajala->enrolments().value().size(), 1u);
    expect_converged(w, *arjeplog, "coord1");
}

TEST(Absence, ACoordinatorWhoseSitesChangeIsRebuiltNotLeftWithStaleRows) {
    World w;
    auto c = w.client("c1.db", "coord1");
    sync_ok(*c);
    ASSERT_TRUE(has(*c, "persons", "p4"));
    ASSERT_TRUE(c->mark_attendance("o1", "p1", "late", 30));  // queued, offline
    // The admin moves coord1 from s2 to s3 (by re-import).
    ASSERT_TRUE(w.store->import_json(
        R"({"users":[{"username":"coord1","password":"password1","role":"coordinator","sites":["s1","s3"]}]})"));
    auto r = c->sync();
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_TRUE(r->reset);
    EXPECT_GT(r->removed, 0);
    EXPECT_EQ(r->outcomes.size(), 1u);  // the queued mark went up
    EXPECT_FALSE(has(*c, "persons", "p4"));  // s2's staff are gone
    EXPECT_TRUE(has(*c, "persons", "p7"));   // s3's staff arrived
    expect_converged(w, *c, "coord1");
}

// The brief's "offline-days", stretched: sixty days away with 500 queued actions, while
// the server deleted rows and forgot those deletions (retention 30 days).
TEST(Absence, SixtyDaysAwayWith500QueuedActionsSyncsCleanly) {
    World w([](server::StoreOptions& o) { o.tombstone_retention_days = 30; });
    add_roster(w);  // staff mark enrolled people only
    auto away = w.client("away.db", "coord1");
    auto admin = w.client("a.db", "admin");
    sync_ok(*away);
    sync_ok(*admin);
    ASSERT_TRUE(has(*away, "occasions", "o3") == false);  // Pajala's course is not Arjeplog's
    // Admin schedules an extra occasion the coordinator will see, then deletes it later.
    client::OccasionInput extra{.id = "o-extra"};
    extra.course = "c1";
    extra.starts_at = format_iso8601(static_cast<int64_t>(w.now.load() + 70 * kDay));
    extra.ends_at = format_iso8601(static_cast<int64_t>(w.now.load() + 70 * kDay + 120 * kMinute));
    extra.enrolment_closes = format_iso8601(static_cast<int64_t>(w.now.load() + 65 * kDay));
    extra.capacity = 100;
    ASSERT_TRUE(admin->upsert_occasion(extra));
    sync_ok(*admin);
    sync_ok(*away);
    ASSERT_TRUE(has(*away, "occasions", "o-extra"));

    // Sixty days offline: 500 actions, one every ~2.9 hours.
    int queued = 0;
    const char* st[] = {"present", "absent", "late", "excused"};
    const char* people[] = {"p1", "p2", "p3", "p4", "p5", "p6"};
    for (int i = 0; i < 500; ++i) {
        w.now += 60 * kDay / 500;
        bool ok = i % 50 == 0 ? away->enrol(i % 100 == 0 ? "o1" : "o-extra", people[(i / 50) % 6]).is_ok()
                              : away->mark_attendance("o1", people[i % 6], st[i % 4], i % 180).is_ok();
        queued += ok;
        if (i == 100) {  // day 12: the extra occasion is deleted on the server
            ASSERT_TRUE(admin->delete_occasion("o-extra"));
            sync_ok(*admin);
        }
    }
    ASSERT_EQ(queued, 500);
    EXPECT_EQ(away->status()->pending, 500);
    sync_ok(*admin);  // the server purges tombstones older than 30 days on a sync

    auto r = away->sync();
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_TRUE(r->reset) << "the device is behind the forgotten deletions: it must be told";
    EXPECT_EQ(r->outcomes.size(), 500u);
    EXPECT_EQ(away->status()->pending, 0);
    EXPECT_EQ(w.scalar("SELECT count(*) FROM applied_actions WHERE device = (SELECT id FROM devices "
                       "WHERE username = 'coord1')"),
              500);
    EXPECT_FALSE(has(*away, "occasions", "o-extra"));  // deleted, and not resurrected
    int rejected_extra = 0, closed = 0, already = 0;
    for (auto& o : r->outcomes) {
        rejected_extra += o.reason == "not_found";
        closed += o.reason == "enrolment_closed";
        already += o.reason == "already_enrolled";  // on the roster (add_roster) before day 10
    }
    EXPECT_GT(rejected_extra, 0);  // enrolments into the deleted occasion: refused, with a reason
    EXPECT_GT(closed, 0);          // o1's enrolment closed on day 10
    expect_converged(w, *away, "coord1");
    // Rejections stay visible until dismissed.
    EXPECT_EQ(away->status()->rejected.size(), static_cast<size_t>(rejected_extra + closed + already));
}

TEST(Absence, ReimportThatMovesStaffOrUnpublishesACourseReachesEveryDevice) {
    World w;
    add_roster(w);  // staff mark enrolled people only
    auto arjeplog = w.client("c1.db", "coord1");
    auto pajala = w.client("c2.db", "coord2");
    auto anna = w.client("p1.db", "part1");
    for (auto* c : {arjeplog.get(), pajala.get(), anna.get()}) sync_ok(*c);
    ASSERT_TRUE(arjeplog->mark_attendance("o1", "p5", "present", 60));
    sync_ok(*arjeplog);
    ASSERT_TRUE(has(*anna, "courses", "c1"));
    ASSERT_TRUE(w.store->import_json(R"({
        "persons":[{"id":"p5","organisation":"pajala","site":"s3","name":"Person 5","gender":"non_binary"}],
        "courses":[{"id":"c1","title":"Stress och hälsa","format":"digital_self_paced","organisations":["pajala"],"published":true}]})"));
    for (auto* c : {arjeplog.get(), pajala.get(), anna.get()}) sync_ok(*c);
    EXPECT_FALSE(has(*arjeplog, "persons", "p5"));
    EXPECT_TRUE(arjeplog->snapshot().value()["attendance"].empty());  // p5's only mark left with them
    EXPECT_FALSE(has(*arjeplog, "occasions", "o1"));  // c1 is Pajala's only now
    EXPECT_TRUE(has(*pajala, "persons", "p5"));
    EXPECT_EQ(pajala->attendance("o1").value().size(), 1u);  // and reached their new site
    EXPECT_FALSE(has(*anna, "courses", "c1"));  // no longer open to Arjeplog
    EXPECT_FALSE(has(*anna, "occasions", "o1"));
    for (auto [replica, user] : {std::pair{"c1", "coord1"}, {"c2", "coord2"}, {"p1", "part1"}}) {
        auto mine = w.open_client(std::string(replica) + ".db");
        expect_converged(w, *mine, user);
    }
}

// Issue 7, hole 5: moving an occasion to a course another municipality's staff cannot see
// takes it off their tablets, and brings it to those who now may.
TEST(Absence, AnOccasionMovedToAnotherCourseLeavesTheDevicesThatMayNoLongerSeeIt) {
    World w;
    auto admin = w.client("a.db", "admin");
    auto arjeplog = w.client("p1.db", "part1");
    auto pajala = w.client("p3.db", "part3");
    for (auto* c : {admin.get(), arjeplog.get(), pajala.get()}) sync_ok(*c);
    ASSERT_TRUE(has(*arjeplog, "occasions", "o1"));
    client::OccasionInput move;
    move.id = "o1";
    move.course = "c2";  // Pajala only
    ASSERT_TRUE(admin->upsert_occasion(move));
    sync_ok(*admin);
    sync_ok(*arjeplog);
    sync_ok(*pajala);
    EXPECT_FALSE(has(*arjeplog, "occasions", "o1"));
    EXPECT_TRUE(has(*pajala, "occasions", "o1"));
    expect_converged(w, *arjeplog, "part1");
    expect_converged(w, *pajala, "part3");
}

// Issue 7, hole 5: a participant re-imported into another municipality gets its catalogue
// (the scope covers the organisations a user resolves to, not only role, person and sites).
TEST(Absence, AParticipantMovedToAnotherMunicipalityGetsItsCatalogue) {
    World w;
    auto p1 = w.client("p1.db", "part1");
    sync_ok(*p1);
    ASSERT_FALSE(has(*p1, "courses", "c2"));
    ASSERT_TRUE(w.store->import_json(R"({"persons":[{"id":"p1","organisation":"pajala","site":"s3",
        "name":"Person 1","gender":"woman","birth_year":1980}]})"));
    sync_ok(*p1);
    EXPECT_TRUE(has(*p1, "courses", "c2"));
    EXPECT_TRUE(has(*p1, "occasions", "o3"));
    expect_converged(w, *p1, "part1");
}

// Issue 7, hole 5: moving a person to another municipality's site moves their organisation.
TEST(Absence, MovingAPersonToAnotherMunicipalitysSiteMovesTheirOrganisation) {
    World w;
    auto admin = w.client("a.db", "admin");
    auto p1 = w.client("p1.db", "part1");
    sync_ok(*admin);
    sync_ok(*p1);
    client::PersonInput move;
    move.id = "p1";
    move.site = "s3";
    ASSERT_TRUE(admin->update_person(move));
    sync_ok(*admin);
    EXPECT_EQ(w.scalar("SELECT organisation = 'pajala' FROM persons WHERE id = 'p1'"), 1);
    sync_ok(*p1);
    EXPECT_TRUE(has(*p1, "courses", "c2"));
    expect_converged(w, *p1, "part1");
}

// Import goes through the same visibility rule: an enrolment re-imported under another
// person leaves the old person's coordinator and reaches the new one's.
TEST(Absence, AnEnrolmentReimportedUnderAnotherPersonChangesHands) {
    World w;
    ASSERT_TRUE(w.store->import_json(R"({"enrolments":[{"id":"imp1","occasion":"o1","person":"p1","status":"confirmed"}]})"));
    auto arjeplog = w.client("c1.db", "coord1");
    auto pajala = w.client("c2.db", "coord2");
    sync_ok(*arjeplog);
    sync_ok(*pajala);
    ASSERT_TRUE(has(*arjeplog, "enrolments", "imp1"));
    ASSERT_TRUE(w.store->import_json(R"({"enrolments":[{"id":"imp1","occasion":"o1","person":"p7","status":"confirmed"}]})"));
    sync_ok(*arjeplog);
    sync_ok(*pajala);
    EXPECT_FALSE(has(*arjeplog, "enrolments", "imp1"));
    EXPECT_TRUE(has(*pajala, "enrolments", "imp1"));
    expect_converged(w, *arjeplog, "coord1");
}
