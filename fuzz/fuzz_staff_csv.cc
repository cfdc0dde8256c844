// The staff CSV reader (console import, docs/import.md "Staff CSV"): any bytes. Properties:
// an accepted file becomes a JSON object with one `persons` array whose rows have an id, a
// name and a gender code; the same bytes give the same document (a preview and its apply
// agree).
#include <rapidjson/document.h>

#include <cstring>

#include "fuzz_util.h"
#include "tundra/server/staff_csv.h"

namespace {
// Numbers ending in an even digit belong to someone already in the store, as do ids starting
// with "p-held-": with a site, a profession, an education level, no employment status.
tundra::Result<std::optional<tundra::Row>> lookup(tundra::server::PersonKey by, const std::string& key) {
    std::string id;
    if (by == tundra::server::PersonKey::personal_id && !key.empty() && (key.back() - '0') % 2 == 0)
        id = "p-held-" + key;
    else if (by == tundra::server::PersonKey::id && key.rfind("p-held-", 0) == 0)
        id = key;
    if (id.empty()) return std::optional<tundra::Row>();
    tundra::Row row{{"id", id},
                    {"organisation", std::string("org")},
                    {"site", std::string("site")},
                    {"name", std::string("Stored")},
                    {"gender", std::string("woman")},
                    {"birth_year", int64_t{1970}},
                    {"profession", std::string("stored profession")},
                    {"education_level", std::string("isced_3_4")},
                    {"employment_status", std::monostate()}};
    return std::optional<tundra::Row>(std::move(row));
}

void fail(const char* what) {
    std::fprintf(stderr, "property failed: %s\n", what);
    __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto in = tundra::fuzz::text(data, size);
    auto r = tundra::server::staff_csv_to_import(in, lookup, 1000);
    auto again = tundra::server::staff_csv_to_import(in, lookup, 1000);
    if (bool(r) != bool(again) || (r && r.value() != again.value())) fail("the same bytes, another answer");
    // An import error told in the file's terms: never a crash, whatever the file.
    tundra::Status err(tundra::Errc::invalid_argument, "persons[" + std::to_string(size % 7) + "].site: x");
    if (tundra::server::staff_csv_error(in, err).code() != tundra::Errc::invalid_argument) fail("the error's code changed");
    if (!r) return 0;
    rapidjson::Document doc;
    doc.Parse(r.value().c_str(), r.value().size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("persons") || !doc["persons"].IsArray())
        fail("the document is not {\"persons\": [...]}");
    for (auto& p : doc["persons"].GetArray()) {
        if (!p.IsObject() || !p.HasMember("id") || !p.HasMember("name") || !p.HasMember("gender"))
            fail("a person without id, name or gender");
        const char* g = p["gender"].GetString();
        if (std::strcmp(g, "woman") && std::strcmp(g, "man") && std::strcmp(g, "non_binary") &&
            std::strcmp(g, "undisclosed"))
            fail("a gender outside the codes");
        if (!p.HasMember("site") && !p.HasMember("organisation")) fail("a person without site or organisation");
    }
    return 0;
}
