#include "open_db.h"

#include "tundra/pg/db.h"
#include "tundra/sqlite/db.h"

namespace tundra::server {

bool is_postgres_uri(const std::string& where) {
    return where.rfind("postgresql://", 0) == 0 || where.rfind("postgres://", 0) == 0;
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
