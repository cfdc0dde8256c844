// Issue 10: a waitlist position is a structured field of the enrolment row (1-based, null
// unless waitlisted), renumbered whenever an occasion's seats change and sent to devices as
// an ordinary row change — a row gets a new version only when its status or place moved.
#include <map>
#include <set>

#include "fixture.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
constexpr uint64_t kMinute = 60'000;

struct Waitlist : StoreFixture {
    // o1 has one seat; four participants want it.
    void SetUp() override {
        StoreFixture::SetUp();
        auto r = store->import_json(R"({
 "persons":[{"id":"p3","organisation":"arjeplog","site":"s1","name":"Stina","gender":"woman","birth_year":1990},
            {"id":"p4","organisation":"arjeplog","site":"s1","name":"Olle","gender":"man","birth_year":1985}],
 "users":[{"username":"erik","password":"password1","role":"participant","person":"p2"},
          {"username":"stina","password":"password1","role":"participant","person":"p3"},
          {"username":"olle","password":"password1","role":"participant","person":"p4"},
          {"username":"coord","password":"password1","role":"coordinator","sites":["s1"]}]})");
        ASSERT_TRUE(r) << r.status().to_string();
    }
    AuthContext who(const std::string& user) {
        auto w = store->authenticate(login(user));
        EXPECT_TRUE(w) << w.status().to_string();
        return w ? w.value() : AuthContext{};
    }
    Outcome act(const AuthContext& w, Action a) {
        SyncRequest req;
        req.actions = {std::move(a)};
        auto r = store->sync(w, req);
        EXPECT_TRUE(r) << r.status().to_string();
        if (!r || r->outcomes.size() != 1) return Outcome{};
        return r->outcomes[0];
    }
    Outcome enrol(const AuthContext& w, const std::string& id, const std::string& person,
                  uint64_t at_ms) {
        return act(w, Action{1, Hlc::from_parts(at_ms, 0), "enrol",
                             Row{{"enrolment", id}, {"occasion", "o1"}, {"person", person}}});
    }
    // Pulls until caught up: the enrolment rows received, by id.
    std::map<std::string, Row> pull_enrolments(const AuthContext& w, std::string& cursor) {
        std::map<std::string, Row> got;
        SyncRequest req;
        req.cursor = cursor;
        for (int i = 0; i < 50; ++i) {
            auto r = store->sync(w, req);
            EXPECT_TRUE(r) << r.status().to_string();
            if (!r) break;
            for (auto& c : r->changes)
                if (c.kind == Kind::enrolment && !c.deleted) got[c.id] = c.row;
            req.cursor = r->cursor;
            if (!r->more) break;
        }
        cursor = req.cursor;
        return got;
    }
    // (status, waitlist_position or 0, version) of every enrolment.
    std::map<std::string, std::tuple<std::string, int64_t, int64_t>> rows() {
        std::map<std::string, std::tuple<std::string, int64_t, int64_t>> out;
        auto q = store->db().query("SELECT id, status, coalesce(waitlist_position, 0), version FROM enrolments");
        while (q->step().value()) out[q->text(0)] = {q->text(1), q->int64(2), q->int64(3)};
        return out;
    }
    std::map<std::string, int64_t> positions() {
        std::map<std::string, int64_t> out;
        for (auto& [id, r] : rows()) out[id] = std::get<1>(r);
        return out;
    }
    // Anna takes the seat; Erik, Stina and Olle queue in that order.
    void fill() {
        for (auto [user, id, person, minute] :
             {std::tuple{"anna", "e1", "p1", 1}, {"erik", "e2", "p2", 2}, {"stina", "e3", "p3", 3},
              {"olle", "e4", "p4", 4}})
            enrol(who(user), id, person, now + static_cast<uint64_t>(minute) * kMinute);
    }
};
}  // namespace

TEST_P(Waitlist, QueuedEnrolmentsAreNumberedInTheOrderPeopleActed) {
    fill();
    EXPECT_EQ(positions(), (std::map<std::string, int64_t>{{"e1", 0}, {"e2", 1}, {"e3", 2}, {"e4", 3}}));
    EXPECT_EQ(std::get<0>(rows()["e1"]), "confirmed");
}

TEST_P(Waitlist, ACancellationPromotesTheHeadTheOthersMoveUpAndTheirDevicesPullIt) {
    fill();
    auto olle = who("olle");
    std::string cursor;
    auto before = pull_enrolments(olle, cursor);
    ASSERT_TRUE(before.count("e4"));
    EXPECT_EQ(get_int(before["e4"], "waitlist_position"), 3);
    EXPECT_EQ(before.size(), 1u);  // a participant sees only their own enrolments

    auto anna = who("anna");
    auto cancelled = act(anna, Action{2, Hlc::from_parts(now + 5 * kMinute, 0), "cancel_enrolment",
                                      Row{{"enrolment", "e1"}}});
    EXPECT_EQ(cancelled.result, OutcomeResult::applied);
    auto after = rows();
    EXPECT_EQ(std::get<0>(after["e2"]), "confirmed");
    EXPECT_EQ(positions(), (std::map<std::string, int64_t>{{"e1", 0}, {"e2", 0}, {"e3", 1}, {"e4", 2}}));

    auto moved = pull_enrolments(olle, cursor);
    ASSERT_EQ(moved.size(), 1u);
    ASSERT_TRUE(moved.count("e4"));
    EXPECT_EQ(get_int(moved["e4"], "waitlist_position"), 2);
    EXPECT_EQ(*get_str(moved["e4"], "status"), "waitlisted");
    // Erik's device learns his promotion, and that he has no place in the queue any more.
    std::string erik_cursor;
    auto erik = pull_enrolments(who("erik"), erik_cursor);
    ASSERT_TRUE(erik.count("e2"));
    EXPECT_EQ(*get_str(erik["e2"], "status"), "confirmed");
    EXPECT_EQ(*get_str(erik["e2"], "reason"), "promoted");
    EXPECT_TRUE(std::holds_alternative<std::monostate>(erik["e2"].at("waitlist_position")));
}

TEST_P(Waitlist, ARoundThatMovesNobodyBumpsNoEnrolment) {
    fill();
    auto olle = who("olle");
    std::string cursor;
    pull_enrolments(olle, cursor);
    auto before = rows();
    now += 20 * kMinute;
    // An edit of the occasion that leaves the seats as they are (seats are decided again).
    auto admin = who("admin");
    auto edit = act(admin, Action{1, Hlc::from_parts(now, 0), "upsert_occasion",
                                  Row{{"occasion", "o1"}, {"online_link", std::string("https://meet.example/o1")}}});
    EXPECT_EQ(edit.result, OutcomeResult::applied) << edit.message;
    // A refused enrolment (Stina is in the queue already).
    EXPECT_EQ(enrol(who("stina"), "e9", "p3", now + kMinute).result, OutcomeResult::rejected);
    EXPECT_EQ(rows(), before);
    EXPECT_TRUE(pull_enrolments(olle, cursor).empty());
}

TEST_P(Waitlist, MoreSeatsPromoteFromTheHeadAndRenumberTheRest) {
    fill();
    now += 20 * kMinute;
    auto admin = who("admin");
    auto edit = act(admin, Action{1, Hlc::from_parts(now, 0), "upsert_occasion",
                                  Row{{"occasion", "o1"}, {"capacity", int64_t{2}}}});
    EXPECT_EQ(edit.result, OutcomeResult::applied) << edit.message;
    EXPECT_EQ(positions(), (std::map<std::string, int64_t>{{"e1", 0}, {"e2", 0}, {"e3", 1}, {"e4", 2}}));
    auto v = rows();
    // Fewer seats again: Erik (the later of the two confirmed) goes back to the head.
    auto cut = act(admin, Action{2, Hlc::from_parts(now + kMinute, 0), "upsert_occasion",
                                 Row{{"occasion", "o1"}, {"capacity", int64_t{1}}}});
    EXPECT_EQ(cut.result, OutcomeResult::applied) << cut.message;
    EXPECT_EQ(positions(), (std::map<std::string, int64_t>{{"e1", 0}, {"e2", 1}, {"e3", 2}, {"e4", 3}}));
    EXPECT_EQ(std::get<2>(rows()["e1"]), std::get<2>(v["e1"])) << "Anna's row did not move";
}

TEST_P(Waitlist, AnEarlierRequestArrivingLaterPushesTheQueueDown) {
    ASSERT_TRUE(store->import_json(R"({
 "persons":[{"id":"p5","organisation":"arjeplog","site":"s1","name":"Pia","gender":"woman","birth_year":1970}]})"));
    // The coordinator's tablet synced, went offline and enrolled a fifth person before
    // everyone else; the request arrives after the queue formed.
    auto coord = who("coord");
    fill();
    auto early = enrol(coord, "e5", "p5", now + kMinute / 2);
    EXPECT_EQ(early.status, "confirmed");
    auto r = rows();
    EXPECT_EQ(std::get<0>(r["e1"]), "waitlisted");
    EXPECT_EQ(positions(),
              (std::map<std::string, int64_t>{{"e1", 1}, {"e2", 2}, {"e3", 3}, {"e4", 4}, {"e5", 0}}));
}

TEST_P(Waitlist, AWaitlistedCancellationAndACancelledOccasionLeaveNoPositions) {
    fill();
    auto stina = who("stina");
    act(stina, Action{2, Hlc::from_parts(now + 5 * kMinute, 0), "cancel_enrolment", Row{{"enrolment", "e3"}}});
    EXPECT_EQ(positions(), (std::map<std::string, int64_t>{{"e1", 0}, {"e2", 1}, {"e3", 0}, {"e4", 2}}));
    now += 20 * kMinute;
    auto admin = who("admin");
    auto off = act(admin, Action{1, Hlc::from_parts(now, 0), "upsert_occasion",
                                 Row{{"occasion", "o1"}, {"status", std::string("cancelled")}}});
    EXPECT_EQ(off.result, OutcomeResult::applied) << off.message;
    for (auto& [id, r] : rows()) {
        EXPECT_EQ(std::get<0>(r), "cancelled") << id;
        EXPECT_EQ(std::get<1>(r), 0) << id;
    }
}

TEST_P(Waitlist, TheWaitlistOutcomeNamesTheSamePlaceAsTheField) {
    enrol(who("anna"), "e1", "p1", now + kMinute);
    auto second = enrol(who("erik"), "e2", "p2", now + 2 * kMinute);
    EXPECT_EQ(second.reason, "waitlisted");
    EXPECT_NE(second.message.find("number 1"), std::string::npos) << second.message;
    auto third = enrol(who("stina"), "e3", "p3", now + 3 * kMinute);
    EXPECT_NE(third.message.find("number 2"), std::string::npos) << third.message;
}

TEST_P(Waitlist, ImportedWaitlistsAreNumberedAsTheyStand) {
    auto r = store->import_json(R"({"enrolments":[
  {"id":"i1","occasion":"o1","person":"p1","status":"confirmed"},
  {"id":"i3","occasion":"o1","person":"p3","status":"waitlisted"},
  {"id":"i2","occasion":"o1","person":"p2","status":"waitlisted"}]})");
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(positions(), (std::map<std::string, int64_t>{{"i1", 0}, {"i2", 1}, {"i3", 2}}));
    auto v = rows();
    ASSERT_TRUE(store->import_json(R"({"enrolments":[{"id":"i2","occasion":"o1","person":"p2","status":"cancelled"}]})"));
    auto after = rows();
    EXPECT_EQ(std::get<1>(after["i3"]), 1);
    EXPECT_GT(std::get<2>(after["i3"]), std::get<2>(v["i3"]));
    EXPECT_EQ(std::get<1>(after["i2"]), 0);
    EXPECT_EQ(std::get<2>(after["i1"]), std::get<2>(v["i1"])) << "the confirmed row did not move";
}

TEST_P(Waitlist, ThePositionTravelsOnTheWireAsANumber) {
    fill();
    auto token = login("olle");
    auto resp = post("/v1/sync", R"({"protocol":1,"cursor":""})", token);
    ASSERT_EQ(resp.status, 200) << resp.body;
    EXPECT_NE(resp.body.find(R"("waitlist_position":3)"), std::string::npos) << resp.body;
}

TUNDRA_STORE_BACKENDS(Waitlist);
