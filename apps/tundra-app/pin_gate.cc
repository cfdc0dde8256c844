// The tablet-wide PIN brake (pin_gate.h).
#include "pin_gate.h"

namespace tundra::app {

PinGate::PinGate(int per_minute, std::function<int64_t()> clock) : per_minute_(per_minute), clock_(std::move(clock)) {}

int PinGate::admit() {
    int64_t now = clock_();
    std::lock_guard lock(mu_);
    while (!tries_.empty() && now - tries_.front() >= 60000) tries_.pop_front();
    if (static_cast<int>(tries_.size()) >= per_minute_)
        return static_cast<int>((tries_.front() + 60000 - now + 999) / 1000);
    tries_.push_back(now);
    return 0;
}

}  // namespace tundra::app
