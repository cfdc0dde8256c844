// Test-only crash points: parse the armed spec once, count applied replies, SIGKILL at the
// armed one. SIGKILL, not abort(): nothing may flush, unwind or roll back on the way out.
#include "test_hooks.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace tundra::client::test_hooks {
namespace {
enum Point : int { kNone = 0, kApplyPage = 1, kAfterPage = 2 };

std::atomic<int> armed_point{kNone};
std::atomic<int64_t> armed_page{0};
std::atomic<int64_t> pages_applied{0};

[[noreturn]] void die() {
    ::kill(::getpid(), SIGKILL);
    std::abort();  // not reached
}
}  // namespace

Status arm_crash_point(std::string_view spec) {
    if (spec.empty()) {
        armed_point = kNone;
        return Status::ok();
    }
    auto colon = spec.find(':');
    std::string_view name = spec.substr(0, colon);
    int point = name == "apply_page" ? kApplyPage : name == "after_page" ? kAfterPage : kNone;
    int64_t page = 0;
    if (colon != std::string_view::npos) {
        auto digits = spec.substr(colon + 1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), page);
        if (ec != std::errc() || end != digits.data() + digits.size()) page = 0;
    }
    if (point == kNone || page < 1)
        return Status(Errc::invalid_argument,
                      "crash point '" + std::string(spec) +
                          "': expected apply_page:N or after_page:N with N >= 1");
    pages_applied = 0;
    armed_page = page;
    armed_point = point;
    return Status::ok();
}

Status commit_page(const std::function<Status()>& commit) {
    int point = armed_point.load(std::memory_order_relaxed);
    if (point == kNone) return commit();
    bool here = ++pages_applied == armed_page.load();
    if (here && point == kApplyPage) die();
    Status st = commit();
    if (here && point == kAfterPage && st.is_ok()) die();
    return st;
}

}  // namespace tundra::client::test_hooks
