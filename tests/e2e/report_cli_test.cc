// `tundra-server report` with the real binary: the ledger in both CSV dialects read back by
// Python's csv module (Swedish characters, quotes and separators in fields), JSON, sealing
// (twice is an error, an unfinished month cannot be sealed, audited), and clear errors.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../../sync-server/src/report_state.h"
#include "loopback.h"
#include "tundra/core/json.h"
#include "tundra/sqlite/db.h"

using namespace tundra;
using namespace tundra::testing;

namespace {
std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct ReportCli : ::testing::Test {
    TempDir dir;
    std::string month;  // two months ago, in Stockholm

    struct Run {
        int code = -1;
        std::string out, err;
    };
    Run admin(const std::string& args) {
        std::string out = dir.file("stdout"), err = dir.file("stderr");
        std::string cmd = "cd '" + dir.path.string() + "' && '" + TUNDRA_SERVER_BIN + "' " + args + " > '" + out +
                          "' 2> '" + err + "' < /dev/null";
        int st = std::system(cmd.c_str());
        return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out), slurp(err)};
    }

    void SetUp() override {
        month = tundra::previous_month(tundra::previous_month(tundra::stockholm_month(wall_clock_ms())));
        ASSERT_EQ(admin("init --db s.db").code, 0);
        // An organisation and a person whose ids need quoting in CSV, with Swedish letters.
        std::string doc = R"({
 "organisations":[{"code":"Åre; \"fjäll\"","name":"Åre","county":"Jämtland"}],
 "sites":[{"id":"s1","organisation":"Åre; \"fjäll\"","name":"Hemtjänst"}],
 "persons":[{"id":"p-Örjan","organisation":"Åre; \"fjäll\"","site":"s1","name":"Örjan","gender":"man","birth_year":1990,"personal_id":"19900101-1234"}],
 "courses":[{"id":"c1","title":"Säker förflyttning","format":"on_site","organisations":["Åre; \"fjäll\""],"published":true}],
 "occasions":[{"id":"o1","course":"c1","starts_at":")" + month + R"(-10T08:00:00Z","ends_at":")" + month +
                          R"(-10T09:30:00Z","capacity":5,"enrolment_closes":")" + month + R"(-09T08:00:00Z"}],
 "attendance":[{"occasion":"o1","person":"p-Örjan","status":"present"}]
})";
        std::ofstream(dir.file("doc.json")) << doc;
        auto imp = admin("import --db s.db doc.json");
        ASSERT_EQ(imp.code, 0) << imp.err;
        auto db = sqlite::Db::open(dir.file("s.db"));
        ASSERT_TRUE(db);
        ASSERT_TRUE(db.value()->exec("INSERT INTO participations (id, person, start_month, end_month, version) "
                                     "VALUES ('pa1', 'p-Örjan', '" + month + "', NULL, 1)"));
    }
};
}  // namespace

TEST_F(ReportCli, TheLedgerInBothCsvDialectsReadsBackInPythonAndAsJson) {
    std::string py = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    std::ofstream(dir.file("read.py")) << "import csv,json,sys\n"
                                          "with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:\n"
                                          "    print(json.dumps(list(csv.reader(f, delimiter=sys.argv[2])), "
                                          "ensure_ascii=False))\n";
    for (auto [dialect, sep] : {std::pair{"excel", ";"}, {"rfc", ","}}) {
        auto r = admin("report ledger --db s.db --month " + month + " --csv-dialect " + dialect);
        ASSERT_EQ(r.code, 0) << r.err;
        EXPECT_EQ(r.out.rfind("\xEF\xBB\xBF", 0) == 0, std::string(dialect) == "excel");
        std::ofstream(dir.file("ledger.csv"), std::ios::binary) << r.out;
        Run parsed;
        {
            std::string out = dir.file("py.out");
            std::string cmd = py + " '" + dir.file("read.py") + "' '" + dir.file("ledger.csv") + "' '" + sep + "' > '" + out + "'";
            ASSERT_EQ(std::system(cmd.c_str()), 0);
            parsed.out = slurp(out);
        }
        EXPECT_EQ(parsed.out,
                  "[[\"person\", \"organisation\", \"gender\", \"age_band\", \"education_level\", \"employment_status\", "
                  "\"start_month\", \"end_month\", \"attended_minutes\", \"attested_minutes\", \"personal_id\", "
                  "\"correction_for\"], [\"p-Örjan\", \"Åre; \\\"fjäll\\\"\", \"man\", \"30_54\", \"\", \"\", \"" +
                      month + "\", \"\", \"90\", \"\", \"19900101-1234\", \"\"]]\n")
            << dialect;
    }
    auto j = admin("report ledger --db s.db --month " + month + " --format json");
    ASSERT_EQ(j.code, 0) << j.err;
    rapidjson::Document d;
    ASSERT_TRUE(json::parse(j.out, d)) << j.out;
    EXPECT_EQ(std::string(d["month"].GetString()), month);
    ASSERT_EQ(d["rows"].Size(), 1u);
    EXPECT_EQ(d["rows"][0]["attended_minutes"].GetInt64(), 90);
    // A statistics report, one organisation, as JSON.
    auto s = admin("report participants --db s.db --from " + month + " --to " + month +
                   " --organisation 'Åre; \"fjäll\"' --format json --min-cell 3");
    ASSERT_EQ(s.code, 0) << s.err;
    EXPECT_EQ(s.out.rfind(R"({"report":"participants","from":")" + month + "\"", 0), 0u) << s.out;
}

TEST_F(ReportCli, SealingIsOnceForAnEndedMonthAndAudited) {
    auto sealed = admin("report seal --db s.db --month " + month);
    ASSERT_EQ(sealed.code, 0) << sealed.err;
    auto twice = admin("report seal --db s.db --month " + month);
    EXPECT_NE(twice.code, 0);
    EXPECT_NE(twice.err.find("error: conflict: month: " + month + " was already sealed"), std::string::npos) << twice.err;
    auto current = admin("report seal --db s.db --month " + tundra::stockholm_month(wall_clock_ms()));
    EXPECT_NE(current.code, 0);
    EXPECT_NE(current.err.find("has not ended"), std::string::npos) << current.err;
    auto db = sqlite::Db::open(dir.file("s.db"));
    ASSERT_TRUE(db);
    auto q = db.value()->query("SELECT actor FROM audit_log WHERE operation = 'seal_month' AND target = ?");
    q->bind(1, month);
    auto r = q->step();
    ASSERT_TRUE(r && r.value());
    EXPECT_EQ(q->text(0).rfind("cli:", 0), 0u);
    // A sealed month reports as of its seal.
    auto j = admin("report ledger --db s.db --month " + month + " --format json");
    ASSERT_EQ(j.code, 0) << j.err;
    auto sealed_ms = db.value()->query("SELECT sealed_ms FROM report_seals");
    ASSERT_TRUE(sealed_ms->step().value());
    EXPECT_NE(j.out.find("\"as_of\":\"" + server::format_iso8601_ms(sealed_ms->int64(0)) + "\""), std::string::npos)
        << j.out;
}

TEST_F(ReportCli, BadRequestsAreClearErrors) {
    struct Case {
        std::string args, words;
    };
    for (auto& c : std::vector<Case>{
             {"report ledger --db s.db --from 2026-01 --to 2026-02", "one month at a time"},
             {"report ledger --db s.db --month 2026-13", "from: expected a month YYYY-MM"},
             {"report ledger --db s.db --month " + month + " --as-of yesterday", "--as-of:"},
             {"report ledger --db s.db --month " + month + " --format xml", "format: must be csv or json"},
             {"report ledger --db s.db", "give --month"},
             {"report budget --db s.db --month " + month, "unknown report 'budget'"},
             {"report ledger --db s.db --month " + month + " --organisation nowhere", "no organisation 'nowhere'"},
             {"report seal --db s.db --month " + month + " --format json", "report seal takes only"},
             {"report ledger --db missing.db --month " + month, "no store at"}}) {
        auto r = admin(c.args);
        EXPECT_NE(r.code, 0) << c.args;
        EXPECT_NE(r.err.find(c.words), std::string::npos) << c.args << "\n" << r.err;
        EXPECT_TRUE(r.out.empty()) << c.args;
    }
}
