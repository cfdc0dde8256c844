// The audit trail of admin operations (schema v4 `audit_log`): append and read.
#include "store_internal.h"
#include "tundra/core/protocol.h"

namespace tundra::server {

Status append_audit(sql::Db& db, int64_t at_ms, const std::string& actor,
                    const std::string& operation, const std::string& target,
                    const std::string& detail_json) {
    auto q = db.query(
        "INSERT INTO audit_log (at_ms, actor, operation, target, detail) VALUES (?, ?, ?, ?, ?)");
    return q->bind(1, at_ms).bind(2, actor).bind(3, operation).bind(4, target).bind(5, detail_json).run();
}

std::string audit_detail(const Row& fields) { return encode_row(fields); }

Status SqlStore::audit(const std::string& actor, const std::string& operation,
                          const std::string& target, const std::string& detail_json) {
    std::lock_guard lock(mu_);
    return append_audit(*db_, static_cast<int64_t>(opts_.wall()), actor, operation, target, detail_json);
}

Result<std::vector<SqlStore::AuditEntry>> SqlStore::audit_trail(size_t limit) {
    std::lock_guard lock(mu_);
    auto q = db_->query(
        "SELECT at_ms, actor, operation, target, detail FROM audit_log ORDER BY id DESC LIMIT ?");
    q->bind(1, static_cast<int64_t>(limit));
    std::vector<AuditEntry> out;
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        out.push_back({q->int64(0), q->text(1), q->text(2), q->text(3), q->text(4)});
    }
    return out;
}

}  // namespace tundra::server
