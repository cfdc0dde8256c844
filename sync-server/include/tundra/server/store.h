// The Store is everything the request handler needs from persistence. The embedded default
// is SqlStore; a PostgreSQL backend implements the same interface.
//
// Contract: every method is thread-safe. sync() applies the request's actions and
// computes the pull page in one transaction; it returns only after that transaction has
// committed, so an outcome a device sees is durable (WAL, synchronous=NORMAL survives a
// process crash; see docs/failure-model.md for power loss).
#pragma once

#include <string>
#include <string_view>

#include "tundra/core/hlc.h"
#include "tundra/core/protocol.h"
#include "tundra/core/status.h"
#include "tundra/server/reports.h"

namespace tundra::server {

struct AuthContext {
    std::string username;
    std::string role;    // participant|coordinator|admin
    std::string person;  // participants
    StrList sites;       // coordinators
    std::string device_id;
};

class Store {
public:
    virtual ~Store() = default;
    // Verifies the password and issues a per-device token (only its hash is stored).
    // `remote_address` is the client's address as the HTTP layer decided it (empty when
    // unknown): failed logins are throttled per username and per address (docs/protocol.md,
    // "Login throttling"). An unknown user costs the same password check as a known one.
    // Errors: unauthorized (bad credentials: one answer for unknown user and wrong
    // password), revoked (a revoked user, or a revoked device named by device_id),
    // rate_limited (too many recent failures; Status::retry_after_s says how long),
    // overloaded (password checks are at capacity; retry shortly), invalid_argument, storage.
    // Blocks for one password check (tens of ms) at most.
    virtual Result<LoginResponse> login(const LoginRequest& req,
                                        const std::string& remote_address) = 0;
    // Resolves a bearer token. Errors: unauthorized (unknown, expired or ended token),
    // revoked (the device or its user was revoked: the device wipes its synced data), storage.
    virtual Result<AuthContext> authenticate(std::string_view token) = 0;
    // POST /v1/password: the user of `who` changes their own password. A wrong `current`
    // counts as a failed login of the username and of `remote_address` (the login throttle)
    // and is answered `unauthorized`; while throttled, `rate_limited`. The new password obeys
    // the rules of set-password (invalid_argument says which). On success the user's other
    // devices' tokens end (they log in again with the new password); this device's stays.
    // Audited ("change-password") in the same transaction. Errors also: overloaded (password
    // checks at capacity), conflict (changed meanwhile), storage.
    virtual Status change_password(const AuthContext& who, const std::string& current,
                                   const std::string& next, const std::string& remote_address) = 0;
    // One sync round: actions in seq order (a seq already applied returns its original
    // outcome), then up to `limit` changes after `cursor` visible to the user.
    // Errors: malformed (bad cursor), storage/busy (nothing was committed; retry).
    virtual Result<SyncResponse> sync(const AuthContext& who, const SyncRequest& req) = 0;
    virtual Status check_health() = 0;
    // An ESF report for `who` (GET /v1/reports/{name}; docs/reports.md): admins any
    // organisation, coordinators their organisations' (no identity numbers), participants
    // none (forbidden). Errors: invalid_argument (names the field), forbidden, not_found
    // (unknown organisation), storage. Reads a snapshot without blocking sync rounds.
    virtual Result<ReportOutput> report_for(const AuthContext& who, const ReportRequest& req) = 0;
};

}  // namespace tundra::server
