// Rendering of the programme's records for the CLI (todo, attest, the deviation log): one
// JSON document with --json, plain text otherwise.
#include <sstream>

#include "output.h"
#include "output_json.h"

namespace tundra::cli {
using json::put;
using json::Writer;

namespace {
void deviation_object(Writer& w, const client::DeviationView& d) {
    w.StartObject();
    kv(w, "id", d.id);
    kv(w, "organisation", d.organisation);
    kv_or_null(w, "occasion", d.occasion);
    kv(w, "category", d.category);
    kv(w, "description", d.description);
    kv(w, "status", d.status);
    kv_or_null(w, "action_taken", d.action_taken);
    kv(w, "pending", d.pending);
    w.EndObject();
}

void deviation_line(std::ostringstream& os, const client::DeviationView& d) {
    os << "  " << pad(d.id, 28) << pad(d.organisation, 12) << pad(d.category, 18) << d.status;
    if (d.pending) os << " (pending sync)";
    os << "\n      " << d.description;
    if (!d.occasion.empty()) os << "  [occasion " << d.occasion << "]";
    os << "\n";
    if (!d.action_taken.empty()) os << "      action taken: " << d.action_taken << "\n";
}
}  // namespace

std::string suggestion_json(const client::AttestSuggestion& s) {
    return doc([&](Writer& w) {
        w.StartObject();
        kv(w, "month", s.month);
        kv(w, "suggested_minutes", s.suggested_minutes);
        kv(w, "occasions", s.occasions);
        kv(w, "attested_minutes", s.attested);
        kv(w, "pending", s.pending);
        w.EndObject();
    });
}

std::string suggestion_text(const client::AttestSuggestion& s) {
    std::ostringstream os;
    os << s.month << ": your attendance marks suggest " << s.suggested_minutes << " minutes ("
       << s.occasions << " occasion" << (s.occasions == 1 ? "" : "s") << ")\n";
    if (s.attested)
        os << "attested: " << *s.attested << " minutes" << (s.pending ? " (pending sync)" : "") << "\n";
    os << "confirm with: tundra attest " << s.month << " " << s.suggested_minutes << "\n";
    return os.str();
}

std::string attested_json(const std::string& id, const client::AttestSuggestion& s, int64_t minutes) {
    return doc([&](Writer& w) {
        w.StartObject();
        kv(w, "attestation", id);
        kv(w, "month", s.month);
        kv(w, "minutes", minutes);
        kv(w, "suggested_minutes", s.suggested_minutes);
        kv(w, "pending", true);
        w.EndObject();
    });
}

std::string attested_text(const std::string& id, const client::AttestSuggestion& s, int64_t minutes) {
    std::ostringstream os;
    os << "attestation " << id << " recorded: " << minutes << " minutes for " << s.month
       << " (your marks suggest " << s.suggested_minutes << "; pending until `tundra sync`)\n";
    return os.str();
}

std::string deviations_json(const std::vector<client::DeviationView>& v) {
    return doc([&](Writer& w) {
        w.StartArray();
        for (auto& d : v) deviation_object(w, d);
        w.EndArray();
    });
}

std::string deviations_text(const std::vector<client::DeviationView>& v) {
    std::ostringstream os;
    if (v.empty()) os << "no deviations\n";
    for (auto& d : v) deviation_line(os, d);
    return os.str();
}

std::string todo_json(const client::TodoView& t) {
    return doc([&](Writer& w) {
        w.StartObject();
        kv_or_null(w, "role", t.role);
        kv_or_null(w, "person", t.person);
        put(w, "surveys");
        w.StartArray();
        for (auto& s : t.surveys) {
            w.StartObject();
            kv(w, "occasion", s.occasion);
            kv(w, "course_title", s.course_title);
            kv(w, "ends_at", s.ends_at);
            kv(w, "closes_at", s.closes_at);
            kv(w, "closes_on", s.closes_on);
            w.EndObject();
        }
        w.EndArray();
        put(w, "months");
        w.StartArray();
        for (auto& m : t.months) {
            w.StartObject();
            kv(w, "month", m.month);
            kv(w, "suggested_minutes", m.suggested_minutes);
            kv(w, "occasions", m.occasions);
            kv(w, "in_participation", m.in_participation);
            w.EndObject();
        }
        w.EndArray();
        put(w, "changed");
        w.StartArray();
        for (auto& n : t.changed) {
            w.StartObject();
            kv(w, "id", n.id);
            kv(w, "kind", n.kind);
            kv(w, "occasion", n.occasion);
            kv(w, "course_title", n.course_title);
            kv_or_null(w, "enrolment", n.enrolment);
            kv(w, "before", n.before);
            kv(w, "after", n.after);
            kv(w, "noticed_at", n.noticed_at);
            kv(w, "message", n.message);
            w.EndObject();
        }
        w.EndArray();
        put(w, "open_deviations");
        w.StartArray();
        for (auto& d : t.open_deviations) deviation_object(w, d);
        w.EndArray();
        w.EndObject();
    });
}

std::string todo_text(const client::TodoView& t) {
    std::ostringstream os;
    if (!t.surveys.empty()) {
        os << "Surveys to answer (" << t.surveys.size() << "):\n";
        for (auto& s : t.surveys)
            os << "  " << pad(s.occasion, 14) << pad(s.course_title, 28) << "open until " << s.closes_on
               << "   tundra survey " << s.occasion << " --content N --usefulness N --overall N\n";
    }
    if (!t.months.empty()) {
        os << "Months to attest (" << t.months.size() << "):\n";
        for (auto& m : t.months)
            os << "  " << m.month << "  your marks suggest " << m.suggested_minutes << " min ("
               << m.occasions << " occasion" << (m.occasions == 1 ? "" : "s") << ")   tundra attest "
               << m.month << " " << m.suggested_minutes << "\n";
    }
    if (!t.changed.empty()) {
        os << "Changed for you (" << t.changed.size() << "):\n";
        for (auto& n : t.changed) os << "  " << n.message << "\n";
        os << "  (mark them seen: tundra todo --seen)\n";
    }
    if (!t.open_deviations.empty()) {
        os << "Open deviations (" << t.open_deviations.size() << "):\n";
        for (auto& d : t.open_deviations) deviation_line(os, d);
    }
    if (t.surveys.empty() && t.months.empty() && t.changed.empty() && t.open_deviations.empty())
        os << "nothing to do\n";
    return os.str();
}

}  // namespace tundra::cli
