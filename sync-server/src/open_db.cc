#include "open_db.h"

#include "tundra/sqlite/db.h"

namespace tundra::server {

Result<std::unique_ptr<sql::Db>> open_connection(const std::string& where, const ConnectionOptions& o) {
    sqlite::OpenOptions so;
    so.create = o.create;
    auto db = sqlite::Db::open(where, so);
    if (!db) return db.status();
    return std::unique_ptr<sql::Db>(std::move(db.value()));
}

}  // namespace tundra::server
