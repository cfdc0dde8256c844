// Operations (docs/operations.md): the store's epoch, backups, and what /metrics reads from
// the store at each scrape.
#include <filesystem>

#include "open_db.h"
#include "store_internal.h"
#include "tundra/core/crypto.h"
#include "tundra/sqlite/db.h"

namespace tundra::server {
namespace {
constexpr int64_t kHourMs = 3600'000;
constexpr int64_t kActiveMs = 24 * kHourMs;
constexpr int64_t kStaleMs = 14 * 24 * kHourMs;  // as the console's tablets page

Status set_meta(sql::Db& db, const char* key, const std::string& value) {
    auto q = db.query(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    return q->bind(1, key).bind(2, value).run();
}

Result<std::string> get_meta(sql::Db& db, const char* key) {
    auto q = db.query("SELECT value FROM meta WHERE key = ?");
    q->bind(1, key);
    auto r = q->step();
    if (!r) return r.status();
    return r.value() ? q->text(0) : std::string();
}
}  // namespace

// A store made before the epoch existed gets one the first time this release opens it. An
// insert that keeps an existing value: no schema version needed, and several processes
// opening one store at once agree on the first one written.
Status SqlStore::Impl::ensure_epoch(sql::Db& db) {
    auto q = db.query("INSERT INTO meta (key, value) VALUES ('store_epoch', ?) ON CONFLICT(key) DO NOTHING");
    return q->bind(1, random_hex(16)).run();
}

Result<SqlStore::BackupReport> SqlStore::backup(const std::string& to) {
    if (db_->backend() != sql::Backend::sqlite)
        return Status(Errc::invalid_argument,
                      "backup: a PostgreSQL store is backed up with pg_dump (docs/operations.md)");
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::exists(to, ec) && fs::equivalent(to, db_->path(), ec))
        return Status(Errc::invalid_argument, "backup: '" + to + "' is the store itself");
    // A connection of its own: the copy reads one snapshot while rounds go on writing.
    auto src = sqlite::Db::open(db_->path(), {.create = false});
    if (!src) return src.status();
    auto bytes = src.value()->backup_to(to);
    if (!bytes) return bytes.status();
    src.value().reset();

    // The copy becomes a store of its own, marked with where and when it was taken; what it
    // says comes from the copy itself (the same snapshot).
    BackupReport rep;
    auto copy = sqlite::Db::open(to, {.create = false});
    Status st = copy ? Status::ok() : copy.status();
    auto mark = [&]() -> Status {
        sql::Db& db = *copy.value();
        sql::Transaction txn(db);
        TUNDRA_TRY(txn.begin());
        auto from = get_meta(db, "store_epoch");
        if (!from) return from.status();
        auto version = get_meta(db, "version");
        if (!version) return version.status();
        rep.from_epoch = from.value();
        rep.version = version->empty() ? 0 : std::stoull(version.value());
        rep.epoch = random_hex(16);
        TUNDRA_TRY(set_meta(db, "store_epoch", rep.epoch));
        TUNDRA_TRY(set_meta(db, "restored_from_epoch", rep.from_epoch));
        TUNDRA_TRY(set_meta(db, "restored_at_version", std::to_string(rep.version)));
        TUNDRA_TRY(txn.commit());
        // One file: nothing of the copy waits in a -wal beside it.
        return db.checkpoint_truncate();
    };
    if (st) st = mark();
    if (copy) copy.value().reset();
    if (!st) {
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(to + suffix, ec);
        return st;
    }
    rep.bytes = static_cast<uint64_t>(fs::file_size(to, ec));
    if (ec) rep.bytes = bytes.value();
    return rep;
}

Result<SqlStore::HealthStats> SqlStore::health_stats() {
    std::lock_guard lock(mu_);
    HealthStats h;
    int64_t now = static_cast<int64_t>(opts_.wall());
    auto q = db_->query(
        "SELECT "
        "  coalesce(sum(CASE WHEN last_seen_ms >= :active THEN 1 ELSE 0 END), 0), "
        "  coalesce(sum(CASE WHEN (last_seen_ms IS NOT NULL AND last_seen_ms < :stale) "
        "                      OR (last_seen_ms IS NULL AND created_at < :stale_iso) THEN 1 ELSE 0 END), 0) "
        "FROM devices WHERE revoked = 0 AND substr(id, 1, 8) <> 'console:'");
    q->bind(":active", now - kActiveMs).bind(":stale", now - kStaleMs);
    q->bind(":stale_iso", format_iso8601(now - kStaleMs));
    auto r = q->step();
    if (!r) return r.status();
    if (r.value()) {
        h.active_devices = q->int64(0);
        h.stale_devices = q->int64(1);
    }
    // The database's size, in each backend's own words.
    auto size = db_->query(db_->backend() == sql::Backend::sqlite
                               ? "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
                               : "SELECT pg_database_size(current_database())");
    auto sr = size->step();
    if (!sr) return sr.status();
    if (sr.value()) h.store_bytes = size->int64(0);
    return h;
}

}  // namespace tundra::server
