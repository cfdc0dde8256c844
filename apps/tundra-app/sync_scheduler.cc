// When each person's replica syncs (sync_scheduler.h).
#include "sync_scheduler.h"

#include <algorithm>

namespace tundra::app {
namespace {
int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}
}  // namespace

SyncScheduler::SyncScheduler(Tablet& tablet, SyncSchedule schedule) : tablet_(tablet), schedule_(schedule) {}

SyncScheduler::~SyncScheduler() { stop(); }

void SyncScheduler::start() {
    {
        std::lock_guard lock(mu_);
        for (auto& p : tablet_.people()) due_[p->id] = Clock::now();  // everyone at start
    }
    thread_ = std::thread([this] { loop(); });
}

void SyncScheduler::stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        stopping_ = true;
        for (auto& [id, c] : cancels_) c.cancel();
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void SyncScheduler::sync_now(const std::string& id) {
    {
        std::lock_guard lock(mu_);
        due_[id] = Clock::now();
        failures_[id] = 0;
    }
    wake_.notify_all();
}

void SyncScheduler::after_action(const std::string& id) {
    {
        std::lock_guard lock(mu_);
        // A batch of taps is one sync: each action moves the sync to a little after it.
        due_[id] = Clock::now() + schedule_.after_action;
    }
    wake_.notify_all();
}

bool SyncScheduler::cancel(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = cancels_.find(id);
    if (it == cancels_.end()) return false;
    it->second.cancel();
    return true;
}

SyncState SyncScheduler::state(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = states_.find(id);
    return it == states_.end() ? SyncState{} : it->second;
}

void SyncScheduler::forget(const std::string& id) {
    std::lock_guard lock(mu_);
    due_.erase(id);
    failures_.erase(id);
    states_.erase(id);
}

void SyncScheduler::loop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        auto next = std::min_element(due_.begin(), due_.end(),
                                     [](auto& a, auto& b) { return a.second < b.second; });
        if (next == due_.end()) {
            wake_.wait(lock);
            continue;
        }
        if (next->second > Clock::now()) {
            wake_.wait_until(lock, next->second);
            continue;
        }
        std::string id = next->first;
        // Until it ends, the next regular sync is an interval away (an action meanwhile
        // brings it closer again).
        next->second = Clock::now() + schedule_.interval;
        lock.unlock();
        run_one(id);
        lock.lock();
    }
}

void SyncScheduler::run_one(const std::string& id) {
    auto person = tablet_.find(id);
    if (!person) return forget(id);
    auto st = person->client->status();
    if (!st || !st->logged_in) {  // signed out or wiped: nothing to sync until a sign-in
        std::lock_guard lock(mu_);
        due_.erase(id);
        return;
    }
    client::SyncOptions so;
    so.deadline = schedule_.deadline;
    {
        std::lock_guard lock(mu_);
        cancels_[id] = so.cancel;
        auto& s = states_[id];
        s.running = true;
        s.progress.reset();
        s.last_attempt_ms = wall_ms();
    }
    so.progress = [this, id](const client::SyncProgress& p) {
        std::lock_guard lock(mu_);
        auto& s = states_[id];
        s.progress = p;
        // While the sync waits to retry a failing link, every screen says so at once (not
        // "connected" for the whole deadline); a round that gets through clears it.
        if (p.retrying != Errc::ok) s.last_error = std::string(errc_info(p.retrying).wire_name);
        else s.last_error.clear();
    };
    auto r = person->client->sync(so);
    std::lock_guard lock(mu_);
    cancels_.erase(id);
    auto& s = states_[id];
    s.running = false;
    s.progress.reset();
    if (r) {
        s.last_error.clear();
        s.last_ok_ms = wall_ms();
        failures_[id] = 0;
        return;
    }
    s.last_error = std::string(errc_info(r.status().code()).wire_name);
    Errc code = r.status().code();
    if (code == Errc::cancelled) return;  // the person asked; the regular schedule stands
    if (r.status().retryable()) {
        // The link is down or the server busy: probe again soon, then less often.
        int n = ++failures_[id];
        auto wait = std::min(schedule_.retry_max, schedule_.retry_min * (1 << std::min(n - 1, 4)));
        if (r.status().retry_after_s() > 0)
            wait = std::max<std::chrono::milliseconds>(wait, std::chrono::seconds(r.status().retry_after_s()));
        due_[id] = Clock::now() + wait;
    }
}

}  // namespace tundra::app
