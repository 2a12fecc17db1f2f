// cloudwatch/metric_store: the datapoints behind GetMetricStatistics,
// GetMetricData, ListMetrics and alarm evaluation.
//
//   put(Datum) ─► memory (per metric, sorted by time) ─► pending rows
//                                         │ flush() every second (one batch)
//                                         ▼
//                      SQLite file <data_dir>/metrics.db (its own file, so
//                      publishers never wait on the shared store's fsyncs)
//
// Retention: samples as put (with their raw values, for percentiles) for
// the last 3 hours; older ones are folded by prune() into one sample per
// metric, minute and unit (SampleCount/Sum/Minimum/Maximum kept, raw values
// dropped, so percentiles older than 3 hours are not answered); minutes
// older than 15 days are removed. The store is the one place this happens,
// in memory and in SQLite alike. Thread-safe (one mutex).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cloudwatch/types.h"
#include "core/error.h"
#include "store/store.h"

namespace berth::cloudwatch {

inline constexpr auto kRawRetention = std::chrono::hours(3);
inline constexpr auto kMinuteRetention = std::chrono::hours(24 * 15);

struct Sample {
  int64_t t_ms = 0;
  double count = 0, sum = 0, min = 0, max = 0;
  std::vector<double> values;  // raw values with their counts (weights); empty once folded
  std::vector<double> weights;
  std::string unit;  // "None" when not given
  bool folded = false;
};

// The statistics of one period.
struct Bucket {
  int64_t start_ms = 0;
  double count = 0, sum = 0, min = 0, max = 0;
  std::vector<std::pair<double, double>> values;  // (value, weight), for percentiles
  std::string unit;
  bool has_all_values = true;  // false when a StatisticSet or folded minute contributed
};

// "Average", "Sum", ... or "p99.9"; nullopt when the bucket cannot answer it
// (a percentile over data without raw values).
std::optional<double> statistic_of(const Bucket& b, std::string_view stat);
// A valid pNN(.NN) name (p0..p100).
bool is_percentile(std::string_view stat);

class MetricStore {
 public:
  // path ":memory:" keeps nothing across restarts (tests).
  static Result<std::unique_ptr<MetricStore>> open(const std::string& path, const Clock& clock);

  void put(const Datum& d);  // validated already; timestamp set
  // Periods of period_ms starting at multiples of period_ms (epoch-aligned)
  // within [start, end), oldest first, only those with data.
  std::vector<Bucket> buckets(const MetricKey& key, WallTime start, WallTime end, int64_t period_ms,
                              std::string_view unit) const;
  struct Listed {
    MetricKey key;
    WallTime last_put;
  };
  std::vector<Listed> list() const;

  Status flush();  // writes pending samples in one transaction
  Status prune();  // folds and removes old samples

 private:
  MetricStore(store::Database db, const Clock& clock) : db_(std::move(db)), clock_(clock) {}
  Status load();

  struct Series {
    std::vector<Sample> samples;  // sorted by t_ms
    WallTime last_put{};
  };
  mutable std::mutex mu_;
  store::Database db_;
  const Clock& clock_;
  std::map<MetricKey, Series> series_;
  std::vector<std::pair<MetricKey, Sample>> pending_;
};

std::string series_id(const MetricKey& key);

}  // namespace berth::cloudwatch
