#include "fixture.h"
#include "tundra/server/demo_data.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

using Import = StoreFixture;

TEST_P(Import, BadDocumentIsRefusedWholeWithThePathOfTheFirstBadField) {
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

TEST_P(Import, DeeplyNestedDocumentIsMalformedNotACrash) {
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

TEST_P(Import, ReimportUpdatesInsteadOfDuplicatingAndTouchesOnlyChangedRows) {
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

TEST_P(Import, AttendanceWithoutIdsIsKeyedSoReimportDoesNotDuplicate) {
    const char* doc = R"({"enrolments":[{"id":"e1","occasion":"o1","person":"p1","status":"confirmed"}],
        "attendance":[{"occasion":"o1","person":"p1","status":"present","minutes":120}]})";
    ASSERT_TRUE(store->import_json(doc));
    ASSERT_TRUE(store->import_json(doc));
    EXPECT_EQ(scalar("SELECT count(*) FROM attendance"), 1);
    EXPECT_EQ(scalar("SELECT confirmed FROM occasions WHERE id = 'o1'"), 1);
}

TEST_P(Import, DemoDataIsRealisticAndImports) {
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

// Issue 8, finding 11: `"sites": null` threw bad_variant_access. Every section, row and field
// of the wrong JSON type is an invalid_argument naming its path (or, for null in an optional
// field, the field is taken as not given); never an exception, never a partial import.
TEST_P(Import, EveryFieldOfTheWrongJsonTypeIsAClearErrorWithItsPath) {
    struct Section {
        const char* name;
        const char* row;  // a valid row with every field
        std::vector<const char*> fields;
    };
    const Section sections[] = {
        {"organisations", R"({"code":"x1","name":"X","county":"Y"})", {"code", "name", "county"}},
        {"sites", R"({"id":"xs1","organisation":"arjeplog","name":"S"})", {"id", "organisation", "name"}},
        {"persons",
         R"({"id":"xp1","organisation":"arjeplog","site":"s1","name":"N","gender":"woman","birth_year":1980,"profession":"p","education_level":"isced_3_4","employment_status":"employed","personal_id":"19800101-0000"})",
         {"id", "organisation", "site", "name", "gender", "birth_year", "profession", "education_level",
          "employment_status", "personal_id"}},
        {"users", R"({"username":"xu1","password":"password1","role":"coordinator","sites":["s1"]})",
         {"username", "password", "password_hash", "role", "person", "sites"}},
        {"courses",
         R"({"id":"xc1","title":"T","description":"D","theme":"t","format":"on_site","provider":"P","duration_minutes":60,"organisations":[],"published":true})",
         {"id", "title", "description", "theme", "format", "provider", "duration_minutes", "organisations", "published"}},
        {"occasions",
         R"({"id":"xo1","course":"c1","starts_at":"2026-12-09T08:00:00Z","ends_at":"2026-12-09T10:00:00Z","site":"s1","online_link":"https://x","capacity":3,"enrolment_opens":"2026-11-01T08:00:00Z","enrolment_closes":"2026-12-05T08:00:00Z","status":"planned"})",
         {"id", "course", "starts_at", "ends_at", "site", "online_link", "capacity", "enrolment_opens",
          "enrolment_closes", "status"}},
        {"enrolments", R"({"id":"xe1","occasion":"o1","person":"p1","status":"confirmed"})",
         {"id", "occasion", "person", "status"}},
        {"attendance", R"({"id":"xa1","occasion":"o1","person":"p1","status":"present","minutes":60})",
         {"id", "occasion", "person", "status", "minutes"}},
    };
    const char* wrong[] = {"null", "1.5", "7", "true", "{}", "{\"a\":1}", "[]", "[1]", "\"text\""};
    int refused = 0, tried = 0;
    for (auto& sec : sections) {
        const std::string name = sec.name;
        // The valid row imports (so each refusal below is the wrong value's doing).
        {
            auto ok = store->import_json("{\"" + name + "\":[" + sec.row + "]}");
            ASSERT_TRUE(ok) << name << ": " << ok.status().to_string();
        }
        for (const char* w : wrong) {
            // The section itself, and a row, of the wrong type.
            for (std::string doc : {"{\"" + name + "\":" + w + "}", "{\"" + name + "\":[" + w + "]}"}) {
                if (doc == "{\"" + name + "\":[]}") continue;  // an empty section is fine
                Result<ImportReport> r(Errc::internal, "");
                ASSERT_NO_THROW(r = store->import_json(doc)) << doc;
                ASSERT_FALSE(r) << doc;
                EXPECT_EQ(r.status().code(), Errc::invalid_argument) << doc << ": " << r.status().to_string();
                EXPECT_NE(r.status().message().find(name), std::string::npos) << r.status().to_string();
                ++refused;
            }
            for (const char* field : sec.fields) {
                rapidjson::Document d;
                d.Parse(sec.row);
                rapidjson::Document v(&d.GetAllocator());
                v.Parse(w);
                d.RemoveMember(field);
                d.AddMember(rapidjson::Value(field, d.GetAllocator()), rapidjson::Value(v, d.GetAllocator()),
                            d.GetAllocator());
                rapidjson::StringBuffer buf;
                rapidjson::Writer<rapidjson::StringBuffer> wr(buf);
                d.Accept(wr);
                std::string doc = "{\"" + name + "\":[" + buf.GetString() + "]}";
                Result<ImportReport> r(Errc::internal, "");
                ++tried;
                ASSERT_NO_THROW(r = store->import_json(doc)) << doc;
                if (r) continue;  // a value of the right type after all (e.g. null where optional)
                EXPECT_EQ(r.status().code(), Errc::invalid_argument) << doc << ": " << r.status().to_string();
                EXPECT_NE(r.status().message().find(name + "[0]." + field), std::string::npos)
                    << doc << ": " << r.status().to_string();
                ++refused;
            }
        }
    }
    EXPECT_GT(tried, 400);
    EXPECT_GT(refused, 350);
    // The case from the finding.
    auto r = store->import_json(
        R"({"users":[{"username":"u9","password":"password1","role":"admin","sites":null}]})");
    EXPECT_TRUE(r) << "null in an optional field is the field not given: " << r.status().to_string();
    r = store->import_json(R"({"users":[{"username":"u9","password":"password1","role":"coordinator","sites":null}]})");
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("users[0].sites"), std::string::npos) << r.status().to_string();
    r = store->import_json(R"({"sites":null})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().message(), "sites: must be an array");
}

// Finding 11: bounded text. An id longer than 100 bytes, a text longer than 4,000 characters
// or a list of more than 1,000 entries is refused with its path.
TEST_P(Import, IdsTextsAndListsAreBounded) {
    const std::string long_id(101, 'x'), long_text(4001, 'y');
    std::string umlauts;
    for (int i = 0; i < 4000; ++i) umlauts += "ä";  // 4,000 characters, 8,000 bytes: fine
    struct Case {
        std::string doc, path;
    } cases[] = {
        {R"({"organisations":[{"code":")" + long_id + R"(","name":"X","county":"Y"}]})", "organisations[0].code"},
        {R"({"sites":[{"id":"s1","organisation":"arjeplog","name":")" + long_text + R"("}]})", "sites[0].name"},
        {R"({"courses":[{"id":"c1","title":"T","description":")" + long_text +
             R"(","format":"on_site","organisations":[],"published":true}]})",
         "courses[0].description"},
        {R"({"users":[{"username":")" + long_id + R"(","password":"password1","role":"admin"}]})", "users[0].username"},
    };
    for (auto& c : cases) {
        auto r = store->import_json(c.doc);
        ASSERT_FALSE(r) << c.path;
        EXPECT_EQ(r.status().code(), Errc::invalid_argument);
        EXPECT_NE(r.status().message().find(c.path), std::string::npos) << r.status().to_string();
    }
    auto ok = store->import_json(R"({"sites":[{"id":"s1","organisation":"arjeplog","name":")" + umlauts + R"("}]})");
    EXPECT_TRUE(ok) << ok.status().to_string();
}

TUNDRA_STORE_BACKENDS(Import);
