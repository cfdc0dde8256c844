// The libcurl transport: one easy handle (keep-alive between rounds), deadlines from the
// caller, TLS verification always on, plain HTTP only where it cannot be overheard, and an
// abort check (a cancelled sync) consulted from curl's progress callback.
#include <arpa/inet.h>
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "tundra/client/transport.h"
#include "tundra/core/gzip.h"

namespace tundra::client {
namespace {
void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
    std::string body;
    std::map<std::string, std::string> headers;
    size_t max = 0;
    bool overflow = false;
};

size_t on_body(char* p, size_t size, size_t n, void* ud) {
    auto* s = static_cast<Sink*>(ud);
    if (s->body.size() + size * n > s->max) {
        s->overflow = true;
        return 0;  // aborts the transfer
    }
    s->body.append(p, size * n);
    return size * n;
}

size_t on_header(char* p, size_t size, size_t n, void* ud) {
    auto* s = static_cast<Sink*>(ud);
    std::string line(p, size * n);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        std::string value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
            value.pop_back();
        s->headers[name] = value;
    } else if (line.rfind("HTTP/", 0) == 0) {
        s->headers.clear();  // a new response (e.g. after 100-continue)
    }
    return size * n;
}

// 127.0.0.0/8, ::1 and the name localhost (which libcurl resolves to loopback itself).
bool is_loopback_host(std::string host) {
    std::transform(host.begin(), host.end(), host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (host == "localhost") return true;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
    return false;
}

// What curl says went wrong, in one line: its error buffer when it has more to say.
std::string reason(CURLcode rc, const char* errbuf) {
    std::string r = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    for (char& c : r)
        if (c == '\n' || c == '\r') c = ' ';
    while (!r.empty() && r.back() == ' ') r.pop_back();
    return r;
}

bool is_certificate_error(CURLcode rc) {
    return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
           rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_ISSUER_ERROR ||
           rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || rc == CURLE_SSL_INVALIDCERTSTATUS;
}
}  // namespace

Status check_transport_security(const std::string& url, bool allow_insecure_http) {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
    if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
        return Status(Errc::invalid_argument, "not a URL: '" + url + "'");
    auto part = [&](CURLUPart which) {
        char* p = nullptr;
        std::string out;
        if (curl_url_get(u.get(), which, &p, 0) == CURLUE_OK && p) out = p;
        curl_free(p);
        return out;
    };
    std::string scheme = part(CURLUPART_SCHEME), host = part(CURLUPART_HOST);
    if (scheme == "https") return Status::ok();
    if (scheme != "http")
        return Status(Errc::invalid_argument, "server URL must start with https:// (or http:// to this machine)");
    if (allow_insecure_http || is_loopback_host(host)) return Status::ok();
    return Status(Errc::invalid_argument,
                  "refusing plain http:// to " + host +
                      ": the password and the device token would cross the network unencrypted; use "
                      "https:// (or --allow-insecure-http on a network you trust)");
}

namespace {
class CurlTransport final : public Transport {
public:
    CurlTransport(std::string base, CurlOptions o) : base_(std::move(base)), opts_(o) {
        global_init();
        while (!base_.empty() && base_.back() == '/') base_.pop_back();
        h_ = curl_easy_init();
    }
    ~CurlTransport() override { curl_easy_cleanup(h_); }

    void set_abort(std::function<bool()> abort) override { abort_ = std::move(abort); }

    Result<HttpReply> post(const std::string& path, const std::string& body,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           std::chrono::milliseconds timeout) override {
        if (!h_) return Result<HttpReply>(Errc::internal, "curl_easy_init failed");
        if (abort_ && abort_()) return Result<HttpReply>(Errc::cancelled, "the request was cancelled");
        // Checked on every request, not only at login: the URL comes from the replica.
        TUNDRA_TRY(check_transport_security(base_, opts_.allow_insecure_http));
        // The same easy handle keeps its connection alive between rounds.
        curl_easy_reset(h_);
        std::string url = base_ + path;
        std::string payload;
        curl_slist* hl = nullptr;
        hl = curl_slist_append(hl, "Content-Type: application/json");
        hl = curl_slist_append(hl, "Expect:");
        if (body.size() >= opts_.gzip_request_min_bytes) {
            payload = gzip_compress(body, 6);
            hl = curl_slist_append(hl, "Content-Encoding: gzip");
        } else {
            payload = body;
        }
        for (auto& [k, v] : headers) hl = curl_slist_append(hl, (k + ": " + v).c_str());
        Sink sink;
        sink.max = opts_.max_response_bytes;
        curl_easy_setopt(h_, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h_, CURLOPT_POST, 1L);
        curl_easy_setopt(h_, CURLOPT_POSTFIELDS, payload.data());
        curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
        curl_easy_setopt(h_, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(h_, CURLOPT_ACCEPT_ENCODING, "gzip");
        // Every wait fits in what is left of the caller's deadline: connect, send, and a
        // stalled transfer (the low-speed limit) are all cut off by the total timeout.
        long connect_ms = opts_.connect_timeout_ms;
        if (timeout.count() > 0) {
            connect_ms = std::min<long>(connect_ms, static_cast<long>(timeout.count()));
            curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
        }
        curl_easy_setopt(h_, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
        curl_easy_setopt(h_, CURLOPT_LOW_SPEED_LIMIT, opts_.low_speed_bytes);
        curl_easy_setopt(h_, CURLOPT_LOW_SPEED_TIME, opts_.low_speed_seconds);
        curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h_, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h_, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h_, CURLOPT_HEADERDATA, &sink);
        curl_easy_setopt(h_, CURLOPT_USERAGENT, "tundra-client/1");
        // No redirects (the default, said out loud), and no protocol but these two.
        curl_easy_setopt(h_, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h_, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h_, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h_, CURLOPT_SSL_VERIFYHOST, 2L);
        if (!opts_.ca_file.empty()) {
            // Only this CA: no system bundle, no system certificate folder.
            curl_easy_setopt(h_, CURLOPT_CAINFO, opts_.ca_file.c_str());
            curl_easy_setopt(h_, CURLOPT_CAPATH, nullptr);
        }
        if (abort_) {
            // Called often during a transfer and about once a second while it stalls.
            curl_easy_setopt(h_, CURLOPT_XFERINFOFUNCTION, on_progress);
            curl_easy_setopt(h_, CURLOPT_XFERINFODATA, this);
            curl_easy_setopt(h_, CURLOPT_NOPROGRESS, 0L);
        }
        char errbuf[CURL_ERROR_SIZE] = {};
        curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, errbuf);
        CURLcode rc = curl_easy_perform(h_);
        curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, nullptr);  // errbuf ends with this call
        curl_slist_free_all(hl);
        if (sink.overflow) return Result<HttpReply>(Errc::too_large, "response over the size limit");
        if (rc == CURLE_ABORTED_BY_CALLBACK)
            return Result<HttpReply>(Errc::cancelled, "the request was cancelled (" + url + ")");
        if (rc != CURLE_OK) {
            if (is_certificate_error(rc))
                return Result<HttpReply>(Errc::network, "certificate not trusted for " + base_ + ": " +
                                                            reason(rc, errbuf));
            std::string msg = reason(rc, errbuf) + " (" + url + ")";
            if (rc == CURLE_OPERATION_TIMEDOUT) return Result<HttpReply>(Errc::timeout, msg);
            if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
                return Result<HttpReply>(Errc::invalid_argument, msg);
            return Result<HttpReply>(Errc::network, msg);
        }
        HttpReply r;
        long status = 0;
        curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &status);
        r.status = static_cast<int>(status);
        long req_size = 0, hdr_size = 0;
        curl_off_t down = 0;
        curl_easy_getinfo(h_, CURLINFO_REQUEST_SIZE, &req_size);
        curl_easy_getinfo(h_, CURLINFO_HEADER_SIZE, &hdr_size);
        curl_easy_getinfo(h_, CURLINFO_SIZE_DOWNLOAD_T, &down);
        r.bytes_sent = static_cast<uint64_t>(req_size);  // headers and body as sent
        r.bytes_received = static_cast<uint64_t>(hdr_size) + static_cast<uint64_t>(down);
        curl_off_t first_byte_us = 0;
        curl_easy_getinfo(h_, CURLINFO_STARTTRANSFER_TIME_T, &first_byte_us);
        r.first_byte_seconds = static_cast<double>(first_byte_us) / 1e6;
        r.headers = std::move(sink.headers);
        r.body = std::move(sink.body);
        return r;
    }

private:
    static int on_progress(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
        auto* self = static_cast<CurlTransport*>(ud);
        return self->abort_ && self->abort_() ? 1 : 0;  // non-zero aborts the transfer
    }

    std::string base_;
    CurlOptions opts_;
    CURL* h_ = nullptr;
    std::function<bool()> abort_;
};
}  // namespace

std::unique_ptr<Transport> make_curl_transport(const std::string& base_url, CurlOptions opts) {
    return std::make_unique<CurlTransport>(base_url, opts);
}

}  // namespace tundra::client
