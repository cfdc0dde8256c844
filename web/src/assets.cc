// Embedded static files (assets.h).
#include "tundra/web/assets.h"

#include "tundra/core/crypto.h"
#include "tundra/core/gzip.h"

namespace tundra::web {

std::string_view content_type_for(std::string_view path) {
    auto dot = path.rfind('.');
    std::string_view ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (ext == "html") return "text/html; charset=utf-8";
    if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
    if (ext == "css") return "text/css; charset=utf-8";
    if (ext == "json") return "application/json";
    if (ext == "svg") return "image/svg+xml";
    if (ext == "png") return "image/png";
    if (ext == "ico") return "image/x-icon";
    if (ext == "woff2") return "font/woff2";
    if (ext == "txt") return "text/plain; charset=utf-8";
    if (ext == "webmanifest") return "application/manifest+json";
    return "application/octet-stream";
}

bool safe_asset_path(std::string_view path) {
    if (path.empty() || path.front() == '/' || path.back() == '/') return false;
    if (path.find('\\') != std::string_view::npos || path.find('\0') != std::string_view::npos) return false;
    size_t start = 0;
    while (start <= path.size()) {
        auto slash = path.find('/', start);
        std::string_view seg = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (seg.empty() || seg == "." || seg == "..") return false;
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return true;
}

AssetTable::AssetTable(const EmbeddedFile* files) {
    for (const EmbeddedFile* f = files; f && f->path; ++f) {
        Asset a;
        a.body = std::string_view(reinterpret_cast<const char*>(f->data), f->size);
        a.type = content_type_for(f->path);
        a.etag = "\"" + sha256_hex(a.body).substr(0, 32) + "\"";
        bool text = a.type.rfind("text/", 0) == 0 || a.type == "application/json" || a.type == "image/svg+xml";
        if (text && f->size >= 512) {
            std::string z = gzip_compress(std::string(a.body), 9);
            if (z.size() < f->size) a.gzip = std::move(z);
        }
        files_.emplace(f->path, std::move(a));
    }
}

bool AssetTable::contains(std::string_view path) const { return files_.find(path) != files_.end(); }

size_t AssetTable::total_bytes() const {
    size_t n = 0;
    for (auto& [path, a] : files_) n += a.body.size();
    return n;
}

size_t AssetTable::total_gzip_bytes() const {
    size_t n = 0;
    for (auto& [path, a] : files_) n += a.gzip.empty() ? a.body.size() : a.gzip.size();
    return n;
}

HttpResponse AssetTable::serve(const HttpRequest& req, std::string_view path) const {
    HttpResponse r;
    if (req.method != "GET" && req.method != "HEAD") {
        r.status = 405;
        r.headers.emplace_back("Allow", "GET, HEAD");
        return r;
    }
    auto it = safe_asset_path(path) ? files_.find(path) : files_.end();
    if (it == files_.end()) {
        r.status = 404;
        r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
        r.body = "not found\n";
        return r;
    }
    const Asset& a = it->second;
    r.headers.emplace_back("ETag", a.etag);
    // Revalidated on every load (cheap: a 304), so a new build is never half-cached.
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Vary", "Accept-Encoding");
    std::string inm = header(req, "if-none-match");
    if (!inm.empty() && (inm == a.etag || inm == "W/" + a.etag || inm == "*")) {
        r.status = 304;
        return r;
    }
    r.status = 200;
    r.headers.emplace_back("Content-Type", std::string(a.type));
    bool gz = !a.gzip.empty() && header(req, "accept-encoding").find("gzip") != std::string::npos;
    if (gz) r.headers.emplace_back("Content-Encoding", "gzip");
    if (req.method == "GET") r.body = gz ? a.gzip : std::string(a.body);
    return r;
}

}  // namespace tundra::web
