// The console's guard, pages and dispatch (console.h): the origin check, the login and logout
// forms (CSRF double-submit cookie), the session from the store on every request, the shell
// page and assets, and the API's dispatch with the route's access, the session's CSRF token
// and the body's media type checked in one place.
#include <algorithm>
#include <chrono>
#include <cstring>

#include "console_form.h"
#include "console_routes.h"
#include "tundra/core/crypto.h"
#include "tundra/core/json.h"

extern const tundra::web::EmbeddedFile kConsoleAssets[];

namespace tundra::console {
namespace {
constexpr std::string_view kSessionCookie = "tundra_console";
constexpr std::string_view kCsrfCookie = "tundra_console_csrf";
constexpr std::string_view kApi = "/console/api";

int64_t system_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Everything the pages need comes from this server; nothing may frame them.
void secure(HttpResponse& r) {
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'");
    r.headers.emplace_back("X-Frame-Options", "DENY");
    // same-origin, not no-referrer: under no-referrer Chromium sends "Origin: null" on a form
    // POST, which the Origin check must refuse. Other sites still get no referrer.
    r.headers.emplace_back("Referrer-Policy", "same-origin");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
}

bool has_header(const HttpResponse& r, std::string_view name) {
    for (auto& [k, v] : r.headers)
        if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            }))
            return true;
    return false;
}

// Constant time in the length of `a`.
bool same_secret(std::string_view a, std::string_view b) {
    if (a.empty() || a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

std::string media_type(const HttpRequest& req) {
    std::string type = web::header(req, "content-type");
    std::string media = type.substr(0, type.find(';'));
    auto first = media.find_first_not_of(" \t"), last = media.find_last_not_of(" \t");
    media = first == std::string::npos ? std::string() : media.substr(first, last - first + 1);
    std::transform(media.begin(), media.end(), media.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return media;
}

// "&amp;" and friends: the only way a value reaches the login page.
std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        switch (ch) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += ch;
        }
    }
    return out;
}

std::string_view asset_text(const web::EmbeddedFile* files, std::string_view path) {
    for (const web::EmbeddedFile* f = files; f->path; ++f)
        if (path == f->path) return {reinterpret_cast<const char*>(f->data), f->size};
    return {};
}

HttpResponse redirect(std::string location) {
    HttpResponse r;
    r.status = 303;
    r.headers.emplace_back("Location", std::move(location));
    r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    return r;
}

bool is_api(std::string_view target) {
    std::string_view path = target.substr(0, target.find('?'));
    return path == kApi || path.rfind("/console/api/", 0) == 0;
}

std::string valid_lang(std::string_view lang) { return lang == "en" ? "en" : "sv"; }

// Whether the target's path (without query) matches a route pattern; fills `params`.
bool match(std::string_view pattern, std::string_view path, std::vector<std::string>& params) {
    params.clear();
    while (true) {
        if (pattern.empty() || path.empty()) return pattern.empty() && path.empty();
        if (pattern[0] != '/' || path[0] != '/') return false;
        pattern.remove_prefix(1);
        path.remove_prefix(1);
        auto pe = pattern.find('/'), te = path.find('/');
        std::string_view p = pattern.substr(0, pe), t = path.substr(0, te);
        if (p == "{}") {
            std::string decoded;
            if (t.empty() || !web::percent_decode(t, decoded, false) || !json::valid_utf8(decoded) ||
                decoded.size() > 200)
                return false;
            params.push_back(std::move(decoded));
        } else if (p != t) {
            return false;
        }
        pattern = pe == std::string_view::npos ? std::string_view() : pattern.substr(pe);
        path = te == std::string_view::npos ? std::string_view() : path.substr(te);
    }
}
}  // namespace

bool is_console_target(std::string_view target) {
    std::string_view path = target.substr(0, target.find('?'));
    return path == "/console" || path.rfind("/console/", 0) == 0;
}

struct ConsoleHandler::Impl {
    server::SqlStore& store;
    ConsoleOptions opts;
    web::AssetTable assets;

    Impl(server::SqlStore& s, ConsoleOptions o)
        : store(s), opts(std::move(o)), assets(opts.assets ? opts.assets : kConsoleAssets) {
        if (!opts.assets) opts.assets = kConsoleAssets;
        if (!opts.clock) opts.clock = system_ms;
    }

    HttpResponse route(const HttpRequest& req);
    Status check_origin(const HttpRequest& req) const;
    HttpResponse login_page(int status, const std::string& lang, std::string_view error, int wait_s = 0);
    HttpResponse login(const HttpRequest& req);
    HttpResponse logout(const HttpRequest& req);
    HttpResponse shell(const HttpRequest& req);
    HttpResponse api(const HttpRequest& req, std::string_view path);

    std::string cookie(std::string_view name, std::string_view value, long max_age_s = -1) const {
        return web::set_cookie(name, value, {.path = "/console", .secure = opts.secure_cookies, .max_age_s = max_age_s});
    }
};

ConsoleHandler::ConsoleHandler(server::SqlStore& store, ConsoleOptions opts)
    : impl_(std::make_unique<Impl>(store, std::move(opts))) {}
ConsoleHandler::~ConsoleHandler() = default;

size_t ConsoleHandler::body_limit(std::string_view target) const {
    std::string_view path = target.substr(0, target.find('?'));
    if (path.rfind("/console/api/import/", 0) == 0) return impl_->opts.max_upload_bytes;
    return impl_->opts.max_body_bytes;
}

HttpResponse ConsoleHandler::handle(const HttpRequest& req) {
    HttpResponse r;
    try {
        if (req.body.size() > body_limit(req.target))
            r = error_json(Status(Errc::too_large, "body: over the limit of " +
                                                       std::to_string(body_limit(req.target)) + " bytes"));
        else
            r = impl_->route(req);
    } catch (const std::exception& e) {
        r = error_json(Status(Errc::internal, std::string("unexpected error: ") + e.what()));
    } catch (...) {
        r = error_json(Status(Errc::internal, "unexpected error"));
    }
    secure(r);
    if (!has_header(r, "Cache-Control")) r.headers.emplace_back("Cache-Control", "no-store");
    // A month's ledger of every organisation is megabytes of JSON (docs/benchmarks.md).
    web::gzip_if_accepted(req, r);
    return r;
}

// A request that names an Origin must come from the console's own (a browser sends Origin on
// every POST, and on cross-origin GETs): the Host it was sent to, or --public-url's origin. A
// browser's `Sec-Fetch-Site: cross-site` is refused but for a page opened from a link
// elsewhere (a GET outside the API, which the Strict cookie leaves signed out anyway).
Status ConsoleHandler::Impl::check_origin(const HttpRequest& req) const {
    bool navigation = (req.method == "GET" || req.method == "HEAD") && !is_api(req.target);
    if (!navigation && web::header(req, "sec-fetch-site") == "cross-site")
        return Status(Errc::forbidden, "cross-site request refused");
    auto it = req.headers.find("origin");
    if (it == req.headers.end()) return Status::ok();
    const std::string& origin = it->second;
    std::string host = web::header(req, "host");
    if (!opts.public_origin.empty() && origin == opts.public_origin) return Status::ok();
    if (!host.empty() && (origin == "https://" + host || (!opts.secure_cookies && origin == "http://" + host)))
        return Status::ok();
    return Status(Errc::forbidden, "cross-origin request refused");
}

HttpResponse ConsoleHandler::Impl::route(const HttpRequest& req) {
    std::string path = web::path_of(req);
    if (Status st = check_origin(req); !st) return error_json(st, "cross_origin");
    if (path == "/console" || path == "/console/" || path == "/console/index.html") return shell(req);
    if (path == "/console/login") {
        if (req.method == "POST") return login(req);
        if (req.method != "GET" && req.method != "HEAD") {
            auto r = error_json(Status(Errc::invalid_argument, "method: use GET or POST"), "method_not_allowed");
            r.status = 405;
            r.headers.emplace_back("Allow", "GET, POST");
            return r;
        }
        // ?lang=en|sv; ?e=expired (the API said the session ended) or signed_out.
        auto q = web::query_of(req);
        std::string e = q["e"] == "expired" || q["e"] == "signed_out" ? q["e"] : std::string();
        return login_page(200, valid_lang(q["lang"]), e);
    }
    if (path == "/console/logout") return logout(req);
    if (path.rfind("/console/assets/", 0) == 0) {
        std::string_view rel = std::string_view(path).substr(16);
        // The pages are served with their substitutions (or their session check) only.
        if (rel == "login.html" || rel == "index.html")
            return error_json(Status(Errc::not_found, "no such asset"));
        return assets.serve(req, rel);
    }
    if (path == kApi || path.rfind(std::string(kApi) + "/", 0) == 0)
        return api(req, std::string_view(path).substr(kApi.size()));
    return error_json(Status(Errc::not_found, "no such page"));
}

// console/assets/login.html with its placeholders filled: {{csrf}}, {{lang}}, {{error}} (a
// code the page turns into words: failed | throttled | expired | forbidden | overloaded |
// invalid | signed_out | unavailable, or empty) and {{wait}} (seconds, for throttled).
HttpResponse ConsoleHandler::Impl::login_page(int status, const std::string& lang, std::string_view error,
                                              int wait_s) {
    std::string csrf = random_hex(16);
    std::string page(asset_text(opts.assets, "login.html"));
    auto put = [&page](std::string_view key, const std::string& value) {
        std::string escaped = html_escape(value);
        for (size_t at = page.find(key); at != std::string::npos; at = page.find(key, at + escaped.size()))
            page.replace(at, key.size(), escaped);
    };
    put("{{csrf}}", csrf);
    put("{{lang}}", lang);
    put("{{error}}", std::string(error));
    put("{{wait}}", wait_s > 0 ? std::to_string(wait_s) : std::string());
    HttpResponse r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
    r.headers.emplace_back("Set-Cookie", cookie(kCsrfCookie, csrf));
    if (wait_s > 0) r.headers.emplace_back("Retry-After", std::to_string(wait_s));
    r.body = std::move(page);
    return r;
}

HttpResponse ConsoleHandler::Impl::login(const HttpRequest& req) {
    if (media_type(req) != "application/x-www-form-urlencoded") return login_page(415, "sv", "invalid");
    auto form = parse_form(req.body, {"username", "password", "csrf", "lang"});
    if (!form) return login_page(400, "sv", "invalid");
    auto& f = form.value();
    std::string lang = valid_lang(f["lang"]);
    if (!same_secret(f["csrf"], web::cookie(req, kCsrfCookie))) return login_page(403, lang, "expired");
    auto opened = store.console_login(f["username"], f["password"], req.remote_address);
    if (!opened) {
        const Status& st = opened.status();
        switch (st.code()) {
            case Errc::unauthorized:
            case Errc::revoked:
            case Errc::invalid_argument:
                return login_page(401, lang, "failed");
            case Errc::rate_limited:
                return login_page(429, lang, "throttled", std::max(1, st.retry_after_s()));
            case Errc::forbidden:
                return login_page(403, lang, "forbidden");
            case Errc::overloaded: {
                auto r = login_page(503, lang, "overloaded");
                r.headers.emplace_back("Retry-After", std::to_string(std::max(1, st.retry_after_s())));
                return r;
            }
            default:
                return login_page(500, lang, "unavailable");
        }
    }
    if (!f["lang"].empty()) (void)store.set_console_language(opened->token, lang);
    HttpResponse r = redirect("/console/");
    r.headers.emplace_back("Set-Cookie", cookie(kSessionCookie, opened->token));
    r.headers.emplace_back("Set-Cookie", cookie(kCsrfCookie, "", 0));
    r.log_user = opened->session.who.username;
    r.log_device = opened->session.who.device_id;
    return r;
}

HttpResponse ConsoleHandler::Impl::logout(const HttpRequest& req) {
    if (req.method != "POST") {
        auto r = error_json(Status(Errc::invalid_argument, "method: use POST"), "method_not_allowed");
        r.status = 405;
        r.headers.emplace_back("Allow", "POST");
        return r;
    }
    if (media_type(req) != "application/x-www-form-urlencoded") {
        auto r = error_json(Status(Errc::invalid_argument, "Content-Type must be application/x-www-form-urlencoded"),
                            "unsupported_media_type");
        r.status = 415;
        return r;
    }
    std::string token = web::cookie(req, kSessionCookie);
    auto session = store.console_session(token);
    if (!session) {
        HttpResponse r = redirect("/console/login?e=signed_out");
        r.headers.emplace_back("Set-Cookie", cookie(kSessionCookie, "", 0));
        return r;
    }
    auto form = parse_form(req.body, {"csrf"});
    if (!form || !same_secret(form.value()["csrf"], session->csrf)) return error_json(Status(Errc::forbidden, "csrf"), "csrf");
    if (Status st = store.console_logout(token); !st) return error_json(st);
    HttpResponse r = redirect("/console/login?e=signed_out");
    r.headers.emplace_back("Set-Cookie", cookie(kSessionCookie, "", 0));
    r.log_user = session->who.username;
    return r;
}

HttpResponse ConsoleHandler::Impl::shell(const HttpRequest& req) {
    if (req.method != "GET" && req.method != "HEAD") {
        auto r = error_json(Status(Errc::invalid_argument, "method: use GET"), "method_not_allowed");
        r.status = 405;
        return r;
    }
    auto session = store.console_session(web::cookie(req, kSessionCookie));
    if (!session) {
        // A cookie whose session has ended (idle, too old, signed out elsewhere): the sign-in
        // page says so, also after a reload; no cookie at all is a plain first visit.
        bool ended = !web::cookie(req, kSessionCookie).empty() &&
                     session.status().code() == Errc::unauthorized;
        HttpResponse r = redirect(ended ? "/console/login?e=expired" : "/console/login");
        if (!web::cookie(req, kSessionCookie).empty())
            r.headers.emplace_back("Set-Cookie", cookie(kSessionCookie, "", 0));
        return r;
    }
    HttpResponse r;
    r.status = 200;
    r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
    r.body = std::string(asset_text(opts.assets, "index.html"));
    r.log_user = session->who.username;
    return r;
}

HttpResponse ConsoleHandler::Impl::api(const HttpRequest& req, std::string_view path) {
    const Route* route = nullptr;
    bool path_known = false;
    std::vector<std::string> params;
    for (const Route* rt = kRoutes; rt->path; ++rt) {
        std::vector<std::string> p;
        if (!match(rt->path, path, p)) continue;
        path_known = true;
        if (req.method == rt->method || (req.method == "HEAD" && std::strcmp(rt->method, "GET") == 0)) {
            route = rt;
            params = std::move(p);
            break;
        }
    }
    if (!route) {
        if (!path_known) return error_json(Status(Errc::not_found, "no such endpoint"));
        auto r = error_json(Status(Errc::invalid_argument, "method: not allowed here"), "method_not_allowed");
        r.status = 405;
        return r;
    }
    std::string token = web::cookie(req, kSessionCookie);
    auto session = store.console_session(token);
    if (!session) {
        if (session.status().code() != Errc::unauthorized) return error_json(session.status());
        auto r = error_json(Status(Errc::unauthorized, "sign in to the console"));
        if (!token.empty()) r.headers.emplace_back("Set-Cookie", cookie(kSessionCookie, "", 0));
        return r;
    }
    auto named = [&](HttpResponse r) {
        r.log_user = session->who.username;
        r.log_device = session->who.device_id;
        return r;
    };
    bool change = std::strcmp(route->method, "GET") != 0;
    if (change && !same_secret(web::header(req, "x-csrf-token"), session->csrf))
        return named(error_json(Status(Errc::forbidden, "X-CSRF-Token: missing or not this session's"), "csrf"));
    bool staff = session->who.role == "admin" || session->who.role == "coordinator";
    if (!staff || (route->access == Access::admin && session->who.role != "admin"))
        return named(error_json(Status(Errc::forbidden, "admins only")));
    Call call{.req = req, .store = store, .opts = opts, .session = session.value(), .token = token,
              .params = std::move(params), .query = {}, .body = {}, .now_ms = opts.clock()};
    auto query = parse_query(req.target);
    if (!query) return named(error_json(query.status()));
    call.query = std::move(query.value());
    if (change) {
        std::string media = media_type(req);
        bool ok = route->body == Body::json ? media == "application/json"
                                            : media == "application/json" || media == "text/csv";
        if (!ok) {
            auto r = error_json(Status(Errc::invalid_argument,
                                       route->body == Body::json ? "Content-Type must be application/json"
                                                                 : "Content-Type must be text/csv or application/json"),
                                "unsupported_media_type");
            r.status = 415;
            return named(r);
        }
        if (route->body == Body::json)
            if (Status st = call.body.parse(req.body); !st) return named(error_json(st));
    }
    return named(route->fn(call));
}

}  // namespace tundra::console
