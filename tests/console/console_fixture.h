// The console over a real SqlStore in this process: requests made as the browser makes
// them (same-origin, cookies kept in a jar), the store's and the console's clocks one value.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "../server/fixture.h"
#include "console_routes.h"
#include "tundra/console/console.h"

namespace tundra::console::test {

inline const std::string kHost = "konsol.test";

// A second organisation with its own site and person, and a coordinator of site s1.
inline std::string more_document() {
    return R"({
 "organisations":[{"code":"pajala","name":"Pajala","county":"Norrbotten"}],
 "sites":[{"id":"s2","organisation":"pajala","name":"Hemtjänst Pajala"}],
 "persons":[{"id":"p3","organisation":"pajala","site":"s2","name":"Greta","gender":"woman","birth_year":1970,"profession":"sjuksköterska"}],
 "users":[{"username":"coord","password":"password1","role":"coordinator","sites":["s1"]}]
})";
}

// The pages as the contract has them (the real ones are the front-end's; a test checks that
// they carry the placeholders): what the server fills in is tested against these.
inline const char kLoginPage[] =
    "<!doctype html><html lang=\"{{lang}}\" data-error=\"{{error}}\" data-wait=\"{{wait}}\"><body>"
    "<form method=\"post\" action=\"/console/login\"><input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">"
    "<input type=\"hidden\" name=\"lang\" value=\"{{lang}}\"><input name=\"username\"><input name=\"password\" "
    "type=\"password\"></form></body></html>";
inline const char kShellPage[] = "<!doctype html><html lang=\"sv\"><body><main id=\"app\"></main></body></html>";
inline const char kScript[] = "console.log(1)";
inline const web::EmbeddedFile kTestAssets[] = {
    {"login.html", reinterpret_cast<const unsigned char*>(kLoginPage), sizeof kLoginPage - 1},
    {"index.html", reinterpret_cast<const unsigned char*>(kShellPage), sizeof kShellPage - 1},
    {"app.js", reinterpret_cast<const unsigned char*>(kScript), sizeof kScript - 1},
    {nullptr, nullptr, 0}};

struct Browser {
    std::map<std::string, std::string> jar;  // cookie name -> value
    std::string csrf;                        // the session's (from /api/me)

    std::string cookie_header() const {
        std::string c;
        for (auto& [k, v] : jar) c += (c.empty() ? "" : "; ") + k + "=" + v;
        return c;
    }
};

// Runs on every store backend (TEST_P, TUNDRA_STORE_BACKENDS; tests/support/backends.h).
struct ConsoleFixture : ::testing::TestWithParam<sql::Backend> {
    std::filesystem::path dir;
    std::string target;  // the store's file or URI
    int64_t now = static_cast<int64_t>(server::test::kNow);
    std::unique_ptr<server::SqlStore> store;
    std::unique_ptr<ConsoleHandler> handler;
    ConsoleOptions options;

    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "tundra-console-XXXXXX").string();
        dir = mkdtemp(tmpl.data());
        if (GetParam() == sql::Backend::postgres) TUNDRA_REQUIRE_PG();
        target = tundra::test::store_target(GetParam(), dir);
        store = open_store();
        ASSERT_TRUE(store);
        ASSERT_TRUE(store->import_json(server::test::tiny_document()));
        ASSERT_TRUE(store->import_json(more_document()));
        make_handler();
    }
    void TearDown() override {
        handler.reset();
        store.reset();
        std::filesystem::remove_all(dir);
    }
    std::unique_ptr<server::SqlStore> open_store() {
        server::StoreOptions o;
        o.kdf_iterations = 1000;
        o.durable = false;
        o.wall = [this] { return static_cast<uint64_t>(now); };
        auto s = server::SqlStore::open(target, o);
        EXPECT_TRUE(s) << s.status().to_string();
        return s ? std::move(s.value()) : nullptr;
    }
    void make_handler() {
        options.clock = [this] { return now; };
        if (!options.assets) options.assets = kTestAssets;
        handler = std::make_unique<ConsoleHandler>(*store, options);
    }

    static std::string header(const web::HttpResponse& r, std::string_view name) {
        for (auto& [k, v] : r.headers)
            if (k == name) return v;
        return {};
    }
    static std::vector<std::string> set_cookies(const web::HttpResponse& r) {
        std::vector<std::string> out;
        for (auto& [k, v] : r.headers)
            if (k == "Set-Cookie") out.push_back(v);
        return out;
    }
    // Keeps what the answer's Set-Cookie headers say (Max-Age=0 removes).
    static void keep_cookies(Browser& b, const web::HttpResponse& r) {
        for (auto& c : set_cookies(r)) {
            auto eq = c.find('='), semi = c.find(';');
            std::string name = c.substr(0, eq), value = c.substr(eq + 1, semi - eq - 1);
            if (c.find("Max-Age=0") != std::string::npos) b.jar.erase(name);
            else b.jar[name] = value;
        }
    }

    web::HttpRequest request(Browser& b, const std::string& method, const std::string& target,
                             const std::string& body = {}, const std::string& type = "application/json") {
        web::HttpRequest r;
        r.method = method;
        r.target = target;
        r.body = body;
        r.remote_address = "10.0.0.7";
        r.headers["host"] = kHost;
        if (method != "GET") {
            r.headers["origin"] = "http://" + kHost;
            if (!type.empty()) r.headers["content-type"] = type;
            if (!b.csrf.empty()) r.headers["x-csrf-token"] = b.csrf;
        }
        if (!b.jar.empty()) r.headers["cookie"] = b.cookie_header();
        return r;
    }
    web::HttpResponse send(Browser& b, const web::HttpRequest& r) {
        auto resp = handler->handle(r);
        keep_cookies(b, resp);
        return resp;
    }
    web::HttpResponse call(Browser& b, const std::string& method, const std::string& target,
                           const std::string& body = {}, const std::string& type = "application/json") {
        return send(b, request(b, method, target, body, type));
    }
    web::HttpResponse get(Browser& b, const std::string& target) { return call(b, "GET", target); }
    web::HttpResponse post(Browser& b, const std::string& target, const std::string& body) {
        return call(b, "POST", target, body);
    }

    // The login form's token, from the page (value="...") and its cookie.
    static std::string form_csrf(const web::HttpResponse& page) {
        auto at = page.body.find("name=\"csrf\" value=\"");
        if (at == std::string::npos) return {};
        at += 19;
        return page.body.substr(at, page.body.find('"', at) - at);
    }
    static std::string form(std::initializer_list<std::pair<std::string, std::string>> fields) {
        std::string out;
        for (auto& [k, v] : fields) {
            std::string enc;
            for (unsigned char ch : v) {
                if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.') enc += static_cast<char>(ch);
                else if (ch == ' ') enc += '+';
                else {
                    char buf[4];
                    std::snprintf(buf, sizeof buf, "%%%02X", ch);
                    enc += buf;
                }
            }
            out += (out.empty() ? "" : "&") + k + "=" + enc;
        }
        return out;
    }
    // GET the form, POST it: the answer to the POST.
    web::HttpResponse sign_in(Browser& b, const std::string& user, const std::string& password = "password1") {
        auto page = get(b, "/console/login");
        EXPECT_EQ(page.status, 200);
        return call(b, "POST", "/console/login",
                    form({{"username", user}, {"password", password}, {"csrf", form_csrf(page)}}),
                    "application/x-www-form-urlencoded");
    }
    // A signed-in browser with the session's CSRF token.
    Browser signed_in(const std::string& user) {
        Browser b;
        auto r = sign_in(b, user);
        EXPECT_EQ(r.status, 303) << r.body;
        auto me = get(b, "/console/api/me");
        EXPECT_EQ(me.status, 200) << me.body;
        auto d = doc(me);
        if (d.IsObject() && d.HasMember("csrf")) b.csrf = d["csrf"].GetString();
        return b;
    }

    static rapidjson::Document doc(const web::HttpResponse& r) {
        rapidjson::Document d;
        d.Parse(r.body.c_str(), r.body.size());
        return d;
    }
    static std::string error_code(const web::HttpResponse& r) {
        auto d = doc(r);
        if (!d.IsObject() || !d.HasMember("error")) return {};
        return d["error"]["code"].GetString();
    }
    static std::string error_field(const web::HttpResponse& r) {
        auto d = doc(r);
        if (!d.IsObject() || !d.HasMember("error") || !d["error"].HasMember("field")) return {};
        return d["error"]["field"].GetString();
    }
    int64_t scalar(const std::string& sql) {
        auto q = store->db().query(sql);
        auto r = q->step();
        return r && r.value() ? q->int64(0) : -1;
    }
};

}  // namespace tundra::console::test
