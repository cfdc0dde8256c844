// The report state as of one moment, replayed from the report facts; Stockholm months; the
// small rules every report shares (age bands, attended marks and their minutes).
#include "report_state.h"

#include <rapidjson/reader.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "tundra/core/model.h"

namespace tundra::server {

// ---- one fact's data: a flat JSON object, parsed in place --------------------------------------
namespace {

// The JSON of a fact is written by SQLite's json_object over our own columns: flat, a dozen
// members at most. A SAX handler over an in-situ parse fills this without allocating.
struct FlatField {
    std::string_view key;
    enum Type { null, text, number } type = null;
    std::string_view text_value;
    int64_t number_value = 0;
};

struct FlatObject {
    static constexpr size_t kMax = 16;
    std::array<FlatField, kMax> fields;
    size_t size = 0;

    const FlatField* find(std::string_view key) const {
        for (size_t i = 0; i < size; ++i)
            if (fields[i].key == key) return &fields[i];
        return nullptr;
    }
    std::string str(std::string_view key) const {
        auto* f = find(key);
        return f && f->type == FlatField::text ? std::string(f->text_value) : std::string();
    }
    std::optional<int64_t> num(std::string_view key) const {
        auto* f = find(key);
        if (!f || f->type != FlatField::number) return std::nullopt;
        return f->number_value;
    }
    int64_t num_or(std::string_view key, int64_t dflt) const { return num(key).value_or(dflt); }
};

struct FlatHandler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, FlatHandler> {
    FlatObject& obj;
    int depth = 0;
    explicit FlatHandler(FlatObject& o) : obj(o) {}

    FlatField* current() { return obj.size ? &obj.fields[obj.size - 1] : nullptr; }
    bool Key(const char* s, rapidjson::SizeType n, bool) {
        if (obj.size == FlatObject::kMax) return false;
        FlatField& f = obj.fields[obj.size++];
        f = FlatField{};
        f.key = std::string_view(s, n);
        return true;
    }
    bool String(const char* s, rapidjson::SizeType n, bool) {
        if (auto* f = current()) f->type = FlatField::text, f->text_value = std::string_view(s, n);
        return true;
    }
    bool Int(int v) { return Int64(v); }
    bool Uint(unsigned v) { return Int64(v); }
    bool Uint64(uint64_t v) { return Int64(static_cast<int64_t>(v)); }
    bool Int64(int64_t v) {
        if (auto* f = current()) f->type = FlatField::number, f->number_value = v;
        return true;
    }
    bool Double(double v) { return Int64(static_cast<int64_t>(v)); }
    bool Bool(bool b) { return Int64(b ? 1 : 0); }
    bool Null() { return true; }
    bool StartObject() { return ++depth == 1; }  // flat objects only
    bool EndObject(rapidjson::SizeType) { return --depth == 0; }
    bool StartArray() { return false; }
    bool Default() { return false; }
};

// Parses `buf` (NUL-terminated, modified in place). False on anything but a flat object.
bool parse_flat(char* buf, FlatObject& obj) {
    obj.size = 0;
    FlatHandler h(obj);
    rapidjson::Reader reader;
    rapidjson::InsituStringStream is(buf);
    return !reader.Parse<rapidjson::kParseInsituFlag | rapidjson::kParseStopWhenDoneFlag>(is, h)
                .IsError();
}

int64_t iso_ms(const std::string& s) {
    if (s.empty()) return 0;
    auto t = parse_iso8601(s);
    return t ? t.value() : 0;
}

// The last state of each row of one kind while replaying: rows by id in a hash map (the
// replay touches millions), moved into the state's sorted map at the end.
// Looked up by string_view: no key is allocated for a row already known.
struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class T>
struct Rows {
    std::unordered_map<std::string, T, IdHash, std::equal_to<>> live;
    void finish(std::map<std::string, T>& out) {
        std::vector<std::pair<std::string, T>> v;
        v.reserve(live.size());
        while (!live.empty()) {
            auto node = live.extract(live.begin());
            v.emplace_back(std::move(node.key()), std::move(node.mapped()));
        }
        std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first < b.first; });
        out.clear();
        for (auto& e : v) out.emplace_hint(out.end(), std::move(e.first), std::move(e.second));
    }
};

}  // namespace

// ---- the replay --------------------------------------------------------------------------------
// Applies facts in seq order to rows kept by id; finish() moves them into a ReportState.
class FactReplay {
public:
    // False when `data` (NULL: deleted) is not a flat JSON object.
    bool apply(std::string_view kind, std::string_view id, int64_t at_ms, const char* data,
               size_t data_len);
    void finish(ReportState& out);

    struct Impl;
    FactReplay();
    ~FactReplay();
    Impl& impl() { return *impl_; }

private:
    std::unique_ptr<Impl> impl_;
};

struct FactReplay::Impl {
    Rows<std::string> organisations;
    Rows<RSite> sites;
    Rows<RPerson> persons;
    Rows<RParticipation> participations;
    Rows<RCourse> courses;
    Rows<ROccasion> occasions;
    Rows<REnrolment> enrolments;
    Rows<RMark> marks;
    Rows<RAttestation> attestations;
    Rows<RSurvey> surveys;
    Rows<RDeviation> deviations;
    FlatObject obj;
    std::string buf;
};

FactReplay::FactReplay() : impl_(std::make_unique<Impl>()) {}
FactReplay::~FactReplay() = default;

namespace {
template <class T, class Fill>
void upsert(Rows<T>& rows, std::string_view id, const FlatObject* data, Fill fill) {
    auto it = rows.live.find(id);
    if (!data) {
        if (it != rows.live.end()) rows.live.erase(it);
        return;
    }
    bool fresh = it == rows.live.end();
    if (fresh) it = rows.live.try_emplace(std::string(id)).first;
    fill(it->second, *data, fresh);
}
}  // namespace

bool FactReplay::apply(std::string_view kind, std::string_view id, int64_t at_ms,
                       const char* data, size_t data_len) {
    Impl& s = *impl_;
    const FlatObject* obj = nullptr;
    if (data) {
        s.buf.assign(data, data_len);
        if (!parse_flat(s.buf.data(), s.obj)) return false;
        obj = &s.obj;
    }
    if (kind == "attendance") {
        upsert(s.marks, id, obj, [&](RMark& m, const FlatObject& o, bool) {
            m.id = id;
            m.occasion = o.str("occasion");
            m.person = o.str("person");
            m.status = o.str("status");
            m.source = o.str("source");
            m.device = o.str("device");
            m.minutes = o.num("minutes");
            m.hlc = o.num_or("hlc", 0);
        });
    } else if (kind == "enrolment") {
        upsert(s.enrolments, id, obj, [&](REnrolment& e, const FlatObject& o, bool) {
            e = {std::string(id), o.str("occasion"), o.str("person"), o.str("status")};
        });
    } else if (kind == "person") {
        upsert(s.persons, id, obj, [&](RPerson& p, const FlatObject& o, bool) {
            p.id = id;
            p.organisation = o.str("organisation");
            p.site = o.str("site");
            p.gender = o.str("gender");
            p.birth_year = o.num("birth_year");
            p.education_level = o.str("education_level");
            p.employment_status = o.str("employment_status");
            p.personal_id = o.str("personal_id");
            p.erased = o.num_or("erased", 0) != 0;
            p.provisional = o.num_or("provisional", 0) != 0;
        });
    } else if (kind == "occasion") {
        upsert(s.occasions, id, obj, [&](ROccasion& oc, const FlatObject& o, bool) {
            oc.id = id;
            oc.course = o.str("course");
            oc.site = o.str("site");
            oc.status = o.str("status");
            oc.starts_ms = iso_ms(o.str("starts_at"));
            oc.ends_ms = iso_ms(o.str("ends_at"));
            oc.capacity = o.num_or("capacity", 0);
            oc.survey_closes_ms = survey_closes_ms(oc.ends_ms, o.str("survey_closes"));
        });
    } else if (kind == "participation") {
        upsert(s.participations, id, obj, [&](RParticipation& p, const FlatObject& o, bool) {
            p = {std::string(id), o.str("person"), o.str("start_month"), o.str("end_month")};
        });
    } else if (kind == "time_attestation") {
        upsert(s.attestations, id, obj, [&](RAttestation& a, const FlatObject& o, bool) {
            a = {std::string(id), o.str("person"), o.str("month"), o.num_or("minutes", 0)};
        });
    } else if (kind == "survey_response") {
        upsert(s.surveys, id, obj, [&](RSurvey& r, const FlatObject& o, bool) {
            r.id = id;
            r.occasion = o.str("occasion");
            r.person = o.str("person");
            r.rating_content = static_cast<int>(o.num_or("rating_content", 0));
            r.rating_usefulness = static_cast<int>(o.num_or("rating_usefulness", 0));
            r.rating_overall = static_cast<int>(o.num_or("rating_overall", 0));
        });
    } else if (kind == "deviation") {
        upsert(s.deviations, id, obj, [&](RDeviation& d, const FlatObject& o, bool fresh) {
            d.id = id;
            d.organisation = o.str("organisation");
            d.occasion = o.str("occasion");
            d.category = o.str("category");
            d.description = o.str("description");
            d.status = o.str("status");
            d.action_taken = o.str("action_taken");
            if (fresh) d.logged_ms = at_ms;
            if (d.status == "handled" && d.handled_ms == 0) d.handled_ms = at_ms;
        });
    } else if (kind == "course") {
        upsert(s.courses, id, obj, [&](RCourse& c, const FlatObject& o, bool) {
            c = {std::string(id), o.str("title"), o.str("theme"), o.str("format")};
        });
    } else if (kind == "site") {
        upsert(s.sites, id, obj, [&](RSite& si, const FlatObject& o, bool) {
            si = {std::string(id), o.str("organisation"), o.str("name")};
        });
    } else if (kind == "organisation") {
        upsert(s.organisations, id, obj,
               [&](std::string& name, const FlatObject& o, bool) { name = o.str("name"); });
    }
    // Unknown kinds (from a later schema) are not part of any report this build makes.
    return true;
}

void FactReplay::finish(ReportState& out) {
    Impl& s = *impl_;
    s.organisations.finish(out.organisations);
    s.sites.finish(out.sites);
    s.persons.finish(out.persons);
    s.participations.finish(out.participations);
    s.courses.finish(out.courses);
    s.occasions.finish(out.occasions);
    s.enrolments.finish(out.enrolments);
    s.marks.finish(out.marks);
    s.attestations.finish(out.attestations);
    s.surveys.finish(out.surveys);
    s.deviations.finish(out.deviations);
}

namespace {
Status replay_query(sql::Db& db, const char* sql, const std::function<void(sql::Stmt&)>& bind,
                    FactReplay& replay) {
    auto q = db.query(sql);
    bind(*q);
    for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!r.value()) break;
        std::string_view kind = q->text_view(0), id = q->text_view(1);
        int64_t at_ms = q->int64(2);
        std::string_view data = q->text_view(3);
        if (!replay.apply(kind, id, at_ms, q->is_null(3) ? nullptr : data.data(), data.size()))
            return Status(Errc::storage, "report fact " + std::string(kind) + " '" +
                                             std::string(id) + "' holds data that is not a flat JSON object");
    }
    return Status::ok();
}
}  // namespace

Result<ReportState> load_report_state(sql::Db& db, int64_t as_of_ms) {
    FactReplay replay;
    TUNDRA_TRY(replay_query(
        db, "SELECT kind, id, at_ms, data FROM report_facts WHERE at_ms <= ?1 ORDER BY seq",
        [&](sql::Stmt& st) { st.bind(1, as_of_ms); }, replay));
    ReportState out;
    out.as_of_ms = as_of_ms;
    replay.finish(out);
    return out;
}

namespace {
// Calls f(the state's map, the replay's rows) for the maps of `kind`; false for an unknown kind.
template <class F>
bool with_kind(std::string_view kind, ReportState& st, FactReplay::Impl& r, F f) {
    if (kind == "attendance") f(st.marks, r.marks);
    else if (kind == "enrolment") f(st.enrolments, r.enrolments);
    else if (kind == "person") f(st.persons, r.persons);
    else if (kind == "occasion") f(st.occasions, r.occasions);
    else if (kind == "participation") f(st.participations, r.participations);
    else if (kind == "time_attestation") f(st.attestations, r.attestations);
    else if (kind == "survey_response") f(st.surveys, r.surveys);
    else if (kind == "deviation") f(st.deviations, r.deviations);
    else if (kind == "course") f(st.courses, r.courses);
    else if (kind == "site") f(st.sites, r.sites);
    else if (kind == "organisation") f(st.organisations, r.organisations);
    else return false;
    return true;
}
}  // namespace

Result<std::unique_ptr<Rewind>> Rewind::to(sql::Db& db, ReportState& state, int64_t as_of_ms) {
    std::unique_ptr<Rewind> rw(new Rewind(state));
    rw->later_ms_ = state.as_of_ms;
    if (as_of_ms >= state.as_of_ms) return rw;
    // Only the rows with a fact after the earlier moment differ: replay each of them alone.
    std::vector<std::pair<std::string, std::string>> touched;
    {
        auto q = db.query(
            "SELECT DISTINCT kind, id FROM report_facts WHERE at_ms > ?1 AND at_ms <= ?2");
        q->bind(1, as_of_ms).bind(2, state.as_of_ms);
        for (;;) {
            auto r = q->step();
            if (!r) return r.status();
            if (!r.value()) break;
            touched.emplace_back(q->text(0), q->text(1));
        }
    }
    for (auto& entry : touched) {
        // Named references, not a structured binding: lambdas below capture them (clang < 16).
        const std::string& kind = entry.first;
        const std::string& id = entry.second;
        FactReplay replay;
        TUNDRA_TRY(replay_query(
            db,
            "SELECT kind, id, at_ms, data FROM report_facts WHERE kind = ?1 AND id = ?2 AND "
            "at_ms <= ?3 ORDER BY seq",
            [&](sql::Stmt& st) { st.bind(1, kind).bind(2, id).bind(3, as_of_ms); },
            replay));
        with_kind(kind, state, replay.impl(), [&](auto& map, auto& rows) {
            using T = typename std::decay_t<decltype(map)>::mapped_type;
            std::optional<T> later;
            if (auto it = map.find(id); it != map.end()) {
                later = std::move(it->second);
                map.erase(it);
            }
            if (auto it = rows.live.find(id); it != rows.live.end()) map.emplace(id, std::move(it->second));
            rw->undo_.push_back([&map, id = id, later = std::move(later)]() mutable {
                map.erase(id);
                if (later) map.emplace(id, std::move(*later));
            });
        });
    }
    state.as_of_ms = as_of_ms;
    return rw;
}

Rewind::~Rewind() {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) (*it)();
    state_.as_of_ms = later_ms_;
}

// ---- current marks -----------------------------------------------------------------------------
namespace {
// Newest by (source rank, hlc, device) as core orders them; the id breaks a tie (an import's
// marks share one stamp) so that the choice never depends on replay order.
bool newer(const RMark& a, const RMark& b) {
    return std::forward_as_tuple(attendance_source_rank(a.source), a.hlc, a.device, a.id) >
           std::forward_as_tuple(attendance_source_rank(b.source), b.hlc, b.device, b.id);
}
struct PairHash {
    size_t operator()(const std::pair<std::string_view, std::string_view>& p) const {
        size_t h = std::hash<std::string_view>{}(p.first);
        return h ^ (std::hash<std::string_view>{}(p.second) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
    }
};
}  // namespace

std::vector<const RMark*> ReportState::current_mark_list() const {
    // Keys are views into the marks themselves: nothing is allocated per mark.
    std::unordered_map<std::pair<std::string_view, std::string_view>, const RMark*, PairHash> best;
    best.reserve(marks.size());
    for (auto& [id, m] : marks) {
        auto [it, fresh] = best.try_emplace({m.occasion, m.person}, &m);
        if (!fresh && newer(m, *it->second)) it->second = &m;
    }
    std::vector<const RMark*> out;
    out.reserve(best.size());
    for (auto& [key, m] : best) out.push_back(m);
    return out;
}

std::map<std::string, const RMark*> ReportState::current_marks() const {
    std::vector<std::pair<std::string, const RMark*>> v;
    for (const RMark* m : current_mark_list()) v.emplace_back(m->occasion + '\x1f' + m->person, m);
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first < b.first; });
    std::map<std::string, const RMark*> out;
    for (auto& e : v) out.emplace_hint(out.end(), std::move(e.first), e.second);
    return out;
}

// ---- ages and marks --------------------------------------------------------------------------
namespace {
bool parse_month(const std::string& month, int& y, int& m) {
    if (!valid_month(month)) return false;
    y = std::stoi(month.substr(0, 4));
    m = std::stoi(month.substr(5, 2));
    return true;
}
}  // namespace

std::string age_band(std::optional<int64_t> birth_year, const std::string& month) {
    int y, m;
    if (!birth_year || !parse_month(month, y, m)) return "unknown";
    int64_t age = y - *birth_year;
    if (age < 18) return "under_18";
    if (age <= 29) return "18_29";
    if (age <= 54) return "30_54";
    return "55_plus";
}

bool mark_attended(const RMark& m) {
    return attendance_attended(m.status);
}

int64_t mark_minutes(const RMark& m, const ROccasion& o) {
    if (m.minutes) return *m.minutes;
    return std::max<int64_t>(0, (o.ends_ms - o.starts_ms) / 60'000);
}

}  // namespace tundra::server
