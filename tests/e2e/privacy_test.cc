// Secrets on shared tablets and GDPR erasure, end to end (issue 8, findings 7 and 10):
// owner-only files, `logout` that never loses work, `replay` that never applies twice, and an
// erasure that leaves no trace of the person in any file of the server or of four devices.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "loopback.h"
#include "process.h"
#include "tundra/sqlite/db.h"

using namespace tundra;
using namespace tundra::testing;
namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return 0;
    return st.st_mode & 0777;
}

// Every file whose name starts with `prefix` in the folder (the database, -wal, -shm, ...).
std::string files_of(const TempDir& d, const std::string& prefix) {
    std::string out;
    for (auto& f : fs::directory_iterator(d.path))
        if (f.path().filename().string().rfind(prefix, 0) == 0) out += slurp(f.path());
    return out;
}

int64_t count_on(World& w, const std::string& sql) { return w.scalar(sql); }
}  // namespace

TEST(SharedTablet, ReplicaAndInstallIdFilesAreReadableByTheirOwnerOnly) {
    World w;
    auto c = w.client("r.db", "coord1");
    sync_ok(*c);
    for (const char* f : {"r.db", "r.db-wal", "r.db-shm", "r.db.install-id"}) {
        if (std::string(f) == "r.db-wal" && !fs::exists(w.dir.file(f))) continue;  // truncated to nothing
        ASSERT_TRUE(fs::exists(w.dir.file(f))) << f;
        EXPECT_EQ(mode_of(w.dir.file(f)), 0600u) << f;
    }
    // A replica and install id written by an older build (0644) are narrowed at open.
    c.reset();
    for (const char* f : {"r.db", "r.db.install-id"}) fs::permissions(w.dir.file(f), fs::perms(0644));
    auto again = w.open_client("r.db");
    for (const char* f : {"r.db", "r.db.install-id"}) EXPECT_EQ(mode_of(w.dir.file(f)), 0600u) << f;
}

TEST(SharedTablet, LogoutRefusesWhileActionsAreQueuedAndSaysHowMany) {
    World w;
    add_roster(w);  // staff mark enrolled people only
    auto c = w.client("r.db", "coord1");
    sync_ok(*c);
    ASSERT_TRUE(c->mark_attendance("o1", "p1", "present", 60));
    ASSERT_TRUE(c->mark_attendance("o1", "p2", "present", 60));
    ASSERT_TRUE(c->enrol("o2", "p4"));
    auto r = c->logout();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), Errc::conflict);
    EXPECT_NE(r.status().message().find("3 actions are not yet synced; run `tundra sync`, or `tundra logout "
                                        "--export FILE` to keep them"),
              std::string::npos)
        << r.status().message();
    // Nothing was touched: the actions still go up.
    EXPECT_EQ(c->status()->pending, 3);
    sync_ok(*c);
    EXPECT_EQ(count_on(w, "SELECT count(*) FROM attendance"), 2);
    EXPECT_TRUE(c->logout());
}

TEST(SharedTablet, LogoutWipesPersonalDataAndTokenButKeepsTheDeviceIdentity) {
    World w;
    auto c = w.client("r.db", "coord1");
    sync_ok(*c);
    ASSERT_NE(files_of(w.dir, "r.db").find("Person 1"), std::string::npos);
    std::string device = c->status()->device_id;
    auto r = c->logout();
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(r->exported, 0);
    // No synced row, no token, no trace in the file or its WAL.
    for (auto& [table, rows] : c->snapshot().value()) EXPECT_TRUE(rows.empty()) << table;
    EXPECT_EQ(c->sync().status().code(), Errc::unauthorized);
    EXPECT_EQ(c->enrol("o1", "p1").status().code(), Errc::unauthorized);
    std::string files = files_of(w.dir, "r.db");
    EXPECT_EQ(files.find("Person 1"), std::string::npos);
    EXPECT_EQ(files.find("Hemtjänst"), std::string::npos);
    EXPECT_TRUE(fs::exists(w.dir.file("r.db.install-id")));
    // The same user on the same tablet gets the same device back (and its seq memory).
    ASSERT_TRUE(c->login("http://loopback", "coord1", "password1"));
    EXPECT_EQ(c->status()->device_id, device);
    sync_ok(*c);
    expect_converged(w, *c, "coord1");
}

// Exactly-once across a logout: an export replayed twice is queued once, and an action the
// server applied while the device never heard back is not applied again after a replay.
TEST(SharedTablet, ExportedActionsAreReplayedOnceAndNeverAppliedTwice) {
    World w;
    auto c = w.client("r.db", "coord1");
    sync_ok(*c);
    ASSERT_TRUE(c->enrol("o1", "p1"));  // staff mark enrolled people only
    sync_ok(*c);
    ASSERT_TRUE(c->mark_attendance("o1", "p1", "present", 60));  // will reach the server unseen
    w.faults = [] { return Fault::drop_response; };
    client::SyncOptions once;
    once.deadline = std::chrono::milliseconds(0);
    EXPECT_FALSE(w.open_client("r.db")->sync(once));
    w.faults = {};
    ASSERT_EQ(count_on(w, "SELECT count(*) FROM attendance"), 1);
    ASSERT_TRUE(c->enrol("o2", "p4"));  // never sent
    std::string file = w.dir.file("queued.json");
    auto out = c->logout(file);
    ASSERT_TRUE(out) << out.status().to_string();
    EXPECT_EQ(out->exported, 2);
    EXPECT_EQ(mode_of(file), 0600u);
    EXPECT_EQ(c->status()->pending, 0);
    for (auto& [table, rows] : c->snapshot().value()) EXPECT_TRUE(rows.empty()) << table;

    EXPECT_EQ(c->replay(file).status().code(), Errc::unauthorized);  // log in first
    ASSERT_TRUE(c->login("http://loopback", "coord1", "password1"));
    sync_ok(*c);
    auto rep = c->replay(file);
    ASSERT_TRUE(rep) << rep.status().to_string();
    EXPECT_EQ(rep->queued, 2);
    auto twice = c->replay(file);
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.status().code(), Errc::conflict);
    EXPECT_EQ(c->status()->pending, 2);
    auto r = c->sync();
    ASSERT_TRUE(r) << r.status().to_string();
    ASSERT_EQ(r->outcomes.size(), 2u);
    for (auto& o : r->outcomes) EXPECT_NE(o.result, "rejected") << o.type << ": " << o.message;
    // The mark the server already had is recognised by its content: not applied again.
    EXPECT_EQ(count_on(w, "SELECT count(*) FROM attendance"), 1);
    EXPECT_EQ(count_on(w, "SELECT count(*) FROM enrolments WHERE person = 'p4' AND occasion = 'o2'"), 1);

    // Another tablet replaying the same file: each action meets its own id on the server.
    auto other = w.client("other.db", "coord1");
    sync_ok(*other);
    ASSERT_TRUE(other->replay(file));
    auto r2 = other->sync();
    ASSERT_TRUE(r2) << r2.status().to_string();
    for (auto& o : r2->outcomes) EXPECT_EQ(o.reason, "id_conflict") << o.type;
    EXPECT_EQ(count_on(w, "SELECT count(*) FROM attendance"), 1);
    EXPECT_EQ(count_on(w, "SELECT count(*) FROM enrolments WHERE person = 'p4' AND occasion = 'o2'"), 1);
}

// An app keeps its replica open for hours: the rows an erasure deleted must not linger in the
// -wal file of an open replica either (every sync ends with a checkpoint that truncates it).
TEST(SharedTablet, AnErasedPersonLeavesAnOpenReplicaAndItsWal) {
    World w;
    auto c = w.client("c.db", "coord1");
    auto admin = w.client("a.db", "admin");
    sync_ok(*c);
    sync_ok(*admin);
    // The admin corrects her name: the action (with the name) stays in the admin's outbox.
    ASSERT_TRUE(admin->update_person({.id = "p1", .name = "Person 1 Lindqvist"}));
    sync_ok(*admin);
    sync_ok(*c);
    ASSERT_NE(files_of(w.dir, "c.db").find("Person 1"), std::string::npos);
    ASSERT_NE(files_of(w.dir, "a.db").find("Person 1 Lindqvist"), std::string::npos);
    auto rep = w.store->erase_person("p1", "test");
    ASSERT_TRUE(rep) << rep.status().to_string();
    sync_ok(*c);
    sync_ok(*admin);
    EXPECT_FALSE(has(*c, "persons", "p1"));
    EXPECT_EQ(files_of(w.dir, "c.db").find("Person 1"), std::string::npos);
    EXPECT_EQ(files_of(w.dir, "a.db").find("Person 1"), std::string::npos);
    expect_converged(w, *c, "coord1");
    expect_converged(w, *admin, "admin");
}

// ---- erasure, with the real binaries --------------------------------------------------------
namespace {
struct Cmd {
    int code = -1;
    std::string out, err;
};

struct Erasure : ::testing::Test {
    TempDir dir;
    std::unique_ptr<ServerProcess> server;
    int n = 0;

    Cmd run(const std::string& bin, const std::string& args, const std::string& input = "") {
        // Each command's output in its own file: they are among the files searched at the end.
        std::string tag = std::to_string(++n);
        std::string in = dir.file("in-" + tag), out = dir.file("out-" + tag), err = dir.file("err-" + tag);
        std::ofstream(in) << input;
        std::string cmd = "cd '" + dir.path.string() + "' && '" + bin + "' " + args + " < '" + in + "' > '" +
                          out + "' 2> '" + err + "'";
        int st = std::system(cmd.c_str());
        return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out), slurp(err)};
    }
    Cmd tundra(const std::string& replica, const std::string& args, const std::string& input = "") {
        return run(TUNDRA_CLI_BIN, "--replica " + replica + " " + args, input);
    }
};
}  // namespace

// Four devices hold the person (admin, her coordinator, herself) or not (another participant);
// after erase-person and a sync, neither her name nor her identity number is in any file:
// store, -wal, -shm, replicas and their logs, the audit trail, the server's log.
TEST_F(Erasure, AfterErasureNoFileOfTheServerOrOfFourDevicesHoldsThePerson) {
    const std::string name = "Lovisa Lindqvist", pnr = "19800312-1234";
    std::string doc = small_world_document(kStartMs);
    std::string p1 = R"("id":"p1","organisation":"arjeplog","site":"s1","name":"Person 1")";
    ASSERT_NE(doc.find(p1), std::string::npos);
    doc.replace(doc.find(p1), p1.size(),
                R"("id":"p1","organisation":"arjeplog","site":"s1","name":")" + name + R"(","personal_id":")" + pnr + "\"");
    {
        fs::create_directory(dir.path / "input");
        std::ofstream(dir.path / "input" / "world.json") << doc;
    }
    ASSERT_EQ(run(TUNDRA_SERVER_BIN, "init --db s.db").code, 0);
    auto imp = run(TUNDRA_SERVER_BIN, "import --db s.db input/world.json");
    ASSERT_EQ(imp.code, 0) << imp.err;
    fs::remove_all(dir.path / "input");  // the municipality's own file, not ours
    {
        // Free text she wrote, and a coordinator's note that names her.
        auto db = sqlite::Db::open(dir.file("s.db"));
        ASSERT_TRUE(db);
        ASSERT_TRUE(db.value()->exec(
            "INSERT INTO survey_responses (id, occasion, person, rating_content, rating_usefulness, rating_overall, "
            "comment, hlc, version) VALUES ('r1', 'o1', 'p1', 4, 4, 4, 'Lovisa Lindqvist: more examples please', 1, "
            "(SELECT CAST(value AS INTEGER) + 1 FROM meta WHERE key = 'version'));"
            "INSERT INTO deviations (id, organisation, category, description, status, hlc, version) VALUES ('d1', "
            "'arjeplog', 'other', 'Lovisa Lindqvist could not log in', 'open', 1, "
            "(SELECT CAST(value AS INTEGER) + 2 FROM meta WHERE key = 'version'));"
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 2 AS TEXT) WHERE key = 'version'"));
    }
    server = std::make_unique<ServerProcess>(dir.file("s.db"), dir.file("server.log"), "127.0.0.1:0",
                                             std::vector<std::string>{}, /*quiet=*/false);
    struct Device {
        std::string replica, user;
        bool holds_her;
    };
    const Device devices[] = {{"admin.db", "admin", true},
                              {"coord.db", "coord1", true},
                              {"her.db", "part1", true},
                              {"other.db", "part2", false}};
    for (auto& d : devices) {
        auto r = tundra(d.replica, "login --server " + server->url + " --username " + d.user + " --password-stdin",
                        "password1\n");
        ASSERT_EQ(r.code, 0) << d.user << ": " << r.err;
    }
    for (auto& d : devices) ASSERT_EQ(tundra(d.replica, "sync").code, 0) << d.user;
    auto enrolled = tundra("her.db", "enrol o1");
    ASSERT_EQ(enrolled.code, 0) << enrolled.err;
    for (auto& d : devices) {
        auto r = tundra(d.replica, "sync");
        ASSERT_EQ(r.code, 0) << d.user << ": " << r.err;
        // The search below can fail: the name is there before the erasure.
        EXPECT_EQ(files_of(dir, d.replica).find(name) != std::string::npos, d.holds_her) << d.replica;
    }
    // Right of access first: everything about her, identity number included.
    auto access = run(TUNDRA_SERVER_BIN, "export-person --db s.db p1");
    ASSERT_EQ(access.code, 0) << access.err;
    EXPECT_NE(access.out.find(pnr), std::string::npos);
    EXPECT_NE(access.out.find("more examples please"), std::string::npos);
    fs::remove(dir.file("out-" + std::to_string(n)));  // handed to her, not kept here

    // Erased while the server runs; every device syncs again.
    auto erase = run(TUNDRA_SERVER_BIN, "erase-person --db s.db p1");
    ASSERT_EQ(erase.code, 0) << erase.err;
    EXPECT_NE(erase.out.find("erased p1"), std::string::npos) << erase.out;
    EXPECT_EQ(erase.out.find("note:"), std::string::npos) << erase.out;  // the WAL was truncated
    for (auto& d : devices) {
        auto r = tundra(d.replica, "sync");
        if (d.user == "part1") {
            // Her login is gone; her own tablet is wiped by a logout (or the remote wipe).
            EXPECT_NE(r.code, 0);
            auto out = tundra(d.replica, "logout");
            EXPECT_EQ(out.code, 0) << out.err;
        } else {
            EXPECT_EQ(r.code, 0) << d.user << ": " << r.err;
        }
    }
    auto relogin = tundra("her2.db", "login --server " + server->url + " --username part1 --password-stdin",
                          "password1\n");
    EXPECT_NE(relogin.code, 0);
    // Her upcoming seat went to nobody else here, but was freed; the coordinator's replica
    // no longer lists her.
    auto enrolments = tundra("coord.db", "enrolments --json");
    EXPECT_EQ(enrolments.out.find("p1"), std::string::npos) << enrolments.out;

    // Search every file while the server still runs, then after it stops.
    for (int pass = 0; pass < 2; ++pass) {
        SCOPED_TRACE(pass ? "after the server stopped" : "while the server runs");
        std::vector<std::string> searched;
        for (auto& f : fs::recursive_directory_iterator(dir.path)) {
            if (!f.is_regular_file()) continue;
            std::string body = slurp(f.path());
            searched.push_back(f.path().filename().string());
            EXPECT_EQ(body.find(name), std::string::npos) << f.path().filename();
            EXPECT_EQ(body.find("Lovisa"), std::string::npos) << f.path().filename();
            EXPECT_EQ(body.find(pnr), std::string::npos) << f.path().filename();
        }
        for (const char* must : {"s.db", "server.log", "admin.db", "coord.db", "her.db", "other.db"})
            EXPECT_NE(std::find(searched.begin(), searched.end(), must), searched.end()) << must;
        if (pass == 0) {
            EXPECT_TRUE(fs::exists(dir.file("s.db-wal")));
            EXPECT_TRUE(fs::exists(dir.file("s.db-shm")));
            EXPECT_EQ(server->stop(), 0);
        }
    }
    // The audit trail records the erasure by pseudonym, and what ESF needs is still counted.
    auto db = sqlite::Db::open(dir.file("s.db"));
    ASSERT_TRUE(db);
    auto q = db.value()->query("SELECT target, detail FROM audit_log WHERE operation = 'erase_person'");
    ASSERT_TRUE(q->step().value());
    EXPECT_EQ(q->text(0).rfind("x-", 0), 0u);
    auto esf = db.value()->query(
        "SELECT gender, birth_year, organisation FROM persons WHERE erased = 1");
    ASSERT_TRUE(esf->step().value());
    EXPECT_EQ(esf->text(0), "woman");
    EXPECT_EQ(esf->int64(1), 1980);
    EXPECT_EQ(esf->text(2), "arjeplog");
}
