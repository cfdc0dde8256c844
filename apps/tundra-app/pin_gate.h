// A tablet-wide brake on PIN guesses, on top of each replica's own count (Client::check_pin):
// whoever tries PINs for many people in turn is slowed too. At most `per_minute` PIN tries
// in any sliding minute across all people. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

namespace tundra::app {

class PinGate {
public:
    explicit PinGate(int per_minute, std::function<int64_t()> clock);
    // Seconds to wait before the next try may be made (0: go ahead; the try is counted).
    int admit();

private:
    int per_minute_;
    std::function<int64_t()> clock_;
    std::mutex mu_;
    std::deque<int64_t> tries_;
};

}  // namespace tundra::app
