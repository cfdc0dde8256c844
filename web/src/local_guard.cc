// Host/Origin checks for a loopback-only server (local_guard.h).
#include "tundra/web/local_guard.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace tundra::web {
namespace {
std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool is_this_host(const std::string& host, uint16_t port) {
    std::string p = ":" + std::to_string(port);
    for (const char* name : {"127.0.0.1", "localhost", "[::1]"})
        if (host == name + p) return true;
    return false;
}
}  // namespace

Status check_loopback_request(const HttpRequest& req, uint16_t port) {
    std::string host = lower(header(req, "host"));
    if (!is_this_host(host, port))
        return Status(Errc::forbidden, "Host must be 127.0.0.1:" + std::to_string(port) + " or localhost:" +
                                           std::to_string(port) + " (this server answers this machine only)");
    std::string origin = lower(header(req, "origin"));
    if (!origin.empty()) {
        if (origin.rfind("http://", 0) != 0 || !is_this_host(origin.substr(7), port))
            return Status(Errc::forbidden, "requests from other sites are refused (Origin)");
    }
    // Following a link to the app from elsewhere opens it (the shell holds no data); any
    // other request from another site is refused.
    std::string site = lower(header(req, "sec-fetch-site"));
    bool navigation = req.method == "GET" && lower(header(req, "sec-fetch-mode")) == "navigate";
    if (!site.empty() && site != "same-origin" && site != "none" && !navigation)
        return Status(Errc::forbidden, "requests from other sites are refused (Sec-Fetch-Site)");
    return Status::ok();
}

}  // namespace tundra::web
