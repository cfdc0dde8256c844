// JSON log lines for the HTTP listener (access_log.h).
#include "tundra/web/access_log.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "tundra/core/json.h"

namespace tundra::web {

std::string iso8601_ms(uint64_t time_ms) {
    std::time_t secs = static_cast<std::time_t>(time_ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[80];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<unsigned>(time_ms % 1000));
    return buf;
}

uint64_t now_ms() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
}

namespace {
// A request line is attacker-chosen: printable ASCII only (a log line stays valid UTF-8
// and one line), and bounded.
std::string printable(std::string_view s, size_t max) {
    std::string out(s.substr(0, max));
    for (char& c : out)
        if (c < 0x20 || c > 0x7e) c = '?';
    return out;
}
}  // namespace

std::string route_of(std::string_view target) {
    return printable(target.substr(0, target.find_first_of("?#")), 200);
}

std::string access_log_line(const AccessRecord& r) {
    rapidjson::StringBuffer sb;
    json::Writer w(sb);
    w.StartObject();
    w.Key("time");
    json::put(w, iso8601_ms(r.time_ms));
    w.Key("category");
    w.String("http.access");
    w.Key("address");
    json::put(w, r.address);
    w.Key("user");
    json::put(w, r.user);
    w.Key("device");
    json::put(w, r.device);
    w.Key("method");
    json::put(w, printable(r.method, 20));
    w.Key("route");
    json::put(w, route_of(r.route));
    w.Key("status");
    w.Int(r.status);
    w.Key("bytes");
    w.Uint64(r.bytes);
    w.Key("duration_ms");
    w.Double(std::round(r.duration_ms * 1000) / 1000);
    w.EndObject();
    return sb.GetString();
}

std::string event_log_line(uint64_t time_ms, std::string_view event, std::string_view message) {
    rapidjson::StringBuffer sb;
    json::Writer w(sb);
    w.StartObject();
    w.Key("time");
    json::put(w, iso8601_ms(time_ms));
    w.Key("category");
    w.String("http");
    w.Key("event");
    json::put(w, event);
    w.Key("message");
    json::put(w, message);
    w.EndObject();
    return sb.GetString();
}

}  // namespace tundra::web
