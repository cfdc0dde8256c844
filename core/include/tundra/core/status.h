// Failures as values: every fallible call in Tundra returns a Status or a Result<T>.
// Exceptions are reserved for programming errors and are caught at each boundary
// (HTTP handler, public SDK call, CLI main) so nothing throws across them.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tundra {

// The one error table. Each code knows its wire name, its HTTP status and whether a
// retry can possibly help; the client's backoff reads `retryable`, never the message.
enum class Errc {
    ok = 0,
    invalid_argument,    // a value the caller gave is not acceptable
    malformed,           // the request/document could not be parsed or has wrong types
    unauthorized,        // missing, unknown, expired or revoked credentials
    forbidden,           // authenticated, but outside the user's scope or role
    not_found,           // unknown id
    conflict,            // state does not allow the operation
    too_large,           // body or document over the limit
    unsupported_version, // protocol version refused
    storage,             // the database failed (disk full, I/O error, corrupt file)
    busy,                // the database is locked by another writer; retry later
    network,             // could not reach the server or the link dropped
    timeout,             // the operation ran out of time
    overloaded,          // the server asks the client to come back later
    server_error,        // the server answered 5xx
    internal,            // a bug
    rate_limited,        // too many failed attempts; wait Retry-After (never auto-retried for a login)
    revoked,             // this device or user was revoked: remote wipe (issue 8)
    cancelled,           // the caller cancelled the operation (a sync); local only, never on the wire
};

struct ErrcInfo {
    std::string_view wire_name;
    int http_status;
    bool retryable;
};

const ErrcInfo& errc_info(Errc code);
// Maps a wire name back to a code; unknown names map to Errc::internal.
Errc errc_from_wire(std::string_view name);

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}
    // `retry_after_s`: how long the caller must wait before trying again (the HTTP
    // Retry-After of a `rate_limited` or `overloaded` answer); 0 = unspecified.
    Status(Errc code, std::string message, int retry_after_s)
        : code_(code), message_(std::move(message)), retry_after_s_(retry_after_s) {}
    static Status ok() { return Status(); }

    bool is_ok() const { return code_ == Errc::ok; }
    explicit operator bool() const { return is_ok(); }
    Errc code() const { return code_; }
    const std::string& message() const { return message_; }
    bool retryable() const { return errc_info(code_).retryable; }
    int retry_after_s() const { return retry_after_s_; }
    // "wire_name: message"
    std::string to_string() const;

private:
    Errc code_ = Errc::ok;
    std::string message_;
    int retry_after_s_ = 0;
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).is_ok()); }
    Result(Errc code, std::string message) : v_(Status(code, std::move(message))) {}

    bool is_ok() const { return v_.index() == 0; }
    explicit operator bool() const { return is_ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    // By value, so that `for (auto& x : f().value())` does not dangle.
    T value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const Status& status() const {
        static const Status kOk;
        return is_ok() ? kOk : std::get<1>(v_);
    }

private:
    std::variant<T, Status> v_;
};

#define TUNDRA_TRY(expr)                           \
    do {                                           \
        ::tundra::Status tundra_st_ = (expr);      \
        if (!tundra_st_.is_ok()) return tundra_st_; \
    } while (0)

}  // namespace tundra
