// One path for import files (import_file.h).
#include "tundra/console/import_file.h"

#include "tundra/server/staff_csv.h"

namespace tundra::console {

Result<ImportFile> read_import_file(server::SqliteStore& store, std::string_view bytes, std::string_view media) {
    ImportFile f;
    if (media.empty()) {
        size_t i = bytes.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
        while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\r' || bytes[i] == '\n')) ++i;
        media = i < bytes.size() && bytes[i] == '{' ? "application/json" : "text/csv";
    }
    if (media == "application/json") {
        f.format = "json";
        f.document = std::string(bytes);
        return f;
    }
    auto doc = server::staff_csv_to_import(
        bytes, [&store](const std::string& personal_id) { return store.person_by_personal_id(personal_id); });
    if (!doc) return doc.status();
    f.format = "staff_csv";
    f.document = std::move(doc.value());
    return f;
}

Result<server::ImportReport> import_audited(server::SqliteStore& store, const ImportFile& file,
                                            const std::string& actor, const std::string& target) {
    auto rep = store.import_json(file.document);
    if (!rep) return rep.status();
    Status au = store.audit(actor, "import", target,
                            R"({"format":")" + file.format + R"(","records":)" + std::to_string(rep->total()) +
                                R"(,"merged":)" + std::to_string(rep->merged) + "}");
    if (!au) return au;
    return rep;
}

}  // namespace tundra::console
