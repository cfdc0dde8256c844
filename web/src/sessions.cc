// In-memory browser sessions (sessions.h).
#include "tundra/web/sessions.h"

#include <vector>

#include "tundra/core/crypto.h"

namespace tundra::web {

SessionTable::SessionTable(std::chrono::milliseconds idle, std::chrono::milliseconds max_age,
                           std::function<int64_t()> clock)
    : idle_(idle), max_age_(max_age), clock_(std::move(clock)) {
    if (!clock_)
        clock_ = [] {
            return std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                .count();
        };
}

std::string SessionTable::create(std::string subject, std::string state) {
    std::string token = random_hex(32);
    int64_t now = clock_();
    std::lock_guard lock(mu_);
    // Expired sessions are dropped as new ones begin, so the table stays small.
    for (auto it = by_hash_.begin(); it != by_hash_.end();) {
        bool dead = now - it->second.last_active_ms >= idle_.count() || now - it->second.created_ms >= max_age_.count();
        it = dead ? by_hash_.erase(it) : std::next(it);
    }
    by_hash_[sha256_hex(token)] = Session{std::move(subject), std::move(state), now, now};
    return token;
}

std::optional<Session> SessionTable::find(std::string_view token, bool touch) {
    if (token.empty()) return std::nullopt;
    std::string key = sha256_hex(token);
    int64_t now = clock_();
    std::lock_guard lock(mu_);
    auto it = by_hash_.find(key);
    if (it == by_hash_.end()) return std::nullopt;
    if (now - it->second.last_active_ms >= idle_.count() || now - it->second.created_ms >= max_age_.count()) {
        by_hash_.erase(it);
        return std::nullopt;
    }
    if (touch) it->second.last_active_ms = now;
    return it->second;
}

int64_t SessionTable::expires_at(std::string_view token) {
    std::string key = sha256_hex(token);
    std::lock_guard lock(mu_);
    auto it = by_hash_.find(key);
    if (it == by_hash_.end()) return 0;
    return std::min(it->second.last_active_ms + idle_.count(), it->second.created_ms + max_age_.count());
}

bool SessionTable::set_state(std::string_view token, std::string state) {
    std::string key = sha256_hex(token);
    std::lock_guard lock(mu_);
    auto it = by_hash_.find(key);
    if (it == by_hash_.end()) return false;
    it->second.state = std::move(state);
    return true;
}

void SessionTable::erase(std::string_view token) {
    std::string key = sha256_hex(token);
    std::lock_guard lock(mu_);
    by_hash_.erase(key);
}

void SessionTable::erase_subject(std::string_view subject) {
    std::lock_guard lock(mu_);
    for (auto it = by_hash_.begin(); it != by_hash_.end();)
        it = it->second.subject == subject ? by_hash_.erase(it) : std::next(it);
}

size_t SessionTable::size() {
    std::lock_guard lock(mu_);
    return by_hash_.size();
}

}  // namespace tundra::web
