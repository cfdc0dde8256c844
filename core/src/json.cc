#include "tundra/core/json.h"

#include <rapidjson/encodedstream.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace tundra::json {

std::string join(std::string_view path, std::string_view key) {
    if (path.empty()) return std::string(key);
    return std::string(path) + "." + std::string(key);
}

std::string index(std::string_view path, size_t i) {
    return std::string(path) + "[" + std::to_string(i) + "]";
}

void put_value(Writer& w, const Value& v) {
    std::visit(
        [&](auto&& x) {
            using X = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<X, std::monostate>) w.Null();
            else if constexpr (std::is_same_v<X, int64_t>) w.Int64(x);
            else if constexpr (std::is_same_v<X, bool>) w.Bool(x);
            else if constexpr (std::is_same_v<X, std::string>) put(w, x);
            else {
                w.StartArray();
                for (auto& s : x) put(w, s);
                w.EndArray();
            }
        },
        v);
}

void put_row(Writer& w, const Row& row) {
    w.StartObject();
    for (auto& [k, v] : row) {
        put(w, k);
        put_value(w, v);
    }
    w.EndObject();
}

bool valid_utf8(std::string_view text) {
    auto* s = reinterpret_cast<const unsigned char*>(text.data());
    size_t n = text.size();
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        if (len == 0 || i + len > n) return false;
        uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
        for (size_t k = 1; k < len; ++k) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

namespace {
// Forwards SAX events to the document while counting open arrays and objects; returning
// false stops the reader (kParseErrorTermination) at the first level too deep.
struct DepthLimit {
    rapidjson::Document& doc;
    int max_depth;
    int depth = 0;
    bool too_deep = false;
    bool bad_string = false;

    bool open() {
        if (++depth <= max_depth) return true;
        too_deep = true;
        return false;
    }
    bool Null() { return doc.Null(); }
    bool Bool(bool b) { return doc.Bool(b); }
    bool Int(int i) { return doc.Int(i); }
    bool Uint(unsigned u) { return doc.Uint(u); }
    bool Int64(int64_t i) { return doc.Int64(i); }
    bool Uint64(uint64_t u) { return doc.Uint64(u); }
    bool Double(double d) { return doc.Double(d); }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) { return doc.RawNumber(s, n, copy); }
    // RapidJSON 1.1 decodes an escaped lone low surrogate (`"\udc00"`) into bytes that are not
    // UTF-8; stored and sent on, they would make every later reply holding them unreadable.
    bool text(const char* s, rapidjson::SizeType n) {
        if (valid_utf8(std::string_view(s, n))) return true;
        bad_string = true;
        return false;
    }
    bool String(const char* s, rapidjson::SizeType n, bool copy) { return text(s, n) && doc.String(s, n, copy); }
    bool Key(const char* s, rapidjson::SizeType n, bool copy) { return text(s, n) && doc.Key(s, n, copy); }
    bool StartObject() { return open() && doc.StartObject(); }
    bool EndObject(rapidjson::SizeType members) {
        --depth;
        return doc.EndObject(members);
    }
    bool StartArray() { return open() && doc.StartArray(); }
    bool EndArray(rapidjson::SizeType elements) {
        --depth;
        return doc.EndArray(elements);
    }
};
}  // namespace

Status parse(std::string_view text, rapidjson::Document& doc, int max_depth) {
    // Iterative: RapidJSON's default recursive descent overflows the stack on a million `[`
    // (about 1 KB gzipped). Strings are copied into the document, so `text` may go away.
    constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
    rapidjson::ParseResult result;
    DepthLimit limit{doc, max_depth};
    auto generate = [&](rapidjson::Document&) {
        rapidjson::MemoryStream ms(text.data(), text.size());
        rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(ms);
        rapidjson::Reader reader;
        result = reader.Parse<kFlags>(in, limit);
        return !result.IsError();
    };
    doc.SetNull();
    doc.Populate(generate);
    if (limit.too_deep)
        return Status(Errc::malformed, "invalid JSON: nesting deeper than " + std::to_string(max_depth) +
                                           " levels at byte " + std::to_string(result.Offset()));
    if (limit.bad_string)
        return Status(Errc::malformed, "invalid JSON: a string before byte " + std::to_string(result.Offset()) +
                                           " is not valid UTF-8 (an unpaired \\u surrogate escape)");
    if (result.IsError())
        return Status(Errc::malformed, "invalid JSON at byte " + std::to_string(result.Offset()) + ": " +
                                           rapidjson::GetParseError_En(result.Code()));
    return Status::ok();
}

const rapidjson::Value* find(const rapidjson::Value& obj, const char* key) {
    auto it = obj.FindMember(key);
    return it == obj.MemberEnd() ? nullptr : &it->value;
}

Status to_value(const rapidjson::Value& j, Value& out, std::string_view path) {
    if (j.IsNull()) out = std::monostate{};
    else if (j.IsBool()) out = j.GetBool();
    else if (j.IsInt64()) out = j.GetInt64();
    else if (j.IsString()) out = std::string(j.GetString(), j.GetStringLength());
    else if (j.IsArray()) {
        StrList list;
        for (rapidjson::SizeType i = 0; i < j.Size(); ++i) {
            if (!j[i].IsString())
                return Status(Errc::malformed, index(path, i) + ": must be a string");
            list.emplace_back(j[i].GetString(), j[i].GetStringLength());
        }
        out = std::move(list);
    } else if (j.IsNumber()) {
        return Status(Errc::malformed, std::string(path) + ": must be an integer");
    } else {
        return Status(Errc::malformed, std::string(path) + ": nested objects are not allowed");
    }
    return Status::ok();
}

namespace {
const rapidjson::Value* member(const rapidjson::Value& obj, const char* key) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
    return &it->value;
}
Status wrong(std::string_view path, const char* key, const char* what) {
    return Status(Errc::malformed, join(path, key) + ": " + what);
}
}  // namespace

Status req_string(const rapidjson::Value& obj, const char* key, std::string& out,
                  std::string_view path) {
    if (!member(obj, key)) return wrong(path, key, "is required");
    return opt_string(obj, key, out, path);
}

Status opt_string(const rapidjson::Value& obj, const char* key, std::string& out,
                  std::string_view path) {
    auto* v = member(obj, key);
    if (!v) return Status::ok();
    if (!v->IsString()) return wrong(path, key, "must be a string");
    out.assign(v->GetString(), v->GetStringLength());
    return Status::ok();
}

Status req_uint(const rapidjson::Value& obj, const char* key, uint64_t& out,
                std::string_view path) {
    if (!member(obj, key)) return wrong(path, key, "is required");
    return opt_uint(obj, key, out, path);
}

Status opt_uint(const rapidjson::Value& obj, const char* key, uint64_t& out,
                std::string_view path) {
    auto* v = member(obj, key);
    if (!v) return Status::ok();
    if (!v->IsUint64()) return wrong(path, key, "must be a non-negative integer");
    out = v->GetUint64();
    return Status::ok();
}

Status opt_int(const rapidjson::Value& obj, const char* key, int& out, std::string_view path) {
    auto* v = member(obj, key);
    if (!v) return Status::ok();
    if (!v->IsInt()) return wrong(path, key, "must be an integer");
    out = v->GetInt();
    return Status::ok();
}

Status opt_bool(const rapidjson::Value& obj, const char* key, bool& out, std::string_view path) {
    auto* v = member(obj, key);
    if (!v) return Status::ok();
    if (!v->IsBool()) return wrong(path, key, "must be true or false");
    out = v->GetBool();
    return Status::ok();
}

Status opt_str_list(const rapidjson::Value& obj, const char* key, StrList& out,
                    std::string_view path) {
    auto* v = member(obj, key);
    if (!v) return Status::ok();
    if (!v->IsArray()) return wrong(path, key, "must be an array of strings");
    out.clear();
    for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
        if (!(*v)[i].IsString())
            return Status(Errc::malformed, index(join(path, key), i) + ": must be a string");
        out.emplace_back((*v)[i].GetString(), (*v)[i].GetStringLength());
    }
    return Status::ok();
}

}  // namespace tundra::json
