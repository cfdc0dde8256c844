// The console's API doing the office's work against a real store: the catalogue reaching a
// participant's device, rosters and waitlists, persons and participations, logins, tablets and
// remote wipe, the staff CSV import through its preview, reports byte-equal to the CLI's, and
// the upload limits.
#include <set>

#include "console_fixture.h"
#include "tundra/core/gzip.h"
#include "tundra/core/protocol.h"
#include "tundra/server/reports.h"

using namespace tundra;
using namespace tundra::console;
using namespace tundra::console::test;

namespace {
using ConsoleApi = ConsoleFixture;

std::string str(const rapidjson::Value& v, const char* k) {
    return v.HasMember(k) && v[k].IsString() ? v[k].GetString() : std::string();
}

// A participant's device: logs in and pulls everything it may see.
struct Device {
    std::string token;
    std::string device_id;
};
Device device_login(server::SqlStore& s, const std::string& user, const std::string& install = {}) {
    LoginRequest req;
    req.username = user;
    req.password = "password1";
    req.device_name = "tablet";
    req.install_id = install;
    req.app_version = "0.1.0";
    auto r = s.login(req, "10.0.0.9");
    EXPECT_TRUE(r) << r.status().to_string();
    return {r ? r->token : std::string(), r ? r->device_id : std::string()};
}
// As the sync endpoint serves a device: its token checked, then the round.
Result<SyncResponse> pull(server::SqlStore& s, const Device& d) {
    auto who = s.authenticate(d.token);
    if (!who) return who.status();
    SyncRequest req;
    req.limit = 5000;
    return s.sync(who.value(), req);
}
bool pulled(const SyncResponse& r, Kind kind, const std::string& id) {
    for (auto& c : r.changes)
        if (c.kind == kind && c.id == id && !c.deleted) return true;
    return false;
}
}  // namespace

TEST_P(ConsoleApi, AnAdminPublishesACourseAndOccasionThatAParticipantsDeviceSyncs) {
    Browser admin = signed_in("admin");
    auto c = post(admin, "/console/api/courses",
                  R"({"title":"Lyft och förflyttning","description":"Ergonomi","format":"on_site",)"
                  R"("duration_minutes":120,"organisations":["arjeplog"],"published":false})");
    ASSERT_EQ(c.status, 200) << c.body;
    std::string course = str(doc(c), "id");
    EXPECT_EQ(course.rfind("c-", 0), 0u) << course;
    EXPECT_EQ(str(doc(c)["outcome"], "result"), "applied");
    auto o = post(admin, "/console/api/occasions",
                  R"({"course":")" + course +
                      R"(","starts_at":"2026-12-10T08:00:00Z","ends_at":"2026-12-10T10:00:00Z","site":"s1",)"
                      R"("capacity":10,"enrolment_closes":"2026-12-08T08:00:00Z"})");
    ASSERT_EQ(o.status, 200) << o.body;
    std::string occasion = str(doc(o), "id");
    Device anna = device_login(*store, "anna");
    auto before = pull(*store, anna);
    ASSERT_TRUE(before);
    EXPECT_FALSE(pulled(before.value(), Kind::course, course)) << "an unpublished course reached a device";
    // Publish: an edit of one field.
    auto pub = post(admin, "/console/api/courses/" + course, R"({"published":true})");
    ASSERT_EQ(pub.status, 200) << pub.body;
    auto after = pull(*store, anna);
    ASSERT_TRUE(after);
    EXPECT_TRUE(pulled(after.value(), Kind::course, course));
    EXPECT_TRUE(pulled(after.value(), Kind::occasion, occasion));
    // The page's view of the course.
    auto view = get(admin, "/console/api/courses/" + course);
    ASSERT_EQ(view.status, 200) << view.body;
    auto d = doc(view);
    EXPECT_TRUE(d["course"]["published"].GetBool());
    ASSERT_EQ(d["occasions"].Size(), 1u);
    EXPECT_EQ(str(d["occasions"][0], "id"), occasion);
    // Listed by day in Swedish time.
    EXPECT_EQ(doc(get(admin, "/console/api/occasions?from=2026-12-10&to=2026-12-10"))["total"].GetInt(), 1);
    EXPECT_EQ(doc(get(admin, "/console/api/occasions?from=2026-12-11"))["total"].GetInt(), 0);
    EXPECT_EQ(doc(get(admin, "/console/api/courses?published=true"))["total"].GetInt(), 2);
    // Cancelling is an edit too.
    auto cancel = post(admin, "/console/api/occasions/" + occasion + "/cancel", "{}");
    ASSERT_EQ(cancel.status, 200) << cancel.body;
    EXPECT_EQ(str(doc(get(admin, "/console/api/courses/" + course))["occasions"][0], "status"), "cancelled");
}

TEST_P(ConsoleApi, TheRosterShowsEnrolmentsAndTheWaitlistInOrder) {
    Browser coord = signed_in("coord");
    // o1 has one seat: p1 gets it, p2 waits.
    auto e1 = post(coord, "/console/api/enrolments", R"({"occasion":"o1","person":"p1"})");
    ASSERT_EQ(e1.status, 200) << e1.body;
    auto e2 = post(coord, "/console/api/enrolments", R"({"occasion":"o1","person":"p2"})");
    ASSERT_EQ(e2.status, 200) << e2.body;
    EXPECT_EQ(str(doc(e2)["outcome"], "status"), "waitlisted");
    auto again = post(coord, "/console/api/enrolments", R"({"occasion":"o1","person":"p2"})");
    EXPECT_EQ(again.status, 422) << again.body;
    EXPECT_EQ(str(doc(again)["error"], "code"), "rejected");
    EXPECT_FALSE(str(doc(again)["error"], "reason").empty());
    auto mark = post(coord, "/console/api/attendance", R"({"occasion":"o1","person":"p1","status":"present","minutes":120})");
    ASSERT_EQ(mark.status, 200) << mark.body;
    auto r = get(coord, "/console/api/occasions/o1/roster");
    ASSERT_EQ(r.status, 200) << r.body;
    auto d = doc(r);
    EXPECT_EQ(str(d["occasion"], "id"), "o1");
    EXPECT_EQ(str(d["course"], "title"), "Stress och hälsa");
    ASSERT_EQ(d["enrolments"].Size(), 1u);
    EXPECT_EQ(str(d["enrolments"][0], "person"), "p1");
    EXPECT_EQ(str(d["enrolments"][0], "person_name"), "Anna");
    ASSERT_EQ(d["waitlist"].Size(), 1u);
    EXPECT_EQ(str(d["waitlist"][0], "person_name"), "Erik");
    ASSERT_EQ(d["attendance"].Size(), 1u);
    EXPECT_EQ(str(d["attendance"][0], "status"), "present");
    EXPECT_EQ(d["attendance"][0]["minutes"].GetInt(), 120);
    // Cancelling p1's seat promotes p2.
    std::string e1id = str(doc(e1), "id");
    ASSERT_EQ(post(coord, "/console/api/enrolments/" + e1id + "/cancel", "{}").status, 200);
    d = doc(get(coord, "/console/api/occasions/o1/roster"));
    EXPECT_EQ(d["waitlist"].Size(), 0u);
}

TEST_P(ConsoleApi, CoordinatorsSeeTheirSitesOnly) {
    Browser coord = signed_in("coord");
    auto d = doc(get(coord, "/console/api/persons"));
    std::set<std::string> ids;
    for (auto& r : d["rows"].GetArray()) ids.insert(str(r, "id"));
    EXPECT_EQ(ids, (std::set<std::string>{"p1", "p2"}));
    EXPECT_EQ(get(coord, "/console/api/persons/p3").status, 404);
    // A person at another organisation's site cannot be added by them.
    auto other = post(coord, "/console/api/persons", R"({"site":"s2","organisation":"pajala","name":"X","gender":"man"})");
    EXPECT_NE(other.status, 200) << other.body;
    Browser admin = signed_in("admin");
    EXPECT_EQ(doc(get(admin, "/console/api/persons"))["total"].GetInt(), 3);
    auto me = doc(get(coord, "/console/api/me"));
    ASSERT_EQ(me["organisations"].Size(), 1u);
    EXPECT_STREQ(me["organisations"][0].GetString(), "arjeplog");
}

TEST_P(ConsoleApi, PersonsAreAddedUpdatedAndGetParticipations) {
    Browser coord = signed_in("coord");
    auto add = post(coord, "/console/api/persons",
                    R"({"organisation":"arjeplog","site":"s1","name":"Lisa Lund","gender":"woman","birth_year":1990,)"
                    R"("profession":"undersköterska","education_level":"isced_3_4","employment_status":"employed"})");
    ASSERT_EQ(add.status, 200) << add.body;
    std::string id = str(doc(add), "id");
    EXPECT_EQ(id.rfind("p-", 0), 0u);
    auto upd = post(coord, "/console/api/persons/" + id, R"({"profession":"sjuksköterska"})");
    ASSERT_EQ(upd.status, 200) << upd.body;
    auto part = post(coord, "/console/api/participations", R"({"person":")" + id + R"(","start_month":"2026-11"})");
    ASSERT_EQ(part.status, 200) << part.body;
    auto view = get(coord, "/console/api/persons/" + id);
    ASSERT_EQ(view.status, 200) << view.body;
    auto d = doc(view);
    EXPECT_EQ(str(d["person"], "profession"), "sjuksköterska");
    ASSERT_EQ(d["participations"].Size(), 1u);
    EXPECT_EQ(str(d["participations"][0], "start_month"), "2026-11");
    auto search = doc(get(coord, "/console/api/persons?q=lisa"));
    EXPECT_EQ(search["total"].GetInt(), 1);
}

TEST_P(ConsoleApi, UsersAreCreatedAndTheirPasswordsSetWithTheConsoleUserAsActor) {
    Browser admin = signed_in("admin");
    auto add = post(admin, "/console/api/users",
                    R"({"username":"maria","role":"coordinator","sites":["s1"],"password":"first-password"})");
    ASSERT_EQ(add.status, 201) << add.body;
    EXPECT_EQ(post(admin, "/console/api/users",
                   R"({"username":"maria","role":"coordinator","sites":["s1"],"password":"first-password"})")
                  .status,
              409);
    Browser maria;
    EXPECT_EQ(sign_in(maria, "maria", "first-password").status, 303);
    auto pw = post(admin, "/console/api/users/maria/password", R"({"password":"second-password"})");
    ASSERT_EQ(pw.status, 200) << pw.body;
    Browser again;
    EXPECT_EQ(sign_in(again, "maria", "first-password").status, 401);
    EXPECT_EQ(sign_in(again, "maria", "second-password").status, 303);
    auto list = doc(get(admin, "/console/api/users"));
    bool found = false;
    for (auto& u : list["rows"].GetArray())
        if (str(u, "username") == "maria") found = str(u, "role") == "coordinator";
    EXPECT_TRUE(found);
    auto trail = store->audit_trail(100);
    ASSERT_TRUE(trail);
    int by_admin = 0;
    for (auto& e : trail.value()) by_admin += e.actor == "admin" && e.target.find("maria") != std::string::npos;
    EXPECT_GE(by_admin, 2) << "add_user and set_password audited with the console user";
}

TEST_P(ConsoleApi, ARevokedDeviceIsAnsweredRevokedOnItsNextSync) {
    Device anna = device_login(*store, "anna", "install-1");
    ASSERT_TRUE(pull(*store, anna));
    Browser admin = signed_in("admin");
    auto t = get(admin, "/console/api/tablets");
    ASSERT_EQ(t.status, 200) << t.body;
    auto d = doc(t);
    bool listed = false;
    for (auto& tab : d["tablets"].GetArray())
        for (auto& dev : tab["devices"].GetArray())
            if (str(dev, "id") == anna.device_id) listed = str(tab, "install_id") == "install-1";
    EXPECT_TRUE(listed) << t.body;
    auto rv = post(admin, "/console/api/devices/" + anna.device_id + "/revoke", "{}");
    ASSERT_EQ(rv.status, 200) << rv.body;
    auto after = pull(*store, anna);
    ASSERT_FALSE(after);
    EXPECT_EQ(after.status().code(), Errc::revoked);
    // A whole tablet.
    Device erik = device_login(*store, "admin", "install-2");
    auto tab = post(admin, "/console/api/tablets/install-2/revoke", "{}");
    ASSERT_EQ(tab.status, 200) << tab.body;
    EXPECT_EQ(doc(tab)["revoked"].GetInt(), 1);
    EXPECT_EQ(pull(*store, erik).status().code(), Errc::revoked);
}

TEST_P(ConsoleApi, AStaffCsvIsImportedThroughItsPreviewAndAStaleDigestIsRefused) {
    Browser admin = signed_in("admin");
    std::string csv =
        "id;personnummer;namn;kön;födelseår;arbetsplats;yrke;utbildning;anställning\r\n"
        ";19780312-1230;Åsa Ängström;kvinna;;s1;Undersköterska;gymnasial;anställd\r\n"
        "p2;811218-9876;Erik Öhman;man;;s1;Vårdbiträde;förgymnasial;anställd\r\n";
    auto prev = call(admin, "POST", "/console/api/import/preview", csv, "text/csv; charset=utf-8");
    ASSERT_EQ(prev.status, 200) << prev.body;
    auto d = doc(prev);
    EXPECT_EQ(str(d, "format"), "staff_csv");
    std::string digest = str(d, "digest");
    EXPECT_EQ(digest.size(), 64u);
    int added = 0, changed = 0;
    for (auto& ch : d["changes"].GetArray()) {
        added += str(ch, "change") == "added";
        changed += str(ch, "change") == "changed" && str(ch, "id") == "p2";
    }
    EXPECT_EQ(added, 1);
    EXPECT_EQ(changed, 1);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM persons"), 3);  // a preview changes nothing
    // The store moves on between preview and apply: refused.
    ASSERT_EQ(post(admin, "/console/api/persons/p2", R"({"name":"Erik Ek"})").status, 200);
    auto stale = call(admin, "POST", "/console/api/import/apply?digest=" + digest, csv, "text/csv");
    EXPECT_EQ(stale.status, 409) << stale.body;
    EXPECT_EQ(error_code(stale), "stale_preview");
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM persons"), 3);
    // Preview again, apply that.
    digest = str(doc(call(admin, "POST", "/console/api/import/preview", csv, "text/csv")), "digest");
    auto applied = call(admin, "POST", "/console/api/import/apply?digest=" + digest, csv, "text/csv");
    ASSERT_EQ(applied.status, 200) << applied.body;
    EXPECT_EQ(doc(applied)["counts"]["persons"].GetInt(), 2);
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM persons"), 4);
    auto p2 = doc(get(admin, "/console/api/persons/p2"));
    EXPECT_EQ(str(p2["person"], "name"), "Erik Öhman");
    bool audited = false;
    for (auto& e : store->audit_trail(50).value()) audited |= e.operation == "import" && e.actor == "admin";
    EXPECT_TRUE(audited);
    // A bad file names its line.
    auto bad = call(admin, "POST", "/console/api/import/preview",
                    "id;personnummer;namn;kön;födelseår;arbetsplats;yrke;utbildning;anställning\n;x;Y;robot;;s1;;;\n",
                    "text/csv");
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_NE(str(doc(bad)["error"], "message").find("2"), std::string::npos) << bad.body;
}

TEST_P(ConsoleApi, ReportsAreTheStoresBytesForTheSameAsOf) {
    Browser admin = signed_in("admin");
    ASSERT_EQ(post(admin, "/console/api/enrolments", R"({"occasion":"o1","person":"p1"})").status, 200);
    for (std::string name : {"ledger", "participants", "attendance", "surveys", "deviations"}) {
        auto page = get(admin, "/console/api/reports/" + name + "?month=2026-11&organisation=arjeplog");
        ASSERT_EQ(page.status, 200) << name << " " << page.body;
        std::string as_of = header(page, "X-Report-As-Of");
        ASSERT_FALSE(as_of.empty());
        now += 60'000;  // later, the page downloads with the as_of it was shown
        auto csv = get(admin, "/console/api/reports/" + name + "?month=2026-11&organisation=arjeplog&format=csv&download=1&as_of=" + as_of);
        ASSERT_EQ(csv.status, 200) << csv.body;
        server::ReportRequest req;
        req.name = name;
        req.from_month = req.to_month = "2026-11";
        req.organisation = "arjeplog";
        req.as_of_ms = parse_iso8601(as_of).value();
        req.format = "csv";
        auto cli = store->report(req, server::ReportViewer{"admin", {}});
        ASSERT_TRUE(cli) << cli.status().to_string();
        EXPECT_EQ(csv.body, cli->body) << name;
        EXPECT_EQ(header(csv, "Content-Disposition"), "attachment; filename=\"" + name + "-2026-11-arjeplog.csv\"");
        req.format = "json";
        auto json = get(admin, "/console/api/reports/" + name + "?month=2026-11&organisation=arjeplog&as_of=" + as_of);
        EXPECT_EQ(json.body, store->report(req, server::ReportViewer{"admin", {}})->body) << name;
    }
    // A browser that takes gzip gets the same bytes compressed (a month's ledger of every
    // organisation is megabytes of JSON).
    auto plain = get(admin, "/console/api/reports/participants?month=2026-11");
    ASSERT_GE(plain.body.size(), 860u);
    auto req = request(admin, "GET", "/console/api/reports/participants?month=2026-11&as_of=" +
                                         header(plain, "X-Report-As-Of"));
    req.headers["accept-encoding"] = "gzip, deflate";
    auto zipped = send(admin, req);
    EXPECT_EQ(header(zipped, "Content-Encoding"), "gzip");
    EXPECT_EQ(header(zipped, "Vary"), "Accept-Encoding");
    EXPECT_LT(zipped.body.size(), plain.body.size());
    EXPECT_EQ(gzip_decompress(zipped.body, 64 << 20).value(), plain.body);
    // Coordinators: their organisations only.
    Browser coord = signed_in("coord");
    EXPECT_EQ(get(coord, "/console/api/reports/participants?month=2026-11&organisation=arjeplog").status, 200);
    EXPECT_EQ(get(coord, "/console/api/reports/participants?month=2026-11&organisation=pajala").status, 403);
    EXPECT_EQ(get(admin, "/console/api/reports/ledger?month=2026-11&month=2026-10").status, 400);
}

TEST_P(ConsoleApi, UploadsHaveTheirOwnLimitAndOtherBodiesTheSmallOne) {
    options.max_upload_bytes = 4096;
    options.max_body_bytes = 1024;
    make_handler();
    Browser admin = signed_in("admin");
    EXPECT_EQ(handler->body_limit("/console/api/import/preview"), 4096u);
    EXPECT_EQ(handler->body_limit("/console/api/courses"), 1024u);
    std::string row = ";19780312-1230;Åsa Ängström;kvinna;;s1;Undersköterska;gymnasial;anställd\n";
    std::string csv = "id;personnummer;namn;kön;födelseår;arbetsplats;yrke;utbildning;anställning\n" + row;
    auto ok = call(admin, "POST", "/console/api/import/preview", csv + std::string(1500, '\n'), "text/csv");
    EXPECT_NE(ok.status, 413) << "an upload between the two limits";
    auto big = call(admin, "POST", "/console/api/import/preview", csv + std::string(5000, '\n'), "text/csv");
    EXPECT_EQ(big.status, 413);
    EXPECT_EQ(error_code(big), "too_large");
    auto api = post(admin, "/console/api/courses", R"({"title":")" + std::string(1100, 'a') + R"("})");
    EXPECT_EQ(api.status, 413);
}

TEST_P(ConsoleApi, SealsAndTheAuditTrail) {
    Browser admin = signed_in("admin");
    auto s = post(admin, "/console/api/seals", R"({"month":"2026-10"})");
    ASSERT_EQ(s.status, 200) << s.body;
    EXPECT_EQ(post(admin, "/console/api/seals", R"({"month":"2026-10"})").status, 409);
    EXPECT_EQ(post(admin, "/console/api/seals", R"({"month":"2026-12"})").status, 400);  // not ended
    ASSERT_EQ(post(admin, "/console/api/seals", R"({"month":"2026-09"})").status, 200);
    // The seals as the store keeps them (report_seals), newest month first, whatever else the
    // audit trail holds; the answer of a seal is the store's own moment.
    auto list = doc(get(admin, "/console/api/seals"));
    ASSERT_EQ(list["seals"].Size(), 2u);
    EXPECT_EQ(str(list["seals"][0], "month"), "2026-10");
    EXPECT_EQ(str(list["seals"][0], "actor"), "admin");
    EXPECT_EQ(str(list["seals"][1], "month"), "2026-09");
    EXPECT_EQ(doc(s)["sealed_ms"].GetInt64(), list["seals"][0]["sealed_ms"].GetInt64());
    auto stored = store->seals();
    ASSERT_TRUE(stored.is_ok());
    EXPECT_EQ(stored->front().sealed_ms, list["seals"][0]["sealed_ms"].GetInt64());
    auto audit = doc(get(admin, "/console/api/audit?limit=10"));
    EXPECT_GE(audit["rows"].Size(), 1u);
}

TEST_P(ConsoleApi, DeviationsLanguageExportAndErasure) {
    Browser coord = signed_in("coord");
    auto dev = post(coord, "/console/api/deviations",
                    R"({"organisation":"arjeplog","occasion":"o1","category":"technical","description":"Ljudet föll bort"})");
    ASSERT_EQ(dev.status, 200) << dev.body;
    EXPECT_EQ(str(doc(dev), "id").rfind("d-", 0), 0u);
    auto list = doc(get(coord, "/console/api/deviations?organisation=arjeplog&status=open"));
    EXPECT_EQ(list["total"].GetInt(), 1);
    // The language is the session's, in the store.
    ASSERT_EQ(post(coord, "/console/api/language", R"({"lang":"en"})").status, 200);
    EXPECT_EQ(str(doc(get(coord, "/console/api/me")), "lang"), "en");
    EXPECT_EQ(error_field(post(coord, "/console/api/language", R"({"lang":"fi"})")), "lang");
    // Export and erasure: admins, and erasure only with the id repeated.
    Browser admin = signed_in("admin");
    auto exp = get(admin, "/console/api/persons/p2/export");
    ASSERT_EQ(exp.status, 200) << exp.body;
    EXPECT_EQ(header(exp, "Content-Disposition"), "attachment; filename=\"p2.json\"");
    EXPECT_NE(exp.body.find("Erik"), std::string::npos);
    auto wrong = post(admin, "/console/api/persons/p2/erase", R"({"confirm":"p1"})");
    EXPECT_EQ(wrong.status, 400);
    EXPECT_EQ(error_field(wrong), "confirm");
    auto erased = post(admin, "/console/api/persons/p2/erase", R"({"confirm":"p2"})");
    ASSERT_EQ(erased.status, 200) << erased.body;
    EXPECT_FALSE(str(doc(erased), "pseudonym").empty());
    EXPECT_EQ(get(admin, "/console/api/persons/p2").status, 404);
    bool audited = false;
    for (auto& e : store->audit_trail(50).value()) audited |= e.actor == "admin" && e.operation.find("erase") != std::string::npos;
    EXPECT_TRUE(audited);
}

TUNDRA_STORE_BACKENDS(ConsoleApi);
