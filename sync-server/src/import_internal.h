// import_json's one path, shared with the preview (import.cc, import_preview.cc).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tundra/core/model.h"
#include "tundra/core/status.h"

namespace tundra::server {

// The document's rows by section name, as the import writes them: checked, and every row's
// id resolved (participations, time attestations and survey answers found by their key,
// attendance marks' default ids filled in).
using ImportSections = std::map<std::string, std::vector<Row>>;

// A dry run: the import runs in its transaction as always, `before` is called before its
// first write and `after` after its last, then everything is rolled back and the version
// counter and clock are put back. Nothing is hashed (passwords) that nobody will keep.
struct ImportDryRun {
    std::function<Status(const ImportSections&)> before, after;
};

}  // namespace tundra::server
