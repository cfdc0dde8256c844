// One path for import files (import_file.h).
#include "tundra/console/import_file.h"

#include "tundra/server/staff_csv.h"

namespace tundra::console {

Result<ImportFile> read_import_file(server::SqlStore& store, std::string_view bytes, std::string_view media) {
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
    auto doc = server::staff_csv_to_import(bytes, [&store](server::PersonKey by, const std::string& key) {
        return store.person_for_import(by, key);
    });
    if (!doc) return doc.status();
    f.format = "staff_csv";
    f.document = std::move(doc.value());
    f.csv = std::string(bytes);
    return f;
}

Status ImportFile::in_file_terms(const Status& st) const {
    if (format != "staff_csv" || st.is_ok()) return st;
    return server::staff_csv_error(csv, st);
}

Result<server::ImportReport> import_audited(server::SqlStore& store, const ImportFile& file,
                                            const std::string& actor, const std::string& target) {
    auto rep = store.import_json(file.document);
    if (!rep) return file.in_file_terms(rep.status());
    Status au = store.audit(actor, "import", target,
                            R"({"format":")" + file.format + R"(","records":)" + std::to_string(rep->total()) +
                                R"(,"merged":)" + std::to_string(rep->merged) + "}");
    if (!au) return au;
    return rep;
}

}  // namespace tundra::console
