// Import: the uploaded file (a staff CSV or an import document) previewed, then applied all or
// nothing through the same code as `tundra-server import` (import_file.h). The preview's digest
// covers the document and what it would change; apply refuses a file or a store that moved on
// since (409 stale_preview), so what is applied is what was shown.
#include "console_routes.h"
#include "tundra/console/import_file.h"
#include "tundra/core/crypto.h"
#include "tundra/core/json.h"

namespace tundra::console {
namespace {
constexpr size_t kMaxChangesShown = 10'000;

std::string media(const Call& c) {
    std::string type = web::header(c.req, "content-type");
    type = type.substr(0, type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
    for (auto& ch : type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return type;
}

void put_counts(JsonOut& out, const server::ImportReport& r) {
    out.key("counts");
    out.begin();
    out.num("organisations", static_cast<int64_t>(r.organisations));
    out.num("sites", static_cast<int64_t>(r.sites));
    out.num("persons", static_cast<int64_t>(r.persons));
    out.num("users", static_cast<int64_t>(r.users));
    out.num("courses", static_cast<int64_t>(r.courses));
    out.num("occasions", static_cast<int64_t>(r.occasions));
    out.num("enrolments", static_cast<int64_t>(r.enrolments));
    out.num("attendance", static_cast<int64_t>(r.attendance));
    out.num("participations", static_cast<int64_t>(r.participations));
    out.num("time_attestations", static_cast<int64_t>(r.time_attestations));
    out.num("survey_responses", static_cast<int64_t>(r.survey_responses));
    out.num("deviations", static_cast<int64_t>(r.deviations));
    out.num("total", static_cast<int64_t>(r.total()));
    out.end();
}

struct Previewed {
    ImportFile file;
    server::ImportPreview preview;
    std::string digest;  // of the document and of every change it would make
};

Result<Previewed> preview(Call& c) {
    auto file = read_import_file(c.store, c.req.body, media(c));
    if (!file) return file.status();
    auto p = c.store.preview_import(file->document);
    if (!p) return file->in_file_terms(p.status());
    std::string basis = p->digest;
    for (auto& ch : p->changes) {
        basis += '\n' + ch.kind + '\t' + ch.id + '\t' + ch.change;
        for (auto& f : ch.fields) basis += '\t' + f.name + '=' + f.before + "=>" + f.after;
    }
    basis += "\nunchanged=" + std::to_string(p->unchanged);
    return Previewed{std::move(file.value()), std::move(p.value()), sha256_hex(basis)};
}
}  // namespace

HttpResponse import_preview(Call& c) {
    auto p = preview(c);
    if (!p) return error_json(p.status());
    JsonOut out;
    out.begin();
    out.str("format", p->file.format);
    out.str("digest", p->digest);
    put_counts(out, p->preview.counts);
    out.begin_array("changes");
    size_t shown = 0;
    for (auto& ch : p->preview.changes) {
        if (shown++ == kMaxChangesShown) break;
        out.begin();
        out.str("kind", ch.kind);
        out.str("id", ch.id);
        out.str("change", ch.change);
        out.begin_array("fields");
        for (auto& f : ch.fields) {
            out.begin();
            out.str("name", f.name);
            out.str("before", f.before);
            out.str("after", f.after);
            out.end();
        }
        out.end_array();
        out.end();
    }
    out.end_array();
    out.num("changes_total", static_cast<int64_t>(p->preview.changes.size()));
    out.num("unchanged", static_cast<int64_t>(p->preview.unchanged));
    out.end();
    return ok_json(out);
}

HttpResponse import_apply(Call& c) {
    auto it = c.query.find("digest");
    if (it == c.query.end() || it->second.empty())
        return error_json(Status(Errc::invalid_argument, "digest: required (the preview's)"));
    auto p = preview(c);
    if (!p) return error_json(p.status());
    if (p->digest != it->second)
        return error_json(Status(Errc::conflict, "the file, or what it would change, differs from the preview"),
                          "stale_preview");
    auto rep = import_audited(c.store, p->file, c.actor(), "console:" + p->file.format);
    if (!rep) return error_json(rep.status());
    JsonOut out;
    out.begin();
    put_counts(out, rep.value());
    out.num("merged", static_cast<int64_t>(rep->merged));
    out.end();
    return ok_json(out);
}

}  // namespace tundra::console
