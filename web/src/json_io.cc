// Reading request bodies (json_io.h).
#include "tundra/web/json_io.h"

namespace tundra::web {

Status JsonIn::parse(std::string_view body) {
    if (body.empty()) body = "{}";
    TUNDRA_TRY(json::parse(body, doc_, 8));
    if (!doc_.IsObject()) return Status(Errc::malformed, "body: must be a JSON object");
    return Status::ok();
}

Status JsonIn::text(const char* key, std::string& out, bool required, size_t max) const {
    auto* v = json::find(doc_, key);
    if (!v || v->IsNull()) {
        if (required) return Status(Errc::invalid_argument, std::string(key) + ": required");
        return Status::ok();
    }
    if (!v->IsString()) return Status(Errc::invalid_argument, std::string(key) + ": must be a string");
    if (v->GetStringLength() > max) return Status(Errc::invalid_argument, std::string(key) + ": too long");
    out.assign(v->GetString(), v->GetStringLength());
    return Status::ok();
}

Status JsonIn::integer(const char* key, std::optional<int64_t>& out, bool required) const {
    auto* v = json::find(doc_, key);
    if (!v || v->IsNull()) {
        if (required) return Status(Errc::invalid_argument, std::string(key) + ": required");
        out.reset();
        return Status::ok();
    }
    if (!v->IsInt64()) return Status(Errc::invalid_argument, std::string(key) + ": must be a whole number");
    out = v->GetInt64();
    return Status::ok();
}

Status JsonIn::boolean(const char* key, bool& out) const {
    auto* v = json::find(doc_, key);
    if (!v || v->IsNull()) return Status::ok();
    if (!v->IsBool()) return Status(Errc::invalid_argument, std::string(key) + ": must be true or false");
    out = v->GetBool();
    return Status::ok();
}

HttpResponse error_answer(const Status& st, std::string_view code, int http, ErrorAnswer how) {
    JsonOut out;
    out.begin();
    out.key("error");
    out.begin();
    out.str("code", code);
    if (how.with_message && st.code() != Errc::internal && st.code() != Errc::storage)
        out.str("message", st.message());
    if (st.code() == Errc::invalid_argument || st.code() == Errc::malformed) {
        // "title: required" names the field "title".
        const std::string& m = st.message();
        auto colon = m.find(':');
        if (colon != std::string::npos && colon > 0 && colon < how.max_field &&
            m.find_first_not_of("abcdefghijklmnopqrstuvwxyz_.[]0123456789") == colon)
            out.str("field", m.substr(0, colon));
    }
    if (st.retry_after_s() > 0) out.num("retry_after_s", static_cast<int64_t>(st.retry_after_s()));
    out.end();
    out.end();
    auto r = json_response(http, out.take());
    r.headers.emplace_back("Cache-Control", "no-store");
    if (st.retry_after_s() > 0) r.headers.emplace_back("Retry-After", std::to_string(st.retry_after_s()));
    return r;
}

}  // namespace tundra::web
