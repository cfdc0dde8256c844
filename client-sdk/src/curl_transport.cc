#include <curl/curl.h>

#include <algorithm>
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

class CurlTransport final : public Transport {
public:
    CurlTransport(std::string base, CurlOptions o) : base_(std::move(base)), opts_(o) {
        global_init();
        while (!base_.empty() && base_.back() == '/') base_.pop_back();
        h_ = curl_easy_init();
    }
    ~CurlTransport() override { curl_easy_cleanup(h_); }

    Result<HttpReply> post(const std::string& path, const std::string& body,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           std::chrono::milliseconds timeout) override {
        if (!h_) return Result<HttpReply>(Errc::internal, "curl_easy_init failed");
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
        CURLcode rc = curl_easy_perform(h_);
        curl_slist_free_all(hl);
        if (sink.overflow) return Result<HttpReply>(Errc::too_large, "response over the size limit");
        if (rc != CURLE_OK) {
            std::string msg = std::string(curl_easy_strerror(rc)) + " (" + url + ")";
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
    std::string base_;
    CurlOptions opts_;
    CURL* h_ = nullptr;
};
}  // namespace

std::unique_ptr<Transport> make_curl_transport(const std::string& base_url, CurlOptions opts) {
    return std::make_unique<CurlTransport>(base_url, opts);
}

}  // namespace tundra::client
