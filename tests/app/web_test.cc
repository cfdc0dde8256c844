// The web layer on its own: asset paths and caching, cookies, query strings, sessions and
// the loopback guard.
#include <gtest/gtest.h>

#include <vector>

#include "tundra/web/assets.h"
#include "tundra/web/http.h"
#include "tundra/web/local_guard.h"
#include "tundra/web/sessions.h"

using namespace tundra;
using namespace tundra::web;

namespace {
const std::string kBig(2000, 'a');
const EmbeddedFile kFiles[] = {
    {"index.html", reinterpret_cast<const unsigned char*>("<html lang=\"sv\"></html>"), 23},
    {"locale/sv.json", reinterpret_cast<const unsigned char*>(kBig.data()), kBig.size()},
    {nullptr, nullptr, 0}};

HttpRequest get(const std::string& target) {
    HttpRequest r;
    r.method = "GET";
    r.target = target;
    return r;
}
std::string header_of(const HttpResponse& r, const std::string& name) {
    for (auto& [k, v] : r.headers)
        if (k == name) return v;
    return {};
}
}  // namespace

TEST(WebAssets, ServedWithTypeAndEtagAndRevalidatedWith304) {
    AssetTable t(kFiles);
    auto r = t.serve(get("/x"), "index.html");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(header_of(r, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(header_of(r, "X-Content-Type-Options"), "nosniff");
    std::string etag = header_of(r, "ETag");
    ASSERT_FALSE(etag.empty());
    auto again = get("/x");
    again.headers["if-none-match"] = etag;
    auto r2 = t.serve(again, "index.html");
    EXPECT_EQ(r2.status, 304);
    EXPECT_TRUE(r2.body.empty());
}

TEST(WebAssets, NoPathOutsideTheEmbeddedFilesIsServed) {
    AssetTable t(kFiles);
    for (const std::string& p : std::vector<std::string>{"../index.html", "locale/../index.html", "/index.html", "locale//sv.json", "locale\\sv.json",
                          "./index.html", "", "locale/", "missing.js", std::string("index.html\0x", 12)})
        EXPECT_EQ(t.serve(get("/"), p).status, 404) << p;
    auto post = get("/");
    post.method = "POST";
    EXPECT_EQ(t.serve(post, "index.html").status, 405);
}

TEST(WebAssets, LargeTextIsGzippedOnlyForBrowsersThatTakeIt) {
    AssetTable t(kFiles);
    auto plain = t.serve(get("/"), "locale/sv.json");
    EXPECT_EQ(plain.body, kBig);
    auto req = get("/");
    req.headers["accept-encoding"] = "gzip, deflate";
    auto z = t.serve(req, "locale/sv.json");
    EXPECT_EQ(header_of(z, "Content-Encoding"), "gzip");
    EXPECT_LT(z.body.size(), kBig.size() / 10);
    EXPECT_LT(t.total_gzip_bytes(), t.total_bytes());
}

TEST(WebHttp, CookiesAreHttpOnlyAndStrictAndParsedByName) {
    EXPECT_EQ(set_cookie("a", "b"), "a=b; Path=/; HttpOnly; SameSite=Strict");
    EXPECT_EQ(set_cookie("a", "", {.path = "/console", .secure = true, .max_age_s = 0}),
              "a=; Path=/console; HttpOnly; SameSite=Strict; Secure; Max-Age=0");
    HttpRequest r;
    r.headers["cookie"] = "x=1; tundra_app=tok; y=2";
    EXPECT_EQ(cookie(r, "tundra_app"), "tok");
    EXPECT_EQ(cookie(r, "tundra"), "");
}

TEST(WebHttp, QueryStringsArePercentDecodedAndBadEscapesDropped) {
    auto q = query_of(get("/a?month=2026-11&search=%C3%85sa+B&bad=%G1&x"));
    EXPECT_EQ(q["month"], "2026-11");
    EXPECT_EQ(q["search"], "Åsa B");
    EXPECT_EQ(q.count("bad"), 0u);
    EXPECT_EQ(q["x"], "");
    std::string out;
    EXPECT_FALSE(percent_decode("%4", out, false));
}

TEST(WebSessions, EndAfterIdleOrMaxAgeAndBackgroundPollsDoNotKeepThemAlive) {
    int64_t now = 1000;
    SessionTable s(std::chrono::minutes(5), std::chrono::hours(12), [&] { return now; });
    std::string t = s.create("anna", "unlocked");
    EXPECT_EQ(t.size(), 64u);
    now += 4 * 60000;
    EXPECT_TRUE(s.find(t, /*touch=*/false));  // a poll: does not count
    now += 60000;
    EXPECT_FALSE(s.find(t, false)) << "five idle minutes lock it";
    std::string u = s.create("bo", "unlocked");
    for (int i = 0; i < 200; ++i) {  // active all day long: still ends after 12 hours
        now += 4 * 60000;
        if (!s.find(u, true)) break;
    }
    EXPECT_FALSE(s.find(u, true));
    EXPECT_FALSE(s.find("", true));
    EXPECT_FALSE(s.find(std::string(64, 'a'), true));
}

TEST(WebSessions, EndingOnePersonsSessionsLeavesOthers) {
    SessionTable s(std::chrono::minutes(5), std::chrono::hours(12));
    auto a1 = s.create("anna", "unlocked"), a2 = s.create("anna", "pin_setup"), b = s.create("bo", "unlocked");
    s.erase_subject("anna");
    EXPECT_FALSE(s.find(a1, true));
    EXPECT_FALSE(s.find(a2, true));
    EXPECT_TRUE(s.find(b, true));
}

TEST(WebLocalGuard, HostMustNameThisServerAndOtherSitesAreRefused) {
    HttpRequest r = get("/");
    r.headers["host"] = "127.0.0.1:8123";
    EXPECT_TRUE(check_loopback_request(r, 8123));
    r.headers["host"] = "localhost:8123";
    EXPECT_TRUE(check_loopback_request(r, 8123));
    for (std::string h : {"evil.example:8123", "127.0.0.1:80", "127.0.0.1", "", "127.0.0.1:8123.evil.example",
                          "attacker.127.0.0.1.nip.io:8123"}) {
        r.headers["host"] = h;
        EXPECT_EQ(check_loopback_request(r, 8123).code(), Errc::forbidden) << h;
    }
    r.headers["host"] = "127.0.0.1:8123";
    r.headers["origin"] = "http://evil.example";
    EXPECT_EQ(check_loopback_request(r, 8123).code(), Errc::forbidden);
    r.headers["origin"] = "null";
    EXPECT_EQ(check_loopback_request(r, 8123).code(), Errc::forbidden);
    r.headers["origin"] = "http://127.0.0.1:8123";
    EXPECT_TRUE(check_loopback_request(r, 8123));
    r.headers.erase("origin");
    r.headers["sec-fetch-site"] = "cross-site";
    r.method = "POST";
    EXPECT_EQ(check_loopback_request(r, 8123).code(), Errc::forbidden);
    r.method = "GET";
    r.headers["sec-fetch-mode"] = "navigate";  // following a link opens the (empty) shell
    EXPECT_TRUE(check_loopback_request(r, 8123));
}
