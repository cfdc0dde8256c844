// The local replica: schema and migrations, generic row access, the outbox and the
// optimistic overlay. Internal to the SDK.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tundra/core/action.h"
#include "tundra/core/hlc.h"
#include "tundra/core/model.h"
#include "tundra/core/protocol.h"
#include "tundra/sqlite/db.h"

namespace tundra::client {

inline constexpr int kReplicaSchemaVersion = 2;

enum class OutboxState { queued, acked, rejected, done, dismissed };
std::string_view to_string(OutboxState s);

struct OutboxEntry {
    Action action;
    OutboxState state = OutboxState::queued;
    Outcome outcome;  // valid unless queued
};

class Replica {
public:
    static Result<std::unique_ptr<Replica>> open(const std::string& path);

    sqlite::Db& db() { return *db_; }

    // meta key/value
    std::string meta(const std::string& key);
    Status set_meta(const std::string& key, const std::string& value);

    Result<std::optional<Row>> load_row(Kind kind, const std::string& id);
    Status put_row(Kind kind, const Row& row, bool pending, bool local_only);
    Status delete_row(Kind kind, const std::string& id);
    Status wipe_data();
    // A full pull after a reset: remember what it sent, then remove every other synced row.
    Status mark_seen(Kind kind, const std::string& id);
    Result<int64_t> sweep_unseen();

    // Outbox
    Status add_to_outbox(const Action& a);
    Result<std::vector<OutboxEntry>> outbox(const std::string& states_sql, size_t limit = 1u << 30);
    Status set_outcome(const Outcome& o, OutboxState state);
    Status finish_acked();  // acked -> done, once a pull has caught up with the server
    Result<int64_t> count_queued();

    // The overlay: local effects of actions not yet reflected by the server's rows. Rows
    // are saved to `shadow` before the overlay first touches them, so the overlay can be
    // taken off (restore_shadows) before server changes are applied, and put back after.
    Status restore_shadows();
    Status apply_overlay(const OutboxEntry& e, const std::string& username,
                         const std::string& device_id);
    Status apply_all_overlays(const std::string& username, const std::string& device_id);

private:
    explicit Replica(std::unique_ptr<sqlite::Db> db) : db_(std::move(db)) {}
    Status migrate();
    Status shadow(Kind kind, const std::string& id);
    std::unique_ptr<sqlite::Db> db_;
};

}  // namespace tundra::client
