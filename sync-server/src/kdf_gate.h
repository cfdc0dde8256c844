// Admission control for password checks: at most `running` KDFs at once and at most
// `waiting` callers queued for a turn; everyone else is turned away at once. A login flood
// then costs one core at most and never holds the request workers that sync rounds need.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace tundra::server {

class KdfGate {
public:
    KdfGate(int running, int waiting) : max_running_(running < 1 ? 1 : running), max_waiting_(waiting) {}

    // A turn, released when the Turn ends. Falsy when the gate was full or the wait ran out.
    class Turn {
    public:
        explicit Turn(KdfGate* g) : gate_(g) {}
        Turn(Turn&& o) noexcept : gate_(o.gate_) { o.gate_ = nullptr; }
        Turn(const Turn&) = delete;
        ~Turn() {
            if (gate_) gate_->leave();
        }
        explicit operator bool() const { return gate_ != nullptr; }

    private:
        KdfGate* gate_;
    };

    // Thread-safe; blocks at most `wait`.
    Turn enter(std::chrono::milliseconds wait) {
        std::unique_lock lock(mu_);
        if (running_ < max_running_) {
            ++running_;
            return Turn(this);
        }
        if (waiting_ >= max_waiting_) return Turn(nullptr);
        ++waiting_;
        bool got = cv_.wait_for(lock, wait, [&] { return running_ < max_running_; });
        --waiting_;
        if (!got) return Turn(nullptr);
        ++running_;
        return Turn(this);
    }

private:
    void leave() {
        {
            std::lock_guard lock(mu_);
            --running_;
        }
        cv_.notify_one();
    }
    std::mutex mu_;
    std::condition_variable cv_;
    int running_ = 0, waiting_ = 0;
    const int max_running_, max_waiting_;
};

}  // namespace tundra::server
