// Header, query string and cookie helpers (http.h).
#include "tundra/web/http.h"

#include <algorithm>
#include <cctype>

#include "tundra/core/gzip.h"

namespace tundra::web {

std::string header(const HttpRequest& req, std::string_view lower_name) {
    auto it = req.headers.find(std::string(lower_name));
    return it == req.headers.end() ? std::string() : it->second;
}

std::string path_of(const HttpRequest& req) { return req.target.substr(0, req.target.find('?')); }

bool percent_decode(std::string_view text, std::string& out, bool plus_is_space) {
    out.clear();
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) return false;
            int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
            if (hi < 0 || lo < 0) return false;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return true;
}

std::map<std::string, std::string> query_of(const HttpRequest& req) {
    std::map<std::string, std::string> out;
    auto q = req.target.find('?');
    if (q == std::string::npos) return out;
    std::string_view rest = std::string_view(req.target).substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        std::string key, value;
        if (!percent_decode(pair.substr(0, eq), key, true)) continue;
        if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), value, true)) continue;
        out[key] = value;
    }
    return out;
}

std::string cookie(const HttpRequest& req, std::string_view name) {
    std::string all = header(req, "cookie");
    std::string_view rest = all;
    while (!rest.empty()) {
        auto semi = rest.find(';');
        std::string_view part = rest.substr(0, semi);
        rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        auto eq = part.find('=');
        if (eq != std::string_view::npos && part.substr(0, eq) == name)
            return std::string(part.substr(eq + 1));
    }
    return {};
}

std::string set_cookie(std::string_view name, std::string_view value, const CookieOptions& opts) {
    std::string c = std::string(name) + "=" + std::string(value) + "; Path=" + opts.path +
                    "; HttpOnly; SameSite=Strict";
    if (opts.secure) c += "; Secure";
    if (opts.max_age_s >= 0) c += "; Max-Age=" + std::to_string(opts.max_age_s);
    return c;
}

HttpResponse json_response(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
    return r;
}

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

void gzip_if_accepted(const HttpRequest& req, HttpResponse& r, size_t min_bytes) {
    if (r.body.size() < min_bytes || header(req, "accept-encoding").find("gzip") == std::string::npos)
        return;
    for (auto& [k, v] : r.headers)
        if (k.size() == 16 && std::equal(k.begin(), k.end(), "content-encoding",
                                         [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }))
            return;
    r.body = gzip_compress(r.body, r.gzip_level);
    r.headers.emplace_back("Content-Encoding", "gzip");
    r.headers.emplace_back("Vary", "Accept-Encoding");
}

}  // namespace tundra::web
