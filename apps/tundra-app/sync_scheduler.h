// Background sync for everyone signed in on this tablet: at start, every 15 minutes, soon
// after a batch of actions, when the link returns (after a failure the person is tried again
// every 30 s, then less often), and on demand. One sync at a time over the tablet's one link;
// an on-demand sync can be cancelled. What each person's last attempt did is kept for the
// status bar. Thread-safe; owns one thread between start() and stop().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "tablet.h"

namespace tundra::app {

struct SyncSchedule {
    std::chrono::milliseconds interval{15 * 60 * 1000};
    std::chrono::milliseconds after_action{3000};   // actions within this are one batch
    std::chrono::milliseconds retry_min{30 * 1000};  // after a failure: link probing
    std::chrono::milliseconds retry_max{5 * 60 * 1000};
    std::chrono::milliseconds deadline{120 * 1000};  // one sync at most
};

struct SyncState {
    bool running = false;
    std::optional<client::SyncProgress> progress;  // of the running sync
    std::string last_error;                        // Errc wire name of the last attempt, "" if it worked;
                                                   // while running: of the retry under way, if any
    int64_t last_attempt_ms = 0;
    int64_t last_ok_ms = 0;
};

class SyncScheduler {
public:
    SyncScheduler(Tablet& tablet, SyncSchedule schedule = {});
    ~SyncScheduler();
    void start();
    void stop();

    void sync_now(const std::string& id);      // on demand: next
    void after_action(const std::string& id);  // within schedule.after_action
    // Cancels the person's running sync; false if none runs.
    bool cancel(const std::string& id);
    SyncState state(const std::string& id);
    void forget(const std::string& id);

private:
    void loop();
    void run_one(const std::string& id);
    using Clock = std::chrono::steady_clock;

    Tablet& tablet_;
    SyncSchedule schedule_;
    std::mutex mu_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::map<std::string, Clock::time_point> due_;  // under mu_
    std::map<std::string, int> failures_;           // under mu_
    std::map<std::string, SyncState> states_;       // under mu_
    std::map<std::string, client::SyncCancel> cancels_;
    std::thread thread_;
};

}  // namespace tundra::app
