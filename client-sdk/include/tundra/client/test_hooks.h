// Test-only crash points of the sync engine: a crash test arms one and the process kills
// itself (SIGKILL) when the engine reaches it, so the kill lands at an exact place in the
// protocol instead of after some milliseconds (which a fast build outruns).
#pragma once

#include <string_view>

#include "tundra/core/status.h"

namespace tundra::client::test_hooks {

// Arms the crash point that `spec` names; N counts the sync replies this process applies,
// from 1:
//   "apply_page:N"  die inside the transaction applying the N-th reply (rows written, cursor
//                   and outcomes not committed: on restart the replica is as before that reply);
//   "after_page:N"  die right after the N-th reply's transaction committed.
// An empty spec disarms. Errors: invalid_argument for anything else (nothing armed).
// Never armed unless a caller arms it: the tundra CLI does so from $TUNDRA_TEST_KILL_AT.
// Thread-safe; meant to be called once, before the first sync.
Status arm_crash_point(std::string_view spec);

}  // namespace tundra::client::test_hooks
