// An import file as both ways in take it: `tundra-server import FILE` and the console's
// import page (docs/import.md). One code path: the file is read into an import document (a
// staff CSV through staff_csv_to_import, identity numbers matched in the store), imported all
// or nothing, and the import written to the audit trail.
#pragma once

#include <string>
#include <string_view>

#include "tundra/server/sql_store.h"

namespace tundra::console {

struct ImportFile {
    std::string format;    // "json" (an import document) | "staff_csv"
    std::string document;  // the import document
    std::string csv;       // staff_csv: the file, so that errors name its line and column
    // An error of importing or previewing `document`, in the file's terms (staff_csv_error).
    Status in_file_terms(const Status& st) const;
};

// `media`: "text/csv" (a staff CSV), "application/json" (an import document), or empty to
// tell them apart by the first non-blank byte ('{' is a document). A staff CSV's stored
// persons are found with store.person_for_import. Errors: as staff_csv_to_import
// (invalid_argument naming the line and column).
Result<ImportFile> read_import_file(server::SqlStore& store, std::string_view bytes, std::string_view media = {});

// import_json(document), then the audit entry (operation "import", `target` the file's name
// or "console", detail {"format","records","merged"}). Errors: as import_json, a staff CSV's
// in the file's terms.
Result<server::ImportReport> import_audited(server::SqlStore& store, const ImportFile& file,
                                            const std::string& actor, const std::string& target);

}  // namespace tundra::console
