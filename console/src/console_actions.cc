// Answers, actions from JSON bodies, and list queries shared by the routes (console_routes.h).
#include <algorithm>
#include <charconv>

#include "console_routes.h"
#include "tundra/core/crypto.h"
#include "tundra/core/json.h"

namespace tundra::console {

HttpResponse error_json(const Status& st, std::string code) {
    const auto& info = errc_info(st.code());
    if (code.empty()) code = std::string(info.wire_name);
    int http = info.http_status;
    if (code == "csrf" || code == "cross_origin") http = 403;
    else if (st.code() == Errc::overloaded || st.code() == Errc::busy) http = 503;
    else if (http == 0) http = 500;
    return web::error_answer(st, code, http);
}

HttpResponse ok_json(JsonOut& out, int status) { return web::json_response(status, out.take()); }

HttpResponse rows_json(const server::RowPage& page) {
    JsonOut out;
    out.begin();
    out.begin_array("rows");
    for (auto& row : page.rows) json::put_row(out.w(), row);
    out.end_array();
    out.num("total", static_cast<int64_t>(page.total));
    out.end();
    return ok_json(out);
}

std::string new_id(std::string_view prefix) { return std::string(prefix) + random_hex(8); }

namespace {
// A JSON member as the action field's type wants it.
Status field_value(const ActionField& f, const rapidjson::Value& v, Value& out) {
    std::string name(f.name);
    if (v.IsNull()) {
        if (!f.nullable) return Status(Errc::invalid_argument, name + ": may not be empty");
        out = std::monostate{};
        return Status::ok();
    }
    switch (f.type) {
        case ColType::text:
        case ColType::iso_time:
            if (!v.IsString()) return Status(Errc::invalid_argument, name + ": must be a string");
            out = std::string(v.GetString(), v.GetStringLength());
            return Status::ok();
        case ColType::integer:
            if (!v.IsInt64()) return Status(Errc::invalid_argument, name + ": must be a whole number");
            out = v.GetInt64();
            return Status::ok();
        case ColType::boolean:
            if (!v.IsBool()) return Status(Errc::invalid_argument, name + ": must be true or false");
            out = v.GetBool();
            return Status::ok();
        case ColType::str_list: {
            if (!v.IsArray()) return Status(Errc::invalid_argument, name + ": must be a list of strings");
            StrList list;
            for (auto& item : v.GetArray()) {
                if (!item.IsString()) return Status(Errc::invalid_argument, name + ": must be a list of strings");
                list.emplace_back(item.GetString(), item.GetStringLength());
            }
            out = std::move(list);
            return Status::ok();
        }
    }
    return Status(Errc::invalid_argument, name + ": unsupported type");
}
}  // namespace

Result<Action> action_from_body(std::string_view type, const JsonIn& body, std::string_view prefix, const Row& fixed) {
    const ActionSpec* spec = action_spec(type);
    if (!spec) return Status(Errc::internal, "unknown action " + std::string(type));
    Action a;
    a.type = std::string(type);
    a.fields = fixed;
    const rapidjson::Value& obj = body.object();
    for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
        std::string key(it->name.GetString(), it->name.GetStringLength());
        std::string name = key == "id" ? std::string(spec->id_field) : key;
        const ActionField* f = nullptr;
        for (auto& af : spec->fields)
            if (af.name == name) f = &af;
        if (!f) return Status(Errc::invalid_argument, key + ": not a field of " + std::string(type));
        Value v;
        TUNDRA_TRY(field_value(*f, it->value, v));
        auto given = fixed.find(name);
        if (given != fixed.end()) {
            if (given->second != v)
                return Status(Errc::invalid_argument, key + ": differs from the address (" + name + ")");
            continue;
        }
        if (a.fields.count(name)) return Status(Errc::invalid_argument, key + ": given twice");
        a.fields[name] = std::move(v);
    }
    if (!a.fields.count(spec->id_field)) a.fields[std::string(spec->id_field)] = new_id(prefix);
    // The store gives the seq and stamp; validate the shape and values now, naming the field.
    a.seq = 1;
    a.hlc.value = 1;
    Status st = validate_action(a, "");
    if (st.is_ok()) st = check_action_limits(a, "");
    if (!st) {
        std::string m = st.message();
        if (!m.empty() && m[0] == '.') m.erase(0, 1);
        return Status(Errc::invalid_argument, m);
    }
    a.seq = 0;
    a.hlc.value = 0;
    return a;
}

HttpResponse apply(Call& c, Action action) {
    std::string id = action.target_id();
    std::vector<Action> batch;
    batch.push_back(std::move(action));
    auto outcomes = c.store.apply_actions(c.who(), std::move(batch));
    if (!outcomes) return error_json(outcomes.status());
    if (outcomes->empty()) return error_json(Status(Errc::internal, "no outcome"));
    const Outcome& o = outcomes->front();
    JsonOut out;
    out.begin();
    bool refused = o.result == OutcomeResult::rejected;
    if (refused) {
        out.key("error");
        out.begin();
        out.str("code", "rejected");
        out.str("reason", o.reason);
        out.str("message", o.message);
        out.end();
    } else {
        out.str("id", id);
    }
    out.key("outcome");
    out.begin();
    out.str("result", to_string(o.result));
    out.str("reason", o.reason);
    out.str("message", o.message);
    out.str("status", o.status);
    out.end();
    out.end();
    return ok_json(out, refused ? 422 : 200);
}

HttpResponse act(Call& c, std::string_view type, std::string_view prefix, const Row& fixed) {
    auto a = action_from_body(type, c.body, prefix, fixed);
    if (!a) return error_json(a.status());
    return apply(c, std::move(a.value()));
}

Status empty_body(const Call& c) {
    const auto& obj = c.body.object();
    if (obj.IsObject() && obj.MemberCount() > 0)
        return Status(Errc::invalid_argument,
                      std::string(obj.MemberBegin()->name.GetString()) + ": this call takes no fields");
    return Status::ok();
}

Status only_fields(const Call& c, std::initializer_list<std::string_view> fields) {
    const auto& obj = c.body.object();
    if (!obj.IsObject()) return Status::ok();
    for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
        std::string_view name(it->name.GetString(), it->name.GetStringLength());
        if (std::find(fields.begin(), fields.end(), name) == fields.end())
            return Status(Errc::invalid_argument, std::string(name) + ": not a field of this call");
    }
    return Status::ok();
}

const std::string& text(const Row& r, std::string_view column) {
    static const std::string kEmpty;
    const std::string* s = get_str(r, column);
    return s ? *s : kEmpty;
}

Result<server::RowQuery> list_query(const Call& c) {
    server::RowQuery q;
    q.limit = 100;
    auto number = [&](const char* key, size_t& out, size_t max) -> Status {
        auto it = c.query.find(key);
        if (it == c.query.end() || it->second.empty()) return Status::ok();
        const std::string& s = it->second;
        size_t v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || p != s.data() + s.size() || v > max)
            return Status(Errc::invalid_argument, std::string(key) + ": a whole number up to " + std::to_string(max));
        out = v;
        return Status::ok();
    };
    TUNDRA_TRY(number("limit", q.limit, 500));
    TUNDRA_TRY(number("offset", q.offset, 100'000'000));
    if (auto it = c.query.find("q"); it != c.query.end()) {
        if (it->second.size() > 200) return Status(Errc::invalid_argument, "q: too long");
        q.search = it->second;
    }
    return q;
}

Result<Row> one_row(Call& c, Kind kind, const std::string& id) {
    server::RowQuery q;
    q.equals.emplace_back("id", id);
    q.limit = 1;
    auto page = c.store.rows(c.who(), kind, q);
    if (!page) return page.status();
    if (page->rows.empty())
        return Status(Errc::not_found, std::string(entity(kind).name) + " " + id + ": not found");
    return std::move(page->rows.front());
}

Result<std::vector<Row>> rows_in(Call& c, Kind kind, const std::string& column, const StrList& ids) {
    if (ids.empty()) return std::vector<Row>();
    server::RowQuery q;
    q.any_of_column = column;
    q.any_of = ids;
    q.limit = 5000;
    auto page = c.store.rows(c.who(), kind, q);
    if (!page) return page.status();
    return std::move(page->rows);
}

}  // namespace tundra::console
