// The console's door: signing in (CSRF double-submit, one generic failure, throttling, roles),
// sessions kept in the store (idle and absolute expiry, logout seen by a second process),
// CSRF and origin on every change, media types, hostile bodies and forms, and who may call
// which route (every route of the table).
#include <cstring>

#include "console_fixture.h"

using namespace tundra;
using namespace tundra::console;
using namespace tundra::console::test;

namespace {
const std::string kForm = "application/x-www-form-urlencoded";

bool has_cookie(const web::HttpResponse& r, const std::string& name) {
    for (auto& c : ConsoleFixture::set_cookies(r))
        if (c.rfind(name + "=", 0) == 0 && c.find("Max-Age=0") == std::string::npos) return true;
    return false;
}

// A body every route reads (an upload route takes it as an import document).
std::string body_for(const Route&) { return "{}"; }

// The route's path with "x" for each {} segment.
std::string target_of(const Route& r) {
    std::string p = r.path;
    for (auto at = p.find("{}"); at != std::string::npos; at = p.find("{}")) p.replace(at, 2, "x");
    return "/console/api" + p;
}
}  // namespace

using ConsoleLogin = ConsoleFixture;
using ConsoleSession = ConsoleFixture;
using ConsoleGuard = ConsoleFixture;

TEST_P(ConsoleLogin, TheFormSetsACsrfCookieAndFillsOnlyItsPlaceholders) {
    Browser b;
    auto page = get(b, "/console/login?lang=en");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(header(page, "Content-Type"), "text/html; charset=utf-8");
    std::string csrf = form_csrf(page);
    EXPECT_EQ(csrf.size(), 32u);
    EXPECT_EQ(b.jar["tundra_console_csrf"], csrf);
    EXPECT_NE(page.body.find("lang=\"en\""), std::string::npos);
    EXPECT_EQ(page.body.find("{{"), std::string::npos) << page.body;
    auto cookies = set_cookies(page);
    ASSERT_EQ(cookies.size(), 1u);
    EXPECT_EQ(cookies[0], "tundra_console_csrf=" + csrf + "; Path=/console; HttpOnly; SameSite=Strict");
    // A language the console does not have is Swedish; a value never reaches the page raw.
    auto other = get(b, "/console/login?lang=%22%3E%3Cscript%3E");
    EXPECT_NE(other.body.find("lang=\"sv\""), std::string::npos);
    EXPECT_EQ(other.body.find("<script>"), std::string::npos);
    // The raw template is not an asset.
    EXPECT_EQ(get(b, "/console/assets/login.html").status, 404);
    EXPECT_EQ(get(b, "/console/assets/../login.html").status, 404);
    // Assets need no session, and are cached by their ETag.
    auto js = get(b, "/console/assets/app.js");
    EXPECT_EQ(js.status, 200);
    EXPECT_EQ(js.body, "console.log(1)");
    EXPECT_FALSE(header(js, "ETag").empty());
    EXPECT_NE(header(js, "Content-Security-Policy"), "");
}

TEST_P(ConsoleLogin, TheCompiledInPagesCarryThePlaceholdersAndAreServed) {
    ConsoleOptions o;
    o.clock = [this] { return now; };
    ConsoleHandler real(*store, o);  // console/assets as compiled in
    Browser b;
    auto page = real.handle(request(b, "GET", "/console/login?lang=en"));
    ASSERT_EQ(page.status, 200);
    keep_cookies(b, page);
    std::string csrf = b.jar["tundra_console_csrf"];
    EXPECT_EQ(csrf.size(), 32u);
    EXPECT_NE(page.body.find("value=\"" + csrf + "\""), std::string::npos) << "no {{csrf}} in login.html";
    EXPECT_NE(page.body.find("lang=\"en\""), std::string::npos) << "no {{lang}} in login.html";
    EXPECT_NE(page.body.find("action=\"/console/login\""), std::string::npos);
    EXPECT_EQ(page.body.find("{{"), std::string::npos) << "a placeholder the server does not fill";
    auto login = request(b, "POST", "/console/login", form({{"username", "admin"}, {"password", "password1"}, {"csrf", csrf}}),
                         kForm);
    auto signed_in = real.handle(login);
    ASSERT_EQ(signed_in.status, 303) << signed_in.body;
    keep_cookies(b, signed_in);
    auto shell = real.handle(request(b, "GET", "/console/"));
    EXPECT_EQ(shell.status, 200);
    EXPECT_NE(shell.body.find("<html"), std::string::npos);
}

TEST_P(ConsoleLogin, SuccessIs303WithAnHttpOnlyStrictSessionCookie) {
    Browser b;
    EXPECT_EQ(get(b, "/console/").status, 303);  // not signed in: to the login page
    auto r = sign_in(b, "admin");
    ASSERT_EQ(r.status, 303) << r.body;
    EXPECT_EQ(header(r, "Location"), "/console/");
    std::string session;
    bool csrf_cleared = false;
    for (auto& c : set_cookies(r)) {
        if (c.rfind("tundra_console=", 0) == 0) session = c;
        if (c.rfind("tundra_console_csrf=;", 0) == 0 && c.find("Max-Age=0") != std::string::npos) csrf_cleared = true;
    }
    ASSERT_FALSE(session.empty());
    EXPECT_NE(session.find("; Path=/console; HttpOnly; SameSite=Strict"), std::string::npos) << session;
    EXPECT_EQ(session.find("Secure"), std::string::npos);
    EXPECT_TRUE(csrf_cleared);
    EXPECT_EQ(r.log_user, "admin");
    auto shell = get(b, "/console/");
    EXPECT_EQ(shell.status, 200);
    EXPECT_EQ(header(shell, "Cache-Control"), "no-store");
    auto me = get(b, "/console/api/me");
    ASSERT_EQ(me.status, 200) << me.body;
    auto d = doc(me);
    EXPECT_STREQ(d["username"].GetString(), "admin");
    EXPECT_STREQ(d["role"].GetString(), "admin");
    EXPECT_EQ(std::strlen(d["csrf"].GetString()) >= 16, true);
}

TEST_P(ConsoleLogin, SecureCookiesWhenAskedFor) {
    options.secure_cookies = true;
    make_handler();
    Browser b;
    auto page = get(b, "/console/login");
    EXPECT_NE(set_cookies(page)[0].find("; Secure"), std::string::npos);
    // Behind an https proxy the browser's Origin is https://host.
    auto req = request(b, "POST", "/console/login",
                       form({{"username", "admin"}, {"password", "password1"}, {"csrf", form_csrf(page)}}), kForm);
    req.headers["origin"] = "https://" + kHost;
    auto r = send(b, req);
    ASSERT_EQ(r.status, 303) << r.body;
    for (auto& c : set_cookies(r)) EXPECT_NE(c.find("; Secure"), std::string::npos) << c;
    // With Secure cookies a plain-http origin is not the console's.
    req.headers["origin"] = "http://" + kHost;
    EXPECT_EQ(send(b, req).status, 403);
}

TEST_P(ConsoleLogin, UnknownUserAndWrongPasswordGetTheSameGeneric401) {
    Browser a, b;
    auto unknown = sign_in(a, "nobody", "password1");
    auto wrong = sign_in(b, "admin", "wrong-password");
    EXPECT_EQ(unknown.status, 401);
    EXPECT_EQ(wrong.status, 401);
    EXPECT_FALSE(has_cookie(unknown, "tundra_console"));
    EXPECT_FALSE(has_cookie(wrong, "tundra_console"));
    // The same page but for the fresh form token.
    std::string u = unknown.body, w = wrong.body;
    u.replace(u.find(form_csrf(unknown)), 32, "T");
    w.replace(w.find(form_csrf(wrong)), 32, "T");
    EXPECT_EQ(u, w);
    EXPECT_NE(u.find("data-error=\"failed\""), std::string::npos) << u;
}

TEST_P(ConsoleLogin, RepeatedFailuresAreThrottledWith429AndRetryAfter) {
    Browser b;
    web::HttpResponse r;
    int tries = 0;
    for (; tries < 12; ++tries) {
        r = sign_in(b, "admin", "wrong-password");
        if (r.status == 429) break;
        EXPECT_EQ(r.status, 401);
    }
    ASSERT_EQ(r.status, 429) << "never throttled";
    EXPECT_GE(tries, 5);  // the free failures first
    EXPECT_FALSE(header(r, "Retry-After").empty());
    EXPECT_NE(r.body.find("data-error=\"throttled\""), std::string::npos);
    EXPECT_NE(r.body.find("data-wait=\"" + header(r, "Retry-After") + "\""), std::string::npos);
    // Even the right password waits.
    EXPECT_EQ(sign_in(b, "admin").status, 429);
}

TEST_P(ConsoleLogin, ParticipantsAreRefused403) {
    Browser b;
    auto r = sign_in(b, "anna");
    EXPECT_EQ(r.status, 403);
    EXPECT_NE(r.body.find("data-error=\"forbidden\""), std::string::npos);
    EXPECT_FALSE(has_cookie(r, "tundra_console"));
    EXPECT_EQ(get(b, "/console/api/me").status, 401);
}

TEST_P(ConsoleLogin, AMissingOrWrongCsrfIs403AndSignsNobodyIn) {
    Browser b;
    auto page = get(b, "/console/login");
    for (std::string body : {form({{"username", "admin"}, {"password", "password1"}}),
                             form({{"username", "admin"}, {"password", "password1"}, {"csrf", "0123"}}),
                             form({{"username", "admin"}, {"password", "password1"}, {"csrf", ""}})}) {
        auto r = call(b, "POST", "/console/login", body, kForm);
        EXPECT_EQ(r.status, 403) << body;
        EXPECT_NE(r.body.find("data-error=\"expired\""), std::string::npos);
        EXPECT_FALSE(has_cookie(r, "tundra_console"));
    }
    // The form's token without its cookie (another browser's page) is refused too.
    Browser other;
    auto r = call(other, "POST", "/console/login",
                  form({{"username", "admin"}, {"password", "password1"}, {"csrf", form_csrf(page)}}), kForm);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(get(b, "/console/api/me").status, 401);
    EXPECT_EQ(get(other, "/console/api/me").status, 401);
}

TEST_P(ConsoleLogin, HostileFormsAreRefusedWhole) {
    Browser b;
    auto page = get(b, "/console/login");
    std::string csrf = form_csrf(page);
    std::string good = form({{"username", "admin"}, {"password", "password1"}, {"csrf", csrf}});
    for (std::string body : {good + "&username=admin",                       // a field twice
                             good + "&role=admin",                           // not a field of the form
                             "username=%FF%FE&password=password1&csrf=" + csrf,  // not UTF-8
                             "username=admin&password=%G1&csrf=" + csrf,     // a bad escape
                             "username=" + std::string(5000, 'a') + "&password=x&csrf=" + csrf}) {
        auto r = call(b, "POST", "/console/login", body, kForm);
        EXPECT_EQ(r.status, 400) << body.substr(0, 80);
        EXPECT_FALSE(has_cookie(r, "tundra_console"));
    }
    EXPECT_EQ(call(b, "POST", "/console/login", R"({"username":"admin"})", "application/json").status, 415);
    // '+' is a space and %-escapes decode: a password with both signs in.
    ASSERT_TRUE(store->set_password("admin", "pass word+1", "test"));
    page = get(b, "/console/login");
    auto r = call(b, "POST", "/console/login",
                  "username=admin&password=pass+word%2B1&csrf=" + form_csrf(page), kForm);
    EXPECT_EQ(r.status, 303) << r.body;
}

TEST_P(ConsoleSession, EndsAfterThirtyIdleMinutes) {
    Browser b = signed_in("admin");
    now += 29 * 60'000;
    EXPECT_EQ(get(b, "/console/api/me").status, 200);  // renews the idle time
    now += 29 * 60'000;
    EXPECT_EQ(get(b, "/console/api/me").status, 200);
    now += 31 * 60'000;
    // A reload of the page goes to the sign-in page, which says why.
    auto page = get(b, "/console/");
    EXPECT_EQ(page.status, 303);
    EXPECT_EQ(header(page, "Location"), "/console/login?e=expired");
    auto r = get(b, "/console/api/me");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(error_code(r), "unauthorized");
    // Without a session cookie at all the visit is a plain first one.
    Browser stranger;
    EXPECT_EQ(header(get(stranger, "/console/"), "Location"), "/console/login");
}

TEST_P(ConsoleSession, EndsTwelveHoursAfterSignInWhateverHappens) {
    Browser b = signed_in("admin");
    for (int i = 0; i < 35; ++i) {  // 35 x 20 min = 11 h 40 min, busy all along
        now += 20 * 60'000;
        ASSERT_EQ(get(b, "/console/api/me").status, 200) << i;
    }
    now += 20 * 60'000 + 1;  // 12 h and a bit
    EXPECT_EQ(get(b, "/console/api/me").status, 401);
}

TEST_P(ConsoleSession, LogoutEndsTheSessionInTheStoreForEveryProcess) {
    Browser b = signed_in("admin");
    // A second server process: its own store connection and handler over the same file.
    auto store2 = open_store();
    ConsoleOptions o2;
    o2.clock = [this] { return now; };
    ConsoleHandler second(*store2, o2);
    auto me2 = second.handle(request(b, "GET", "/console/api/me"));
    EXPECT_EQ(me2.status, 200) << me2.body;
    // Logout needs the session's token.
    auto bad = call(b, "POST", "/console/logout", "csrf=wrong", kForm);
    EXPECT_EQ(bad.status, 403);
    EXPECT_EQ(get(b, "/console/api/me").status, 200);
    Browser copy = b;
    auto out = call(b, "POST", "/console/logout", "csrf=" + b.csrf, kForm);
    EXPECT_EQ(out.status, 303);
    EXPECT_EQ(header(out, "Location"), "/console/login?e=signed_out");
    EXPECT_FALSE(b.jar.count("tundra_console"));
    // The old cookie is worth nothing anywhere.
    EXPECT_EQ(second.handle(request(copy, "GET", "/console/api/me")).status, 401);
    EXPECT_EQ(get(copy, "/console/api/me").status, 401);
}

TEST_P(ConsoleGuard, EveryChangeNeedsTheSessionsCsrfToken) {
    Browser b = signed_in("admin");
    int checked = 0;
    for (const Route* r = kRoutes; r->path; ++r) {
        if (std::strcmp(r->method, "GET") == 0) continue;
        for (std::string token : {std::string(), std::string("0000"), std::string(b.csrf.size(), 'a')}) {
            Browser forged = b;
            forged.csrf = token;
            auto resp = call(forged, r->method, target_of(*r), body_for(*r));
            EXPECT_EQ(resp.status, 403) << r->path;
            EXPECT_EQ(error_code(resp), "csrf") << r->path;
        }
        ++checked;
    }
    EXPECT_GT(checked, 20);
    EXPECT_EQ(doc(get(b, "/console/api/courses"))["total"].GetInt(), 1);  // nothing was made
}

TEST_P(ConsoleGuard, ACrossOriginRequestIsRefused) {
    Browser b = signed_in("admin");
    auto req = request(b, "POST", "/console/api/courses", R"({"title":"X","format":"on_site","organisations":[],"published":false})");
    req.headers["origin"] = "https://evil.example";
    auto r = send(b, req);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(error_code(r), "cross_origin");
    req.headers["origin"] = "null";
    EXPECT_EQ(send(b, req).status, 403);
    req.headers.erase("origin");
    req.headers["sec-fetch-site"] = "cross-site";
    EXPECT_EQ(send(b, req).status, 403);
    auto read = request(b, "GET", "/console/api/me");
    read.headers["sec-fetch-site"] = "cross-site";
    EXPECT_EQ(send(b, read).status, 403);
    // A link from elsewhere still opens the login page.
    auto link = request(b, "GET", "/console/login");
    link.headers["sec-fetch-site"] = "cross-site";
    EXPECT_EQ(send(b, link).status, 200);
    // The login form from another site.
    Browser other;
    auto page = get(other, "/console/login");
    auto login = request(other, "POST", "/console/login",
                         form({{"username", "admin"}, {"password", "password1"}, {"csrf", form_csrf(page)}}), kForm);
    login.headers["origin"] = "https://evil.example";
    EXPECT_EQ(send(other, login).status, 403);
    // No course was made, and the page never allows another origin to read.
    EXPECT_EQ(doc(get(b, "/console/api/courses"))["total"].GetInt(), 1);
    EXPECT_EQ(header(r, "Access-Control-Allow-Origin"), "");
}

TEST_P(ConsoleGuard, ChangesTakeJsonOnly) {
    Browser b = signed_in("admin");
    for (std::string type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""}) {
        auto r = call(b, "POST", "/console/api/sites", R"({"organisation":"arjeplog","name":"X"})", type);
        EXPECT_EQ(r.status, 415) << type;
    }
    auto r = call(b, "POST", "/console/api/sites", R"({"organisation":"arjeplog","name":"Ny"})",
                  "Application/JSON; charset=utf-8");
    EXPECT_NE(r.status, 415);
}

TEST_P(ConsoleGuard, HostileBodiesAre400NamingTheFieldOr413) {
    Browser b = signed_in("admin");
    auto course = [&](const std::string& body) { return post(b, "/console/api/courses", body); };
    EXPECT_EQ(course("{\"title\":").status, 400);
    EXPECT_EQ(course("[1,2]").status, 400);
    std::string deep(100, '[');
    EXPECT_EQ(course("{\"title\":" + deep + std::string(100, ']') + "}").status, 400);
    auto utf = course("{\"title\":\"\xff\xfe\",\"format\":\"on_site\",\"organisations\":[],\"published\":true}");
    EXPECT_EQ(utf.status, 400);
    auto wrong = course(R"({"title":42,"format":"on_site","organisations":[],"published":true})");
    EXPECT_EQ(wrong.status, 400);
    EXPECT_EQ(error_field(wrong), "title");
    auto list = course(R"({"title":"T","format":"on_site","organisations":"arjeplog","published":true})");
    EXPECT_EQ(error_field(list), "organisations");
    auto flag = course(R"({"title":"T","format":"on_site","organisations":[],"published":"yes"})");
    EXPECT_EQ(error_field(flag), "published");
    auto unknown = course(R"({"title":"T","format":"on_site","organisations":[],"published":true,"price":3})");
    EXPECT_EQ(unknown.status, 400);
    EXPECT_EQ(error_field(unknown), "price");
    auto badenum = course(R"({"title":"T","format":"hologram","organisations":[],"published":true})");
    EXPECT_EQ(badenum.status, 400);
    EXPECT_EQ(error_field(badenum), "format");
    auto huge = course("{\"title\":\"" + std::string(2 << 20, 'a') + "\"}");
    EXPECT_EQ(huge.status, 413);
    auto query = get(b, "/console/api/persons?q=a&q=b");
    EXPECT_EQ(query.status, 400);
    EXPECT_EQ(get(b, "/console/api/persons?limit=9999").status, 400);
    // None of it made a course.
    EXPECT_EQ(doc(get(b, "/console/api/courses"))["total"].GetInt(), 1);
}

TEST_P(ConsoleGuard, CoordinatorsAreRefusedEveryAdminRouteAndAllowedTheRest) {
    Browser coord = signed_in("coord");
    Browser nobody;
    for (const Route* r = kRoutes; r->path; ++r) {
        bool get_route = std::strcmp(r->method, "GET") == 0;
        auto resp = get_route ? get(coord, target_of(*r)) : call(coord, r->method, target_of(*r), body_for(*r));
        if (r->access == Access::admin) {
            EXPECT_EQ(resp.status, 403) << r->method << " " << r->path;
            EXPECT_EQ(error_code(resp), "forbidden") << r->path;
        } else {
            EXPECT_NE(error_code(resp), "forbidden") << r->method << " " << r->path << " " << resp.body;
            EXPECT_NE(error_code(resp), "csrf") << r->path;
        }
        // Without a session: 401 everywhere.
        auto anon = get_route ? get(nobody, target_of(*r)) : call(nobody, r->method, target_of(*r), body_for(*r));
        EXPECT_EQ(anon.status, 401) << r->path;
    }
}

TEST_P(ConsoleGuard, EveryAnswerCarriesTheSecurityHeaders) {
    Browser b = signed_in("admin");
    for (auto target : {"/console/login", "/console/", "/console/api/me", "/console/api/nothing", "/console/x"}) {
        auto r = get(b, target);
        EXPECT_NE(header(r, "Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos) << target;
        EXPECT_EQ(header(r, "X-Frame-Options"), "DENY");
        EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
        EXPECT_EQ(header(r, "Referrer-Policy"), "same-origin");
        EXPECT_EQ(header(r, "Cache-Control"), "no-store") << target;
    }
    EXPECT_EQ(get(b, "/console/api/nothing").status, 404);
    EXPECT_EQ(call(b, "DELETE", "/console/api/me").status, 405);
}

TUNDRA_STORE_BACKENDS(ConsoleLogin);
TUNDRA_STORE_BACKENDS(ConsoleSession);
TUNDRA_STORE_BACKENDS(ConsoleGuard);
