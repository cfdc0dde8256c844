// Issue 8, finding 2: every action, of every kind, is checked against the row it writes as
// stored, not only against its new values. A row the actor may not see is answered exactly
// like an unknown id and is left as it was.
#include <functional>

#include "fixture.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
// Rows of another municipality (Pajala) that no Arjeplog user may see, and a draft course.
constexpr const char* kPajala = R"({
 "organisations":[{"code":"pajala","name":"Pajala","county":"Norrbotten"}],
 "sites":[{"id":"s9","organisation":"pajala","name":"Hemtjänst Pajala"}],
 "persons":[{"id":"p9","organisation":"pajala","site":"s9","name":"Nils","gender":"man","birth_year":1970},
            {"id":"p4","organisation":"arjeplog","site":"s1","name":"Lisa","gender":"woman","birth_year":1985}],
 "users":[{"username":"coord","password":"password1","role":"coordinator","sites":["s1"]},
          {"username":"coord9","password":"password1","role":"coordinator","sites":["s9"]},
          {"username":"nils","password":"password1","role":"participant","person":"p9"}],
 "courses":[{"id":"c9","title":"Utkast","format":"on_site","organisations":[],"published":false},
            {"id":"c8","title":"Öppen","format":"on_site","organisations":[],"published":true}],
 "occasions":[{"id":"o9","course":"c9","starts_at":"2026-12-08T08:00:00Z","ends_at":"2026-12-08T10:00:00Z","capacity":5,"enrolment_closes":"2026-12-04T08:00:00Z"},
              {"id":"o8","course":"c8","starts_at":"2026-11-02T08:00:00Z","ends_at":"2026-11-02T10:00:00Z","capacity":5,"enrolment_closes":"2026-11-01T08:00:00Z"}],
 "enrolments":[{"id":"e9","occasion":"o8","person":"p9","status":"confirmed"}],
 "attendance":[{"id":"m9","occasion":"o8","person":"p9","status":"present","minutes":120}]
})";

struct Scope : StoreFixture {
    uint64_t seq = 0;
    void SetUp() override {
        StoreFixture::SetUp();
        auto r = store->import_json(kPajala);
        ASSERT_TRUE(r) << r.status().to_string();
        // Rows only actions make: Pajala's deviation, Nils's time and survey answer.
        ASSERT_EQ(push("coord9", "log_deviation",
                       {{"deviation", "d9"}, {"organisation", "pajala"}, {"category", "other"},
                        {"description", "Pajalas avvikelse"}})
                      .result,
                  OutcomeResult::applied);
        ASSERT_EQ(push("coord9", "upsert_participation",
                       {{"participation", "pa9"}, {"person", "p9"}, {"start_month", "2026-09"}})
                      .result,
                  OutcomeResult::applied);
        ASSERT_EQ(push("nils", "attest_time",
                       {{"attestation", "t9"}, {"person", "p9"}, {"month", "2026-11"}, {"minutes", int64_t{120}}})
                      .result,
                  OutcomeResult::applied);
        ASSERT_EQ(push("nils", "submit_survey",
                       {{"response", "r9"}, {"occasion", "o8"}, {"person", "p9"}, {"rating_content", int64_t{4}},
                        {"rating_usefulness", int64_t{4}}, {"rating_overall", int64_t{4}}})
                      .result,
                  OutcomeResult::applied);
    }
    Outcome push(const std::string& user, const std::string& type, Row fields) {
        auto w = store->authenticate(login(user));
        EXPECT_TRUE(w) << w.status().to_string();
        SyncRequest req;
        req.actions.push_back(Action{++seq, Hlc::from_parts(now, 0), type, std::move(fields)});
        auto r = store->sync(w.value(), req);
        EXPECT_TRUE(r) << r.status().to_string();
        return r && !r->outcomes.empty() ? r->outcomes[0] : Outcome{};
    }
    // Every synced row, the per-field stamps and the deletions, as text.
    std::string everything() {
        std::string out;
        for (auto& e : all_entities()) {
            std::string cols = "version";
            for (auto& c : e.columns) cols += ", " + std::string(c.name);
            auto q = store->db().query("SELECT " + cols + " FROM " + std::string(e.table) + " ORDER BY id");
            while (q->step().value()) {
                std::string line;
                for (int i = 0; i < q->column_count(); ++i)
                    line += (i ? "|" : "") + (q->is_null(i) ? std::string("NULL") : "'" + q->text(i) + "'");
                out += std::string(e.name) + ":" + line + "\n";
            }
        }
        for (auto* sql : {"SELECT kind || id || field || hlc FROM field_stamps ORDER BY 1",
                          "SELECT count(*) FROM tombstones"}) {
            auto q = store->db().query(sql);
            while (q->step().value()) out += q->text(0) + "\n";
        }
        return out;
    }
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
        s.replace(p, from.size(), to);
    return s;
}

// One attempt per action type on an existing row outside the actor's scope. `probe` is the id
// that names that row. Where an unknown id is refused too (an action that changes a row, or a
// row the action refers to), the same action with `probe` replaced by an unknown id must get
// the same answer, word for word; where an unknown id would create a row (an upsert), the
// answer is `not_found` all the same.
struct Attempt {
    std::string type;
    std::string probe;
    Row fields;
    bool upsert = false;
};

std::vector<Attempt> attempts(const std::string& own_person) {
    const Value me = own_person;
    return {
        {"enrol", "p9", {{"enrolment", "e-new"}, {"occasion", "o1"}, {"person", "p9"}}},
        {"enrol", "o9", {{"enrolment", "e-new"}, {"occasion", "o9"}, {"person", me}}},
        {"cancel_enrolment", "e9", {{"enrolment", "e9"}}},
        {"mark_attendance", "p9",
         {{"mark", "m-new"}, {"occasion", "o8"}, {"person", "p9"}, {"status", "absent"}}},
        {"mark_attendance", "o9",
         {{"mark", "m-new"}, {"occasion", "o9"}, {"person", me}, {"status", "present"}, {"minutes", int64_t{1440}}}},
        {"walk_in", "p9",
         {{"enrolment", "e-new"}, {"mark", "m-new"}, {"occasion", "o8"}, {"person", "p9"}}},
        {"upsert_course", "c9", {{"course", "c9"}, {"title", "Kapad"}}, true},
        {"upsert_occasion", "o9", {{"occasion", "o9"}, {"capacity", int64_t{99}}}, true},
        {"delete_occasion", "o9", {{"occasion", "o9"}}},
        {"update_person", "p9", {{"person", "p9"}, {"profession", "kapad"}}},
        {"attest_time", "t9",
         {{"attestation", "t9"}, {"person", me}, {"month", "2026-10"}, {"minutes", int64_t{60}}},
         true},
        {"submit_survey", "r9",
         {{"response", "r9"}, {"occasion", "o8"}, {"person", me}, {"rating_content", int64_t{1}},
          {"rating_usefulness", int64_t{1}}, {"rating_overall", int64_t{1}}},
         true},
        {"log_deviation", "d9",
         {{"deviation", "d9"}, {"organisation", "arjeplog"}, {"category", "content"}, {"description", "nu min"}},
         true},
        {"upsert_participation", "pa9", {{"participation", "pa9"}, {"end_month", "2026-11"}}, true},
        {"upsert_participation", "p9",
         {{"participation", "pa-new"}, {"person", "p9"}, {"start_month", "2026-10"}}},
    };
}

Row with_unknown(const Row& fields, const std::string& probe, const std::string& unknown) {
    Row r;
    for (auto& [k, v] : fields) {
        auto* s = std::get_if<std::string>(&v);
        r[k] = s && *s == probe ? Value(unknown) : v;
    }
    return r;
}
}  // namespace

TEST_P(Scope, EveryActionOnARowOutOfScopeIsRefusedLikeAnUnknownIdAndChangesNothing) {
    struct Actor {
        std::string user, person;
    };
    int checked = 0;
    for (auto& actor : {Actor{"anna", "p1"}, Actor{"coord", "p1"}}) {
        for (auto& t : attempts(actor.person)) {
            std::string before = everything();
            Outcome o = push(actor.user, t.type, t.fields);
            SCOPED_TRACE(actor.user + " " + t.type + " on " + t.probe);
            EXPECT_EQ(o.result, OutcomeResult::rejected) << o.message;
            EXPECT_EQ(o.reason, "not_found") << o.message;
            EXPECT_EQ(everything(), before) << "a row changed";
            ++checked;
            if (t.upsert) continue;
            Outcome unknown = push(actor.user, t.type, with_unknown(t.fields, t.probe, "zz-unknown"));
            EXPECT_EQ(unknown.reason, o.reason);
            EXPECT_EQ(replace_all(unknown.message, "zz-unknown", t.probe), o.message)
                << "the answer tells an existing row from an unknown id";
        }
    }
    EXPECT_EQ(checked, 2 * 15);
    // The rows are real targets: an admin, who sees everything, is not refused as not_found.
    for (auto& t : attempts("p1")) {
        if (t.type == "attest_time" || t.type == "submit_survey") continue;  // participants' own
        Outcome o = push("admin", t.type, t.fields);
        EXPECT_NE(o.reason, "not_found") << t.type << ": " << o.message;
    }
}

// The finding as reported: Arjeplog's coordinator takes Pajala's deviation by sending its id
// with their own organisation.
TEST_P(Scope, ACoordinatorCannotTakeOverAnotherMunicipalitysDeviation) {
    Outcome o = push("coord", "log_deviation",
                     {{"deviation", "d9"}, {"organisation", "arjeplog"}, {"description", "nu min"}});
    EXPECT_EQ(o.result, OutcomeResult::rejected);
    EXPECT_EQ(o.reason, "not_found");
    auto q = store->db().query("SELECT organisation, description FROM deviations WHERE id = 'd9'");
    ASSERT_TRUE(q->step().value());
    EXPECT_EQ(q->text(0), "pajala");
    EXPECT_EQ(q->text(1), "Pajalas avvikelse");
}

// A target the actor may see but not change is `forbidden`; a change that would take a row
// out of the actor's own scope is refused and undone.
TEST_P(Scope, AVisibleTargetWithoutRightsIsForbiddenAndAWriteMayNotLeaveTheActorsScope) {
    std::string before = everything();
    EXPECT_EQ(push("coord", "upsert_course", {{"course", "c1"}, {"title", "Nytt namn"}}).reason, "forbidden");
    EXPECT_EQ(push("anna", "update_person", {{"person", "p1"}, {"name", "Annie"}}).reason, "forbidden");
    EXPECT_EQ(push("coord", "update_person", {{"person", "p4"}, {"site", "s9"}}).reason, "forbidden");
    ASSERT_EQ(push("coord", "log_deviation",
                   {{"deviation", "d1"}, {"organisation", "arjeplog"}, {"category", "technical"}, {"description", "x"}})
                  .result,
              OutcomeResult::applied);
    EXPECT_EQ(push("coord", "log_deviation", {{"deviation", "d1"}, {"organisation", "pajala"}}).reason,
              "forbidden");
    auto q = store->db().query("SELECT organisation FROM deviations WHERE id = 'd1'");
    ASSERT_TRUE(q->step().value());
    EXPECT_EQ(q->text(0), "arjeplog");
    EXPECT_EQ(push("anna", "cancel_enrolment", {{"enrolment", "e9"}}).reason, "not_found");
    (void)before;
}

TUNDRA_STORE_BACKENDS(Scope);
