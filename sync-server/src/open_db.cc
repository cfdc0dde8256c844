#include "open_db.h"

#include "tundra/server/sql_store.h"

#include "tundra/pg/db.h"
#include "tundra/sqlite/db.h"

namespace tundra::server {

bool is_postgres_uri(const std::string& where) {
    return where.rfind("postgresql://", 0) == 0 || where.rfind("postgres://", 0) == 0;
}

std::string display_name(const std::string& where) {
    if (!is_postgres_uri(where)) return where;
    std::string out = where;
    // postgresql://user:secret@host/db: the userinfo ends at the first '@' before the path.
    size_t start = out.find("://") + 3;
    size_t end = out.find_first_of("/?", start);
    size_t at = out.rfind('@', end == std::string::npos ? std::string::npos : end);
    if (at != std::string::npos && at >= start) {
        size_t colon = out.find(':', start);
        if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
    // ...?password=secret&...
    for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
        if (p > 0 && out[p - 1] != '?' && out[p - 1] != '&') continue;
        size_t v = p + 9, e = out.find('&', v);
        out.replace(v, (e == std::string::npos ? out.size() : e) - v, "***");
    }
    return out;
}

Result<std::unique_ptr<sql::Db>> open_connection(const std::string& where, const ConnectionOptions& o) {
    if (is_postgres_uri(where)) {
        // The database itself must exist (createdb); `create` concerns the schema, which
        // SqlStore::open creates or refuses to.
        pg::OpenOptions po;
        po.read_only = o.read_only;
        auto db = pg::Db::open(where, po);
        if (!db) return db.status();
        return std::unique_ptr<sql::Db>(std::move(db.value()));
    }
    sqlite::OpenOptions so;
    so.create = o.create;
    // The server's connections (a writer and the read pool) keep the store's hot pages
    // (indexes, the catalogue) in their own caches: a round then reads no page twice from
    // the OS. 32 MB each, against SQLite's 2 MB.
    so.cache_kib = 32 * 1024;
    auto db = sqlite::Db::open(where, so);
    if (!db) return db.status();
    return std::unique_ptr<sql::Db>(std::move(db.value()));
}

}  // namespace tundra::server
