// The staff CSV reader (docs/import.md, "Staff CSV"): bytes as Swedish Excel saves them →
// the import document's persons section.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "tundra/core/crypto.h"
#include "tundra/server/staff_csv.h"

using namespace tundra;
using namespace tundra::server;

namespace {

// No one in the store.
PersonLookup nobody() {
    return [](PersonKey, const std::string&) -> Result<std::optional<Row>> { return std::optional<Row>(); };
}

// These stored persons, found by id or by identity number.
PersonLookup stored(std::vector<Row> rows) {
    return [rows](PersonKey by, const std::string& key) -> Result<std::optional<Row>> {
        for (auto& r : rows) {
            const std::string* v = get_str(r, by == PersonKey::id ? "id" : "personal_id");
            if (v && *v == key) return std::optional<Row>(r);
        }
        return std::optional<Row>();
    };
}

// Stored persons known only by id and identity number.
PersonLookup known(std::map<std::string, std::string> ids) {
    std::vector<Row> rows;
    for (auto& [pnr, id] : ids) rows.push_back(Row{{"id", id}, {"personal_id", pnr}, {"name", std::string("X")}});
    return stored(rows);
}

struct Persons {
    rapidjson::Document doc;
    size_t size() const { return doc["persons"].Size(); }
    const rapidjson::Value& operator[](size_t i) const { return doc["persons"][static_cast<rapidjson::SizeType>(i)]; }
    std::string str(size_t i, const char* key) const {
        auto& p = (*this)[i];
        return p.HasMember(key) ? std::string(p[key].GetString()) : std::string("<absent>");
    }
};

Persons read(std::string_view csv, const PersonLookup& lookup = nobody()) {
    auto r = staff_csv_to_import(csv, lookup);
    Persons p;
    EXPECT_TRUE(r) << r.status().to_string();
    if (!r) {
        p.doc.Parse(R"({"persons":[]})");
        return p;
    }
    p.doc.Parse(r.value().c_str());
    EXPECT_FALSE(p.doc.HasParseError()) << r.value();
    EXPECT_TRUE(p.doc.IsObject() && p.doc.MemberCount() == 1 && p.doc["persons"].IsArray()) << r.value();
    return p;
}

Status error(std::string_view csv, const PersonLookup& lookup = nobody(), size_t max_rows = 500'000) {
    auto r = staff_csv_to_import(csv, lookup, max_rows);
    EXPECT_FALSE(r) << "accepted: " << (r ? r.value() : "");
    return r ? Status::ok() : r.status();
}

#define EXPECT_ERROR(csv, want, text)                                                           \
    do {                                                                                         \
        Status st_ = error(csv);                                                                 \
        EXPECT_EQ(st_.code(), want) << st_.to_string();                                          \
        EXPECT_NE(st_.message().find(text), std::string::npos) << st_.to_string();               \
    } while (0)

}  // namespace

TEST(StaffCsv, Utf8WithBomSemicolonsAndSwedishHeaders) {
    auto p = read(
        "\xEF\xBB\xBFid;Personnummer;Namn;Kön;Födelseår;Arbetsplats;Yrke;Utbildning;Anställning\r\n"
        "p-1;19780312-1230;Åsa Öberg;Kvinna;;hemtjanst;Undersköterska;Gymnasial;Anställd\r\n"
        "p-2;;Erik Niemi;MAN;1975;hemtjanst;;eftergymnasial;egenföretagare\r\n");
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p.str(0, "id"), "p-1");
    EXPECT_EQ(p.str(0, "name"), "Åsa Öberg");
    EXPECT_EQ(p.str(0, "gender"), "woman");
    EXPECT_EQ(p.str(0, "site"), "hemtjanst");
    EXPECT_EQ(p.str(0, "organisation"), "<absent>") << "the import takes the site's";
    EXPECT_EQ(p.str(0, "personal_id"), "19780312-1230");
    EXPECT_EQ(p[0]["birth_year"].GetInt(), 1978) << "derived from the personnummer";
    EXPECT_EQ(p.str(0, "profession"), "Undersköterska");
    EXPECT_EQ(p.str(0, "education_level"), "isced_3_4");
    EXPECT_EQ(p.str(0, "employment_status"), "employed");
    EXPECT_EQ(p.str(1, "gender"), "man");
    EXPECT_EQ(p[1]["birth_year"].GetInt(), 1975);
    EXPECT_EQ(p.str(1, "personal_id"), "<absent>");
    EXPECT_EQ(p.str(1, "profession"), "<absent>");
    EXPECT_EQ(p.str(1, "education_level"), "isced_5_8");
    EXPECT_EQ(p.str(1, "employment_status"), "self_employed");
}

TEST(StaffCsv, Windows1252BytesWithCommasAndEnglishHeaders) {
    // "Åsa Ängström", "icke-binär", "förgymnasial", "arbetslös", "utanför arbetskraften" and a
    // 0x96 en dash and 0x80 euro sign as Windows-1252 bytes (not Latin-1).
    std::string csv =
        "ID,Personal_ID,NAME,Gender,Birth_Year,Organisation,Site,Profession,Education_Level,Employment_Status\n"
        "p-1,,\xC5sa \xC4ngstr\xF6m,icke-bin\xE4r,1990,arjeplog,,L\xF6nehandl\xE4ggare \x96 l\xF6n \x80,f\xF6rgymnasial,arbetsl\xF6s\n"
        "p-2,,Kim,Icke bin\xC4r,,arjeplog,s1,,,utanf\xF6r arbetskraften\n"
        "p-3,,Robin,vill ej uppge,,arjeplog,,,,\n"
        "p-4,,Sam,non_binary,,arjeplog,,,isced_0_2,inactive\n";
    auto p = read(csv);
    ASSERT_EQ(p.size(), 4u);
    EXPECT_EQ(p.str(0, "name"), "Åsa Ängström");
    EXPECT_EQ(p.str(0, "gender"), "non_binary");
    EXPECT_EQ(p.str(0, "profession"), "Lönehandläggare – lön €");
    EXPECT_EQ(p.str(0, "organisation"), "arjeplog");
    EXPECT_EQ(p.str(0, "site"), "<absent>");
    EXPECT_EQ(p.str(0, "education_level"), "isced_0_2");
    EXPECT_EQ(p.str(0, "employment_status"), "unemployed");
    EXPECT_EQ(p.str(1, "gender"), "non_binary") << "icke binär, any case";
    EXPECT_EQ(p.str(1, "employment_status"), "inactive");
    EXPECT_EQ(p.str(2, "gender"), "undisclosed");
    EXPECT_EQ(p.str(3, "gender"), "non_binary");
    EXPECT_EQ(p.str(3, "employment_status"), "inactive");
}

TEST(StaffCsv, QuotedFieldsCrlfBlankLinesAndTrailingEmptyColumns) {
    std::string csv =
        "namn;kön;arbetsplats;id;yrke;;\r\n"
        "\r\n"
        "\"Lindqvist; Anna \"\"Annie\"\"\";kvinna;s1;p-1;\"Sjuk-\r\nsköterska\";;\r\n"
        "   \r\n"
        "Erik;man;s1;p-2\r\n"
        "\"Karin\" ; kvinna ; s1 ; p-3 ;;;\r\n";
    auto p = read(csv);
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(p.str(0, "name"), "Lindqvist; Anna \"Annie\"");
    EXPECT_EQ(p.str(0, "profession"), "Sjuk-\r\nsköterska");
    EXPECT_EQ(p.str(1, "id"), "p-2") << "a short row: the missing cells are empty";
    EXPECT_EQ(p.str(2, "name"), "Karin") << "blanks around values are trimmed";
    EXPECT_EQ(p.str(2, "id"), "p-3");

    // Line numbers count physical lines: the record after a quoted newline.
    Status st = error("namn;kön;arbetsplats;id\n\"A\nB\";kvinna;s1;p-1\nC;x;s1;p-2\n");
    EXPECT_EQ(st.message(), "line 4, kön: 'x' is not kvinna, man, icke-binär or vill ej uppge");
}

TEST(StaffCsv, PersonnummerFormsAreNormalisedAndChecked) {
    std::string csv =
        "personnummer;namn;kön;arbetsplats\n"
        "19780312-1230;A;kvinna;s1\n"
        "850101-2341;B;man;s1\n"
        "199006154562;C;kvinna;s1\n"
        "8112189876;D;man;s1\n"
        "121212+1212;E;kvinna;s1\n";
    auto p = read(csv);
    ASSERT_EQ(p.size(), 5u);
    EXPECT_EQ(p.str(0, "personal_id"), "19780312-1230");
    EXPECT_EQ(p.str(1, "personal_id"), "19850101-2341");
    EXPECT_EQ(p[1]["birth_year"].GetInt(), 1985);
    EXPECT_EQ(p.str(2, "personal_id"), "19900615-4562");
    EXPECT_EQ(p.str(3, "personal_id"), "19811218-9876");
    EXPECT_EQ(p.str(4, "personal_id"), "19121212-1212") << "'+': a hundred years or older";
    EXPECT_EQ(p[4]["birth_year"].GetInt(), 1912);
    // Without '+', the same digits are the latest such year not in the future.
    auto q = read("personnummer;namn;kön;arbetsplats\n121212-1212;E;kvinna;s1\n");
    EXPECT_EQ(q.str(0, "personal_id"), "20121212-1212");
    // A samordningsnummer (day + 60).
    auto c = read("personnummer;namn;kön;arbetsplats\n19780372-1237;E;kvinna;s1\n");
    EXPECT_EQ(c.str(0, "personal_id"), "19780372-1237");

    EXPECT_ERROR("personnummer;namn;kön;arbetsplats\n19780312-1231;A;kvinna;s1\n", Errc::invalid_argument,
                 "line 2, personnummer: '19780312-1231': the check digit is wrong");
    EXPECT_ERROR("personnummer;namn;kön;arbetsplats\n19781312-1230;A;kvinna;s1\n", Errc::invalid_argument,
                 "line 2, personnummer: '19781312-1230': no such date");
    EXPECT_ERROR("personnummer;namn;kön;arbetsplats\n20991231-1230;A;kvinna;s1\n", Errc::invalid_argument,
                 "line 2, personnummer: '20991231-1230': the birth date is not possible");
    EXPECT_ERROR("personnummer;namn;kön;arbetsplats\n1978-03-12;A;kvinna;s1\n", Errc::invalid_argument,
                 "line 2, personnummer: '1978-03-12': write it as YYYYMMDD-XXXX or YYMMDD-XXXX");
    EXPECT_ERROR("personnummer;namn;kön;födelseår;arbetsplats\n19780312-1230;A;kvinna;1979;s1\n",
                 Errc::invalid_argument, "line 2, födelseår: 1979 does not match the personnummer (1978)");
}

TEST(StaffCsv, RowsAreMatchedOnIdThenOnPersonnummerElseGetADerivedId) {
    std::string csv =
        "id;personnummer;namn;kön;arbetsplats\n"
        "p-given;;A;kvinna;s1\n"
        ";19780312-1230;B;kvinna;s1\n"
        ";8112189876;C;man;s1\n"
        "p-known;850101-2341;D;man;s1\n";
    auto lookup = known({{"19780312-1230", "p-anna"}, {"19850101-2341", "p-known"}});
    auto p = read(csv, lookup);
    ASSERT_EQ(p.size(), 4u);
    EXPECT_EQ(p.str(0, "id"), "p-given");
    EXPECT_EQ(p.str(1, "id"), "p-anna") << "an existing person keeps their id";
    std::string derived = "p-" + sha256_hex("tundra staff csv personnummer:19811218-9876").substr(0, 16);
    EXPECT_EQ(p.str(2, "id"), derived);
    EXPECT_EQ(p.str(3, "id"), "p-known");
    // Deterministic: the same file gives the same document (preview and apply agree).
    auto again = staff_csv_to_import(csv, lookup);
    ASSERT_TRUE(again);
    EXPECT_EQ(again.value(), staff_csv_to_import(csv, lookup).value());
    // An id that contradicts the holder of the personnummer is refused.
    Status st = error("id;personnummer;namn;kön;arbetsplats\np-other;19780312-1230;B;kvinna;s1\n", lookup);
    EXPECT_EQ(st.message(), "line 2, personnummer: belongs to person 'p-anna', not 'p-other'");
    // A failing lookup is the error.
    PersonLookup broken = [](PersonKey, const std::string&) -> Result<std::optional<Row>> {
        return Result<std::optional<Row>>(Errc::storage, "disk I/O error");
    };
    EXPECT_EQ(error("personnummer;namn;kön;arbetsplats\n8112189876;C;man;s1\n", broken).code(), Errc::storage);
    EXPECT_EQ(error("id;namn;kön;arbetsplats\np-1;C;man;s1\n", broken).code(), Errc::storage);
}

namespace {
// Anna as the register has her: everything ESF reporting needs.
Row anna() {
    return Row{{"id", std::string("p-anna")},
               {"organisation", std::string("arjeplog")},
               {"site", std::string("s1")},
               {"name", std::string("Anna")},
               {"gender", std::string("woman")},
               {"birth_year", int64_t{1978}},
               {"profession", std::string("Undersköterska")},
               {"education_level", std::string("isced_3_4")},
               {"employment_status", std::string("employed")},
               {"personal_id", std::string("19780312-1230")}};
}
}  // namespace

TEST(StaffCsv, AStoredPersonKeepsWhatTheFileDoesNotHave) {
    // An HR export with only id, namn, kön, arbetsplats: nothing else of hers is cleared.
    auto p = read("id;namn;kön;arbetsplats\np-anna;Anna;kvinna;s1\n", stored({anna()}));
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p.str(0, "site"), "s1");
    EXPECT_EQ(p.str(0, "organisation"), "<absent>") << "the import takes the site's";
    EXPECT_EQ(p[0]["birth_year"].GetInt(), 1978);
    EXPECT_EQ(p.str(0, "profession"), "Undersköterska");
    EXPECT_EQ(p.str(0, "education_level"), "isced_3_4");
    EXPECT_EQ(p.str(0, "employment_status"), "employed");
    EXPECT_EQ(p.str(0, "personal_id"), "19780312-1230");
    // Matched on the personnummer, no id column.
    auto q = read("personnummer;namn;kön;arbetsplats\n780312-1230;Anna;kvinna;s1\n", stored({anna()}));
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q.str(0, "id"), "p-anna");
    EXPECT_EQ(q.str(0, "profession"), "Undersköterska");
    EXPECT_EQ(q.str(0, "education_level"), "isced_3_4");
    EXPECT_EQ(q.str(0, "employment_status"), "employed");
    // Only an organisation: her site stays while she stays in it, not when she moves away.
    auto o = read("id;namn;kön;organisation\np-anna;Anna;kvinna;arjeplog\n", stored({anna()}));
    EXPECT_EQ(o.str(0, "organisation"), "arjeplog");
    EXPECT_EQ(o.str(0, "site"), "s1");
    auto moved = read("id;namn;kön;organisation\np-anna;Anna;kvinna;jokkmokk\n", stored({anna()}));
    EXPECT_EQ(moved.str(0, "organisation"), "jokkmokk");
    EXPECT_EQ(moved.str(0, "site"), "<absent>");
}

TEST(StaffCsv, AnEmptyCellKeepsTheStoredValueAndAFilledOneChangesIt) {
    std::string head = "id;personnummer;namn;kön;födelseår;organisation;arbetsplats;yrke;utbildning;anställning\n";
    auto p = read(head + "p-anna;;Anna;kvinna;;;s1;;;\n", stored({anna()}));
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p.str(0, "personal_id"), "19780312-1230");
    EXPECT_EQ(p[0]["birth_year"].GetInt(), 1978);
    EXPECT_EQ(p.str(0, "profession"), "Undersköterska");
    EXPECT_EQ(p.str(0, "education_level"), "isced_3_4");
    EXPECT_EQ(p.str(0, "employment_status"), "employed");
    auto c = read(head + "p-anna;;Anna Berg;kvinna;;;s2;Sjuksköterska;eftergymnasial;\n", stored({anna()}));
    EXPECT_EQ(c.str(0, "name"), "Anna Berg");
    EXPECT_EQ(c.str(0, "site"), "s2");
    EXPECT_EQ(c.str(0, "organisation"), "<absent>") << "a new site brings its organisation";
    EXPECT_EQ(c.str(0, "profession"), "Sjuksköterska");
    EXPECT_EQ(c.str(0, "education_level"), "isced_5_8");
    EXPECT_EQ(c.str(0, "employment_status"), "employed");
    // A new person: what the file leaves out is null (absent from the document).
    auto n = read(head + "p-new;;Kim;man;;;s1;;;\n", stored({anna()}));
    ASSERT_EQ(n.size(), 1u);
    for (const char* k : {"personal_id", "birth_year", "organisation", "profession", "education_level",
                          "employment_status"})
        EXPECT_FALSE(n[0].HasMember(k)) << k;
}

TEST(StaffCsv, DuplicateRowsNameBothLines) {
    EXPECT_ERROR("id;namn;kön;arbetsplats\np-1;A;kvinna;s1\np-2;B;man;s1\np-1;C;man;s1\n", Errc::invalid_argument,
                 "line 4, id: the same person as on line 2 ('p-1')");
    EXPECT_ERROR("id;personnummer;namn;kön;arbetsplats\np-1;19780312-1230;A;kvinna;s1\np-2;197803121230;B;kvinna;s1\n",
                 Errc::invalid_argument, "line 3, personnummer: the same personnummer as on line 2");
    // Two rows without id with the same number are the same derived person.
    EXPECT_ERROR("personnummer;namn;kön;arbetsplats\n780312-1230;A;kvinna;s1\n\n19780312-1230;B;kvinna;s1\n",
                 Errc::invalid_argument, "line 4, personnummer: the same person as on line 2");
}

TEST(StaffCsv, HeaderProblemsAreNamed) {
    EXPECT_ERROR("id;namn;kön;arbetsplats;skostorlek;Lön\np-1;A;kvinna;s1;38;1\n", Errc::invalid_argument,
                 "line 1: unknown columns 'skostorlek', 'Lön'");
    EXPECT_ERROR("id;kön;arbetsplats\np-1;kvinna;s1\n", Errc::invalid_argument, "line 1: a column namn (name) is required");
    EXPECT_ERROR("id;namn;arbetsplats\np-1;A;s1\n", Errc::invalid_argument, "line 1: a column kön (gender) is required");
    EXPECT_ERROR("id;namn;kön\np-1;A;kvinna\n", Errc::invalid_argument,
                 "line 1: a column arbetsplats (site) or organisation is required");
    EXPECT_ERROR("namn;kön;arbetsplats\nA;kvinna;s1\n", Errc::invalid_argument,
                 "line 1: a column id or personnummer (personal_id) is required");
    EXPECT_ERROR("id;namn;name;kön;arbetsplats\n", Errc::invalid_argument,
                 "line 1: columns 'namn' and 'name' are the same column");
    EXPECT_ERROR("namn\nA\n", Errc::invalid_argument, "line 1: the header has no ';' or ','");
}

TEST(StaffCsv, EmptyValuesAndUnknownWordsAreRefusedWithLineAndColumn) {
    EXPECT_ERROR("id;namn;kön;arbetsplats\np-1;;kvinna;s1\n", Errc::invalid_argument, "line 2, namn: is empty");
    EXPECT_ERROR("id;namn;kön;arbetsplats\np-1;A;;s1\n", Errc::invalid_argument, "line 2, kön: is empty");
    EXPECT_ERROR("id;namn;kön;arbetsplats\np-1;A;female;s1\n", Errc::invalid_argument,
                 "line 2, kön: 'female' is not kvinna, man, icke-binär or vill ej uppge");
    EXPECT_ERROR("id;namn;kön;arbetsplats\n;A;man;s1\n", Errc::invalid_argument, "line 2, id: is empty");
    EXPECT_ERROR("id;namn;kön;arbetsplats\np-1;A;man;\n", Errc::invalid_argument, "line 2, arbetsplats: is empty");
    EXPECT_ERROR("id;namn;kön;arbetsplats;utbildning\np-1;A;man;s1;doktor\n", Errc::invalid_argument,
                 "line 2, utbildning: 'doktor' is not förgymnasial, gymnasial or eftergymnasial");
    EXPECT_ERROR("id;namn;kön;arbetsplats;anställning\np-1;A;man;s1;pensionär\n", Errc::invalid_argument,
                 "line 2, anställning: 'pensionär' is not anställd");
    EXPECT_ERROR("id;namn;kön;arbetsplats;födelseår\np-1;A;man;s1;79\n", Errc::invalid_argument,
                 "line 2, födelseår: '79' is not a year between 1900 and");
    EXPECT_ERROR("id;namn;kön;arbetsplats\np-1;A;man;s1;extra\n", Errc::invalid_argument,
                 "line 2: a value in column 5, which has no name in the header");
    EXPECT_ERROR("id;namn;kön;arbetsplats\np-1;\"A;man;s1\n", Errc::invalid_argument,
                 "line 2: a quoted field never ends");
    EXPECT_ERROR("id;namn;kön;arbetsplats\np-1;\"A\"x;man;s1\n", Errc::invalid_argument,
                 "line 2: text after a closing quote");
    EXPECT_ERROR("id;namn;kön;arbetsplats\n" + std::string("p-") + std::string(100, 'x') + ";A;man;s1\n",
                 Errc::invalid_argument, "line 2, id: longer than 100 bytes");
}

TEST(StaffCsv, EmptyFileTooManyRowsAndInvalidBytes) {
    EXPECT_ERROR("", Errc::invalid_argument, "the file is empty");
    EXPECT_ERROR("\xEF\xBB\xBF\r\n\r\n", Errc::invalid_argument, "the file is empty");
    // Found by fuzz_staff_csv: a header of delimiters only.
    EXPECT_ERROR(";", Errc::invalid_argument, "the file is empty");
    EXPECT_ERROR(" ; ;\r\n;;\n", Errc::invalid_argument, "the file is empty");
    // A header and no rows is an empty staff list, not an error.
    auto p = read("id;namn;kön;arbetsplats\r\n");
    EXPECT_EQ(p.size(), 0u);

    std::string many = "id;namn;kön;arbetsplats\n";
    for (int i = 0; i < 4; ++i) many += "p-" + std::to_string(i) + ";A;man;s1\n";
    Status st = error(many, nobody(), 3);
    EXPECT_EQ(st.code(), Errc::too_large);
    EXPECT_EQ(st.message(), "more than 3 rows");
    EXPECT_TRUE(staff_csv_to_import(many, nobody(), 4));

    // 0x81 is undefined in Windows-1252 (and the bytes are not UTF-8).
    EXPECT_ERROR("id;namn;kön;arbetsplats\np-1;A\x81;man;s1\n", Errc::invalid_argument,
                 "line 2: byte 0x81 is neither UTF-8 nor Windows-1252");
    EXPECT_ERROR("id;namn;kön;arbetsplats\np-1;A" + std::string(1, '\0') + ";man;s1\n", Errc::invalid_argument,
                 "line 2: control character 0x00");
    EXPECT_ERROR("\xFF\xFEi\0d\0", Errc::invalid_argument, "UTF-16");
}

TEST(StaffCsv, TheExampleFilesInBothEncodingsReadTheSame) {
    auto load = [](const char* name) {
        std::ifstream in(std::string(TUNDRA_TEST_DATA_DIR) + "/" + name, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    };
    std::string utf8 = load("staff_example.csv"), cp1252 = load("staff_example_windows1252.csv");
    ASSERT_FALSE(utf8.empty());
    ASSERT_NE(utf8, cp1252);
    auto a = staff_csv_to_import(utf8, nobody());
    auto b = staff_csv_to_import(cp1252, nobody());
    ASSERT_TRUE(a) << a.status().to_string();
    ASSERT_TRUE(b) << b.status().to_string();
    EXPECT_EQ(a.value(), b.value());
    EXPECT_NE(a.value().find("Ängström"), std::string::npos) << a.value();
}

TEST(StaffCsv, ImportErrorsAreToldInTheFilesTerms) {
    std::string csv = "Namn;Kön;Arbetsplats;id\r\n\r\nA;kvinna;s1;p-1\r\n\"B\r\nB\";man;s9;p-2\r\nC;man;s1;p-3\r\n";
    Status site(Errc::invalid_argument, "persons[1].site: refers to unknown site 's9'");
    EXPECT_EQ(staff_csv_error(csv, site).message(), "line 4, Arbetsplats: refers to unknown site 's9'");
    EXPECT_EQ(staff_csv_error(csv, site).code(), Errc::invalid_argument);
    // A field the file has no column for (the organisation taken from the site).
    Status org(Errc::invalid_argument, "persons[2].organisation: refers to unknown organisation 'x'");
    EXPECT_EQ(staff_csv_error(csv, org).message(), "line 6: refers to unknown organisation 'x'");
    // Anything else stays as it is.
    for (const char* m : {"users[0].sites: refers to unknown site 's9'", "persons[7].site: refers to unknown site 's9'",
                          "persons[x].site: y", "persons[]: y", "the document must be a JSON object"}) {
        Status other(Errc::invalid_argument, m);
        EXPECT_EQ(staff_csv_error(csv, other).message(), m);
    }
}
