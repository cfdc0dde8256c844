// The Client facade, unlocking a shared tablet: the PIN (a PBKDF2 verifier, wrong PINs counted
// in the replica with a growing wait), the offline password check against the verifier kept at
// login, and changing the password on the server (POST /v1/password).
#include <algorithm>
#include <optional>

#include "client_internal.h"
#include "tundra/core/crypto.h"
#include "tundra/core/protocol.h"

namespace tundra::client {
namespace {
// A PIN has few possible values: its verifier's cost is not what protects it, the wait after
// wrong tries is (and after kPinPasswordAfter the password is needed).
constexpr int kPinKdfIterations = 20000;
constexpr int kPinFreeFailures = 5;
constexpr int kPinPasswordAfter = 10;
constexpr int64_t kPinFirstWaitMs = 30'000;

// How long the next try must wait after `failures` wrong PINs in a row: nothing for the first
// five, then 30 s doubling (30, 60, 120, 240, 480 s).
int64_t pin_wait_ms(int failures) {
    if (failures < kPinFreeFailures) return 0;
    return kPinFirstWaitMs << std::min(failures - kPinFreeFailures, 20);
}

int seconds_up(int64_t ms) { return static_cast<int>((ms + 999) / 1000); }

// A try refused before the (slow) check: no verifier, too many wrong PINs, or a wait not over.
std::optional<PinCheck> refusal(const UnlockState& u, int64_t now) {
    PinCheck c;
    c.failures = u.pin_failures;
    if (u.pin_verifier.empty()) {
        c.outcome = PinCheck::Outcome::no_pin;
        return c;
    }
    if (u.pin_failures >= kPinPasswordAfter) {
        c.outcome = PinCheck::Outcome::password_needed;
        return c;
    }
    int64_t wait = pin_wait_ms(u.pin_failures);
    // A clock set back does not make the wait longer than it was.
    int64_t left = std::min(wait, u.pin_failed_ms + wait - now);
    if (wait > 0 && left > 0) {
        c.outcome = PinCheck::Outcome::wait;
        c.retry_after_s = seconds_up(left);
        return c;
    }
    return std::nullopt;
}

Status check_pin_format(const std::string& pin) {
    bool digits = std::all_of(pin.begin(), pin.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (pin.size() < 4 || pin.size() > 6 || !digits)
        return Status(Errc::invalid_argument, "pin: 4 to 6 digits");
    return Status::ok();
}
}  // namespace

std::string password_verifier(const std::string& password) { return hash_password(password); }

Status Client::set_pin(const std::string& pin) {
    TUNDRA_TRY(check_pin_format(pin));
    std::string verifier = hash_password(pin, kPinKdfIterations);  // slow: outside the lock
    return impl_->locked([&]() -> Status {
        auto& I = *impl_;
        TUNDRA_TRY(I.signed_in().status());
        auto txn = I.replica->transaction();
        TUNDRA_TRY(txn.begin());
        auto u = I.replica->load_unlock();
        if (!u) return u.status();
        u->pin_verifier = verifier;
        u->pin_failures = 0;
        u->pin_failed_ms = 0;
        TUNDRA_TRY(I.replica->save_unlock(u.value()));
        TUNDRA_TRY(txn.commit());
        I.note("settings", {"session"});
        return Status::ok();
    });
}

Result<PinCheck> Client::pin_status() {
    auto& I = *impl_;
    auto u = I.locked([&]() -> Result<UnlockState> { return I.replica->load_unlock(); });
    if (!u) return u.status();
    if (auto r = refusal(u.value(), static_cast<int64_t>(I.wall()))) return *r;
    return PinCheck{PinCheck::Outcome::ok, u->pin_failures, 0};
}

bool Client::has_pin() {
    auto u = impl_->locked([&]() -> Result<UnlockState> { return impl_->replica->load_unlock(); });
    return u && !u->pin_verifier.empty();
}

Result<PinCheck> Client::check_pin(const std::string& pin) {
    auto& I = *impl_;
    auto before = I.locked([&]() -> Result<UnlockState> { return I.replica->load_unlock(); });
    if (!before) return before.status();
    if (auto r = refusal(before.value(), static_cast<int64_t>(I.wall()))) return *r;
    if (check_pin_format(pin).is_ok() && verify_password(pin, before->pin_verifier)) {
        return I.locked([&]() -> Result<PinCheck> {
            auto txn = I.replica->transaction();
            TUNDRA_TRY(txn.begin());
            auto u = I.replica->load_unlock();
            if (!u) return u.status();
            // Another try may have been counted meanwhile: it decides.
            if (auto r = refusal(u.value(), static_cast<int64_t>(I.wall()))) return *r;
            if (u->pin_verifier != before->pin_verifier) return PinCheck{PinCheck::Outcome::wrong, u->pin_failures, 0};
            u->pin_failures = 0;
            u->pin_failed_ms = 0;
            TUNDRA_TRY(I.replica->save_unlock(u.value()));
            TUNDRA_TRY(txn.commit());
            return PinCheck{PinCheck::Outcome::ok, 0, 0};
        });
    }
    return I.locked([&]() -> Result<PinCheck> {
        auto txn = I.replica->transaction();
        TUNDRA_TRY(txn.begin());
        auto u = I.replica->load_unlock();
        if (!u) return u.status();
        int64_t now = static_cast<int64_t>(I.wall());
        if (auto r = refusal(u.value(), now)) return *r;
        u->pin_failures += 1;
        u->pin_failed_ms = now;
        TUNDRA_TRY(I.replica->save_unlock(u.value()));
        TUNDRA_TRY(txn.commit());
        PinCheck c;
        c.failures = u->pin_failures;
        c.outcome = u->pin_failures >= kPinPasswordAfter ? PinCheck::Outcome::password_needed
                                                         : PinCheck::Outcome::wrong;
        if (c.outcome == PinCheck::Outcome::wrong) c.retry_after_s = seconds_up(pin_wait_ms(u->pin_failures));
        return c;
    });
}

Result<bool> Client::check_password(const std::string& password) {
    auto& I = *impl_;
    auto before = I.locked([&]() -> Result<UnlockState> { return I.replica->load_unlock(); });
    if (!before) return before.status();
    if (before->password_verifier.empty())
        return Status(Errc::conflict, "no password is kept on this device: sign in online");
    if (!verify_password(password, before->password_verifier))
        return Status(Errc::unauthorized, "wrong password");
    TUNDRA_TRY(I.locked([&]() -> Status {
        auto txn = I.replica->transaction();
        TUNDRA_TRY(txn.begin());
        auto u = I.replica->load_unlock();
        if (!u) return u.status();
        u->pin_failures = 0;
        u->pin_failed_ms = 0;
        TUNDRA_TRY(I.replica->save_unlock(u.value()));
        return txn.commit();
    }));
    return true;
}

Status Client::change_password(const std::string& current, const std::string& next) {
    return guard([&]() -> Status {
        auto& I = *impl_;
        SyncLock one_sync(I);  // the transport is not thread-safe
        TUNDRA_TRY(one_sync.status());
        ReplicaMeta m = I.with_replica([](Replica& r) { return r.load_meta(); });
        TUNDRA_TRY(I.require_login(m));
        PasswordChangeRequest req;
        req.current_password = current;
        req.new_password = next;
        auto reply = post_password_request(I, I.transport_for(m), "/v1/password", encode(req),
                                           {{"Authorization", "Bearer " + m.token}});
        if (!reply) return reply.status();
        if (reply->status != 200) {
            Status st = error_from_reply(reply.value());
            if (st.code() == Errc::revoked) return wipe_after_revocation(I);
            return st;
        }
        std::string verifier = password_verifier(next);  // slow: outside the replica lock
        return I.with_replica([&](Replica& r) -> Status {
            auto txn = r.transaction();
            TUNDRA_TRY(txn.begin());
            auto u = r.load_unlock();
            if (!u) return u.status();
            u->password_verifier = verifier;
            TUNDRA_TRY(r.save_unlock(u.value()));
            return txn.commit();
        });
    });
}

}  // namespace tundra::client
