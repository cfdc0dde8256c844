// The import preview (console, issue 11): import_json's one path run as a dry run
// (import_internal.h), each row the document names read before its first write and after its
// last, inside the transaction that is then rolled back. And the identity number lookup the
// staff CSV matches rows with.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <set>

#include "import_internal.h"
#include "store_internal.h"
#include "tundra/core/crypto.h"

namespace tundra::server {
namespace {

// Where each section's rows live: table, key column, and the document field holding the key.
struct Target {
    const char* section;
    const char* kind;  // wire name in ImportChange
    const char* table;
    const char* key_column;
    const char* key_field;
};
// In the order the import writes them.
const Target kTargets[] = {{"organisations", "organisation", "organisations", "id", "code"},
                           {"sites", "site", "sites", "id", "id"},
                           {"persons", "person", "persons", "id", "id"},
                           {"users", "user", "users", "username", "username"},
                           {"courses", "course", "courses", "id", "id"},
                           {"occasions", "occasion", "occasions", "id", "id"},
                           {"enrolments", "enrolment", "enrolments", "id", "id"},
                           {"attendance", "attendance", "attendance", "id", "id"},
                           {"participations", "participation", "participations", "id", "id"},
                           {"time_attestations", "time_attestation", "time_attestations", "id", "id"},
                           {"survey_responses", "survey_response", "survey_responses", "id", "id"},
                           {"deviations", "deviation", "deviations", "id", "id"}};

// Bookkeeping, not values: versions and stamps move on every write; a password's hash is
// new on every import (salted) and never shown.
const std::set<std::string> kNotCompared = {"version", "hlc", "acted_hlc", "updated_hlc", "password_hash",
                                            "created_at", "erased"};
// Columns that hold a JSON array as text.
const std::set<std::string> kJsonColumns = {"organisations"};

std::string json_string(const std::string& s) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return std::string(buf.GetString(), buf.GetSize());
}

// A row's values as JSON text by column; nullopt when there is no such row.
using Snapshot = std::optional<std::map<std::string, std::string>>;

Result<Snapshot> snapshot(sql::Db& db, const Target& t, const std::string& key) {
    auto q = db.query(std::string("SELECT * FROM ") + t.table + " WHERE " + t.key_column + " = ?");
    q->bind(1, key);
    auto r = q->step();
    if (!r) return r.status();
    if (!r.value()) return Snapshot();
    std::map<std::string, std::string> row;
    for (int c = 0; c < q->column_count(); ++c) {
        std::string name = q->column_name(c);
        if (kNotCompared.count(name)) continue;
        if (q->is_null(c)) row[name] = "null";
        else if (q->is_integer(c)) row[name] = std::to_string(q->int64(c));
        else if (kJsonColumns.count(name)) row[name] = q->text(c);
        else row[name] = json_string(q->text(c));
    }
    if (std::string(t.table) == "users") {
        auto s = db.query("SELECT site FROM user_sites WHERE username = ? ORDER BY site");
        s->bind(1, key);
        std::string list;
        for (;;) {
            auto step = s->step();
            if (!step) return step.status();
            if (!step.value()) break;
            list += (list.empty() ? "" : ",") + json_string(s->text(0));
        }
        row["sites"] = "[" + list + "]";
    }
    return Snapshot(std::move(row));
}

struct Named {
    const Target* target;
    std::string key;
};

std::vector<Named> named_rows(const ImportSections& data) {
    std::vector<Named> out;
    std::set<std::pair<std::string, std::string>> seen;
    for (auto& t : kTargets) {
        auto it = data.find(t.section);
        if (it == data.end()) continue;
        for (auto& row : it->second) {
            auto* key = get_str(row, t.key_field);
            if (key && seen.insert({t.section, *key}).second) out.push_back({&t, *key});
        }
    }
    return out;
}

// The same identity number with and without the dash (YYYYMMDD-XXXX, YYYYMMDDXXXX).
std::string other_form(const std::string& personal_id) {
    std::string other = personal_id;
    if (other.size() == 13 && other[8] == '-') other.erase(8, 1);
    else if (other.size() == 12 && other.find('-') == std::string::npos) other.insert(8, "-");
    return other;
}

}  // namespace

Result<std::optional<std::string>> SqlStore::person_by_personal_id(const std::string& personal_id) {
    std::string other = other_form(personal_id);
    std::lock_guard lock(mu_);
    // Walk-ins registered provisionally are not the register's person: the import merges them.
    auto q = db_->query(
        "SELECT id FROM persons WHERE personal_id IN (?, ?) AND erased = 0 AND provisional = 0 ORDER BY id "
        "LIMIT 1");
    q->bind(1, personal_id).bind(2, other);
    auto r = q->step();
    if (!r) return r.status();
    if (!r.value()) return std::optional<std::string>();
    return std::optional<std::string>(q->text(0));
}

Result<std::optional<Row>> SqlStore::person_for_import(PersonKey by, const std::string& key) {
    auto read = [](sql::Stmt& q) -> Result<std::optional<Row>> {
        auto r = q.step();
        if (!r) return r.status();
        if (!r.value()) return std::optional<Row>();
        Row row;
        for (int c = 0; c < q.column_count(); ++c) {
            Value v;
            if (q.is_null(c)) v = std::monostate();
            else if (q.is_integer(c)) v = q.int64(c);
            else v = q.text(c);
            row.emplace(q.column_name(c), std::move(v));
        }
        return std::optional<Row>(std::move(row));
    };
    std::string sql =
        "SELECT id, organisation, site, name, gender, birth_year, profession, education_level, employment_status, "
        "personal_id FROM persons WHERE ";
    std::lock_guard lock(mu_);
    if (by == PersonKey::id) {
        auto q = db_->query(sql + "id = ?");
        q->bind(1, key);
        return read(*q);
    }
    // As person_by_personal_id: either form, not a walk-in (the import merges those).
    auto q = db_->query(sql + "personal_id IN (?, ?) AND erased = 0 AND provisional = 0 ORDER BY id LIMIT 1");
    q->bind(1, key).bind(2, other_form(key));
    return read(*q);
}

Result<ImportPreview> SqlStore::preview_import(std::string_view document) {
    ImportPreview out;
    out.digest = sha256_hex(document);
    std::vector<Named> named;
    std::vector<Snapshot> before;
    ImportDryRun dry;
    dry.before = [&](const ImportSections& data) -> Status {
        named = named_rows(data);
        before.reserve(named.size());
        for (auto& n : named) {
            auto snap = snapshot(*db_, *n.target, n.key);
            if (!snap) return snap.status();
            before.push_back(std::move(snap.value()));
        }
        return Status::ok();
    };
    dry.after = [&](const ImportSections&) -> Status {
        for (size_t i = 0; i < named.size(); ++i) {
            auto snap = snapshot(*db_, *named[i].target, named[i].key);
            if (!snap) return snap.status();
            auto& after = snap.value();
            if (!after) continue;  // deleted in the run (a provisional person merged): not named rows
            ImportChange ch{named[i].target->kind, named[i].key, before[i] ? "changed" : "added", {}};
            for (auto& [name, value] : *after) {
                if (!before[i]) {
                    if (value != "null" && name != named[i].target->key_column) ch.fields.push_back({name, "", value});
                    continue;
                }
                auto it = before[i]->find(name);
                std::string old = it == before[i]->end() ? "null" : it->second;
                if (old != value) ch.fields.push_back({name, old, value});
            }
            if (before[i] && ch.fields.empty()) ++out.unchanged;
            else out.changes.push_back(std::move(ch));
        }
        return Status::ok();
    };
    auto rep = import_document(document, &dry);
    if (!rep) return rep.status();
    out.counts = rep.value();
    return out;
}

}  // namespace tundra::server
