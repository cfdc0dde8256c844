// Static files of a web app, compiled into the program (tundra_embed_assets in
// web/CMakeLists.txt) and served with their content type, a strong ETag (304 on
// If-None-Match), gzip when the browser takes it, and `nosniff`. Only paths that name an
// embedded file are served: nothing is read from disk, and a path with `..`, a backslash, an
// empty segment or a leading `/` is refused as not found. Immutable after construction:
// thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "tundra/web/http.h"

namespace tundra::web {

struct EmbeddedFile {
    const char* path;  // relative, '/'-separated: "app.js", "locale/sv.json"
    const unsigned char* data;
    size_t size;
};

// "text/javascript; charset=utf-8" for "app.js"; application/octet-stream when unknown.
std::string_view content_type_for(std::string_view path);

class AssetTable {
public:
    // `files` ends with an entry whose path is null.
    explicit AssetTable(const EmbeddedFile* files);

    // Answers GET/HEAD of the asset `path` (relative, without the mount point): 200, 304,
    // 404 (unknown or refused path), 405 (another method). Extra headers (e.g. a content
    // security policy) are the caller's.
    HttpResponse serve(const HttpRequest& req, std::string_view path) const;

    bool contains(std::string_view path) const;
    size_t count() const { return files_.size(); }
    size_t total_bytes() const;       // as stored
    size_t total_gzip_bytes() const;  // as sent to a browser that takes gzip

private:
    struct Asset {
        std::string_view body;
        std::string gzip;  // empty when not worth it
        std::string etag;
        std::string_view type;
    };
    std::map<std::string, Asset, std::less<>> files_;
};

// Whether `path` may name an asset at all (see the file comment).
bool safe_asset_path(std::string_view path);

}  // namespace tundra::web
