// Prometheus text exposition (0.0.4); see metrics.h.
#include "tundra/web/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace tundra::web {
namespace {
// Shortest text that reads back as the same double; +Inf, -Inf, NaN as Prometheus spells them.
std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, p) : "NaN";
}

// Label values escape backslash, double quote and newline; HELP text backslash and newline.
std::string escaped(std::string_view s, bool quote) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '"' && quote) out += "\\\"";
        else out += c;
    }
    return out;
}
}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
    std::sort(bounds_.begin(), bounds_.end());
    counts_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
    for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::observe(double v) {
    size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    double old = sum_.load(std::memory_order_relaxed);
    while (!sum_.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
    }
}

std::vector<double> latency_buckets() {
    return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string FamilyBase::label_text(const std::vector<std::string>& values, std::string_view extra) const {
    std::string out;
    for (size_t i = 0; i < labels_.size(); ++i)
        out += (out.empty() ? "" : ",") + labels_[i] + "=\"" + escaped(values[i], true) + "\"";
    if (!extra.empty()) out += (out.empty() ? "" : ",") + std::string(extra);
    return out.empty() ? out : "{" + out + "}";
}

void FamilyBase::header(std::string& out) const {
    out += "# HELP " + name_ + " " + escaped(help_, false) + "\n";
    out += "# TYPE " + name_ + " " + type_ + "\n";
}

template <>
void Family<Counter>::render(std::string& out) const {
    header(out);
    std::lock_guard lock(mu_);
    for (auto& [values, c] : children_) out += name_ + label_text(values) + " " + std::to_string(c->value()) + "\n";
}

template <>
void Family<Gauge>::render(std::string& out) const {
    header(out);
    std::lock_guard lock(mu_);
    for (auto& [values, g] : children_) out += name_ + label_text(values) + " " + number(g->value()) + "\n";
}

template <>
void Family<Histogram>::render(std::string& out) const {
    header(out);
    std::lock_guard lock(mu_);
    for (auto& [values, h] : children_) {
        // Read the buckets first and derive the count from them, so that a scrape during an
        // observation is still consistent (+Inf bucket == count).
        uint64_t cumulative = 0;
        for (size_t i = 0; i < h->bounds().size(); ++i) {
            cumulative += h->bucket(i);
            out += name_ + "_bucket" + label_text(values, "le=\"" + number(h->bounds()[i]) + "\"") + " " +
                   std::to_string(cumulative) + "\n";
        }
        cumulative += h->bucket(h->bounds().size());
        out += name_ + "_bucket" + label_text(values, "le=\"+Inf\"") + " " + std::to_string(cumulative) + "\n";
        out += name_ + "_sum" + label_text(values) + " " + number(h->sum()) + "\n";
        out += name_ + "_count" + label_text(values) + " " + std::to_string(cumulative) + "\n";
    }
}

template <class M>
Family<M>& MetricsRegistry::family(const std::string& name, const std::string& help, const char* type,
                                   std::vector<std::string> labels, std::function<std::unique_ptr<M>()> make) {
    std::lock_guard lock(mu_);
    for (auto& f : families_)
        if (f->name() == name) {
            if (f->type() != type) throw std::logic_error("metric " + name + " registered with another type");
            return static_cast<Family<M>&>(*f);
        }
    auto f = std::make_unique<Family<M>>(name, help, type, std::move(labels), std::move(make));
    Family<M>& ref = *f;
    families_.push_back(std::move(f));
    return ref;
}

Family<Counter>& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                          std::vector<std::string> labels) {
    return family<Counter>(name, help, "counter", std::move(labels), [] { return std::make_unique<Counter>(); });
}

Family<Gauge>& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                                      std::vector<std::string> labels) {
    return family<Gauge>(name, help, "gauge", std::move(labels), [] { return std::make_unique<Gauge>(); });
}

Family<Histogram>& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                              std::vector<std::string> labels, std::vector<double> bounds) {
    return family<Histogram>(name, help, "histogram", std::move(labels),
                             [bounds] { return std::make_unique<Histogram>(bounds); });
}

void MetricsRegistry::add_collector(std::function<void()> collect) {
    std::lock_guard lock(mu_);
    collectors_.push_back(std::move(collect));
}

std::string MetricsRegistry::render() {
    std::vector<std::function<void()>> collectors;
    {
        std::lock_guard lock(mu_);
        collectors = collectors_;
    }
    for (auto& c : collectors) c();
    std::string out;
    std::lock_guard lock(mu_);
    for (auto& f : families_) f->render(out);
    return out;
}

HttpResponse metrics_response(MetricsRegistry& registry, const HttpRequest& req) {
    HttpResponse r;
    if (path_of(req) != "/metrics") {
        r.status = 404;
        r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
        r.body = "not found: this port serves /metrics only\n";
        return r;
    }
    if (req.method != "GET" && req.method != "HEAD") {
        r.status = 405;
        r.headers.emplace_back("Allow", "GET, HEAD");
        return r;
    }
    r.headers.emplace_back("Content-Type", kMetricsContentType);
    r.headers.emplace_back("Cache-Control", "no-store");
    if (req.method == "GET") r.body = registry.render();
    return r;
}

}  // namespace tundra::web
