// ESF reports (reports.cc, report_ledger.cc, report_state.cc, report_table.cc): Stockholm
// months, the ledger against an independent computation over generated data, as-of
// reproducibility, sealing and corrections, erasure, scope (store and HTTP), and the CSV
// read back by Python's csv module and LibreOffice.
#include <stdlib.h>
#include <time.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "../../sync-server/src/report_state.h"
#include "../../sync-server/src/report_table.h"
#include "fixture.h"
#include "tundra/core/json.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

namespace {
int64_t at(const char* iso) { return parse_iso8601(iso).value(); }

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs a shell command; its standard output.
std::string run(const std::string& cmd, int* status = nullptr) {
    std::string out;
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) return out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    int st = pclose(f);
    if (status) *status = st;
    return out;
}

std::string python() {
    return std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

// The month an instant falls in, by the system's time zone database (not our rule).
std::string tzdb_month(int64_t utc_ms) {
    static bool set = [] {
        setenv("TZ", "Europe/Stockholm", 1);
        tzset();
        return true;
    }();
    (void)set;
    time_t t = static_cast<time_t>(utc_ms / 1000);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
    return buf;
}

rapidjson::Document parse_json(const std::string& body) {
    rapidjson::Document d;
    EXPECT_TRUE(json::parse(body, d)) << body.substr(0, 300);
    return d;
}

// A JSON value as comparable text ("null", "\"x\"", "12").
std::string jtext(const rapidjson::Value& v) {
    if (v.IsNull()) return "null";
    if (v.IsString()) return std::string("\"") + v.GetString() + "\"";
    if (v.IsInt64()) return std::to_string(v.GetInt64());
    return "?";
}

ReportRequest ledger_request(const std::string& month, std::string format = "json") {
    ReportRequest r;
    r.name = "ledger";
    r.from_month = r.to_month = month;
    r.format = std::move(format);
    return r;
}

const ReportViewer kAdmin{"admin", {}};

// A stamp newer than anything the tests' imports write.
std::string late_hlc() { return std::to_string(Hlc::from_parts(at("2030-01-01T00:00:00Z"), 1).value); }

struct Reports : StoreFixture {
    void exec(const std::string& sql) { ASSERT_TRUE(store->db().exec(sql)) << sql; }
    void participation(const std::string& id, const std::string& person, const std::string& start,
                       const std::string& end = {}) {
        // The import section and the action come with the "actions" helper's work; the row
        // is what they write (the report facts come from the table's triggers either way).
        exec("INSERT INTO participations (id, person, start_month, end_month, version) VALUES ('" + id + "', '" +
             person + "', '" + start + "', " + (end.empty() ? "NULL" : "'" + end + "'") +
             ", 1) ON CONFLICT (id) DO UPDATE SET person = excluded.person, start_month = excluded.start_month, "
             "end_month = excluded.end_month");
    }
    void attest(const std::string& person, const std::string& month, int64_t minutes) {
        exec("INSERT INTO time_attestations (id, person, month, minutes, hlc, version) VALUES ('ta:" + person +
             ":" + month + "', '" + person + "', '" + month + "', " + std::to_string(minutes) +
             ", 1, 1) ON CONFLICT (person, month) DO UPDATE SET minutes = excluded.minutes");
    }
    void import(const std::string& doc) {
        auto r = store->import_json(doc);
        ASSERT_TRUE(r) << r.status().to_string();
    }
    std::string report(ReportRequest req, const ReportViewer& v = kAdmin) {
        auto out = store->report(req, v);
        EXPECT_TRUE(out) << out.status().to_string();
        return out ? out->body : std::string();
    }
    HttpResponse get(const std::string& target, const std::string& token) {
        HttpRequest r;
        r.method = "GET";
        r.target = target;
        if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
        return handle_request(r, *store);
    }
};

// Occasion o-dec on 2026-12-07 (2 h), marks for p1 and p2; both take part from 2026-12.
struct LedgerReports : Reports {
    void SetUp() override {
        Reports::SetUp();
        now = at("2026-12-01T09:00:00Z");
        import(R"({"occasions":[{"id":"o-dec","course":"c1","starts_at":"2026-12-07T08:00:00Z","ends_at":"2026-12-07T10:00:00Z","capacity":10,"enrolment_closes":"2026-12-03T08:00:00Z"}],
                   "attendance":[{"id":"m1","occasion":"o-dec","person":"p1","status":"present"},
                                 {"id":"m2","occasion":"o-dec","person":"p2","status":"late","minutes":90}]})");
        participation("pa1", "p1", "2026-12");
        participation("pa2", "p2", "2026-11", "2026-12");
        ASSERT_TRUE(store->db().exec("UPDATE persons SET personal_id = '19800312-1234', education_level = "
                                     "'isced_3_4', employment_status = 'employed' WHERE id = 'p1'"));
        now = at("2027-01-02T10:00:00Z");
    }
};
}  // namespace

// ---- months ----------------------------------------------------------------------------------
TEST(StockholmMonths, FollowTheEuDaylightSavingRule) {
    // 2026: CEST from 29 March 01:00 UTC to 25 October 01:00 UTC.
    EXPECT_EQ(stockholm_utc_offset_ms(at("2026-03-29T00:59:59.999Z")), 3'600'000);
    EXPECT_EQ(stockholm_utc_offset_ms(at("2026-03-29T01:00:00Z")), 7'200'000);
    EXPECT_EQ(stockholm_utc_offset_ms(at("2026-10-25T00:59:59.999Z")), 7'200'000);
    EXPECT_EQ(stockholm_utc_offset_ms(at("2026-10-25T01:00:00Z")), 3'600'000);
    // Months start at local midnight: 22:00 UTC in summer, 23:00 UTC in winter.
    EXPECT_EQ(stockholm_month(at("2026-03-31T21:59:59.999Z")), "2026-03");
    EXPECT_EQ(stockholm_month(at("2026-03-31T22:00:00Z")), "2026-04");
    EXPECT_EQ(stockholm_month(at("2026-10-31T22:59:59.999Z")), "2026-10");
    EXPECT_EQ(stockholm_month(at("2026-10-31T23:00:00Z")), "2026-11");
    EXPECT_EQ(stockholm_month(at("2026-12-31T22:59:59.999Z")), "2026-12");
    EXPECT_EQ(stockholm_month(at("2026-12-31T23:00:00Z")), "2027-01");
    EXPECT_EQ(stockholm_month_start_ms("2026-04"), at("2026-03-31T22:00:00Z"));
    EXPECT_EQ(stockholm_month_start_ms("2026-11"), at("2026-10-31T23:00:00Z"));
    EXPECT_EQ(stockholm_month_start_ms("2027-01"), at("2026-12-31T23:00:00Z"));
    EXPECT_EQ(stockholm_month_end_ms("2026-03"), stockholm_month_start_ms("2026-04"));
    // Clocks change on the month's last day: 31 March 2024 and 31 October 2021 were Sundays.
    EXPECT_EQ(stockholm_month_start_ms("2024-04"), at("2024-03-31T22:00:00Z"));
    EXPECT_EQ(stockholm_month(at("2024-03-31T00:59:59Z")), "2024-03");
    EXPECT_EQ(stockholm_month_start_ms("2021-11"), at("2021-10-31T23:00:00Z"));
    EXPECT_EQ(stockholm_month(at("2021-10-31T22:30:00Z")), "2021-10");
    EXPECT_EQ(next_month("2026-12"), "2027-01");
    EXPECT_EQ(previous_month("2027-01"), "2026-12");
}

TEST(StockholmMonths, AgreeWithTheTimeZoneDatabaseEveryHourForYears) {
    for (int64_t t = at("2019-01-01T00:00:00Z"); t < at("2031-01-01T00:00:00Z"); t += 3'600'000 - 1)
        ASSERT_EQ(stockholm_month(t), tzdb_month(t)) << format_iso8601(t);
}

TEST(ReportRules, AgeBandsAtTheMonthsYear) {
    EXPECT_EQ(age_band(2009, "2026-01"), "under_18");
    EXPECT_EQ(age_band(2008, "2026-01"), "18_29");
    EXPECT_EQ(age_band(1997, "2026-12"), "18_29");
    EXPECT_EQ(age_band(1996, "2026-12"), "30_54");
    EXPECT_EQ(age_band(1972, "2026-06"), "30_54");
    EXPECT_EQ(age_band(1971, "2026-06"), "55_plus");
    EXPECT_EQ(age_band(std::nullopt, "2026-06"), "unknown");
    RMark m;
    m.status = "left_early";
    ROccasion o;
    o.ends_ms = 150 * 60'000;
    EXPECT_TRUE(mark_attended(m));
    EXPECT_EQ(mark_minutes(m, o), 150);
    m.minutes = 40;
    EXPECT_EQ(mark_minutes(m, o), 40);
    for (const char* s : {"absent", "excused", "unmarked"}) {
        m.status = s;
        EXPECT_FALSE(mark_attended(m));
    }
}

// ---- formats ---------------------------------------------------------------------------------
namespace {
ReportTable swedish_table() {
    ReportTable t;
    t.columns = {"namn", "antal", "andel", "kommentar"};
    t.rows.push_back({std::string("Åsa Öberg"), int64_t{12}, Decimal{0.875, 2}, std::string("sa \"hej\"; då")});
    t.rows.push_back({std::string("Ärje"), int64_t{-3}, Decimal{1234.5, 1}, std::string("två\r\nrader, och komma")});
    t.rows.push_back({std::string("små"), Suppressed{}, Decimal{2, 2}, Cell{}});
    return t;
}
}  // namespace

TEST(ReportFormats, ExcelAndRfcCsvAndJson) {
    ReportTable t = swedish_table();
    std::string excel = write_csv(t, CsvDialect::excel);
    EXPECT_EQ(excel.substr(0, 3), "\xEF\xBB\xBF");
    EXPECT_NE(excel.find("namn;antal;andel;kommentar\r\n"), std::string::npos);
    EXPECT_NE(excel.find("Åsa Öberg;12;0,88;\"sa \"\"hej\"\"; då\"\r\n"), std::string::npos) << excel;
    EXPECT_NE(excel.find("små;..;2,00;\r\n"), std::string::npos);
    std::string rfc = write_csv(t, CsvDialect::rfc);
    EXPECT_EQ(rfc.substr(0, 4), "namn");
    EXPECT_NE(rfc.find("Ärje,-3,1234.5,\"två\r\nrader, och komma\"\r\n"), std::string::npos) << rfc;
    t.header = {{"month", std::string("2026-12")}, {"min_cell", int64_t{5}}};
    EXPECT_EQ(write_json(t),
              R"({"month":"2026-12","min_cell":5,"rows":[{"namn":"Åsa Öberg","antal":12,"andel":0.88,)"
              R"("kommentar":"sa \"hej\"; då"},{"namn":"Ärje","antal":-3,"andel":1234.5,"kommentar":)"
              R"("två\r\nrader, och komma"},{"namn":"små","antal":null,"andel":2.00,"kommentar":null}]})");
}

TEST(ReportFormats, PythonCsvModuleReadsBothDialects) {
    auto dir = std::filesystem::temp_directory_path() / ("tundra-csv-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    ReportTable t = swedish_table();
    for (auto [dialect, name, sep] : {std::tuple{CsvDialect::excel, "excel", ";"}, {CsvDialect::rfc, "rfc", ","}}) {
        auto file = dir / (std::string(name) + ".csv");
        std::ofstream(file, std::ios::binary) << write_csv(t, dialect);
        // utf-8-sig drops the BOM; newline='' lets the csv module see the CRLF inside a field.
        std::string script = "import csv,json,sys\n"
                             "with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:\n"
                             "    print(json.dumps(list(csv.reader(f, delimiter=sys.argv[2])), ensure_ascii=False))\n";
        std::ofstream(dir / "read.py") << script;
        int status = 0;
        std::string out = run(python() + " " + (dir / "read.py").string() + " " + file.string() + " '" + sep + "'", &status);
        ASSERT_EQ(status, 0) << out;
        bool excel = dialect == CsvDialect::excel;
        std::string expected = std::string(R"([["namn", "antal", "andel", "kommentar"], ["Åsa Öberg", "12", ")") +
                               (excel ? "0,88" : "0.88") + R"(", "sa \"hej\"; då"], ["Ärje", "-3", ")" +
                               (excel ? "1234,5" : "1234.5") + R"(", "två\r\nrader, och komma"], ["små", "..", ")" +
                               (excel ? "2,00" : "2.00") + R"(", ""]])" + "\n";
        EXPECT_EQ(out, expected) << name;
    }
    std::filesystem::remove_all(dir);
}

TEST(ReportFormats, LibreOfficeOpensTheExcelDialectAsSwedishExcelWould) {
    if (run("command -v soffice").empty()) GTEST_SKIP() << "soffice not installed (scripts/test.sh installs it)";
    auto dir = std::filesystem::temp_directory_path() / ("tundra-lo-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    ReportTable t = swedish_table();
    std::ofstream(dir / "report.csv", std::ios::binary) << write_csv(t, CsvDialect::excel);
    // CSV filter options: separator 59 (';'), text delimiter 34 ('"'), charset 76 (UTF-8),
    // from line 1, standard column formats, language 1053 (sv-SE: decimal comma). Converted
    // to a flat OpenDocument spreadsheet, whose XML says what each cell holds.
    std::string cmd = "cd " + dir.string() + " && HOME=" + dir.string() +
                      " timeout 90 soffice --headless --norestore --nologo"
                      " --infilter='CSV:59,34,76,1,,1053' --convert-to fods --outdir out report.csv 2>&1";
    int status = 0;
    std::string log = run(cmd, &status);
    ASSERT_EQ(status, 0) << log;
    std::string xml = slurp(dir / "out" / "report.fods");
    ASSERT_FALSE(xml.empty()) << log;
    // Numbers with a decimal comma are numbers; text and Swedish characters intact.
    for (const char* number : {"office:value=\"12\"", "office:value=\"0.88\"", "office:value=\"-3\"",
                               "office:value=\"1234.5\"", "office:value=\"2\""})
        EXPECT_NE(xml.find(std::string("office:value-type=\"float\" ") + number), std::string::npos) << number;
    for (const char* text : {"<text:p>Åsa Öberg</text:p>", "<text:p>Ärje</text:p>", "<text:p>små</text:p>",
                             "<text:p>sa &quot;hej&quot;; då</text:p>", "<text:p>..</text:p>", "<text:p>kommentar</text:p>"})
        EXPECT_NE(xml.find(text), std::string::npos) << text;
    std::filesystem::remove_all(dir);
}

// ---- the ledger ------------------------------------------------------------------------------
TEST_P(LedgerReports, TheLedgerHasTheDocumentedShape) {
    std::string body = report(ledger_request("2026-12"));
    EXPECT_EQ(body,
              R"({"month":"2026-12","as_of":"2027-01-02T10:00:00.000Z","rows":[)"
              R"({"person":"p1","organisation":"arjeplog","gender":"woman","age_band":"30_54",)"
              R"("education_level":"isced_3_4","employment_status":"employed","start_month":"2026-12",)"
              R"("end_month":null,"attended_minutes":120,"attested_minutes":null,"personal_id":"19800312-1234"},)"
              R"({"person":"p2","organisation":"arjeplog","gender":"man","age_band":"30_54",)"
              R"("education_level":null,"employment_status":null,"start_month":"2026-11",)"
              R"("end_month":"2026-12","attended_minutes":90,"attested_minutes":null,"personal_id":null}],)"
              R"("corrections":[]})");
    std::string csv = report(ledger_request("2026-12", "csv"));
    EXPECT_EQ(csv, "\xEF\xBB\xBFperson;organisation;gender;age_band;education_level;employment_status;"
                   "start_month;end_month;attended_minutes;attested_minutes;personal_id;correction_for\r\n"
                   "p1;arjeplog;woman;30_54;isced_3_4;employed;2026-12;;120;;19800312-1234;\r\n"
                   "p2;arjeplog;man;30_54;;;2026-11;2026-12;90;;;\r\n");
    // January: p2's participation ended; no occasion in the month.
    EXPECT_NE(report(ledger_request("2027-01")).find(R"("rows":[{"person":"p1")"), std::string::npos);
    EXPECT_EQ(report(ledger_request("2027-01")).find("\"p2\""), std::string::npos);
}

TEST_P(LedgerReports, RequestsAreCheckedFieldByField) {
    auto bad = [&](ReportRequest r, Errc code, const std::string& words, const ReportViewer& v = kAdmin) {
        auto out = store->report(r, v);
        ASSERT_FALSE(out);
        EXPECT_EQ(out.status().code(), code) << out.status().to_string();
        EXPECT_NE(out.status().message().find(words), std::string::npos) << out.status().to_string();
    };
    ReportRequest range = ledger_request("2026-11");
    range.to_month = "2026-12";
    bad(range, Errc::invalid_argument, "one month at a time");
    bad(ledger_request("2026-13"), Errc::invalid_argument, "from:");
    ReportRequest fmt = ledger_request("2026-12", "xml");
    bad(fmt, Errc::invalid_argument, "format:");
    ReportRequest future = ledger_request("2026-12");
    future.as_of_ms = now + 1000;
    bad(future, Errc::invalid_argument, "as_of:");
    ReportRequest org = ledger_request("2026-12");
    org.organisation = "nowhere";
    bad(org, Errc::not_found, "organisation");
    ReportRequest stats = ledger_request("2026-01");
    stats.name = "participants";
    stats.to_month = "2029-01";
    bad(stats, Errc::invalid_argument, "at most 36 months");
    bad(ledger_request("2026-12"), Errc::forbidden, "coordinators and admins", ReportViewer{"participant", {}});
}

TEST_P(LedgerReports, ReportsAsOfAnEarlierMomentAreByteIdenticalAfterLaterChanges) {
    ReportRequest req = ledger_request("2026-12");
    std::string json_then = report(req);
    req.format = "csv";
    std::string csv_then = report(req);
    int64_t then = now;
    // Later: a new mark that supersedes p1's, a corrected minutes, an attestation, a new
    // participant, a re-import changing p2, an occasion cancelled.
    now += 3'600'000;
    import(R"({"persons":[{"id":"p2","organisation":"arjeplog","site":"s1","name":"Erik","gender":"man","birth_year":1990,"education_level":"isced_5_8"}],
               "attendance":[{"id":"m2","occasion":"o-dec","person":"p2","status":"present","minutes":30}]})");
    now += 3'600'000;
    exec("INSERT INTO attendance (id, occasion, person, status, minutes, source, hlc, device, version) VALUES "
         "('m1b', 'o-dec', 'p1', 'absent', NULL, 'coordinator', " + late_hlc() + ", 'dev1', 1)");
    attest("p1", "2026-12", 480);
    participation("pa3", "p1", "2026-06", "2026-12");
    now += 3'600'000;
    std::string json_now = report(ledger_request("2026-12"));
    EXPECT_NE(json_now, json_then);
    EXPECT_NE(json_now.find(R"("attended_minutes":0,"attested_minutes":480)"), std::string::npos) << json_now;
    ReportRequest again = ledger_request("2026-12");
    again.as_of_ms = then;
    EXPECT_EQ(report(again), json_then);
    again.format = "csv";
    EXPECT_EQ(report(again), csv_then);
}

TEST_P(LedgerReports, SealingTwiceIsAnErrorAndAMonthNotEndedCannotBeSealed) {
    auto early = store->seal_month("2027-01", "cli:test");
    EXPECT_EQ(early.code(), Errc::invalid_argument) << early.to_string();
    EXPECT_EQ(store->seal_month("2026-1", "cli:test").code(), Errc::invalid_argument);
    ASSERT_TRUE(store->seal_month("2026-12", "cli:test"));
    auto twice = store->seal_month("2026-12", "cli:test");
    EXPECT_EQ(twice.code(), Errc::conflict);
    EXPECT_NE(twice.message().find("already sealed at 2027-01-02T10:00:00.000Z by cli:test"), std::string::npos)
        << twice.to_string();
    auto trail = store->audit_trail();
    ASSERT_TRUE(trail);
    EXPECT_EQ(trail.value()[0].operation, "seal_month");
    EXPECT_EQ(trail.value()[0].target, "2026-12");
    EXPECT_EQ(scalar("SELECT count(*) FROM audit_log WHERE operation = 'seal_month'"), 1);
}

TEST_P(LedgerReports, ASealedMonthReportsAsOfItsSealAndLaterFactsAreCorrectionsNextMonth) {
    std::string at_seal = report(ledger_request("2026-12"));
    ASSERT_TRUE(store->seal_month("2026-12", "cli:test"));
    now += 86'400'000;  // 2027-01-03: a late mark and an attestation for December
    exec("INSERT INTO attendance (id, occasion, person, status, minutes, source, hlc, device, version) VALUES "
         "('m2b', 'o-dec', 'p2', 'present', 120, 'coordinator', " + late_hlc() + ", 'dev1', 1)");
    attest("p1", "2026-12", 100);
    now += 86'400'000;
    // December without --as-of: as sealed (the as_of is the seal's).
    EXPECT_EQ(report(ledger_request("2026-12")), at_seal);
    // January lists December's changed rows, now and as reported.
    std::string jan = report(ledger_request("2027-01"));
    auto d = parse_json(jan);
    ASSERT_TRUE(d.HasMember("corrections"));
    auto& c = d["corrections"];
    ASSERT_EQ(c.Size(), 2u) << jan;
    EXPECT_EQ(jtext(c[0]["month"]), "\"2026-12\"");
    EXPECT_EQ(jtext(c[0]["person"]), "\"p1\"");
    EXPECT_EQ(jtext(c[0]["attested_minutes"]), "100");
    EXPECT_EQ(jtext(c[0]["previously"]["attested_minutes"]), "null");
    EXPECT_EQ(jtext(c[1]["person"]), "\"p2\"");
    EXPECT_EQ(jtext(c[1]["attended_minutes"]), "120");
    EXPECT_EQ(jtext(c[1]["previously"]["attended_minutes"]), "90");
    // In CSV they follow the rows, with the month they correct in `correction_for`.
    std::string csv = report(ledger_request("2027-01", "csv"));
    EXPECT_NE(csv.find("p1;arjeplog;woman;30_54;isced_3_4;employed;2026-12;;120;100;19800312-1234;2026-12\r\n"),
              std::string::npos)
        << csv;
    // Once January is sealed too, February compares with January's seal: nothing new.
    now = at("2027-02-01T08:00:00Z");
    ASSERT_TRUE(store->seal_month("2027-01", "cli:test"));
    now += 86'400'000;
    auto feb = parse_json(report(ledger_request("2027-02")));
    EXPECT_EQ(feb["corrections"].Size(), 0u);
    // A change after that shows in February's report again, against January's seal.
    attest("p1", "2026-12", 200);
    auto feb2 = parse_json(report(ledger_request("2027-02")));
    ASSERT_EQ(feb2["corrections"].Size(), 1u);
    EXPECT_EQ(jtext(feb2["corrections"][0]["previously"]["attested_minutes"]), "100");
}

TEST_P(LedgerReports, ErasureKeepsTheFiguresUnderThePseudonymInEveryReportAsOfAnyDate) {
    std::string before = report(ledger_request("2026-12"));
    int64_t then = now;
    now += 3'600'000;
    auto erased = store->erase_person("p1", "cli:test");
    ASSERT_TRUE(erased) << erased.status().to_string();
    const std::string& x = erased->pseudonym;
    for (std::optional<int64_t> as_of : {std::optional<int64_t>(then), std::optional<int64_t>()}) {
        ReportRequest req = ledger_request("2026-12");
        req.as_of_ms = as_of;
        std::string body = report(req);
        EXPECT_EQ(body.find("\"p1\""), std::string::npos) << body;
        EXPECT_EQ(body.find("19800312"), std::string::npos) << body;
        auto d = parse_json(body);
        ASSERT_EQ(d["rows"].Size(), 2u);
        const rapidjson::Value* row = nullptr;
        for (auto& r : d["rows"].GetArray())
            if (jtext(r["person"]) == "\"" + x + "\"") row = &r;
        ASSERT_NE(row, nullptr) << body;
        EXPECT_EQ(jtext((*row)["organisation"]), "\"arjeplog\"");
        EXPECT_EQ(jtext((*row)["attended_minutes"]), "120");
        EXPECT_EQ(jtext((*row)["start_month"]), "\"2026-12\"");
        for (const char* f : {"gender", "age_band", "education_level", "employment_status", "personal_id"})
            EXPECT_EQ(jtext((*row)[f]), "null") << f;
    }
    // p2's row is untouched, byte for byte.
    auto p2 = [](const std::string& body) { return body.substr(body.find(R"({"person":"p2")")); };
    ReportRequest req = ledger_request("2026-12");
    req.as_of_ms = then;
    EXPECT_EQ(p2(report(req)).substr(0, 200), p2(before).substr(0, 200));
}

TEST_P(LedgerReports, CoordinatorsSeeTheirOrganisationsWithoutIdentityNumbers) {
    import(R"({"organisations":[{"code":"arvidsjaur","name":"Arvidsjaur","county":"Norrbotten"}],
               "sites":[{"id":"s2","organisation":"arvidsjaur","name":"Hemtjänst Arvidsjaur"}],
               "persons":[{"id":"p9","organisation":"arvidsjaur","site":"s2","name":"Åke","gender":"man","personal_id":"19700101-0000"}]})");
    participation("pa9", "p9", "2026-12");
    ReportViewer coord{"coordinator", {"arjeplog"}};
    std::string body = report(ledger_request("2026-12"), coord);
    EXPECT_EQ(body.find("p9"), std::string::npos);
    EXPECT_EQ(body.find("19800312"), std::string::npos);
    EXPECT_NE(body.find("\"p1\""), std::string::npos);
    ReportRequest other = ledger_request("2026-12");
    other.organisation = "arvidsjaur";
    EXPECT_EQ(store->report(other, coord).status().code(), Errc::forbidden);
    std::string all = report(ledger_request("2026-12"));
    EXPECT_NE(all.find("19700101-0000"), std::string::npos);
    EXPECT_NE(report(other).find("\"p9\""), std::string::npos);
}

TEST_P(LedgerReports, HttpReportsNeedATokenAndFollowTheScope) {
    ASSERT_TRUE(store->add_user({.username = "coord", .role = "coordinator", .sites = {"s1"}, .password = "password1"},
                                "test"));
    EXPECT_EQ(get("/v1/reports/ledger?month=2026-12", "").status, 401);
    std::string anna = login("anna"), admin = login("admin"), coord = login("coord");
    auto refused = get("/v1/reports/ledger?month=2026-12", anna);
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_NE(refused.body.find("forbidden"), std::string::npos);
    auto r = get("/v1/reports/ledger?month=2026-12&format=json", admin);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, report(ledger_request("2026-12")));
    bool json_type = false;
    for (auto& [k, v] : r.headers) json_type = json_type || (k == "Content-Type" && v == "application/json");
    EXPECT_TRUE(json_type);
    auto c = get("/v1/reports/ledger?month=2026-12", coord);
    ASSERT_EQ(c.status, 200) << c.body;
    EXPECT_EQ(c.body.find("19800312"), std::string::npos);
    bool csv_type = false;
    for (auto& [k, v] : c.headers) csv_type = csv_type || (k == "Content-Type" && v == "text/csv; charset=utf-8");
    EXPECT_TRUE(csv_type);
    EXPECT_EQ(get("/v1/reports/ledger?month=2026-12&organisation=elsewhere", coord).status, 403);
    auto bad = get("/v1/reports/ledger?from=2026-11&to=2026-12", admin);
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("one month at a time"), std::string::npos) << bad.body;
    EXPECT_EQ(get("/v1/reports/ledger?month=2026-12&colour=red", admin).status, 400);
    EXPECT_EQ(get("/v1/reports/nonsense?month=2026-12", admin).status, 400);
    auto as_of = get("/v1/reports/ledger?month=2026-12&format=json&as_of=2026-12-01T09%3A00%3A00Z", admin);
    ASSERT_EQ(as_of.status, 200) << as_of.body;
    EXPECT_NE(as_of.body.find(R"("as_of":"2026-12-01T09:00:00.000Z")"), std::string::npos);
    HttpRequest post_req;
    post_req.method = "POST";
    post_req.target = "/v1/reports/ledger?month=2026-12";
    post_req.headers["authorization"] = "Bearer " + admin;
    EXPECT_EQ(handle_request(post_req, *store).status, 405);
}

TEST_P(LedgerReports, StatisticsReportsCarryTheCommonHeader) {
    ReportRequest r = ledger_request("2026-11");
    r.name = "participants";
    r.to_month = "2026-12";
    r.min_cell = 3;
    std::string body = report(r);
    EXPECT_EQ(body.rfind(R"({"report":"participants","from":"2026-11","to":"2026-12","as_of":"2027-01-02T10:00:00.000Z","organisation":null,"min_cell":3,)", 0), 0u)
        << body;
}

// ---- the ledger against an independent computation -------------------------------------------
namespace {
struct GenPerson {
    std::string id, org, gender, education, employment, personal_id;
    std::optional<int> birth_year;
};
struct GenOccasion {
    std::string id, status;
    int64_t starts_ms, ends_ms;
};
struct GenMark {
    std::string occasion, person, status;
    std::optional<int64_t> minutes = {};
};
struct Generated {
    std::vector<GenPerson> persons;
    std::vector<std::tuple<std::string, std::string, std::string>> participations;  // person, start, end
    std::vector<GenOccasion> occasions;
    std::map<std::pair<std::string, std::string>, GenMark> current;  // (occasion, person)
    std::map<std::pair<std::string, std::string>, int64_t> attested;  // (person, month)
};

std::string month_of(int y, int m) {
    char b[32];
    std::snprintf(b, sizeof b, "%04d-%02d", y, m);
    return b;
}

// The expected ledger rows of `month`, as JSON text per row, straight from what was generated.
std::vector<std::string> expected_ledger(const Generated& g, const std::string& month, const std::set<std::string>& orgs,
                                         bool ids) {
    std::vector<std::string> rows;
    std::vector<GenPerson> persons = g.persons;
    std::sort(persons.begin(), persons.end(), [](auto& a, auto& b) { return a.id < b.id; });
    auto q = [](const std::string& s) { return s.empty() ? std::string("null") : "\"" + s + "\""; };
    for (auto& p : persons) {
        if (!orgs.empty() && !orgs.count(p.org)) continue;
        std::string start, end;
        bool any = false, open = false;
        for (auto& [who, s, e] : g.participations) {
            if (who != p.id || s > month || (!e.empty() && e < month)) continue;
            if (!any || s < start) start = s;
            if (e.empty()) open = true;
            else if (e > end) end = e;
            any = true;
        }
        if (!any) continue;
        if (open) end.clear();
        int64_t minutes = 0;
        for (auto& o : g.occasions) {
            if (o.status == "cancelled" || tzdb_month(o.starts_ms) != month) continue;
            auto m = g.current.find({o.id, p.id});
            if (m == g.current.end()) continue;
            auto& st = m->second.status;
            if (st != "present" && st != "late" && st != "left_early") continue;
            minutes += m->second.minutes ? *m->second.minutes : (o.ends_ms - o.starts_ms) / 60000;
        }
        std::string band = "unknown";
        if (p.birth_year) {
            int age = std::stoi(month.substr(0, 4)) - *p.birth_year;
            band = age < 18 ? "under_18" : age < 30 ? "18_29" : age < 55 ? "30_54" : "55_plus";
        }
        auto a = g.attested.find({p.id, month});
        rows.push_back("{\"person\":" + q(p.id) + ",\"organisation\":" + q(p.org) + ",\"gender\":" + q(p.gender) +
                       ",\"age_band\":" + q(band) + ",\"education_level\":" + q(p.education) +
                       ",\"employment_status\":" + q(p.employment) + ",\"start_month\":" + q(start) +
                       ",\"end_month\":" + q(end) + ",\"attended_minutes\":" + std::to_string(minutes) +
                       ",\"attested_minutes\":" + (a == g.attested.end() ? "null" : std::to_string(a->second)) +
                       ",\"personal_id\":" + (ids ? q(p.personal_id) : "null") + "}");
    }
    return rows;
}

std::vector<std::string> actual_rows(const std::string& body) {
    rapidjson::Document d;
    EXPECT_TRUE(json::parse(body, d));
    std::vector<std::string> rows;
    if (!d.IsObject() || !d.HasMember("rows")) return rows;
    for (auto& r : d["rows"].GetArray()) {
        rapidjson::StringBuffer b;
        json::Writer w(b);
        r.Accept(w);
        rows.emplace_back(b.GetString(), b.GetSize());
    }
    return rows;
}
}  // namespace

TEST_P(Reports, TheLedgerMatchesAnIndependentComputationOverGeneratedData) {
    const char* kGenders[] = {"woman", "woman", "woman", "man", "non_binary", "undisclosed"};
    const char* kEdu[] = {"", "isced_0_2", "isced_3_4", "isced_5_8"};
    const char* kEmp[] = {"", "employed", "self_employed", "unemployed", "inactive"};
    const char* kStatus[] = {"unmarked", "present", "absent", "late", "left_early", "excused"};
    for (uint32_t seed = 1; seed <= 30; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        TearDown();
        SetUp();
        std::mt19937 rng(seed);
        auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
        Generated g;
        now = at("2026-01-01T00:00:00Z");
        std::string doc = R"({"organisations":[{"code":"orgb","name":"Örnsköldsvik","county":"Västernorrland"}],
            "sites":[{"id":"sb","organisation":"orgb","name":"Äldreboende"}],"persons":[)";
        int n = 4 + pick(20);
        for (int i = 0; i < n; ++i) {
            GenPerson p;
            p.id = "g" + std::to_string(i);
            p.org = pick(3) ? "arjeplog" : "orgb";
            p.gender = kGenders[pick(6)];
            if (pick(5)) p.birth_year = 1950 + pick(60);
            p.education = kEdu[pick(4)];
            p.employment = kEmp[pick(5)];
            if (pick(2)) p.personal_id = "19" + std::to_string(10 + i) + "0101-" + std::to_string(1000 + i);
            doc += std::string(i ? "," : "") + R"({"id":")" + p.id + R"(","organisation":")" + p.org +
                   R"(","site":")" + (p.org == "arjeplog" ? "s1" : "sb") + R"(","name":"N","gender":")" + p.gender + "\"" +
                   (p.birth_year ? ",\"birth_year\":" + std::to_string(*p.birth_year) : "") +
                   (p.education.empty() ? "" : ",\"education_level\":\"" + p.education + "\"") +
                   (p.employment.empty() ? "" : ",\"employment_status\":\"" + p.employment + "\"") +
                   (p.personal_id.empty() ? "" : ",\"personal_id\":\"" + p.personal_id + "\"") + "}";
            g.persons.push_back(p);
        }
        doc += R"(],"occasions":[)";
        int occasions = 5 + pick(20);
        for (int i = 0; i < occasions; ++i) {
            GenOccasion o;
            o.id = "go" + std::to_string(i);
            int month = 1 + pick(6);
            // Many near month ends, in UTC: Stockholm puts 22:00-23:59 UTC on the 1st of the next.
            int64_t base = parse_iso8601(month_of(2026, month) + "-01T00:00:00Z").value();
            o.starts_ms = pick(2) ? base - (pick(180) + 1) * 60'000 : base + pick(28 * 24) * 3'600'000LL;
            o.ends_ms = o.starts_ms + (30 + pick(200)) * 60'000;
            const char* statuses[] = {"planned", "completed", "completed", "cancelled"};
            o.status = statuses[pick(4)];
            doc += std::string(i ? "," : "") + R"({"id":")" + o.id + R"(","course":"c1","starts_at":")" +
                   format_iso8601(o.starts_ms) + R"(","ends_at":")" + format_iso8601(o.ends_ms) +
                   R"(","capacity":50,"enrolment_closes":")" + format_iso8601(o.starts_ms) + R"(","status":")" +
                   o.status + "\"}";
            g.occasions.push_back(o);
        }
        doc += "]}";
        import(doc);
        // Marks in up to three imports: each later import's marks are newer (a later stamp).
        for (int round = 0; round < 1 + pick(3); ++round) {
            now += 60'000;
            std::string marks = R"({"attendance":[)";
            bool first = true;
            for (auto& o : g.occasions)
                for (auto& p : g.persons) {
                    if (pick(3)) continue;
                    GenMark m{o.id, p.id, kStatus[pick(6)]};
                    if (pick(2)) m.minutes = pick(300);
                    marks += std::string(first ? "" : ",") + R"({"id":"m)" + std::to_string(round) + o.id + p.id +
                             R"(","occasion":")" + o.id + R"(","person":")" + p.id + R"(","status":")" + m.status + "\"" +
                             (m.minutes ? ",\"minutes\":" + std::to_string(*m.minutes) : "") + "}";
                    first = false;
                    g.current[{o.id, p.id}] = m;
                }
            marks += "]}";
            if (!first) import(marks);
        }
        // Self check-ins with the newest stamps never outrank a coordinator's or an import's
        // mark. These, participations and attestations go in as rows, in one transaction.
        std::string sql = "BEGIN;";
        for (auto& [key, m] : g.current)
            if (!pick(4))
                sql += "INSERT INTO attendance (id, occasion, person, status, minutes, source, hlc, device, version) "
                       "VALUES ('self" + key.first + key.second + "', '" + key.first + "', '" + key.second +
                       "', 'present', 999, 'self_check_in', " + late_hlc() + ", 'dev', 1);";
        for (auto& p : g.persons)
            for (int k = pick(3); k > 0; --k) {
                std::string s = month_of(2026, 1 + pick(6));
                std::string e = pick(2) ? "" : month_of(2026, std::stoi(s.substr(5)) + pick(3));
                sql += "INSERT INTO participations (id, person, start_month, end_month, version) VALUES ('pa" + p.id +
                       "-" + std::to_string(k) + "', '" + p.id + "', '" + s + "', " + (e.empty() ? "NULL" : "'" + e + "'") +
                       ", 1);";
                g.participations.emplace_back(p.id, s, e);
            }
        for (auto& p : g.persons)
            for (int m = 1; m <= 6; ++m)
                if (!pick(3)) {
                    int64_t minutes = pick(2000);
                    sql += "INSERT INTO time_attestations (id, person, month, minutes, hlc, version) VALUES ('ta" + p.id +
                           month_of(2026, m) + "', '" + p.id + "', '" + month_of(2026, m) + "', " +
                           std::to_string(minutes) + ", 1, 1);";
                    g.attested[{p.id, month_of(2026, m)}] = minutes;
                }
        exec(sql + "COMMIT;");
        now = at("2026-08-01T00:00:00Z");
        for (int m = 1; m <= 7; ++m) {
            std::string month = month_of(2026, m);
            EXPECT_EQ(actual_rows(report(ledger_request(month))), expected_ledger(g, month, {}, true)) << month;
            ReportViewer coord{"coordinator", {"orgb"}};
            EXPECT_EQ(actual_rows(report(ledger_request(month), coord)), expected_ledger(g, month, {"orgb"}, false))
                << month;
        }
    }
}

TUNDRA_STORE_BACKENDS(LedgerReports);
TUNDRA_STORE_BACKENDS(Reports);
