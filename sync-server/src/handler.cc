#include "tundra/server/handler.h"

#include <algorithm>
#include <cctype>

#include "tundra/core/gzip.h"
#include "tundra/core/protocol.h"

namespace tundra::server {
namespace {
HttpResponse json_response(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
    return r;
}

HttpResponse error_response(const Status& st) {
    int http = errc_info(st.code()).http_status;
    if (http == 0) http = 500;
    HttpResponse r = json_response(http, encode(ErrorBody{st.code(), st.message()}));
    if (st.code() == Errc::unauthorized || st.code() == Errc::revoked)
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
    if (st.retry_after_s() > 0) r.headers.emplace_back("Retry-After", std::to_string(st.retry_after_s()));
    else if (st.retryable()) r.headers.emplace_back("Retry-After", "1");
    return r;
}

std::string header(const HttpRequest& req, const std::string& name) {
    auto it = req.headers.find(name);
    return it == req.headers.end() ? std::string() : it->second;
}

// The API speaks JSON only: a body sent as a form or text is refused before it is read
// (a browser can send those cross-site without a preflight). Parameters such as
// `; charset=utf-8` are allowed; the media type is compared without case.
Status require_json(const HttpRequest& req) {
    std::string type = header(req, "content-type");
    std::string media = type.substr(0, type.find(';'));
    auto first = media.find_first_not_of(" \t"), last = media.find_last_not_of(" \t");
    media = first == std::string::npos ? std::string() : media.substr(first, last - first + 1);
    std::transform(media.begin(), media.end(), media.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (media == "application/json") return Status::ok();
    return Status(Errc::invalid_argument,
                  "Content-Type must be application/json (got " +
                      (type.empty() ? std::string("none") : "'" + type.substr(0, 100) + "'") + ")");
}

HttpResponse route(const HttpRequest& req, Store& store, const HandlerOptions& opts) {
    std::string path = req.target.substr(0, req.target.find('?'));
    if (path == "/healthz") {
        if (req.method != "GET" && req.method != "HEAD")
            return error_response(Status(Errc::invalid_argument, "use GET"));
        Status st = store.check_health();
        if (!st) return error_response(st);
        return json_response(200, R"({"status":"ok","protocol":2})");
    }
    if (path != "/v1/login" && path != "/v1/sync")
        return error_response(Status(Errc::not_found, "no such endpoint: " + path));
    if (req.method != "POST") {
        HttpResponse r = error_response(Status(Errc::invalid_argument, "use POST"));
        r.status = 405;
        r.headers.emplace_back("Allow", "POST");
        return r;
    }
    if (Status st = require_json(req); !st) {
        HttpResponse r = error_response(st);
        r.status = 415;
        return r;
    }
    std::string body_storage;
    const std::string* body = &req.body;
    std::string enc = header(req, "content-encoding");
    if (enc == "gzip") {
        auto d = gzip_decompress(req.body, opts.max_body_bytes);
        if (!d) return error_response(d.status());
        body_storage = std::move(d.value());
        body = &body_storage;
    } else if (!enc.empty() && enc != "identity") {
        HttpResponse r = error_response(Status(Errc::invalid_argument, "unsupported Content-Encoding " + enc));
        r.status = 415;
        return r;
    }
    if (body->size() > opts.max_body_bytes)
        return error_response(Status(Errc::too_large, "request body is over the limit"));

    if (path == "/v1/login") {
        auto req_m = decode_login_request(*body);
        if (!req_m) return error_response(req_m.status());
        auto resp = store.login(req_m.value(), req.remote_address);
        if (!resp) return error_response(resp.status());
        resp->protocol = req_m->protocol;  // answer in the version the device speaks
        HttpResponse ok = json_response(200, encode(resp.value()));
        ok.log_user = resp->user.username;
        ok.log_device = resp->device_id;
        return ok;
    }
    std::string auth = header(req, "authorization");
    if (auth.rfind("Bearer ", 0) != 0)
        return error_response(Status(Errc::unauthorized, "missing bearer token; log in first"));
    auto who = store.authenticate(std::string_view(auth).substr(7));
    if (!who) return error_response(who.status());
    auto named = [&](HttpResponse r) {
        r.log_user = who->username;
        r.log_device = who->device_id;
        return r;
    };
    auto req_m = decode_sync_request(*body);
    if (!req_m) return named(error_response(req_m.status()));
    auto resp = store.sync(who.value(), req_m.value());
    if (!resp) return named(error_response(resp.status()));
    resp->protocol = req_m->protocol;
    return named(json_response(200, encode(resp.value())));
}
}  // namespace

HttpResponse handle_request(const HttpRequest& req, Store& store, const HandlerOptions& opts) {
    HttpResponse r;
    try {
        r = route(req, store, opts);
    } catch (const std::exception& e) {
        r = error_response(Status(Errc::internal, std::string("unexpected error: ") + e.what()));
    } catch (...) {
        r = error_response(Status(Errc::internal, "unexpected error"));
    }
    if (r.body.size() >= opts.gzip_min_bytes &&
        header(req, "accept-encoding").find("gzip") != std::string::npos) {
        r.body = gzip_compress(r.body, 6);
        r.headers.emplace_back("Content-Encoding", "gzip");
    }
    return r;
}

}  // namespace tundra::server
