#include "fixture.h"
#include "tundra/server/demo_data.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

using Import = StoreFixture;

TEST_F(Import, BadDocumentIsRefusedWholeWithThePathOfTheFirstBadField) {
    struct Case {
        const char* doc;
        const char* path;
    } cases[] = {
        {R"({"persons":[{"id":"p9","organisation":"arjeplog","name":"X","gender":"female"}]})", "persons[0].gender"},
        {R"({"organisations":[{"code":"x","name":"X","county":"Y"}],"persons":[{"id":"p9","organisation":"nowhere","name":"X","gender":"woman"}]})", "persons[0].organisation"},
        {R"({"occasions":[{"id":"o9","course":"c1","starts_at":"tomorrow","ends_at":"2026-01-01","capacity":1,"enrolment_closes":"2026-01-01"}]})", "occasions[0].starts_at"},
        {R"({"courses":[{"id":"c9","title":"T","format":"on_site","organisations":["arjeplog"],"published":"yes"}]})", "courses[0].published"},
        {R"({"users":[{"username":"u","password":"password1","role":"coordinator"}]})", "users[0].sites"},
        {R"({"users":[{"username":"u","password":"password1","role":"participant"}]})", "users[0].person"},
        {R"({"enrolments":[{"id":"e1","occasion":"o1","person":"ghost","status":"confirmed"}]})", "enrolments[0].person"},
        {R"({"persons":[{"id":"p9","organisation":"arjeplog","name":"X","gender":"woman","shoe_size":40}]})", "persons[0].shoe_size"},
        {R"({"things":[]})", "things"},
        {R"({"sites":[{"id":"s1","organisation":"arjeplog","name":"A"},{"id":"s1","organisation":"arjeplog","name":"B"}]})", "sites[1].id"},
    };
    int64_t persons = scalar("SELECT count(*) FROM persons");
    for (auto& c : cases) {
        // A valid section before the bad one must not be written either.
        std::string doc = std::string(c.doc);
        auto r = store->import_json(doc);
        ASSERT_FALSE(r) << c.doc;
        EXPECT_NE(r.status().message().find(c.path), std::string::npos) << r.status().to_string();
    }
    auto r = store->import_json(R"({"organisations":[{"code":"pajala","name":"Pajala","county":"Norrbotten"}],
        "persons":[{"id":"p9","organisation":"pajala","name":"X","gender":"nope"}]})");
    ASSERT_FALSE(r);
    EXPECT_EQ(scalar("SELECT count(*) FROM organisations WHERE id = 'pajala'"), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM persons"), persons);
}

TEST_F(Import, DeeplyNestedDocumentIsMalformedNotACrash) {
    int64_t persons = scalar("SELECT count(*) FROM persons");
    std::string doc = R"({"persons":[{"id":"p9","organisation":"arjeplog","name":)" +
                      std::string(1'000'000, '[');
    auto r = store->import_json(doc);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::malformed);
    EXPECT_NE(r.status().message().find("nesting deeper than 64 levels"), std::string::npos)
        << r.status().to_string();
    EXPECT_EQ(scalar("SELECT count(*) FROM persons"), persons);
}

TEST_F(Import, ReimportUpdatesInsteadOfDuplicatingAndTouchesOnlyChangedRows) {
    uint64_t v = store->current_version();
    ASSERT_TRUE(store->import_json(tiny_document()));
    EXPECT_EQ(scalar("SELECT count(*) FROM persons"), 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE version > " + std::to_string(v)), 0);
    std::string doc = tiny_document();
    doc.replace(doc.find("\"Anna\""), 6, "\"Anna Lindqvist\"");
    ASSERT_TRUE(store->import_json(doc));
    EXPECT_EQ(scalar("SELECT count(*) FROM persons"), 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE version > " + std::to_string(v)), 1);
}

TEST_F(Import, AttendanceWithoutIdsIsKeyedSoReimportDoesNotDuplicate) {
    const char* doc = R"({"enrolments":[{"id":"e1","occasion":"o1","person":"p1","status":"confirmed"}],
        "attendance":[{"occasion":"o1","person":"p1","status":"present","minutes":120}]})";
    ASSERT_TRUE(store->import_json(doc));
    ASSERT_TRUE(store->import_json(doc));
    EXPECT_EQ(scalar("SELECT count(*) FROM attendance"), 1);
    EXPECT_EQ(scalar("SELECT confirmed FROM occasions WHERE id = 'o1'"), 1);
}

TEST_F(Import, DemoDataIsRealisticAndImports) {
    DemoOptions o;
    o.data_dir = TUNDRA_DATA_DIR;
    o.now_ms = static_cast<int64_t>(kNow);
    auto doc = demo_document(o);
    ASSERT_TRUE(doc) << doc.status().to_string();
    auto r = store->import_json(doc.value());
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(r->organisations, 15u);
    int64_t women = scalar("SELECT count(*) FROM persons WHERE gender = 'woman'");
    int64_t all = scalar("SELECT count(*) FROM persons");
    EXPECT_GT(women * 100 / all, 70);  // welfare work is about 80% women
    EXPECT_LT(women * 100 / all, 90);
    EXPECT_EQ(scalar("SELECT count(*) FROM occasions WHERE confirmed > capacity"), 0);
}
