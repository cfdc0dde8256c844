// Protocol v1 messages and their JSON codec (RapidJSON). Every decoder treats its input as
// untrusted: type and presence are checked before each access, strings must be valid
// UTF-8, and a parse error reports its byte offset. See docs/protocol.md.
#pragma once

#include <cstdint>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tundra/core/action.h"
#include "tundra/core/model.h"
#include "tundra/core/status.h"

namespace tundra {

// v2 (see docs/protocol.md, changelog): signed cursors that carry the round's decisions,
// `last_seq` in login and sync replies, `seq_reused`, and the scope checksum (`verify`).
// A server answers in the version the request spoke; v1 clients keep working.
inline constexpr int kProtocolVersion = 2;
inline constexpr int kMinProtocolVersion = 1;
inline constexpr size_t kMaxActionsPerRequest = 1000;
inline constexpr int kMaxPageRows = 20000;
inline constexpr uint64_t kMaxPageBytes = 16 * 1024 * 1024;

struct LoginRequest {
    int protocol = kProtocolVersion;
    std::string username;
    std::string password;
    std::string device_name;
    std::string device_id;  // optional: resume an existing device identity of this user
    // Optional (issue 10): the tablet's install id, shared by every person's device identity
    // on one tablet, so that the console can show and revoke a whole tablet; and the app's
    // version, shown beside the device.
    std::string install_id;
    std::string app_version;
};

// POST /v1/password (bearer): a user changes their own password. The current one is
// checked as a login is (wrong answers count against the login throttle).
struct PasswordChangeRequest {
    int protocol = kProtocolVersion;
    std::string current_password;
    std::string new_password;
};

struct UserInfo {
    std::string username;
    std::string role;
    std::string person;  // participants only
    StrList sites;       // coordinators only
};

// What this build's server supports beyond the v1 core (docs/protocol.md, "Versions and
// capabilities"); announced at login, so a device adapts to older servers.
inline const StrList kServerCapabilities = {"gzip", "max_bytes", "priority_pull", "tombstones",
                                            "reset"};

struct LoginResponse {
    int protocol = kProtocolVersion;
    StrList capabilities;
    std::string token;
    std::string device_id;
    UserInfo user;
    uint64_t server_hlc = 0;
    // The highest action seq the server holds from this device identity (0 for a new one);
    // the device numbers its queued actions above it (a restored or rolled-back replica).
    uint64_t last_seq = 0;
};

struct SyncRequest {
    int protocol = kProtocolVersion;
    StrList capabilities;
    std::string cursor;  // opaque; empty on first sync
    std::vector<Action> actions;
    int limit = 0;  // max rows in the response page; 0 = server default
    // Page budget in bytes of (uncompressed) JSON; the device sizes it from the throughput
    // it measured so that a page takes a few seconds on its link. 0 = rows only.
    uint64_t max_bytes = 0;
    // Ask for the scope checksum with the page that completes the pull (`tundra verify`).
    bool verify = false;
};

// Count and order-independent hash of the (kind, id, version) of every row a user may see
// (docs/protocol.md, "Verify"): equal on device and server when the replica is complete.
struct ScopeChecksum {
    uint64_t count = 0;
    std::string hash;  // 16 hex digits
    bool operator==(const ScopeChecksum&) const = default;
};

struct Change {
    Kind kind = Kind::organisation;
    std::string id;
    uint64_t version = 0;
    bool deleted = false;
    Row row;  // empty when deleted
    // The row already written as a JSON object (the server's row cache); when set, a response
    // carries this text in place of `row`, and `row` may be empty.
    std::shared_ptr<const std::string> row_json;
};

struct SyncResponse {
    int protocol = kProtocolVersion;
    std::vector<Outcome> outcomes;
    std::vector<Change> changes;
    std::string cursor;
    bool more = false;
    uint64_t server_hlc = 0;
    uint64_t remaining = 0;  // rows still to pull after this page (estimate from the server)
    // The server could not continue from the device's cursor (deletions that old are
    // forgotten, or the user's scope changed): this page starts a full pull, and the device
    // removes every synced row the full pull does not send again.
    bool reset = false;
    uint64_t last_seq = 0;  // highest action seq the server holds from this device
    std::optional<ScopeChecksum> checksum;  // when asked (`verify`) and the pull is complete
};

struct ErrorBody {
    Errc code = Errc::internal;
    std::string message;
};

std::string encode(const LoginRequest& m);
std::string encode(const PasswordChangeRequest& m);
std::string encode(const LoginResponse& m);
std::string encode(const SyncRequest& m);
std::string encode(const SyncResponse& m);
std::string encode(const ErrorBody& m);
std::string encode_action(const Action& a);   // one action as a JSON object
std::string encode_row(const Row& row);        // a flat JSON object
std::string encode_outcome(const Outcome& o);

Result<LoginRequest> decode_login_request(std::string_view json);
Result<PasswordChangeRequest> decode_password_change_request(std::string_view json);
Result<LoginResponse> decode_login_response(std::string_view json);
Result<SyncRequest> decode_sync_request(std::string_view json);
Result<SyncResponse> decode_sync_response(std::string_view json);
Result<ErrorBody> decode_error(std::string_view json);
Result<Action> decode_action(std::string_view json);
Result<Row> decode_row(std::string_view json);
Result<Outcome> decode_outcome(std::string_view json);

}  // namespace tundra
