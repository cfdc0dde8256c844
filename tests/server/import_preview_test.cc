// The import preview (console, issue 11): import_json's one path as a dry run that is rolled
// back, listing the rows the apply then changes.
#include <set>

#include "fixture.h"
#include "tundra/core/crypto.h"
#include "tundra/server/staff_csv.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
struct ImportPreviewTest : StoreFixture {
    // What a preview must not move.
    struct Trace {
        uint64_t version;
        int64_t meta_version, meta_hlc, facts, audit, persons;
        bool operator==(const Trace&) const = default;
    };
    Trace trace() {
        return {store->current_version(),
                scalar("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'version'"),
                scalar("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'hlc'"),
                scalar("SELECT count(*) FROM report_facts"),
                scalar("SELECT count(*) FROM audit_log"),
                scalar("SELECT count(*) FROM persons")};
    }
    std::map<std::string, int64_t> person_versions() {
        std::map<std::string, int64_t> out;
        auto q = store->db().query("SELECT id, version FROM persons");
        while (q->step().value()) out[q->text(0)] = q->int64(1);
        return out;
    }
    std::set<std::string> changed_persons(const ImportPreview& p) {
        std::set<std::string> out;
        for (auto& c : p.changes)
            if (c.kind == "person") out.insert(c.id);
        return out;
    }
    static const ImportChange* find(const ImportPreview& p, const std::string& kind, const std::string& id) {
        for (auto& c : p.changes)
            if (c.kind == kind && c.id == id) return &c;
        return nullptr;
    }
    PersonLookup lookup() {
        return [this](PersonKey by, const std::string& key) { return store->person_for_import(by, key); };
    }
};

// p1 gets a new profession, p2 is listed unchanged, p3 and site s2 are new; the course is the same.
const char* kDoc = R"({
 "sites":[{"id":"s2","organisation":"arjeplog","name":"Boende Arjeplog"}],
 "persons":[{"id":"p1","organisation":"arjeplog","site":"s1","name":"Anna","gender":"woman","birth_year":1980,"profession":"sjuksköterska"},
            {"id":"p2","organisation":"arjeplog","site":"s1","name":"Erik","gender":"man","birth_year":1975,"profession":"vårdbiträde"},
            {"id":"p3","site":"s2","name":"Kim","gender":"non_binary"}],
 "courses":[{"id":"c1","title":"Stress och hälsa","theme":"stress","format":"digital_self_paced","organisations":["arjeplog"],"published":true}]
})";
}  // namespace

TEST_P(ImportPreviewTest, ListsExactlyTheRowsTheApplyChanges) {
    auto before = person_versions();
    auto p = store->preview_import(kDoc);
    ASSERT_TRUE(p) << p.status().to_string();
    EXPECT_EQ(p->digest, sha256_hex(kDoc));
    ASSERT_EQ(p->changes.size(), 3u);
    // In the order the import writes: sites, then persons in document order.
    EXPECT_EQ(p->changes[0].kind, "site");
    EXPECT_EQ(p->changes[0].id, "s2");
    EXPECT_EQ(p->changes[0].change, "added");
    EXPECT_EQ(p->changes[1].id, "p1");
    EXPECT_EQ(p->changes[1].change, "changed");
    ASSERT_EQ(p->changes[1].fields.size(), 1u);
    EXPECT_EQ(p->changes[1].fields[0].name, "profession");
    EXPECT_EQ(p->changes[1].fields[0].before, "\"undersköterska\"");
    EXPECT_EQ(p->changes[1].fields[0].after, "\"sjuksköterska\"");
    auto* added = find(p.value(), "person", "p3");
    ASSERT_NE(added, nullptr);
    EXPECT_EQ(added->change, "added");
    std::map<std::string, std::string> fields;
    for (auto& f : added->fields) {
        EXPECT_EQ(f.before, "");
        fields[f.name] = f.after;
    }
    EXPECT_EQ(fields["name"], "\"Kim\"");
    EXPECT_EQ(fields["gender"], "\"non_binary\"");
    EXPECT_EQ(fields["organisation"], "\"arjeplog\"") << "a person without organisation takes her site's";
    EXPECT_EQ(fields.count("profession"), 0u) << "an added row lists the values it has";
    EXPECT_EQ(p->unchanged, 2u) << "p2 and c1";

    // The apply: the same counts, and exactly the listed persons get a new version.
    auto applied = store->import_json(kDoc);
    ASSERT_TRUE(applied) << applied.status().to_string();
    EXPECT_EQ(p->counts.persons, applied->persons);
    EXPECT_EQ(p->counts.sites, applied->sites);
    EXPECT_EQ(p->counts.courses, applied->courses);
    EXPECT_EQ(p->counts.merged, applied->merged);
    std::set<std::string> moved;
    for (auto& [id, v] : person_versions())
        if (!before.count(id) || before[id] != v) moved.insert(id);
    EXPECT_EQ(moved, changed_persons(p.value()));
    EXPECT_EQ(scalar("SELECT count(*) FROM sites WHERE id = 's2'"), 1);

    // Previewing the applied document again: nothing to do.
    auto again = store->preview_import(kDoc);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->changes.empty());
    EXPECT_EQ(again->unchanged, 5u);
}

TEST_P(ImportPreviewTest, WritesNothingNotEvenAMergeOrItsAudit) {
    // A walk-in with an identity number: the document's person with the same number would be
    // merged with her (and audited) by the apply.
    ASSERT_TRUE(store->db().exec(
        "INSERT INTO persons (id, organisation, site, name, gender, personal_id, provisional, erased, version) "
        "VALUES ('w1', 'arjeplog', 's1', 'Walk In', 'woman', '19800115-1235', 1, 0, 1)"));
    std::string doc = R"({"persons":[{"id":"p9","site":"s1","name":"Walk In","gender":"woman","personal_id":"19800115-1235"}],
        "users":[{"username":"new.coordinator","password":"password1","role":"coordinator","sites":["s1"]}]})";
    Trace t0 = trace();
    auto p = store->preview_import(doc);
    ASSERT_TRUE(p) << p.status().to_string();
    EXPECT_EQ(p->counts.merged, 1u);
    EXPECT_EQ(p->counts.users, 1u);
    EXPECT_NE(find(p.value(), "user", "new.coordinator"), nullptr);
    EXPECT_TRUE(trace() == t0) << "version, meta, report facts, audit and persons as before";
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = 'w1'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM users WHERE username = 'new.coordinator'"), 0);

    // The next real write starts from the same counter: the preview handed out nothing.
    auto applied = store->import_json(doc);
    ASSERT_TRUE(applied) << applied.status().to_string();
    EXPECT_EQ(applied->merged, 1u);
    EXPECT_GT(scalar("SELECT count(*) FROM audit_log"), t0.audit);
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = 'w1'"), 0);
}

TEST_P(ImportPreviewTest, ABadDocumentGivesTheSameErrorAsImportJson) {
    for (const char* doc : {R"({"persons":[{"id":"p9","organisation":"arjeplog","name":"X","gender":"female"}]})",
                            R"({"persons":[{"id":"p9","site":"nowhere","name":"X","gender":"woman"}]})",
                            R"({"persons":[{"id":"p9","name":"X","gender":"woman"}]})",
                            R"({"things":[]})", R"({"persons":[)", R"([1,2])"}) {
        Trace t0 = trace();
        auto p = store->preview_import(doc);
        auto i = store->import_json(doc);
        ASSERT_FALSE(p) << doc;
        ASSERT_FALSE(i) << doc;
        EXPECT_EQ(p.status().code(), i.status().code()) << doc;
        EXPECT_EQ(p.status().message(), i.status().message()) << doc;
        EXPECT_TRUE(trace() == t0) << doc;
    }
    auto p = store->preview_import(R"({"persons":[{"id":"p9","name":"X","gender":"woman"}]})");
    EXPECT_EQ(p.status().message(), "persons[0].organisation: is required (or a site)");
}

TEST_P(ImportPreviewTest, PersonByPersonalIdMatchesBothFormsButNotWalkIns) {
    ASSERT_TRUE(store->import_json(
        R"({"persons":[{"id":"p1","organisation":"arjeplog","site":"s1","name":"Anna","gender":"woman","birth_year":1980,"profession":"undersköterska","personal_id":"19800115-1235"}]})"));
    ASSERT_TRUE(store->db().exec(
        "INSERT INTO persons (id, organisation, site, name, gender, personal_id, provisional, erased, version) "
        "VALUES ('w1', 'arjeplog', 's1', 'Walk In', 'man', '19750520-4565', 1, 0, 1)"));
    EXPECT_EQ(store->person_by_personal_id("19800115-1235").value(), std::optional<std::string>("p1"));
    EXPECT_EQ(store->person_by_personal_id("198001151235").value(), std::optional<std::string>("p1"));
    EXPECT_EQ(store->person_by_personal_id("19750520-4565").value(), std::nullopt);
    EXPECT_EQ(store->person_by_personal_id("19990101-0000").value(), std::nullopt);
}

TEST_P(ImportPreviewTest, StaffCsvPreviewedThenAppliedKeepsTheMatchedPersonsId) {
    // p1 holds her identity number; the HR export has no ids, a new profession for her, a
    // new colleague, and no p2 (who must stay as she is).
    ASSERT_TRUE(store->import_json(
        R"({"persons":[{"id":"p1","organisation":"arjeplog","site":"s1","name":"Anna","gender":"woman","birth_year":1980,"profession":"undersköterska","personal_id":"19800115-1235"}]})"));
    std::string csv =
        "\xEF\xBB\xBFpersonnummer;namn;kön;arbetsplats;yrke\r\n"
        "800115-1235;Anna;Kvinna;s1;Sjuksköterska\r\n"
        "197505204565;Kim Öhman;icke-binär;s1;Kock\r\n";
    auto doc = staff_csv_to_import(csv, lookup());
    ASSERT_TRUE(doc) << doc.status().to_string();
    std::string kim = "p-" + sha256_hex("tundra staff csv personnummer:19750520-4565").substr(0, 16);

    auto before = person_versions();
    auto p2_before = scalar("SELECT version FROM persons WHERE id = 'p2'");
    Trace t0 = trace();
    auto p = store->preview_import(doc.value());
    ASSERT_TRUE(p) << p.status().to_string();
    EXPECT_TRUE(trace() == t0);
    ASSERT_EQ(p->changes.size(), 2u);
    EXPECT_EQ(p->changes[0].id, "p1");
    EXPECT_EQ(p->changes[0].change, "changed");
    ASSERT_EQ(p->changes[0].fields.size(), 1u) << "only the changed field";
    EXPECT_EQ(p->changes[0].fields[0].name, "profession");
    EXPECT_EQ(p->changes[0].fields[0].after, "\"Sjuksköterska\"");
    EXPECT_EQ(p->changes[1].id, kim);
    EXPECT_EQ(p->changes[1].change, "added");

    // Apply the same file: the digest agrees, and exactly the previewed persons change.
    auto doc2 = staff_csv_to_import(csv, lookup());
    ASSERT_TRUE(doc2);
    EXPECT_EQ(sha256_hex(doc2.value()), p->digest);
    auto applied = store->import_json(doc2.value());
    ASSERT_TRUE(applied) << applied.status().to_string();
    EXPECT_EQ(applied->persons, 2u);
    std::set<std::string> moved;
    for (auto& [id, v] : person_versions())
        if (!before.count(id) || before[id] != v) moved.insert(id);
    EXPECT_EQ(moved, changed_persons(p.value()));
    EXPECT_EQ(scalar("SELECT version FROM persons WHERE id = 'p2'"), p2_before) << "absent from the file";
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = '" + kim +
                     "' AND organisation = 'arjeplog' AND birth_year = 1975 AND gender = 'non_binary' AND "
                     "personal_id = '19750520-4565'"),
              1);
    // Uploading the file again: every row now matches, nothing to change.
    auto doc3 = staff_csv_to_import(csv, lookup());
    ASSERT_TRUE(doc3);
    auto again = store->preview_import(doc3.value());
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->changes.empty());
    EXPECT_EQ(again->unchanged, 2u);
}

TEST_P(ImportPreviewTest, AStaffCsvRowTheImportRefusesIsNamedByItsLine) {
    std::string csv = "id;namn;kön;arbetsplats\n\np-1;Anna;kvinna;s1\np-9;Kim;man;nowhere\n";
    auto doc = staff_csv_to_import(csv, lookup());
    ASSERT_TRUE(doc) << doc.status().to_string();
    auto p = store->preview_import(doc.value());
    ASSERT_FALSE(p);
    EXPECT_EQ(p.status().message(), "persons[1].site: refers to unknown site 'nowhere'");
    EXPECT_EQ(staff_csv_error(csv, p.status()).message(), "line 4, arbetsplats: refers to unknown site 'nowhere'");
}

TEST_P(ImportPreviewTest, PersonForImportFindsByIdOrEitherFormOfTheNumber) {
    ASSERT_TRUE(store->import_json(
        R"({"persons":[{"id":"p1","organisation":"arjeplog","site":"s1","name":"Anna","gender":"woman","birth_year":1980,"profession":"undersköterska","education_level":"isced_3_4","personal_id":"19800115-1235"}]})"));
    ASSERT_TRUE(store->db().exec(
        "INSERT INTO persons (id, organisation, site, name, gender, personal_id, provisional, erased, version) "
        "VALUES ('w1', 'arjeplog', 's1', 'Walk In', 'man', '19750520-4565', 1, 0, 1)"));
    auto by_id = store->person_for_import(PersonKey::id, "p1");
    ASSERT_TRUE(by_id) << by_id.status().to_string();
    ASSERT_TRUE(by_id.value());
    const Row& r = *by_id.value();
    EXPECT_EQ(*get_str(r, "id"), "p1");
    EXPECT_EQ(*get_str(r, "organisation"), "arjeplog");
    EXPECT_EQ(*get_str(r, "site"), "s1");
    EXPECT_EQ(*get_str(r, "name"), "Anna");
    EXPECT_EQ(*get_str(r, "gender"), "woman");
    EXPECT_EQ(get_int(r, "birth_year"), std::optional<int64_t>(1980));
    EXPECT_EQ(*get_str(r, "profession"), "undersköterska");
    EXPECT_EQ(*get_str(r, "education_level"), "isced_3_4");
    EXPECT_TRUE(std::holds_alternative<std::monostate>(r.at("employment_status")));
    EXPECT_EQ(*get_str(r, "personal_id"), "19800115-1235");
    for (const char* pnr : {"19800115-1235", "198001151235"}) {
        auto by_pnr = store->person_for_import(PersonKey::personal_id, pnr);
        ASSERT_TRUE(by_pnr && by_pnr.value()) << pnr;
        EXPECT_EQ(*get_str(*by_pnr.value(), "id"), "p1") << pnr;
    }
    EXPECT_EQ(store->person_for_import(PersonKey::personal_id, "19750520-4565").value(), std::nullopt) << "a walk-in";
    EXPECT_EQ(store->person_for_import(PersonKey::personal_id, "19990101-0000").value(), std::nullopt);
    EXPECT_EQ(store->person_for_import(PersonKey::id, "nobody").value(), std::nullopt);
}

// ESF reporting needs education and employment: an HR export without them (or with their
// cells left blank) must not clear them.
TEST_P(ImportPreviewTest, StaffCsvWithoutColumnsOrWithEmptyCellsKeepsStoredValues) {
    ASSERT_TRUE(store->import_json(
        R"({"persons":[{"id":"p1","organisation":"arjeplog","site":"s1","name":"Anna","gender":"woman","birth_year":1980,"profession":"undersköterska","education_level":"isced_3_4","employment_status":"employed","personal_id":"19800115-1235"}]})"));
    auto p1 = [&] {
        return scalar(
            "SELECT count(*) FROM persons WHERE id = 'p1' AND organisation = 'arjeplog' AND site = 's1' AND "
            "birth_year = 1980 AND profession = 'undersköterska' AND education_level = 'isced_3_4' AND "
            "employment_status = 'employed' AND personal_id = '19800115-1235'");
    };
    std::string kim = "p-" + sha256_hex("tundra staff csv personnummer:19750520-4565").substr(0, 16);
    const std::string files[] = {
        // The columns are absent.
        "id;namn;kön;arbetsplats\r\np1;Anna;kvinna;s1\r\np2;Erik;man;s1\r\n",
        // The cells are empty; Kim is new.
        "personnummer;namn;kön;födelseår;arbetsplats;yrke;utbildning;anställning\r\n"
        "800115-1235;Anna;kvinna;;s1;;;\r\n"
        "19750520-4565;Kim;icke-binär;;s1;;;\r\n"};
    for (const auto& csv : files) {
        auto doc = staff_csv_to_import(csv, lookup());
        ASSERT_TRUE(doc) << doc.status().to_string();
        auto before = person_versions();
        auto p = store->preview_import(doc.value());
        ASSERT_TRUE(p) << p.status().to_string();
        EXPECT_EQ(find(p.value(), "person", "p1"), nullptr) << csv;
        EXPECT_EQ(find(p.value(), "person", "p2"), nullptr) << csv;
        auto applied = store->import_json(doc.value());
        ASSERT_TRUE(applied) << applied.status().to_string();
        EXPECT_EQ(p1(), 1) << csv;
        EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = 'p2' AND profession = 'vårdbiträde' AND "
                         "birth_year = 1975"),
                  1);
        std::set<std::string> moved;
        for (auto& [id, v] : person_versions())
            if (!before.count(id) || before[id] != v) moved.insert(id);
        EXPECT_EQ(moved, changed_persons(p.value())) << csv;
    }
    // Kim was new: what the file left empty is null (her birth year follows from the number).
    auto* added = find(store->preview_import(staff_csv_to_import(files[1], lookup()).value()).value(), "person", kim);
    EXPECT_EQ(added, nullptr) << "applied already";
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = '" + kim +
                     "' AND birth_year = 1975 AND profession IS NULL AND education_level IS NULL AND "
                     "employment_status IS NULL"),
              1);

    // A filled cell still changes: only that field is listed, and applied.
    std::string changed =
        "personnummer;namn;kön;arbetsplats;yrke;utbildning;anställning\r\n800115-1235;Anna;kvinna;s1;;eftergymnasial;\r\n";
    auto doc = staff_csv_to_import(changed, lookup());
    ASSERT_TRUE(doc) << doc.status().to_string();
    auto p = store->preview_import(doc.value());
    ASSERT_TRUE(p) << p.status().to_string();
    ASSERT_EQ(p->changes.size(), 1u);
    EXPECT_EQ(p->changes[0].id, "p1");
    ASSERT_EQ(p->changes[0].fields.size(), 1u);
    EXPECT_EQ(p->changes[0].fields[0].name, "education_level");
    EXPECT_EQ(p->changes[0].fields[0].before, "\"isced_3_4\"");
    EXPECT_EQ(p->changes[0].fields[0].after, "\"isced_5_8\"");
    ASSERT_TRUE(store->import_json(doc.value()));
    EXPECT_EQ(scalar("SELECT count(*) FROM persons WHERE id = 'p1' AND education_level = 'isced_5_8' AND "
                     "employment_status = 'employed' AND profession = 'undersköterska'"),
              1);
}

TUNDRA_STORE_BACKENDS(ImportPreviewTest);
