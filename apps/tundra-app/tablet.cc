// The people on this tablet and their replicas (tablet.h).
#include "tablet.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "tundra/core/crypto.h"

namespace tundra::app {
namespace fs = std::filesystem;

std::string Tablet::id_for(const std::string& username) {
    std::string lower = username;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return sha256_hex("tundra-app person " + lower).substr(0, 20);
}

std::string Tablet::replica_path(const std::string& id) const {
    return (fs::path(opts_.data_dir) / "people" / (id + ".db")).string();
}

void Tablet::delete_replica_files(const std::string& id) const {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        std::error_code ec;
        fs::remove(replica_path(id) + suffix, ec);
    }
}

Result<std::unique_ptr<Tablet>> Tablet::open(TabletOptions opts) {
    std::error_code ec;
    fs::create_directories(fs::path(opts.data_dir) / "people", ec);
    if (ec) return Status(Errc::storage, "cannot create the data folder " + opts.data_dir + ": " + ec.message());
    // Replicas hold other people's personal data: only this user may list the folder.
    ::chmod(opts.data_dir.c_str(), 0700);
    ::chmod((fs::path(opts.data_dir) / "people").c_str(), 0700);
    std::unique_ptr<Tablet> t(new Tablet(std::move(opts)));
    for (auto& entry : fs::directory_iterator(fs::path(t->opts_.data_dir) / "people", ec)) {
        auto name = entry.path().filename().string();
        if (entry.path().extension() != ".db") continue;
        std::string id = name.substr(0, name.size() - 3);
        auto p = t->open_person(id);
        if (!p) return p.status();
        t->people_.push_back(std::move(p.value()));
    }
    if (ec) return Status(Errc::storage, "cannot read " + t->opts_.data_dir + ": " + ec.message());
    return t;
}

Tablet::~Tablet() {
    for (auto& p : people_)
        if (p->client) p->client->unsubscribe(p->subscription);
}

Result<std::shared_ptr<Person>> Tablet::open_person(const std::string& id) {
    client::ClientOptions co = opts_.client;
    co.install_id_path = (fs::path(opts_.data_dir) / "install-id").string();
    co.device_name = "tundra-app";
    co.app_version = opts_.app_version;
    auto c = client::Client::open(replica_path(id), co);
    if (!c) return c.status();
    auto p = std::make_shared<Person>();
    p->id = id;
    p->client = std::move(c.value());
    std::weak_ptr<Person> weak = p;
    // Every committed change (an action, a synced page, a wipe) moves the person's revision:
    // the page polls it and re-renders the screen it shows.
    p->subscription = p->client->subscribe([weak](const client::ChangeEvent&) {
        if (auto self = weak.lock()) ++self->revision;
    });
    return p;
}

std::vector<std::shared_ptr<Person>> Tablet::people() {
    std::vector<std::shared_ptr<Person>> out;
    {
        std::lock_guard lock(mu_);
        out = people_;
    }
    std::vector<std::pair<std::string, std::shared_ptr<Person>>> named;
    for (auto& p : out) {
        auto st = p->client->status();
        std::string name = st ? (st->name.empty() ? st->username : st->name) : std::string();
        named.emplace_back(name, p);
    }
    std::sort(named.begin(), named.end(), [](auto& a, auto& b) { return a.first < b.first; });
    out.clear();
    for (auto& n : named) out.push_back(n.second);
    return out;
}

std::shared_ptr<Person> Tablet::find(const std::string& id) {
    std::lock_guard lock(mu_);
    for (auto& p : people_)
        if (p->id == id) return p;
    return nullptr;
}

Result<std::string> Tablet::sign_in(const std::string& username, const std::string& password) {
    std::lock_guard one(sign_in_mu_);
    std::string id = id_for(username);
    auto person = find(id);
    bool fresh = !person;
    if (fresh) {
        auto p = open_person(id);
        if (!p) return p.status();
        person = p.value();
    }
    auto forget = [&] {
        if (!fresh) return;
        person->client->unsubscribe(person->subscription);
        person->client.reset();
        delete_replica_files(id);
    };
    Status st = person->client->login(opts_.server_url, username, password, opts_.login);
    if (!st) {
        forget();
        return st;
    }
    auto who = person->client->status();
    if (!who) {
        forget();
        return who.status();
    }
    if (who->role == "admin") {
        // Nothing of an admin stays on a tablet: the device identity is given up at once.
        (void)person->client->logout();
        forget();
        return Status(Errc::forbidden, "admin_use_console");
    }
    if (fresh) {
        std::lock_guard lock(mu_);
        people_.push_back(person);
    }
    return id;
}

Status Tablet::remove(const std::string& id, const std::string& export_path) {
    auto person = find(id);
    if (!person) return Status(Errc::not_found, "no such person on this tablet");
    auto out = person->client->logout(export_path);
    if (!out) return out.status();
    {
        std::lock_guard lock(mu_);
        people_.erase(std::remove(people_.begin(), people_.end(), person), people_.end());
    }
    // Another thread may still hold the person (a sync finishing): the Client closes with the
    // last reference; its files, already emptied by logout(), go now.
    person->client->unsubscribe(person->subscription);
    delete_replica_files(id);
    return Status::ok();
}

}  // namespace tundra::app
