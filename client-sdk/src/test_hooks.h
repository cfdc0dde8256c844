// The sync engine's side of the test-only crash points (tundra/client/test_hooks.h).
#pragma once

#include <functional>

#include "tundra/client/test_hooks.h"

namespace tundra::client::test_hooks {

// Commits one applied sync reply through `commit` (the open transaction's commit), dying first
// when "apply_page:N" is armed for this reply and after a successful commit when
// "after_page:N" is. Unarmed, it is `return commit();` plus one relaxed atomic load.
Status commit_page(const std::function<Status()>& commit);

}  // namespace tundra::client::test_hooks
