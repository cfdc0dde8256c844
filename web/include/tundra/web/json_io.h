// JSON in and out for the web apps' APIs (the tablet app's, the console's): a document written
// with RapidJSON (never by string concatenation), and a request body read field by field with
// the field named in errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tundra/core/json.h"
#include "tundra/core/status.h"
#include "tundra/web/http.h"

namespace tundra::web {

class JsonOut {
public:
    JsonOut() : w_(buf_) {}
    json::Writer& w() { return w_; }
    JsonOut& key(std::string_view k) {
        json::put(w_, k);
        return *this;
    }
    JsonOut& str(std::string_view k, std::string_view v) {
        key(k);
        json::put(w_, v);
        return *this;
    }
    // An empty string is written as null.
    JsonOut& str_or_null(std::string_view k, std::string_view v) {
        key(k);
        if (v.empty()) w_.Null();
        else json::put(w_, v);
        return *this;
    }
    JsonOut& num(std::string_view k, int64_t v) {
        key(k);
        w_.Int64(v);
        return *this;
    }
    JsonOut& num(std::string_view k, std::optional<int64_t> v) {
        key(k);
        if (v) w_.Int64(*v);
        else w_.Null();
        return *this;
    }
    JsonOut& real(std::string_view k, double v) {
        key(k);
        w_.Double(v);
        return *this;
    }
    JsonOut& flag(std::string_view k, bool v) {
        key(k);
        w_.Bool(v);
        return *this;
    }
    void begin() { w_.StartObject(); }
    void end() { w_.EndObject(); }
    void begin_array(std::string_view k) {
        key(k);
        w_.StartArray();
    }
    void end_array() { w_.EndArray(); }
    // An array as a value (inside another array) and an object as a value.
    void begin_array() { w_.StartArray(); }
    // A row of the model (json::put_row) under `k`; null when `row` is null.
    JsonOut& row(std::string_view k, const Row* row) {
        key(k);
        if (row) json::put_row(w_, *row);
        else w_.Null();
        return *this;
    }
    std::string take() { return std::string(buf_.GetString(), buf_.GetSize()); }

private:
    rapidjson::StringBuffer buf_;
    json::Writer w_;
};

// A request body: a JSON object (depth, size and UTF-8 checked by json::parse).
class JsonIn {
public:
    Status parse(std::string_view body);
    // Errors: invalid_argument naming the field (missing, wrong type, too long).
    Status text(const char* key, std::string& out, bool required = true, size_t max = 2000) const;
    Status integer(const char* key, std::optional<int64_t>& out, bool required = true) const;
    Status boolean(const char* key, bool& out) const;
    // The parsed object (after parse()).
    const rapidjson::Value& object() const { return doc_; }

private:
    rapidjson::Document doc_;
};

// The error answer of the web apps' APIs: {"error":{"code", "message"?, "field"?,
// "retry_after_s"?}} with status `http` (and Retry-After). An invalid_argument or malformed
// message "name: ..." names the field "name" (at most `max_field` characters of
// [a-z0-9_.[]]); the message is left out when `with_message` is false, and always for
// internal and storage failures (the log has those).
struct ErrorAnswer {
    bool with_message = true;
    size_t max_field = 60;
};
HttpResponse error_answer(const Status& st, std::string_view code, int http, ErrorAnswer how = {});

}  // namespace tundra::web
