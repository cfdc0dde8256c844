// A tablet app over an in-process sync server (tests/e2e/loopback.h): the real handler,
// tablet and replicas, with requests made as the browser makes them.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "../e2e/loopback.h"
#include "app_handler.h"
#include "rapidjson/document.h"
#include "tundra/web/assets.h"

namespace tundra::testing {

inline const web::EmbeddedFile kTestAssets[] = {
    {"index.html", reinterpret_cast<const unsigned char*>("<!doctype html><html lang=\"sv\"></html>"), 38},
    {"app.js", reinterpret_cast<const unsigned char*>("console.log(1)"), 14},
    {nullptr, nullptr, 0}};

struct AppWorld {
    static constexpr uint16_t kPort = 8123;
    World w;
    std::unique_ptr<app::Tablet> tablet;
    std::unique_ptr<app::SyncScheduler> sync;
    web::AssetTable assets{kTestAssets};
    std::unique_ptr<app::AppHandler> handler;

    explicit AppWorld(int pin_tries_per_minute = 30) {
        app::TabletOptions o;
        o.data_dir = w.dir.file("tablet");
        o.server_url = "http://loopback";
        o.client.transport_factory = [this](const std::string&) -> std::unique_ptr<client::Transport> {
            return std::make_unique<LoopbackTransport>(*w.store);
        };
        o.client.wall_clock = [this] { return w.now.load(); };
        o.client.sleep = [this](std::chrono::milliseconds d) { w.now += static_cast<uint64_t>(d.count()); };
        tablet = std::move(app::Tablet::open(o).value());
        sync = std::make_unique<app::SyncScheduler>(*tablet);
        app::AppHandlerOptions ho;
        ho.clock = [this] { return static_cast<int64_t>(w.now.load()); };
        ho.pin_tries_per_minute = pin_tries_per_minute;
        handler = std::make_unique<app::AppHandler>(*tablet, *sync, assets, ho);
    }

    // As the app's own page sends it.
    web::HttpRequest request(const std::string& method, const std::string& target, const std::string& body = {},
                             const std::string& cookie = {}) {
        web::HttpRequest r;
        r.method = method;
        r.target = target;
        r.body = body;
        r.local_port = kPort;
        r.headers["host"] = "127.0.0.1:" + std::to_string(kPort);
        if (method == "POST") {
            r.headers["content-type"] = "application/json";
            r.headers["origin"] = "http://127.0.0.1:" + std::to_string(kPort);
        }
        r.headers["sec-fetch-site"] = "same-origin";
        if (!cookie.empty()) r.headers["cookie"] = "tundra_app=" + cookie;
        return r;
    }
    web::HttpResponse call(const std::string& method, const std::string& target, const std::string& body = {},
                           const std::string& cookie = {}) {
        return handler->handle(request(method, target, body, cookie));
    }

    static std::string header(const web::HttpResponse& r, const std::string& name) {
        for (auto& [k, v] : r.headers)
            if (k == name) return v;
        return {};
    }
    // The token a Set-Cookie carries.
    static std::string token(const web::HttpResponse& r) {
        std::string c = header(r, "Set-Cookie");
        auto eq = c.find('='), semi = c.find(';');
        return c.substr(eq + 1, semi - eq - 1);
    }
    static rapidjson::Document doc(const web::HttpResponse& r) {
        rapidjson::Document d;
        d.Parse(r.body.c_str());
        return d;
    }
    static std::string error_code(const web::HttpResponse& r) {
        auto d = doc(r);
        if (!d.IsObject() || !d.HasMember("error")) return {};
        return d["error"]["code"].GetString();
    }

    // Signs `username` in on the tablet and sets PIN 1234; returns the unlocked session.
    std::string sign_in(const std::string& username, const std::string& pin = "1234") {
        auto r = call("POST", "/api/signin", R"({"username":")" + username + R"(","password":"password1"})");
        EXPECT_EQ(r.status, 200) << r.body;
        std::string t = token(r);
        auto p = call("POST", "/api/pin", R"({"pin":")" + pin + R"("})", t);
        EXPECT_EQ(p.status, 200) << p.body;
        return t;
    }
    // Unlocks `username` with their PIN (after the idle lock); returns the new session.
    std::string unlock(const std::string& username, const std::string& pin = "1234") {
        auto r = call("POST", "/api/unlock",
                      R"({"person":")" + app::Tablet::id_for(username) + R"(","pin":")" + pin + R"("})");
        EXPECT_EQ(r.status, 200) << r.body;
        return token(r);
    }
    std::shared_ptr<app::Person> person(const std::string& username) {
        return tablet->find(app::Tablet::id_for(username));
    }
    void sync_person(const std::string& username) { sync_ok(*person(username)->client); }
};

}  // namespace tundra::testing
