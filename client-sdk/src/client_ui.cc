// The Client facade, what a UI needs (issue 10): change notifications, one sync per Client
// and thread, local settings, and the views behind the app's screens (persons, sites, a
// person's attendance).
#include <algorithm>

#include "client_internal.h"

namespace tundra::client {

// ---- change notifications -----------------------------------------------------------------
// No lock is held while a subscriber runs: it may call the Client (and be notified again),
// subscribe or unsubscribe, and two threads' changes may call it at the same time. After
// unsubscribe returns it is not called again (a call already running elsewhere finishes).
struct Notifier::Subscriber {
    std::function<void(const ChangeEvent&)> fn;
    std::atomic<bool> active{true};
};

uint64_t Notifier::subscribe(std::function<void(const ChangeEvent&)> fn) {
    auto sub = std::make_shared<Subscriber>();
    sub->fn = std::move(fn);
    std::lock_guard<std::mutex> g(mu_);
    uint64_t id = next_++;
    subs_.emplace(id, std::move(sub));
    return id;
}

void Notifier::unsubscribe(uint64_t id) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = subs_.find(id);
    if (it == subs_.end()) return;
    it->second->active = false;
    subs_.erase(it);
}

void Notifier::fire(const std::vector<ChangeEvent>& events) noexcept {
    if (events.empty()) return;
    std::vector<std::shared_ptr<Subscriber>> subs;
    try {
        std::lock_guard<std::mutex> g(mu_);
        for (auto& [id, sub] : subs_) subs.push_back(sub);
    } catch (...) {
        return;
    }
    for (auto& e : events)
        for (auto& sub : subs) {
            if (!sub->active) continue;
            try {
                sub->fn(e);
            } catch (...) {
                // A subscriber's failure is its own: the change is committed either way.
            }
        }
}

std::vector<std::string> action_kinds(const Action& a) {
    std::vector<std::string> kinds;
    if (auto* spec = action_spec(a.type)) kinds.emplace_back(entity(spec->target).name);
    if (a.type == "walk_in") {
        // The enrolment it creates, its mark, and a person registered by name.
        kinds.emplace_back(entity(Kind::attendance).name);
        if (a.fields.count("name")) kinds.emplace_back(entity(Kind::person).name);
    }
    return kinds;
}

std::vector<std::string> all_kinds(std::initializer_list<const char*> also) {
    std::vector<std::string> kinds;
    for (auto& e : all_entities()) kinds.emplace_back(e.name);
    for (const char* k : also) kinds.emplace_back(k);
    return kinds;
}

uint64_t Client::subscribe(std::function<void(const ChangeEvent&)> fn) {
    if (!fn) return 0;
    return impl_->notifier.subscribe(std::move(fn));
}

void Client::unsubscribe(uint64_t id) { impl_->notifier.unsubscribe(id); }

// ---- one sync at a time ---------------------------------------------------------------------
namespace {
// The Clients whose sync lock this thread holds.
thread_local std::vector<const ClientCore*> tls_syncing;
}  // namespace

SyncLock::SyncLock(ClientCore& core) : core_(core) {
    if (std::find(tls_syncing.begin(), tls_syncing.end(), &core) != tls_syncing.end()) return;
    core.sync_mu.lock();
    tls_syncing.push_back(&core);
    held_ = true;
}

SyncLock::~SyncLock() {
    if (!held_) return;
    tls_syncing.erase(std::find(tls_syncing.begin(), tls_syncing.end(), &core_));
    core_.sync_mu.unlock();
}

Status SyncLock::status() const {
    if (held_) return Status::ok();
    return Status(Errc::conflict,
                  "a sync, login or logout is already running on this thread (called from a change "
                  "notification?); start it after the notification returns");
}

// ---- settings -------------------------------------------------------------------------------
namespace {
Status check_setting_key(const std::string& key) {
    if (key.empty() || key.size() > 100)
        return Status(Errc::invalid_argument, "key: a setting's name has 1 to 100 characters");
    return Status::ok();
}
}  // namespace

Status Client::set_setting(const std::string& key, const std::string& value) {
    return impl_->locked([&]() -> Status {
        TUNDRA_TRY(check_setting_key(key));
        if (value.size() > 64 * 1024)
            return Status(Errc::invalid_argument, "value: a setting is at most 64 KiB");
        TUNDRA_TRY(impl_->replica->set_setting(key, value));
        impl_->note("settings", {"settings"});
        return Status::ok();
    });
}

Result<std::string> Client::setting(const std::string& key) {
    return impl_->locked([&]() -> Result<std::string> {
        TUNDRA_TRY(check_setting_key(key));
        return impl_->replica->setting(key);
    });
}

// ---- views ----------------------------------------------------------------------------------
Result<std::vector<AttendanceView>> Client::attendance_of(const std::string& person) {
    return impl_->locked([&]() -> Result<std::vector<AttendanceView>> {
        TUNDRA_TRY(impl_->need(Kind::person, person));
        return impl_->replica->attendance_of(person);
    });
}

Result<std::vector<PersonView>> Client::persons(const PersonFilter& filter) {
    return impl_->locked([&]() -> Result<std::vector<PersonView>> { return impl_->replica->persons(filter); });
}

Result<std::vector<SiteView>> Client::sites() {
    return impl_->locked([&]() -> Result<std::vector<SiteView>> { return impl_->replica->sites(); });
}

}  // namespace tundra::client
