// Issue 9: import loads what a project recorded before Tundra (participations, time
// attestations, survey answers, deviations) with the same all-or-nothing rules as the other
// sections: every field checked against its type, months valid, references known, erased
// persons refused, keys unique.
#include "fixture.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
struct ImportSections : StoreFixture {
    // A document that a refused one is prefixed with: none of it may be written either.
    static constexpr const char* kValidPrefix =
        R"("organisations":[{"code":"pajala","name":"Pajala","county":"Norrbotten"}])";

    int64_t rows(const std::string& table) { return scalar("SELECT count(*) FROM " + table); }
};

const char* kRecorded = R"({
 "participations":[{"id":"pa1","person":"p1","start_month":"2026-01","end_month":"2026-06"},
                   {"person":"p1","start_month":"2026-09"},
                   {"person":"p2","start_month":"2026-03"}],
 "time_attestations":[{"person":"p1","month":"2026-10","minutes":240},
                      {"person":"p2","month":"2026-10","minutes":0}],
 "survey_responses":[{"occasion":"o1","person":"p1","rating_content":5,"rating_usefulness":4,"rating_overall":5,"comment":"Bra"},
                     {"id":"sr2","occasion":"o1","person":"p2","rating_content":2,"rating_usefulness":3,"rating_overall":2}],
 "deviations":[{"id":"d1","organisation":"arjeplog","occasion":"o1","category":"technical","description":"Projektorn gick sönder"},
               {"id":"d2","organisation":"arjeplog","category":"cancelled_session","description":"Snöstorm","status":"handled","action_taken":"Nytt datum"}]
})";
}  // namespace

TEST_P(ImportSections, LoadsTheFourSectionsAndCountsThem) {
    auto r = store->import_json(kRecorded);
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(r->participations, 3u);
    EXPECT_EQ(r->time_attestations, 2u);
    EXPECT_EQ(r->survey_responses, 2u);
    EXPECT_EQ(r->deviations, 2u);
    EXPECT_EQ(r->total(), 9u);
    EXPECT_EQ(rows("participations"), 3);
    EXPECT_EQ(scalar("SELECT count(*) FROM participations WHERE person = 'p1' AND end_month IS NULL"), 1);
    EXPECT_EQ(scalar("SELECT minutes FROM time_attestations WHERE person = 'p1' AND month = '2026-10'"), 240);
    EXPECT_EQ(scalar("SELECT rating_usefulness FROM survey_responses WHERE id = 'sr2'"), 3);
    EXPECT_EQ(scalar("SELECT count(*) FROM survey_responses WHERE person = 'p1' AND comment = 'Bra'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM deviations WHERE id = 'd1' AND status = 'open'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM deviations WHERE id = 'd2' AND status = 'handled'"), 1);
    // Re-importing the same document finds the rows without ids by their keys: nothing is
    // duplicated and, as nothing changed, nothing is sent to devices again.
    uint64_t v = store->current_version();
    auto again = store->import_json(kRecorded);
    ASSERT_TRUE(again) << again.status().to_string();
    for (auto* t : {"participations", "time_attestations", "survey_responses", "deviations"})
        EXPECT_EQ(scalar(std::string("SELECT count(*) FROM ") + t + " WHERE version > " + std::to_string(v)), 0) << t;
    EXPECT_EQ(rows("participations"), 3);
    EXPECT_EQ(rows("time_attestations"), 2);
    EXPECT_EQ(rows("survey_responses"), 2);
    // A changed value updates the row in place.
    ASSERT_TRUE(store->import_json(R"({"time_attestations":[{"person":"p1","month":"2026-10","minutes":300}],
        "participations":[{"person":"p2","start_month":"2026-03","end_month":"2026-11"}]})"));
    EXPECT_EQ(scalar("SELECT minutes FROM time_attestations WHERE person = 'p1' AND month = '2026-10'"), 300);
    EXPECT_EQ(scalar("SELECT count(*) FROM participations WHERE person = 'p2' AND end_month = '2026-11'"), 1);
    EXPECT_EQ(rows("participations"), 3);
}

TEST_P(ImportSections, BadRowsAreRefusedWholeWithTheirPath) {
    struct Case {
        const char* section;
        const char* path;
    } cases[] = {
        {R"("participations":[{"person":"p1","start_month":"2026-13"}])", "participations[0].start_month"},
        {R"("participations":[{"person":"p1","start_month":"2026-05","end_month":"2026-04"}])", "participations[0].end_month"},
        {R"("participations":[{"person":"ghost","start_month":"2026-05"}])", "participations[0].person"},
        {R"("participations":[{"person":"p1","start_month":"2026-05"},{"person":"p1","start_month":"2026-07"}])", "participations[1]"},
        {R"("participations":[{"person":"p1","start_month":"2026-05"},{"person":"p1","start_month":"2026-05","end_month":"2026-06"}])", "participations[1]"},
        {R"("participations":[{"person":"p1","start_month":202605}])", "participations[0].start_month"},
        {R"("time_attestations":[{"person":"p1","month":"2026-10","minutes":44641}])", "time_attestations[0].minutes"},
        {R"("time_attestations":[{"person":"p1","month":"26-10","minutes":60}])", "time_attestations[0].month"},
        {R"("time_attestations":[{"person":"p1","month":"2026-10","minutes":"60"}])", "time_attestations[0].minutes"},
        {R"("time_attestations":[{"person":"p1","month":"2026-10","minutes":60},{"person":"p1","month":"2026-10","minutes":90}])", "time_attestations[1]"},
        {R"("time_attestations":[{"person":"p1","month":"2026-10"}])", "time_attestations[0].minutes"},
        {R"("survey_responses":[{"occasion":"o1","person":"p1","rating_content":6,"rating_usefulness":4,"rating_overall":5}])", "survey_responses[0].rating_content"},
        {R"("survey_responses":[{"occasion":"o1","person":"p1","rating_content":0,"rating_usefulness":4,"rating_overall":5}])", "survey_responses[0].rating_content"},
        {R"("survey_responses":[{"occasion":"nowhere","person":"p1","rating_content":3,"rating_usefulness":4,"rating_overall":5}])", "survey_responses[0].occasion"},
        {R"("survey_responses":[{"occasion":"o1","person":"p1","rating_content":3,"rating_usefulness":4}])", "survey_responses[0].rating_overall"},
        {R"("survey_responses":[{"occasion":"o1","person":"p1","rating_content":3,"rating_usefulness":4,"rating_overall":5},{"occasion":"o1","person":"p1","rating_content":1,"rating_usefulness":1,"rating_overall":1}])", "survey_responses[1]"},
        {R"("deviations":[{"id":"d1","organisation":"arjeplog","category":"broken projector","description":"x"}])", "deviations[0].category"},
        {R"("deviations":[{"id":"d1","organisation":"nowhere","category":"technical","description":"x"}])", "deviations[0].organisation"},
        {R"("deviations":[{"id":"d1","organisation":"arjeplog","occasion":"o404","category":"technical","description":"x"}])", "deviations[0].occasion"},
        {R"("deviations":[{"id":"d1","organisation":"arjeplog","category":"technical","description":"x","status":"handled"}])", "deviations[0].action_taken"},
        {R"("deviations":[{"id":"d1","organisation":"arjeplog","category":"technical","description":"x","status":"closed"}])", "deviations[0].status"},
        {R"("deviations":[{"organisation":"arjeplog","category":"technical","description":"x"}])", "deviations[0].id"},
        {R"("deviations":[{"id":"d1","organisation":"arjeplog","category":"technical","description":"x"},{"id":"d1","organisation":"arjeplog","category":"other","description":"y"}])", "deviations[1].id"},
    };
    for (auto& c : cases) {
        std::string doc = std::string("{") + kValidPrefix + "," + c.section + "}";
        auto r = store->import_json(doc);
        ASSERT_FALSE(r) << c.section;
        EXPECT_EQ(r.status().code(), Errc::invalid_argument) << r.status().to_string();
        EXPECT_NE(r.status().message().find(c.path), std::string::npos)
            << c.section << " -> " << r.status().to_string();
        EXPECT_EQ(scalar("SELECT count(*) FROM organisations WHERE id = 'pajala'"), 0) << c.section;
    }
    for (auto* t : {"participations", "time_attestations", "survey_responses", "deviations"})
        EXPECT_EQ(rows(t), 0) << t;
}

// One open participation per person, counting what the store already holds: a document that
// opens a second is refused; one that also ends the first is accepted.
TEST_P(ImportSections, APersonHasAtMostOneOpenParticipationAcrossStoreAndDocument) {
    ASSERT_TRUE(store->import_json(R"({"participations":[{"id":"pa1","person":"p1","start_month":"2026-01"}]})"));
    auto r = store->import_json(R"({"participations":[{"id":"pa2","person":"p1","start_month":"2026-09"}]})");
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("open participation"), std::string::npos) << r.status().to_string();
    EXPECT_EQ(rows("participations"), 1);
    r = store->import_json(R"({"participations":[{"id":"pa1","person":"p1","start_month":"2026-01","end_month":"2026-06"},
                                                 {"id":"pa2","person":"p1","start_month":"2026-09"}]})");
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(rows("participations"), 2);
}

// An id names one answer: it cannot be reused for another person's or occasion's answer, and
// an answer stored under one id is not duplicated under another.
TEST_P(ImportSections, SurveyAnswerIdsAndKeysMustAgreeWithTheStore) {
    ASSERT_TRUE(store->import_json(R"({"survey_responses":[{"id":"sr1","occasion":"o1","person":"p1","rating_content":3,"rating_usefulness":3,"rating_overall":3}]})"));
    auto r = store->import_json(R"({"survey_responses":[{"id":"sr9","occasion":"o1","person":"p1","rating_content":3,"rating_usefulness":3,"rating_overall":3}]})");
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("survey_responses[0].id"), std::string::npos) << r.status().to_string();
    r = store->import_json(R"({"survey_responses":[{"id":"sr1","occasion":"o1","person":"p2","rating_content":3,"rating_usefulness":3,"rating_overall":3}]})");
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("survey_responses[0].id"), std::string::npos) << r.status().to_string();
    // Without an id, the stored answer is found by occasion and person and updated.
    r = store->import_json(R"({"survey_responses":[{"occasion":"o1","person":"p1","rating_content":1,"rating_usefulness":1,"rating_overall":1}]})");
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(scalar("SELECT rating_overall FROM survey_responses WHERE id = 'sr1'"), 1);
    EXPECT_EQ(rows("survey_responses"), 1);
}

// GDPR: nothing more is recorded about an erased person, by their old id or their pseudonym.
TEST_P(ImportSections, AnErasedPersonIsRefusedInEverySection) {
    auto erased = store->erase_person("p2", "test");
    ASSERT_TRUE(erased) << erased.status().to_string();
    for (const std::string& who : {std::string("p2"), erased->pseudonym}) {
        const std::string sections[] = {
            R"("participations":[{"person":")" + who + R"(","start_month":"2026-05"}])",
            R"("time_attestations":[{"person":")" + who + R"(","month":"2026-05","minutes":60}])",
            R"("survey_responses":[{"occasion":"o1","person":")" + who +
                R"(","rating_content":3,"rating_usefulness":3,"rating_overall":3}])",
        };
        for (auto& s : sections) {
            auto r = store->import_json("{" + s + "}");
            ASSERT_FALSE(r) << s;
            EXPECT_NE(r.status().message().find("erased"), std::string::npos) << r.status().to_string();
            EXPECT_NE(r.status().message().find("[0].person"), std::string::npos) << r.status().to_string();
        }
    }
    for (auto* t : {"participations", "time_attestations", "survey_responses"}) EXPECT_EQ(rows(t), 0) << t;
}

// Imported rows reach devices like any other: a participant pulls her own participation,
// attestation and answer; the coordinators' deviation log stays off her device.
TEST_P(ImportSections, ImportedRowsFollowTheScopeRules) {
    ASSERT_TRUE(store->import_json(kRecorded));
    auto anna = store->authenticate(login("anna"));
    ASSERT_TRUE(anna) << anna.status().to_string();
    auto parts = store->visible_ids(anna.value(), Kind::participation);
    ASSERT_TRUE(parts);
    EXPECT_EQ(parts->by_sql.size(), 2u);
    EXPECT_EQ(parts->by_sql, parts->by_cpp);
    auto answers = store->visible_ids(anna.value(), Kind::survey_response);
    ASSERT_TRUE(answers);
    EXPECT_EQ(answers->by_sql.size(), 1u);
    auto devs = store->visible_ids(anna.value(), Kind::deviation);
    ASSERT_TRUE(devs);
    EXPECT_TRUE(devs->by_sql.empty());
}

TUNDRA_STORE_BACKENDS(ImportSections);
