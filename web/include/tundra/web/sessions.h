// Browser sessions of a single-process local server (the tablet app): an opaque random
// token in an HttpOnly, SameSite=Strict cookie names a subject (whose replica) and a state
// (e.g. "pin_setup", "unlocked"). A session ends after `idle` without activity or `max_age`
// after it began. Only the token's SHA-256 is kept, so the table never holds a usable
// cookie. In process memory by design: the tablet app is one process whose sessions must
// end with it (the sync server's console keeps its sessions in the store). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace tundra::web {

struct Session {
    std::string subject;
    std::string state;
    int64_t created_ms = 0;
    int64_t last_active_ms = 0;
};

class SessionTable {
public:
    // `clock`: ms since the epoch (tests pass a fake); default: the system clock.
    SessionTable(std::chrono::milliseconds idle, std::chrono::milliseconds max_age,
                 std::function<int64_t()> clock = {});

    // A new session; returns its token (64 hex characters).
    std::string create(std::string subject, std::string state);
    // The live session of `token`, or nothing (unknown, idle too long, too old: then it is
    // dropped). `touch`: this request is the person's own activity (background polls are not).
    std::optional<Session> find(std::string_view token, bool touch);
    // When the session of `token` would lock if nothing happens (ms since the epoch); 0 if none.
    int64_t expires_at(std::string_view token);
    bool set_state(std::string_view token, std::string state);
    void erase(std::string_view token);
    // Ends every session of `subject` (the person signed out or was wiped).
    void erase_subject(std::string_view subject);
    size_t size();

private:
    std::chrono::milliseconds idle_, max_age_;
    std::function<int64_t()> clock_;
    std::mutex mu_;
    std::map<std::string, Session, std::less<>> by_hash_;  // sha256(token) -> session
};

}  // namespace tundra::web
