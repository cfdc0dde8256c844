// Writes the seed corpora (fuzz/corpus/<target>/) from a real exchange: an import, a login,
// a first sync, a sync pushing one action of every type, the error replies, cursors signed
// with the harness's key, and gzip of those bodies.
//   build-fuzz/fuzz/fuzz_make_seeds fuzz/corpus
#include <filesystem>
#include <fstream>
#include <iostream>

#include "tundra/core/cursor.h"
#include "tundra/core/gzip.h"
#include "tundra/core/hlc.h"
#include "tundra/core/protocol.h"
#include "tundra/server/handler.h"
#include "tundra/server/sql_store.h"

using namespace tundra;
using namespace tundra::server;

namespace {
constexpr uint64_t kNow = 1795420800000ULL;  // 2026-11-23T08:00:00Z
std::filesystem::path out_dir;

void put(const std::string& target, const std::string& name, const std::string& body) {
    auto dir = out_dir / target;
    std::filesystem::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary) << body;
}

const char* kDocument = R"({
 "organisations":[{"code":"arjeplog","name":"Arjeplog","county":"Norrbotten"},
                  {"code":"pajala","name":"Pajala","county":"Norrbotten"}],
 "sites":[{"id":"s1","organisation":"arjeplog","name":"Hemtjänst Arjeplog"},
          {"id":"s2","organisation":"pajala","name":"Särskilt boende Pajala"}],
 "persons":[{"id":"p1","organisation":"arjeplog","site":"s1","name":"Anna","gender":"woman","birth_year":1980,"profession":"undersköterska"},
            {"id":"p2","organisation":"arjeplog","site":"s1","name":"Erik","gender":"man","birth_year":1975,"profession":"vårdbiträde"},
            {"id":"p3","organisation":"pajala","site":"s2","name":"Aino","gender":"woman","birth_year":1969}],
 "users":[{"username":"anna","password":"password1","role":"participant","person":"p1"},
          {"username":"coord","password":"password1","role":"coordinator","sites":["s1"]},
          {"username":"admin","password":"password1","role":"admin"}],
 "courses":[{"id":"c1","title":"Stress och hälsa","theme":"stress","format":"digital_self_paced","organisations":["arjeplog"],"published":true},
            {"id":"c2","title":"Förflyttningsteknik","format":"on_site","organisations":["arjeplog","pajala"],"published":false}],
 "occasions":[{"id":"o1","course":"c1","starts_at":"2026-12-07T08:00:00Z","ends_at":"2026-12-07T10:00:00Z","capacity":1,"enrolment_closes":"2026-12-03T08:00:00Z"},
              {"id":"o2","course":"c2","starts_at":"2026-12-08T08:00:00Z","ends_at":"2026-12-08T12:00:00Z","capacity":10,"site":"s1","enrolment_closes":"2026-12-04T08:00:00Z"}],
 "enrolments":[{"id":"e0","occasion":"o2","person":"p2","status":"confirmed"}],
 "attendance":[{"occasion":"o2","person":"p2","status":"present","minutes":240}]
})";

HttpResponse post(Store& store, const std::string& path, const std::string& body, const std::string& token = {}) {
    HttpRequest r;
    r.method = "POST";
    r.target = path;
    r.body = body;
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    return handle_request(r, store);
}

Action action(uint64_t seq, const char* type, Row fields) {
    Action a;
    a.seq = seq;
    a.hlc = Hlc::from_parts(kNow, static_cast<uint16_t>(seq));
    a.type = type;
    a.fields = std::move(fields);
    return a;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: fuzz_make_seeds OUT_DIR\n";
        return 2;
    }
    out_dir = argv[1];
    StoreOptions o;
    o.kdf_iterations = 1;
    o.wall = [] { return kNow; };
    auto store = SqlStore::open(":memory:", o);
    if (!store) return std::cerr << store.status().to_string() << "\n", 1;
    Store& s = *store.value();
    if (auto r = store.value()->import_json(kDocument); !r) return std::cerr << r.status().to_string() << "\n", 1;
    put("import", "document.json", kDocument);
    put("import", "bad-path.json", R"({"persons":[{"id":"p9","organisation":"arjeplog","name":"X","gender":"female"}]})");

    std::string token;
    for (const char* user : {"coord", "anna"}) {
        LoginRequest lr;
        lr.username = user;
        lr.password = "password1";
        lr.device_name = "tablet";
        std::string body = encode(lr);
        put("login_request", std::string(user) + ".json", body);
        put("gzip", std::string("login-") + user + ".gz", gzip_compress(body));
        auto resp = post(s, "/v1/login", body);
        put("login_response", std::string(user) + ".json", resp.body);
        if (std::string(user) == "coord") token = decode_login_response(resp.body).value().token;
    }
    put("login_request", "v1-with-device.json",
        R"({"protocol":1,"username":"anna","password":"password1","device_id":"d-1","device_name":"x"})");
    put("login_response", "unauthorized.json", post(s, "/v1/login", R"({"protocol":2,"username":"anna","password":"no"})").body);
    put("login_response", "malformed.json", post(s, "/v1/login", R"({"protocol":2,"username":7})").body);

    SyncRequest first;
    first.capabilities = {"gzip"};
    first.max_bytes = 65536;
    put("sync_request", "first.json", encode(first));
    auto r1 = post(s, "/v1/sync", encode(first), token);
    put("sync_response", "first-page.json", r1.body);
    auto page = decode_sync_response(r1.body).value();

    SyncRequest push;
    push.cursor = page.cursor;
    push.verify = true;
    push.limit = 50;
    push.actions = {
        action(1, "enrol", {{"enrolment", "e1"}, {"occasion", "o1"}, {"person", "p1"}}),
        action(2, "enrol", {{"enrolment", "e2"}, {"occasion", "o1"}, {"person", "p2"}}),
        action(3, "mark_attendance", {{"mark", "m1"}, {"occasion", "o2"}, {"person", "p2"}, {"status", "present"}, {"minutes", int64_t{200}}}),
        action(4, "cancel_enrolment", {{"enrolment", "e2"}}),
        action(5, "upsert_course", {{"course", "c3"}, {"title", "Demens"}, {"format", "on_site"}, {"organisations", StrList{"arjeplog"}}, {"published", true}}),
        action(6, "upsert_occasion", {{"occasion", "o3"}, {"course", "c3"}, {"starts_at", "2026-12-10T08:00:00Z"}, {"ends_at", "2026-12-10T09:00:00Z"}, {"capacity", int64_t{5}}, {"enrolment_closes", "2026-12-09T08:00:00Z"}, {"site", "s1"}}),
        action(7, "delete_occasion", {{"occasion", "o3"}}),
        action(8, "update_person", {{"person", "p2"}, {"name", "Erik L"}, {"site", "s1"}, {"profession", std::monostate{}}}),
        action(9, "attest_time", {{"attestation", "a1"}, {"person", "p2"}, {"month", "2026-11"}, {"minutes", int64_t{120}}}),
        action(10, "submit_survey", {{"response", "r1"}, {"occasion", "o2"}, {"person", "p2"}, {"rating_content", int64_t{4}}, {"rating_usefulness", int64_t{5}}, {"rating_overall", int64_t{4}}, {"comment", "Bra"}}),
        action(11, "log_deviation", {{"deviation", "d1"}, {"organisation", "arjeplog"}, {"category", "staffing"}, {"description", "Ingen vikarie"}, {"status", "open"}}),
    };
    put("sync_request", "push-every-action.json", encode(push));
    put("gzip", "sync-push.gz", gzip_compress(encode(push)));
    auto r2 = post(s, "/v1/sync", encode(push), token);
    put("sync_response", "outcomes.json", r2.body);
    put("sync_response", "error-unauthorized.json", post(s, "/v1/sync", encode(first), "nope").body);
    put("sync_response", "error-malformed.json", post(s, "/v1/sync", R"({"protocol":2,"actions":[)", token).body);
    put("sync_request", "v1.json", R"({"protocol":1,"cursor":"42","limit":10})");
    put("gzip", "empty.gz", gzip_compress(""));

    const std::string key = "fuzz-cursor-key";  // as in fuzz_cursor.cc
    SyncCursor c;
    c.scope = "0123456789abcdef";
    c.after = 42;
    put("cursor", "incremental", encode_cursor(c, key));
    c.phase = SyncCursor::Phase::priority;
    c.v0 = 1000;
    c.t0 = static_cast<int64_t>(kNow);
    put("cursor", "priority", encode_cursor(c, key));
    c.phase = SyncCursor::Phase::rest;
    put("cursor", "rest", encode_cursor(c, key));
    put("cursor", "v1-number", "42");
    put("cursor", "v1-full", "p.7.1000.1795420800000");
    std::cout << "seeds written to " << out_dir << "\n";
    return 0;
}
