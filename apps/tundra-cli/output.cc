// Rendering of SDK views for the CLI: one JSON document with --json, plain text otherwise.
#include "output.h"

#include <cstdio>
#include <sstream>

#include "output_json.h"

namespace tundra::cli {
using json::put;
using json::Writer;

std::string courses_json(const std::vector<client::CourseView>& v) {
    return doc([&](Writer& w) {
        w.StartArray();
        for (auto& c : v) {
            w.StartObject();
            kv(w, "id", c.id);
            kv(w, "title", c.title);
            kv(w, "theme", c.theme);
            kv(w, "format", c.format);
            kv(w, "published", c.published);
            put(w, "occasions");
            w.StartArray();
            for (auto& o : c.occasions) {
                w.StartObject();
                kv(w, "id", o.id);
                kv(w, "starts_at", o.starts_at);
                kv(w, "ends_at", o.ends_at);
                kv_or_null(w, "site", o.site);
                kv(w, "status", o.status);
                kv(w, "enrolment_closes", o.enrolment_closes);
                kv(w, "capacity", o.capacity);
                kv(w, "confirmed", o.confirmed);
                kv(w, "waitlisted", o.waitlisted);
                kv(w, "seats_left", o.seats_left);
                w.EndObject();
            }
            w.EndArray();
            w.EndObject();
        }
        w.EndArray();
    });
}

std::string enrolments_json(const std::vector<client::EnrolmentView>& v) {
    return doc([&](Writer& w) {
        w.StartArray();
        for (auto& e : v) {
            w.StartObject();
            kv(w, "id", e.id);
            kv(w, "occasion", e.occasion);
            kv(w, "person", e.person);
            kv(w, "status", e.status);
            kv(w, "pending", e.pending);
            kv_or_null(w, "reason", e.reason);
            kv_or_null(w, "message", e.message);
            w.EndObject();
        }
        w.EndArray();
    });
}

std::string attendance_json(const std::vector<client::AttendanceView>& v) {
    return doc([&](Writer& w) {
        w.StartArray();
        for (auto& a : v) {
            w.StartObject();
            kv(w, "person", a.person);
            kv(w, "status", a.status);
            put(w, "minutes");
            if (a.minutes) w.Int64(*a.minutes);
            else w.Null();
            kv(w, "pending", a.pending);
            kv(w, "recorded_by", a.recorded_by);
            kv(w, "history", static_cast<int64_t>(a.history));
            w.EndObject();
        }
        w.EndArray();
    });
}

std::string status_json(const client::StatusView& v) {
    return doc([&](Writer& w) {
        w.StartObject();
        kv(w, "pending", v.pending);
        kv_or_null(w, "last_sync", v.last_sync);
        kv_or_null(w, "last_pull", v.last_sync);
        kv_or_null(w, "last_push", v.last_push);
        kv_or_null(w, "user", v.username);
        kv_or_null(w, "role", v.role);
        kv_or_null(w, "server", v.server);
        kv_or_null(w, "device", v.device_id);
        put(w, "rejected");
        w.StartArray();
        for (auto& r : v.rejected) {
            w.StartObject();
            kv(w, "seq", static_cast<int64_t>(r.seq));
            kv(w, "type", r.type);
            kv(w, "target", r.target);
            kv(w, "reason", r.reason);
            kv(w, "message", r.message);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
    });
}

// {"ok":bool,"local":{"count","hash"},"server":{...},"repaired":bool}
std::string verify_json(const client::VerifyReport& v) {
    return doc([&](Writer& w) {
        w.StartObject();
        kv(w, "ok", v.ok);
        for (auto [name, c] : {std::pair{"local", &v.local}, {"server", &v.server}}) {
            put(w, name);
            w.StartObject();
            kv(w, "count", static_cast<int64_t>(c->count));
            kv(w, "hash", c->hash);
            w.EndObject();
        }
        kv(w, "repaired", v.repaired);
        w.EndObject();
    });
}

std::string verify_text(const client::VerifyReport& v) {
    std::string counts = std::to_string(v.local.count) + " rows, hash " + v.local.hash;
    if (v.ok) return "verified: the replica matches the server (" + counts + ")\n";
    if (v.repaired) return "the replica differed from the server and was repaired by a full pull (" + counts + ")\n";
    return "the replica still differs from the server after a full pull: local " + counts + ", server " +
           std::to_string(v.server.count) + " rows, hash " + v.server.hash + "\n";
}

std::string sync_json(const client::SyncReport& r) {
    return doc([&](Writer& w) {
        w.StartObject();
        kv(w, "pushed", r.pushed);
        kv(w, "reset", r.reset);
        kv(w, "removed", r.removed);
        kv(w, "pulled", r.pulled);
        kv(w, "rounds", static_cast<int64_t>(r.rounds));
        kv(w, "requests", static_cast<int64_t>(r.requests));
        kv(w, "bytes_sent", static_cast<int64_t>(r.bytes_sent));
        kv(w, "bytes_received", static_cast<int64_t>(r.bytes_received));
        put(w, "outcomes");
        w.StartArray();
        for (auto& o : r.outcomes) {
            w.StartObject();
            kv(w, "seq", static_cast<int64_t>(o.seq));
            kv(w, "type", o.type);
            kv(w, "target", o.target);
            kv(w, "result", o.result);
            kv_or_null(w, "reason", o.reason);
            kv_or_null(w, "message", o.message);
            kv_or_null(w, "status", o.status);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
    });
}

std::string courses_text(const std::vector<client::CourseView>& v) {
    std::ostringstream os;
    if (v.empty()) os << "no courses in this replica (run `tundra sync`)\n";
    for (auto& c : v) {
        os << c.title << "  [" << c.id << ", " << c.format << (c.published ? "" : ", draft") << "]\n";
        for (auto& o : c.occasions) {
            os << "    " << pad(o.id, 22) << o.starts_at.substr(0, 16) << "  "
               << pad(o.site.empty() ? "online" : o.site, 22) << o.seats_left << "/" << o.capacity
               << " seats left";
            if (o.waitlisted) os << ", " << o.waitlisted << " waitlisted";
            if (o.status != "planned") os << "  (" << o.status << ")";
            os << "\n";
        }
    }
    return os.str();
}

std::string enrolments_text(const std::vector<client::EnrolmentView>& v) {
    std::ostringstream os;
    if (v.empty()) os << "no enrolments\n";
    for (auto& e : v) {
        os << pad(e.id, 28) << pad(e.occasion, 22) << pad(e.person_name.empty() ? e.person : e.person_name, 24)
           << e.status;
        if (e.pending) os << " (pending sync)";
        if (!e.reason.empty()) os << " — " << e.reason;
        if (!e.message.empty()) os << ": " << e.message;
        os << "\n";
    }
    return os.str();
}

std::string attendance_text(const std::vector<client::AttendanceView>& v) {
    std::ostringstream os;
    if (v.empty()) os << "no attendance marked\n";
    for (auto& a : v) {
        os << pad(a.person_name.empty() ? a.person : a.person_name, 26) << pad(a.status, 12);
        if (a.minutes) os << *a.minutes << " min";
        os << "  by " << a.recorded_by;
        if (a.pending) os << " (pending sync)";
        if (a.history > 1) os << "  [" << a.history << " marks in history]";
        os << "\n";
    }
    return os.str();
}

std::string status_text(const client::StatusView& v) {
    std::ostringstream os;
    if (v.username.empty()) return "not logged in\n";
    os << "user " << v.username << " (" << v.role << ") on " << v.server << ", device " << v.device_id << "\n";
    os << "last complete pull: " << (v.last_sync.empty() ? "never" : v.last_sync) << "\n";
    os << "last actions acknowledged: " << (v.last_push.empty() ? "never" : v.last_push) << "\n";
    os << "queued actions: " << v.pending << "\n";
    for (auto& r : v.rejected)
        os << "rejected #" << r.seq << " " << r.type << " " << r.target << ": " << r.reason << " — "
           << r.message << "  (tundra dismiss " << r.seq << ")\n";
    return os.str();
}

std::string sync_text(const client::SyncReport& r) {
    std::ostringstream os;
    os << "synced: pushed " << r.pushed << " action(s), pulled " << r.pulled << " change(s) in "
       << r.rounds << " round(s); " << r.bytes_sent << " B up, " << r.bytes_received << " B down\n";
    if (r.reset)
        os << "  the server could not continue from this replica's last sync (away too long, or your "
              "access changed): the replica was rebuilt, queued actions kept, "
           << r.removed << " row(s) you should no longer hold removed\n";
    for (auto& o : r.outcomes) {
        os << "  #" << o.seq << " " << o.type << " " << o.target << ": " << o.result;
        if (!o.status.empty()) os << " → " << o.status;
        if (!o.reason.empty()) os << " (" << o.reason << ")";
        if (!o.message.empty()) os << " — " << o.message;
        os << "\n";
    }
    return os.str();
}

}  // namespace tundra::cli
