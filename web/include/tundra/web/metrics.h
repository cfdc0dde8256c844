// Metrics in the Prometheus text exposition format (version 0.0.4), with no dependency:
// counters, gauges and histograms in labelled families, kept in a registry that renders them
// for GET /metrics (docs/operations.md, "Metrics"). Recording is lock-free (atomics); only
// finding a family's child by label values takes the family's mutex, so hot paths look a
// child up once and keep the reference (children are never removed).
//
// Thread safety: everything here may be used from any number of threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tundra/web/http.h"

namespace tundra::web {

class Counter {
public:
    void inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
    uint64_t value() const { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<uint64_t> v_{0};
};

class Gauge {
public:
    void set(double v) { v_.store(v, std::memory_order_relaxed); }
    double value() const { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> v_{0};
};

// Cumulative buckets with fixed upper bounds (ascending; +Inf is implicit).
class Histogram {
public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double v);
    const std::vector<double>& bounds() const { return bounds_; }
    // Observations at or below bounds()[i] (not cumulative; render() sums them up).
    uint64_t bucket(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
    uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    double sum() const { return sum_.load(std::memory_order_relaxed); }

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // one per bound, then +Inf
    std::atomic<uint64_t> count_{0};
    std::atomic<double> sum_{0};
};

// Request latencies, in seconds: 1 ms to 10 s.
std::vector<double> latency_buckets();

class FamilyBase {
public:
    FamilyBase(std::string name, std::string help, std::string type, std::vector<std::string> labels)
        : name_(std::move(name)), help_(std::move(help)), type_(std::move(type)), labels_(std::move(labels)) {}
    virtual ~FamilyBase() = default;
    const std::string& name() const { return name_; }
    const std::string& type() const { return type_; }
    // "# HELP", "# TYPE" and one line per sample.
    virtual void render(std::string& out) const = 0;

protected:
    // `{a="x",b="y"}` (empty without labels), values escaped; `extra` is appended inside.
    std::string label_text(const std::vector<std::string>& values, std::string_view extra = {}) const;
    void header(std::string& out) const;
    std::string name_, help_, type_;
    std::vector<std::string> labels_;
    mutable std::mutex mu_;
};

// The children of one metric, one per combination of label values (as many values as the
// family has label names; missing ones are empty, extra ones dropped).
template <class M>
class Family final : public FamilyBase {
public:
    Family(std::string name, std::string help, std::string type, std::vector<std::string> labels,
           std::function<std::unique_ptr<M>()> make)
        : FamilyBase(std::move(name), std::move(help), std::move(type), std::move(labels)), make_(std::move(make)) {}
    M& with(std::vector<std::string> values) {
        values.resize(labels_.size());
        std::lock_guard lock(mu_);
        auto& slot = children_[values];
        if (!slot) slot = make_();
        return *slot;
    }
    M& with() { return with(std::vector<std::string>{}); }
    void render(std::string& out) const override;

private:
    std::function<std::unique_ptr<M>()> make_;
    std::map<std::vector<std::string>, std::unique_ptr<M>> children_;
};

template <>
void Family<Counter>::render(std::string& out) const;
template <>
void Family<Gauge>::render(std::string& out) const;
template <>
void Family<Histogram>::render(std::string& out) const;

class MetricsRegistry {
public:
    // A family by name: registered on first use; later calls return the same family (the
    // help, labels and buckets of the first call stay). Names follow Prometheus rules
    // (`tundra_..._total` for counters).
    Family<Counter>& counter(const std::string& name, const std::string& help,
                             std::vector<std::string> labels = {});
    Family<Gauge>& gauge(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
    Family<Histogram>& histogram(const std::string& name, const std::string& help,
                                 std::vector<std::string> labels = {}, std::vector<double> bounds = latency_buckets());
    // Run at every scrape, before rendering: gauges read from elsewhere (the store).
    void add_collector(std::function<void()> collect);
    // Every family in registration order, in the text format.
    std::string render();

private:
    template <class M>
    Family<M>& family(const std::string& name, const std::string& help, const char* type,
                      std::vector<std::string> labels, std::function<std::unique_ptr<M>()> make);
    std::mutex mu_;
    std::vector<std::unique_ptr<FamilyBase>> families_;
    std::vector<std::function<void()>> collectors_;
};

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// The metrics listener's handler: GET (or HEAD) /metrics answers the registry's text; any
// other path is 404 and any other method 405. It serves nothing else.
HttpResponse metrics_response(MetricsRegistry& registry, const HttpRequest& req);

}  // namespace tundra::web
