#include "tundra/server/handler.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <utility>

#include "tundra/core/gzip.h"
#include "tundra/core/protocol.h"

namespace tundra::server {
using web::header;
using web::json_response;
using web::require_json;
namespace {
// A page budget this large says the link moves over 1 MB/s (see the sync route).
constexpr uint64_t kFastLinkPageBytes = 2 * 1024 * 1024;
HttpResponse error_response(const Status& st) {
    int http = errc_info(st.code()).http_status;
    if (http == 0) http = 500;
    HttpResponse r = json_response(http, encode(ErrorBody{st.code(), st.message()}));
    r.error_code = std::string(errc_info(st.code()).wire_name);
    if (st.code() == Errc::unauthorized || st.code() == Errc::revoked)
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
    if (st.retry_after_s() > 0) r.headers.emplace_back("Retry-After", std::to_string(st.retry_after_s()));
    else if (st.retryable()) r.headers.emplace_back("Retry-After", "1");
    return r;
}

// GET /v1/reports/{name}?month=|from=&to=&organisation=&as_of=&format=&min_cell=&csv_dialect=
// (docs/protocol.md, "Reports"): the same report as `tundra-server report`.
Result<ReportRequest> report_request(const std::string& name, std::string_view query) {
    std::map<std::string, std::string> seen;
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (part.empty()) continue;
        auto eq = part.find('=');
        std::string key, value;
        if (!web::percent_decode(part.substr(0, eq), key, true) ||
            !web::percent_decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1), value, true))
            return Status(Errc::invalid_argument, "query: bad percent-encoding");
        if (!seen.emplace(key, value).second)
            return Status(Errc::invalid_argument, key + ": given twice");
    }
    return report_request_from_query(name, seen);
}

HttpResponse route(const HttpRequest& req, Store& store, const HandlerOptions& opts) {
    std::string path = req.target.substr(0, req.target.find('?'));
    if (path.rfind("/v1/reports/", 0) == 0) {
        if (req.method != "GET") {
            HttpResponse r = error_response(Status(Errc::invalid_argument, "use GET"));
            r.status = 405;
            r.headers.emplace_back("Allow", "GET");
            return r;
        }
        std::string auth = header(req, "authorization");
        if (auth.rfind("Bearer ", 0) != 0)
            return error_response(Status(Errc::unauthorized, "missing bearer token; log in first"));
        auto who = store.authenticate(std::string_view(auth).substr(7));
        if (!who) return error_response(who.status());
        auto q = req.target.find('?');
        auto rr = report_request(path.substr(12), q == std::string::npos
                                                      ? std::string_view()
                                                      : std::string_view(req.target).substr(q + 1));
        auto out = rr ? store.report_for(who.value(), rr.value()) : Result<ReportOutput>(rr.status());
        HttpResponse r;
        if (!out) {
            r = error_response(out.status());
        } else {
            r.status = 200;
            r.headers.emplace_back("Content-Type", out->content_type);
            r.headers.emplace_back("Cache-Control", "no-store");
            r.headers.emplace_back("X-Tundra-As-Of", format_iso8601_ms(out->as_of_ms));
            r.body = std::move(out->body);
        }
        r.log_user = who->username;
        r.log_device = who->device_id;
        return r;
    }
    if (path == "/healthz") {
        if (req.method != "GET" && req.method != "HEAD")
            return error_response(Status(Errc::invalid_argument, "use GET"));
        Status st = store.check_health();
        if (!st) return error_response(st);
        return json_response(200, R"({"status":"ok","protocol":2})");
    }
    if (path != "/v1/login" && path != "/v1/sync" && path != "/v1/password")
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
    if (path == "/v1/password") {
        auto change = decode_password_change_request(*body);
        if (!change) return named(error_response(change.status()));
        Status st = store.change_password(who.value(), change->current_password, change->new_password,
                                          req.remote_address);
        if (!st) return named(error_response(st));
        return named(json_response(200, R"({"ok":true})"));
    }
    auto req_m = decode_sync_request(*body);
    if (!req_m) return named(error_response(req_m.status()));
    auto resp = store.sync(who.value(), req_m.value());
    if (!resp) return named(error_response(resp.status()));
    if (opts.metrics)
        for (auto& o : resp->outcomes)
            opts.metrics->actions.with({std::string(to_string(o.result)), o.reason}).inc();
    resp->protocol = req_m->protocol;
    HttpResponse ok = json_response(200, encode(resp.value()));
    // A device asks for pages of about 2 s of its link (page_budget.h): one that asks for
    // kFastLinkPageBytes or more moves over 1 MB/s, where deflate's fastest level (a few per
    // cent more bytes, a third of the CPU) gets the page there sooner. Slower links keep 6.
    if (req_m->max_bytes >= kFastLinkPageBytes) ok.gzip_level = 1;
    return named(std::move(ok));
}
}  // namespace

SyncMetrics::SyncMetrics(web::MetricsRegistry& r)
    : rounds(r.counter("tundra_sync_rounds_total", "Sync rounds (POST /v1/sync) by outcome: ok, or the error code",
                       {"outcome"})),
      actions(r.counter("tundra_sync_actions_total", "Pushed actions by result and reason", {"result", "reason"})),
      round_seconds(r.histogram("tundra_sync_round_duration_seconds",
                                "Time to answer a sync round, from its request to its answer encoded")
                        .with()),
      logins(r.counter("tundra_logins_total", "Logins (POST /v1/login) by outcome: ok, or the error code",
                       {"outcome"})) {}

HttpResponse handle_request(const HttpRequest& req, Store& store, const HandlerOptions& opts) {
    HttpResponse r;
    auto started = std::chrono::steady_clock::now();
    try {
        r = route(req, store, opts);
    } catch (const std::exception& e) {
        r = error_response(Status(Errc::internal, std::string("unexpected error: ") + e.what()));
    } catch (...) {
        r = error_response(Status(Errc::internal, "unexpected error"));
    }
    if (opts.metrics && req.method == "POST") {
        std::string path = web::path_of(req);
        std::string outcome = r.status == 200 ? "ok" : r.error_code.empty() ? std::to_string(r.status) : r.error_code;
        if (path == "/v1/sync") {
            opts.metrics->rounds.with({outcome}).inc();
            opts.metrics->round_seconds.observe(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        } else if (path == "/v1/login") {
            opts.metrics->logins.with({outcome}).inc();
        }
    }
    web::gzip_if_accepted(req, r, opts.gzip_min_bytes);
    return r;
}

}  // namespace tundra::server
