#include "tundra/core/protocol.h"

#include <cstring>

#include "tundra/core/json.h"

namespace tundra {
using json::put;
using json::Writer;

namespace {
template <class F>
std::string write(F&& body) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    body(w);
    return std::string(buf.GetString(), buf.GetSize());
}

void put_action(Writer& w, const Action& a) {
    w.StartObject();
    put(w, "seq");
    w.Uint64(a.seq);
    put(w, "hlc");
    w.Uint64(a.hlc.value);
    put(w, "type");
    put(w, a.type);
    for (auto& [k, v] : a.fields) {
        put(w, k);
        json::put_value(w, v);
    }
    w.EndObject();
}

void put_outcome(Writer& w, const Outcome& o) {
    w.StartObject();
    put(w, "seq");
    w.Uint64(o.seq);
    put(w, "result");
    put(w, to_string(o.result));
    if (!o.reason.empty()) {
        put(w, "reason");
        put(w, o.reason);
    }
    if (!o.message.empty()) {
        put(w, "message");
        put(w, o.message);
    }
    if (!o.status.empty()) {
        put(w, "status");
        put(w, o.status);
    }
    w.EndObject();
}

Status read_outcome(const rapidjson::Value& j, Outcome& o, const std::string& path) {
    if (!j.IsObject()) return Status(Errc::malformed, path + ": must be an object");
    std::string result;
    TUNDRA_TRY(json::req_uint(j, "seq", o.seq, path));
    TUNDRA_TRY(json::req_string(j, "result", result, path));
    if (!parse_outcome_result(result, o.result))
        return Status(Errc::malformed, path + ".result: unknown value");
    TUNDRA_TRY(json::opt_string(j, "reason", o.reason, path));
    TUNDRA_TRY(json::opt_string(j, "message", o.message, path));
    TUNDRA_TRY(json::opt_string(j, "status", o.status, path));
    return Status::ok();
}

Status object_root(const rapidjson::Document& doc) {
    if (!doc.IsObject()) return Status(Errc::malformed, "the document must be a JSON object");
    return Status::ok();
}

Status check_protocol(const rapidjson::Value& obj, int& out) {
    TUNDRA_TRY(json::opt_int(obj, "protocol", out, ""));
    if (out < kMinProtocolVersion || out > kProtocolVersion)
        return Status(Errc::unsupported_version,
                      "protocol version " + std::to_string(out) + " is not supported (this side speaks " +
                          std::to_string(kProtocolVersion) + ")");
    return Status::ok();
}

Status read_action(const rapidjson::Value& j, Action& a, const std::string& path) {
    if (!j.IsObject()) return Status(Errc::malformed, path + ": must be an object");
    TUNDRA_TRY(json::req_uint(j, "seq", a.seq, path));
    TUNDRA_TRY(json::req_uint(j, "hlc", a.hlc.value, path));
    TUNDRA_TRY(json::req_string(j, "type", a.type, path));
    for (auto it = j.MemberBegin(); it != j.MemberEnd(); ++it) {
        std::string_view k(it->name.GetString(), it->name.GetStringLength());
        if (k == "seq" || k == "hlc" || k == "type") continue;
        Value v;
        TUNDRA_TRY(json::to_value(it->value, v, json::join(path, k)));
        a.fields.emplace(std::string(k), std::move(v));
    }
    // Enumerations are the server's to refuse per action (ActionCheck).
    Status st = validate_action(a, path, ActionCheck::wire);
    if (!st) return Status(Errc::malformed, st.message());
    return Status::ok();
}

Status read_row(const rapidjson::Value& j, const EntitySpec* spec, Row& row,
                const std::string& path) {
    if (!j.IsObject()) return Status(Errc::malformed, path + ": must be an object");
    for (auto it = j.MemberBegin(); it != j.MemberEnd(); ++it) {
        std::string k(it->name.GetString(), it->name.GetStringLength());
        Value v;
        // The path of a field is spelt out only for the error that names it.
        if (Status st = json::to_value(it->value, v, {}); !st)
            return json::to_value(it->value, v, json::join(path, k));
        row.emplace(std::move(k), std::move(v));
    }
    if (!spec) return Status::ok();
    static const Value absent;
    for (auto& col : spec->columns) {
        auto it = row.find(col.name);
        const Value& v = it == row.end() ? absent : it->second;
        if (check_value(col, v, {})) continue;
        return Status(Errc::malformed, check_value(col, v, json::join(path, col.name)).message());
    }
    return Status::ok();
}

// One element of `changes`. `path` names it in errors; the caller passes an empty one first
// and spells the path out only to word the error of a change that fails.
Status read_change(const rapidjson::Value& j, const std::string& path, Change& c) {
    if (!j.IsObject()) return Status(Errc::malformed, path + ": must be an object");
    std::string kind;
    TUNDRA_TRY(json::req_string(j, "kind", kind, path));
    auto* spec = entity_by_name(kind);
    if (!spec) return Status(Errc::malformed, path + ".kind: unknown kind");
    c.kind = spec->kind;
    TUNDRA_TRY(json::req_string(j, "id", c.id, path));
    TUNDRA_TRY(json::opt_uint(j, "v", c.version, path));
    TUNDRA_TRY(json::opt_bool(j, "deleted", c.deleted, path));
    if (!c.deleted) {
        auto* row = json::find(j, "row");
        if (!row) return Status(Errc::malformed, path + ".row: is required");
        TUNDRA_TRY(read_row(*row, spec, c.row, path.empty() ? path : path + ".row"));
    }
    return Status::ok();
}
}  // namespace

std::string encode_action(const Action& a) {
    return write([&](Writer& w) { put_action(w, a); });
}

std::string encode_outcome(const Outcome& o) {
    return write([&](Writer& w) { put_outcome(w, o); });
}

Result<Outcome> decode_outcome(std::string_view text) {
    rapidjson::Document doc;
    TUNDRA_TRY(json::parse(text, doc));
    Outcome o;
    TUNDRA_TRY(read_outcome(doc, o, "outcome"));
    return o;
}

std::string encode_row(const Row& row) {
    return write([&](Writer& w) { json::put_row(w, row); });
}

std::string encode(const LoginRequest& m) {
    return write([&](Writer& w) {
        w.StartObject();
        put(w, "protocol");
        w.Int(m.protocol);
        put(w, "username");
        put(w, m.username);
        put(w, "password");
        put(w, m.password);
        if (!m.device_name.empty()) {
            put(w, "device_name");
            put(w, m.device_name);
        }
        if (!m.device_id.empty()) {
            put(w, "device_id");
            put(w, m.device_id);
        }
        if (!m.install_id.empty()) {
            put(w, "install_id");
            put(w, m.install_id);
        }
        if (!m.app_version.empty()) {
            put(w, "app_version");
            put(w, m.app_version);
        }
        w.EndObject();
    });
}

std::string encode(const PasswordChangeRequest& m) {
    return write([&](Writer& w) {
        w.StartObject();
        put(w, "protocol");
        w.Int(m.protocol);
        put(w, "current_password");
        put(w, m.current_password);
        put(w, "new_password");
        put(w, m.new_password);
        w.EndObject();
    });
}

std::string encode(const LoginResponse& m) {
    return write([&](Writer& w) {
        w.StartObject();
        put(w, "protocol");
        w.Int(m.protocol);
        put(w, "token");
        put(w, m.token);
        put(w, "device_id");
        put(w, m.device_id);
        put(w, "capabilities");
        json::put_value(w, m.capabilities);
        put(w, "server_hlc");
        w.Uint64(m.server_hlc);
        put(w, "last_seq");
        w.Uint64(m.last_seq);
        put(w, "user");
        w.StartObject();
        put(w, "username");
        put(w, m.user.username);
        put(w, "role");
        put(w, m.user.role);
        put(w, "person");
        if (m.user.person.empty()) w.Null();
        else put(w, m.user.person);
        put(w, "sites");
        json::put_value(w, m.user.sites);
        w.EndObject();
        w.EndObject();
    });
}

std::string encode(const SyncRequest& m) {
    return write([&](Writer& w) {
        w.StartObject();
        put(w, "protocol");
        w.Int(m.protocol);
        if (!m.capabilities.empty()) {
            put(w, "capabilities");
            json::put_value(w, m.capabilities);
        }
        put(w, "cursor");
        put(w, m.cursor);
        if (m.limit > 0) {
            put(w, "limit");
            w.Int(m.limit);
        }
        if (m.max_bytes > 0) {
            put(w, "max_bytes");
            w.Uint64(m.max_bytes);
        }
        if (m.verify) {
            put(w, "verify");
            w.Bool(true);
        }
        put(w, "actions");
        w.StartArray();
        for (auto& a : m.actions) put_action(w, a);
        w.EndArray();
        w.EndObject();
    });
}

std::string encode(const SyncResponse& m) {
    // The rows kept encoded (row_json) are most of a page: the buffer is sized for them once,
    // and each is copied in one block (the Writer's RawValue copies byte by byte).
    rapidjson::StringBuffer buf;
    size_t raw = 256;
    for (auto& c : m.changes) raw += 64 + c.id.size() + (c.row_json ? c.row_json->size() : 0);
    buf.Reserve(raw);
    Writer w(buf);
    w.StartObject();
    put(w, "protocol");
    w.Int(m.protocol);
    put(w, "server_hlc");
    w.Uint64(m.server_hlc);
    put(w, "outcomes");
    w.StartArray();
    for (auto& o : m.outcomes) put_outcome(w, o);
    w.EndArray();
    put(w, "changes");
    w.StartArray();
    for (auto& c : m.changes) {
        w.StartObject();
        put(w, "kind");
        put(w, entity(c.kind).name);
        put(w, "id");
        put(w, c.id);
        put(w, "v");
        w.Uint64(c.version);
        if (c.deleted) {
            put(w, "deleted");
            w.Bool(true);
        } else {
            put(w, "row");
            if (c.row_json) {
                w.RawValue("", 0, rapidjson::kObjectType);  // the separators; then the bytes
                std::memcpy(buf.Push(c.row_json->size()), c.row_json->data(), c.row_json->size());
            } else
                json::put_row(w, c.row);
        }
        w.EndObject();
    }
    w.EndArray();
    put(w, "cursor");
    put(w, m.cursor);
    put(w, "more");
    w.Bool(m.more);
    if (m.reset) {
        put(w, "reset");
        w.Bool(true);
    }
    if (m.remaining) {
        put(w, "remaining");
        w.Uint64(m.remaining);
    }
    put(w, "last_seq");
    w.Uint64(m.last_seq);
    if (m.checksum) {
        put(w, "checksum");
        w.StartObject();
        put(w, "count");
        w.Uint64(m.checksum->count);
        put(w, "hash");
        put(w, m.checksum->hash);
        w.EndObject();
    }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

std::string encode(const ErrorBody& m) {
    return write([&](Writer& w) {
        w.StartObject();
        put(w, "error");
        w.StartObject();
        put(w, "code");
        put(w, errc_info(m.code).wire_name);
        put(w, "message");
        put(w, m.message);
        put(w, "retryable");
        w.Bool(errc_info(m.code).retryable);
        w.EndObject();
        w.EndObject();
    });
}

Result<LoginRequest> decode_login_request(std::string_view text) {
    rapidjson::Document doc;
    TUNDRA_TRY(json::parse(text, doc));
    TUNDRA_TRY(object_root(doc));
    LoginRequest m;
    TUNDRA_TRY(check_protocol(doc, m.protocol));
    TUNDRA_TRY(json::req_string(doc, "username", m.username, ""));
    TUNDRA_TRY(json::req_string(doc, "password", m.password, ""));
    TUNDRA_TRY(json::opt_string(doc, "device_name", m.device_name, ""));
    TUNDRA_TRY(json::opt_string(doc, "device_id", m.device_id, ""));
    TUNDRA_TRY(json::opt_string(doc, "install_id", m.install_id, ""));
    TUNDRA_TRY(json::opt_string(doc, "app_version", m.app_version, ""));
    if (m.username.size() > 200 || m.password.size() > 1000 || m.device_name.size() > 200 ||
        m.install_id.size() > 100 || m.app_version.size() > 50)
        return Result<LoginRequest>(Errc::invalid_argument, "a login field is too long");
    return m;
}

Result<PasswordChangeRequest> decode_password_change_request(std::string_view text) {
    rapidjson::Document doc;
    TUNDRA_TRY(json::parse(text, doc));
    TUNDRA_TRY(object_root(doc));
    PasswordChangeRequest m;
    TUNDRA_TRY(check_protocol(doc, m.protocol));
    TUNDRA_TRY(json::req_string(doc, "current_password", m.current_password, ""));
    TUNDRA_TRY(json::req_string(doc, "new_password", m.new_password, ""));
    if (m.current_password.size() > 1000 || m.new_password.size() > 1000)
        return Result<PasswordChangeRequest>(Errc::invalid_argument, "a password is too long");
    return m;
}

Result<LoginResponse> decode_login_response(std::string_view text) {
    rapidjson::Document doc;
    TUNDRA_TRY(json::parse(text, doc));
    TUNDRA_TRY(object_root(doc));
    LoginResponse m;
    TUNDRA_TRY(check_protocol(doc, m.protocol));
    TUNDRA_TRY(json::req_string(doc, "token", m.token, ""));
    TUNDRA_TRY(json::req_string(doc, "device_id", m.device_id, ""));
    TUNDRA_TRY(json::opt_uint(doc, "server_hlc", m.server_hlc, ""));
    TUNDRA_TRY(json::opt_uint(doc, "last_seq", m.last_seq, ""));
    TUNDRA_TRY(json::opt_str_list(doc, "capabilities", m.capabilities, ""));
    auto* user = json::find(doc, "user");
    if (!user || !user->IsObject())
        return Result<LoginResponse>(Errc::malformed, "user: must be an object");
    TUNDRA_TRY(json::req_string(*user, "username", m.user.username, "user"));
    TUNDRA_TRY(json::req_string(*user, "role", m.user.role, "user"));
    TUNDRA_TRY(json::opt_string(*user, "person", m.user.person, "user"));
    TUNDRA_TRY(json::opt_str_list(*user, "sites", m.user.sites, "user"));
    return m;
}

Result<SyncRequest> decode_sync_request(std::string_view text) {
    rapidjson::Document doc;
    TUNDRA_TRY(json::parse(text, doc));
    TUNDRA_TRY(object_root(doc));
    SyncRequest m;
    TUNDRA_TRY(check_protocol(doc, m.protocol));
    TUNDRA_TRY(json::opt_str_list(doc, "capabilities", m.capabilities, ""));
    TUNDRA_TRY(json::opt_string(doc, "cursor", m.cursor, ""));
    TUNDRA_TRY(json::opt_int(doc, "limit", m.limit, ""));
    TUNDRA_TRY(json::opt_uint(doc, "max_bytes", m.max_bytes, ""));
    TUNDRA_TRY(json::opt_bool(doc, "verify", m.verify, ""));
    if (m.max_bytes > kMaxPageBytes) m.max_bytes = kMaxPageBytes;
    if (m.limit < 0 || m.limit > kMaxPageRows)
        return Result<SyncRequest>(Errc::malformed,
                                   "limit: must be 0.." + std::to_string(kMaxPageRows));
    if (auto* actions = json::find(doc, "actions"); actions && !actions->IsNull()) {
        if (!actions->IsArray())
            return Result<SyncRequest>(Errc::malformed, "actions: must be an array");
        if (actions->Size() > kMaxActionsPerRequest)
            return Result<SyncRequest>(Errc::too_large,
                                       "actions: at most " +
                                           std::to_string(kMaxActionsPerRequest) + " per request");
        uint64_t prev = 0;
        for (rapidjson::SizeType i = 0; i < actions->Size(); ++i) {
            Action a;
            TUNDRA_TRY(read_action((*actions)[i], a, json::index("actions", i)));
            if (a.seq <= prev)
                return Result<SyncRequest>(
                    Errc::malformed, json::index("actions", i) + ".seq: must increase");
            prev = a.seq;
            m.actions.push_back(std::move(a));
        }
    }
    return m;
}

Result<SyncResponse> decode_sync_response(std::string_view text) {
    rapidjson::Document doc;
    TUNDRA_TRY(json::parse(text, doc));
    TUNDRA_TRY(object_root(doc));
    SyncResponse m;
    TUNDRA_TRY(check_protocol(doc, m.protocol));
    TUNDRA_TRY(json::opt_uint(doc, "server_hlc", m.server_hlc, ""));
    TUNDRA_TRY(json::req_string(doc, "cursor", m.cursor, ""));
    TUNDRA_TRY(json::opt_bool(doc, "more", m.more, ""));
    TUNDRA_TRY(json::opt_bool(doc, "reset", m.reset, ""));
    TUNDRA_TRY(json::opt_uint(doc, "remaining", m.remaining, ""));
    TUNDRA_TRY(json::opt_uint(doc, "last_seq", m.last_seq, ""));
    if (auto* sum = json::find(doc, "checksum"); sum && !sum->IsNull()) {
        if (!sum->IsObject())
            return Result<SyncResponse>(Errc::malformed, "checksum: must be an object");
        ScopeChecksum k;
        TUNDRA_TRY(json::req_uint(*sum, "count", k.count, "checksum"));
        TUNDRA_TRY(json::req_string(*sum, "hash", k.hash, "checksum"));
        m.checksum = k;
    }
    if (auto* outcomes = json::find(doc, "outcomes")) {
        if (!outcomes->IsArray())
            return Result<SyncResponse>(Errc::malformed, "outcomes: must be an array");
        for (rapidjson::SizeType i = 0; i < outcomes->Size(); ++i) {
            Outcome o;
            TUNDRA_TRY(read_outcome((*outcomes)[i], o, json::index("outcomes", i)));
            m.outcomes.push_back(std::move(o));
        }
    }
    if (auto* changes = json::find(doc, "changes")) {
        if (!changes->IsArray())
            return Result<SyncResponse>(Errc::malformed, "changes: must be an array");
        m.changes.reserve(changes->Size());
        for (rapidjson::SizeType i = 0; i < changes->Size(); ++i) {
            Change c;
            if (!read_change((*changes)[i], {}, c)) {
                Change again;
                return Result<SyncResponse>(read_change((*changes)[i], json::index("changes", i), again));
            }
            m.changes.push_back(std::move(c));
        }
    }
    return m;
}

Result<ErrorBody> decode_error(std::string_view text) {
    rapidjson::Document doc;
    TUNDRA_TRY(json::parse(text, doc));
    TUNDRA_TRY(object_root(doc));
    auto* error = json::find(doc, "error");
    if (!error || !error->IsObject())
        return Result<ErrorBody>(Errc::malformed, "error: must be an object");
    ErrorBody e;
    std::string code;
    TUNDRA_TRY(json::req_string(*error, "code", code, "error"));
    TUNDRA_TRY(json::opt_string(*error, "message", e.message, "error"));
    e.code = errc_from_wire(code);
    return e;
}

Result<Action> decode_action(std::string_view text) {
    rapidjson::Document doc;
    TUNDRA_TRY(json::parse(text, doc));
    Action a;
    TUNDRA_TRY(read_action(doc, a, "action"));
    return a;
}

Result<Row> decode_row(std::string_view text) {
    rapidjson::Document doc;
    TUNDRA_TRY(json::parse(text, doc));
    Row row;
    TUNDRA_TRY(read_row(doc, nullptr, row, "row"));
    return row;
}

}  // namespace tundra
