// The request handler as a pure function: every bad input gets a clear error and loses nothing.
#include "fixture.h"
#include "tundra/core/gzip.h"
#include "tundra/core/protocol.h"

using namespace tundra;
using namespace tundra::server;
using namespace tundra::server::test;

using Handler = StoreFixture;

TEST_P(Handler, HealthzAndUnknownRoutes) {
    HttpRequest r;
    r.method = "GET";
    r.target = "/healthz";
    EXPECT_EQ(handle_request(r, *store).status, 200);
    r.target = "/nope";
    EXPECT_EQ(handle_request(r, *store).status, 404);
    r.target = "/v1/sync";
    EXPECT_EQ(handle_request(r, *store).status, 405);
}

TEST_P(Handler, LoginRefusesWrongPasswordAndUnknownUserAlike) {
    auto a = post("/v1/login", R"({"protocol":1,"username":"anna","password":"nope"})");
    auto b = post("/v1/login", R"({"protocol":1,"username":"nobody","password":"nope"})");
    EXPECT_EQ(a.status, 401);
    EXPECT_EQ(a.body, b.body);
    EXPECT_EQ(post("/v1/login", R"({"protocol":1,"username":7})").status, 400);
}

TEST_P(Handler, SyncNeedsAValidUnexpiredToken) {
    EXPECT_EQ(post("/v1/sync", R"({"protocol":1})").status, 401);
    EXPECT_EQ(post("/v1/sync", R"({"protocol":1})", "not-a-token").status, 401);
    std::string t = login("anna");
    EXPECT_EQ(post("/v1/sync", R"({"protocol":1})", t).status, 200);
    now += 181ULL * 24 * 3600 * 1000;  // past the sliding lifetime without a sync
    auto r = post("/v1/sync", R"({"protocol":1})", t);
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.body.find("expired"), std::string::npos);
}

TEST_P(Handler, MalformedBodiesAreRefusedWithTheirPosition) {
    std::string t = login("anna");
    auto r = post("/v1/sync", R"({"protocol":1,"actions":[)", t);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("byte"), std::string::npos);
    r = post("/v1/sync", "{\"protocol\":1,\"cursor\":\"\xc3\x28\"}", t);
    EXPECT_EQ(r.status, 400);
    r = post("/v1/sync", R"({"protocol":3})", t);
    EXPECT_EQ(r.status, 426);
    r = post("/v1/sync", R"({"protocol":1,"cursor":"abc"})", t);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("cursor"), std::string::npos);
    EXPECT_EQ(scalar("SELECT count(*) FROM applied_actions"), 0);
}

TEST_P(Handler, HugeAndBombBodiesAreRefused) {
    std::string t = login("anna");
    HandlerOptions small;
    small.max_body_bytes = 1000;
    HttpRequest r;
    r.method = "POST";
    r.target = "/v1/sync";
    r.headers["content-type"] = "application/json";
    r.headers["authorization"] = "Bearer " + t;
    r.body = std::string(5000, ' ');
    EXPECT_EQ(handle_request(r, *store, small).status, 413);
    r.headers["content-encoding"] = "gzip";
    r.body = gzip_compress(std::string(100000, ' '));  // 100 kB of nothing in a few hundred bytes
    EXPECT_EQ(handle_request(r, *store, small).status, 413);
    r.body = "not gzip";
    EXPECT_EQ(handle_request(r, *store).status, 400);
}

TEST_P(Handler, DeeplyNestedGzipBombIsMalformedAndTheServerKeepsServing) {
    std::string t = login("anna");
    // About 1 KB on the wire: a million `[`, before any authentication on /v1/login.
    for (const std::string& inner : {std::string(1'000'000, '['), [] {
             std::string s;
             for (int i = 0; i < 200'000; ++i) s += "{\"a\":";
             return s;
         }()}) {
        std::string bomb = gzip_compress(inner, 9);
        EXPECT_LT(bomb.size(), 2000u);
        for (const char* path : {"/v1/login", "/v1/sync"}) {
            HttpRequest r;
            r.method = "POST";
            r.target = path;
            r.headers["content-encoding"] = "gzip";
            r.headers["content-type"] = "application/json";
            r.headers["authorization"] = "Bearer " + t;
            r.body = bomb;
            auto resp = handle_request(r, *store);
            EXPECT_EQ(resp.status, 400) << path;
            auto e = decode_error(resp.body);
            ASSERT_TRUE(e) << resp.body;
            EXPECT_EQ(e->code, Errc::malformed);
            EXPECT_NE(e->message.find("nesting deeper than 64 levels"), std::string::npos) << e->message;
        }
    }
    EXPECT_EQ(post("/v1/sync", R"({"protocol":1})", t).status, 200);
    EXPECT_FALSE(login("anna").empty());
}

namespace {
// A sync request with a bearer token, as the client sends it.
HttpRequest sync_request(const std::string& token, std::string body) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/v1/sync";
    r.headers["content-type"] = "application/json";
    r.headers["authorization"] = "Bearer " + token;
    r.body = std::move(body);
    return r;
}
}  // namespace

TEST_P(Handler, GzipBothWays) {
    HttpRequest r = sync_request(login("anna"), gzip_compress(R"({"protocol":1,"cursor":""})"));
    r.headers["content-encoding"] = "gzip";
    r.headers["accept-encoding"] = "gzip, deflate";
    auto resp = handle_request(r, *store);
    ASSERT_EQ(resp.status, 200);
    bool gz = false;
    for (auto& [k, v] : resp.headers) gz |= k == "Content-Encoding" && v == "gzip";
    ASSERT_TRUE(gz);
    auto body = gzip_decompress(resp.body, 1 << 20);
    ASSERT_TRUE(body);
    EXPECT_TRUE(decode_sync_response(body.value()));
}

// The deflate level follows the link the device reports through its page budget: a budget of
// 2 MiB or more (a link over 1 MB/s) gets the fastest level, smaller ones level 6. gzip's
// header says which (XFL, byte 8: 4 = fastest, 0 = the levels between).
TEST_P(Handler, AFastLinksPagesAreDeflatedAtTheFastestLevel) {
    std::string t = login("anna");
    auto xfl = [&](uint64_t max_bytes) {
        HttpRequest r = sync_request(t, R"({"protocol":2,"cursor":"","max_bytes":)" + std::to_string(max_bytes) + "}");
        r.headers["accept-encoding"] = "gzip";
        auto resp = handle_request(r, *store);
        EXPECT_EQ(resp.status, 200) << resp.body;
        EXPECT_TRUE(gzip_decompress(resp.body, 1 << 20)) << "not gzip";
        return resp.body.size() > 8 ? static_cast<int>(static_cast<unsigned char>(resp.body[8])) : -1;
    };
    EXPECT_EQ(xfl(128 * 1024), 0);
    EXPECT_EQ(xfl(2 * 1024 * 1024 - 1), 0);
    EXPECT_EQ(xfl(2 * 1024 * 1024), 4);
    EXPECT_EQ(xfl(16 * 1024 * 1024), 4);
}

TEST_P(Handler, LoginAndSyncRequireAJsonContentType) {
    std::string t = login("anna");
    auto with_type = [&](const std::string& path, const std::string& body, const char* type) {
        HttpRequest r;
        r.method = "POST";
        r.target = path;
        r.body = body;
        r.headers["authorization"] = "Bearer " + t;
        if (type) r.headers["content-type"] = type;
        return handle_request(r, *store);
    };
    const std::string login_body = R"({"protocol":1,"username":"anna","password":"password1"})";
    const std::string sync_body = R"({"protocol":1,"cursor":""})";
    for (const char* bad : {static_cast<const char*>(nullptr), "", "text/plain",
                            "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                            "application/jsonp", "application/json-patch+json"}) {
        for (auto& [path, body] : {std::pair{"/v1/login", login_body}, std::pair{"/v1/sync", sync_body}}) {
            auto r = with_type(path, body, bad);
            EXPECT_EQ(r.status, 415) << path << " with " << (bad ? bad : "no Content-Type");
            EXPECT_NE(r.body.find("application/json"), std::string::npos) << r.body;
            EXPECT_NE(r.body.find("invalid_argument"), std::string::npos) << r.body;
        }
    }
    for (const char* good : {"application/json", "application/json; charset=utf-8",
                             "Application/JSON;charset=UTF-8", " application/json "}) {
        EXPECT_EQ(with_type("/v1/login", login_body, good).status, 200) << good;
        EXPECT_EQ(with_type("/v1/sync", sync_body, good).status, 200) << good;
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM applied_actions"), 0);
}

TEST_P(Handler, ResponsesNameTheUserAndDeviceForTheAccessLog) {
    auto in = post("/v1/login", R"({"protocol":1,"username":"anna","password":"password1"})");
    ASSERT_EQ(in.status, 200);
    auto d = decode_login_response(in.body);
    ASSERT_TRUE(d);
    EXPECT_EQ(in.log_user, "anna");
    EXPECT_EQ(in.log_device, d->device_id);
    EXPECT_FALSE(in.log_device.empty());
    auto s = post("/v1/sync", R"({"protocol":1,"cursor":""})", d->token);
    ASSERT_EQ(s.status, 200);
    EXPECT_EQ(s.log_user, "anna");
    EXPECT_EQ(s.log_device, d->device_id);
    // Unauthenticated answers name nobody.
    auto bad = post("/v1/sync", R"({"protocol":1})", "not-a-token");
    EXPECT_EQ(bad.status, 401);
    EXPECT_EQ(bad.log_user, "");
    EXPECT_EQ(bad.log_device, "");
}

// A person the actor may not see is answered like an unknown one (issue 8).
TEST_P(Handler, OutOfScopeActionIsAnsweredLikeAnUnknownIdAndChangesNothing) {
    std::string t = login("anna");
    auto r = post("/v1/sync", enrol_json(1, "e1", "p2"), t);  // Anna enrols Erik
    ASSERT_EQ(r.status, 200);
    auto d = decode_sync_response(r.body);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->outcomes[0].result, OutcomeResult::rejected);
    EXPECT_EQ(d->outcomes[0].reason, "not_found");  // whether Erik exists is not hers to learn
    EXPECT_EQ(d->outcomes[0].message, "person 'p2' does not exist");
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments"), 0);
    for (auto& c : d->changes) EXPECT_NE(c.id, "p2") << "another person's row was sent";
}

TEST_P(Handler, RetriedActionGetsTheOriginalOutcomeNotAnError) {
    std::string t = login("anna");
    auto first = post("/v1/sync", enrol_json(1, "e1", "p1"), t);
    auto again = post("/v1/sync", enrol_json(1, "e1", "p1"), t);
    ASSERT_EQ(again.status, 200);
    auto a = decode_sync_response(first.body), b = decode_sync_response(again.body);
    EXPECT_EQ(encode_outcome(a->outcomes[0]), encode_outcome(b->outcomes[0]));
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments"), 1);
}

TEST_P(Handler, FullDiskFailsTheRoundCleanlyAndARetrySucceedsOnce) {
    std::string t = login("anna");
    // Fail the Nth write for N = 0, 1, 2, ... until the round goes through.
    for (int n = 0;; ++n) {
        int writes = 0;
        store->db().set_fault_hook([&writes, n]() -> Status {
            if (writes++ == n) return Status(Errc::storage, "disk full: injected");
            return Status::ok();
        });
        auto r = post("/v1/sync", enrol_json(1, "e1", "p1"), t);
        store->db().set_fault_hook({});
        if (r.status == 200) break;
        ASSERT_EQ(r.status, 503) << r.body;
        EXPECT_NE(r.body.find("\"retryable\":true"), std::string::npos);
        EXPECT_EQ(scalar("SELECT count(*) FROM enrolments"), 0) << "partial write after failing write " << n;
        EXPECT_EQ(scalar("SELECT count(*) FROM applied_actions"), 0);
        ASSERT_LT(n, 200);
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM enrolments"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM applied_actions"), 1);
    EXPECT_EQ(scalar("SELECT confirmed FROM occasions WHERE id = 'o1'"), 1);
}

// Protocol v2 server, v1 device: answers come back in v1, and the (opaque) cursors it is
// given work in its next round.
TEST_P(Handler, AV1DeviceKeepsWorkingAgainstAV2Server) {
    std::string t = login("anna");
    auto first = post("/v1/sync", R"({"protocol":1,"cursor":"","actions":[]})", t);
    ASSERT_EQ(first.status, 200) << first.body;
    auto d = decode_sync_response(first.body);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->protocol, 1);
    EXPECT_FALSE(d->more);
    auto next = post("/v1/sync", R"({"protocol":1,"cursor":")" + d->cursor + R"(","actions":[]})", t);
    ASSERT_EQ(next.status, 200) << next.body;
    auto n = decode_sync_response(next.body);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->protocol, 1);
    EXPECT_FALSE(n->reset);
    EXPECT_TRUE(n->changes.empty());
}

TUNDRA_STORE_BACKENDS(Handler);
