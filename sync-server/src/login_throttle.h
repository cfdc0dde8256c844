// Failed-login throttling over the store's `login_throttle` table (schema v4), so that every
// server process on one store shares it: the back-off arithmetic (pure) and the statements.
// Only failures are counted; a success forgets its username's failures, never an address's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tundra/core/status.h"
#include "tundra/server/sql_store.h"
#include "tundra/sqlite/db.h"

namespace tundra::server {

// How long a key is blocked after its `failures`-th failure in a row: 0 while it has free
// failures left, then base_ms * 2^(failures - free - 1), at most cap_ms.
int64_t block_ms(const ThrottlePolicy& p, int64_t failures);

// The throttle key of a username ('user:<name>'; a long name by its hash).
std::string user_key(std::string_view username);
// The throttle key of a client address ('addr:<address>'): an IPv4 address as is, an IPv6
// address by its /64 (what one router or one customer holds); "" when the address is unknown.
std::string address_key(std::string_view address);

// Milliseconds until `key` may try again (0: not blocked). Storage errors only.
Result<int64_t> blocked_for(sql::Db& db, const std::string& key, const ThrottlePolicy& p,
                            int64_t now_ms);
// Counts one failure of `key` (the count starts again after forget_after_ms of quiet) and
// blocks it as the policy says. Call inside a transaction.
Status record_failure(sql::Db& db, const std::string& key, const ThrottlePolicy& p,
                      int64_t now_ms);
// Forgets the failures of `key` (a username after a correct password or a new password).
Status forget_failures(sql::Db& db, const std::string& key);
// Drops rows with no failure for `older_than_ms` (blocks long over): the table holds only
// keys that failed recently, however many usernames an attacker sprays.
Status purge_throttle(sql::Db& db, int64_t now_ms, int64_t older_than_ms);

}  // namespace tundra::server
