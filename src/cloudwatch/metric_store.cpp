#include "cloudwatch/metric_store.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "store/migrations.h"

namespace berth::cloudwatch {
namespace {

constexpr store::Migration kMetricMigrations[] = {
    {1, "create samples",
     "CREATE TABLE samples (series TEXT NOT NULL, t_ms INTEGER NOT NULL, unit TEXT NOT NULL, count REAL NOT NULL,"
     " sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, vals BLOB, folded INTEGER NOT NULL DEFAULT 0);"
     "CREATE INDEX samples_by_time ON samples (t_ms);"},
};

int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// values then weights, as native doubles (the file never leaves this machine).
std::vector<std::byte> pack(const Sample& s) {
  std::vector<std::byte> out((s.values.size() + s.weights.size()) * sizeof(double));
  if (!s.values.empty()) std::memcpy(out.data(), s.values.data(), s.values.size() * sizeof(double));
  if (!s.weights.empty())
    std::memcpy(out.data() + s.values.size() * sizeof(double), s.weights.data(), s.weights.size() * sizeof(double));
  return out;
}

void unpack(store::Blob blob, Sample& s) {
  size_t n = blob.size() / sizeof(double) / 2;
  s.values.resize(n);
  s.weights.resize(n);
  if (n == 0) return;
  std::memcpy(s.values.data(), blob.data(), n * sizeof(double));
  std::memcpy(s.weights.data(), blob.data() + n * sizeof(double), n * sizeof(double));
}

std::optional<MetricKey> parse_series_id(std::string_view id) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t sep = id.find('\x1f', start);
    parts.emplace_back(id.substr(start, sep == std::string_view::npos ? std::string_view::npos : sep - start));
    if (sep == std::string_view::npos) break;
    start = sep + 1;
  }
  if (parts.size() < 2 || parts.size() % 2 != 0) return std::nullopt;
  MetricKey key{parts[0], parts[1], {}};
  for (size_t i = 2; i + 1 < parts.size(); i += 2) key.dimensions.push_back({parts[i], parts[i + 1]});
  return key;
}

void add_to(Bucket& b, const Sample& s) {
  if (b.count == 0) {
    b.min = s.min;
    b.max = s.max;
    b.unit = s.unit;
  } else {
    b.min = std::min(b.min, s.min);
    b.max = std::max(b.max, s.max);
  }
  b.count += s.count;
  b.sum += s.sum;
  if (s.values.empty()) b.has_all_values = false;
  for (size_t i = 0; i < s.values.size(); ++i) b.values.emplace_back(s.values[i], s.weights[i]);
}

}  // namespace

std::string series_id(const MetricKey& key) {
  std::string id = key.namespace_name + '\x1f' + key.metric_name;
  for (const auto& d : key.dimensions) id.append("\x1f").append(d.name).append("\x1f").append(d.value);
  return id;
}

bool is_percentile(std::string_view stat) {
  if (stat.size() < 2 || stat[0] != 'p') return false;
  double x = 0;
  auto [end, ec] = std::from_chars(stat.data() + 1, stat.data() + stat.size(), x);
  if (ec != std::errc() || end != stat.data() + stat.size()) return false;
  size_t dot = stat.find('.');
  if (dot != std::string_view::npos && stat.size() - dot - 1 > 2) return false;  // at most two decimals
  return x >= 0 && x <= 100;
}

std::optional<double> statistic_of(const Bucket& b, std::string_view stat) {
  if (b.count <= 0) return std::nullopt;
  if (stat == "SampleCount") return b.count;
  if (stat == "Sum") return b.sum;
  if (stat == "Average") return b.sum / b.count;
  if (stat == "Minimum") return b.min;
  if (stat == "Maximum") return b.max;
  if (!is_percentile(stat) || !b.has_all_values || b.values.empty()) return std::nullopt;
  // Nearest rank over the kept raw values, weighted by their counts: exact
  // for the data kept (AWS's own percentiles are approximate).
  double p = std::strtod(std::string(stat.substr(1)).c_str(), nullptr);
  auto values = b.values;
  std::sort(values.begin(), values.end());
  double total = 0;
  for (const auto& [v, w] : values) total += w;
  double rank = std::max(1.0, std::ceil(p / 100.0 * total));
  double seen = 0;
  for (const auto& [v, w] : values) {
    seen += w;
    if (seen >= rank) return v;
  }
  return values.back().first;
}

Result<std::unique_ptr<MetricStore>> MetricStore::open(const std::string& path, const Clock& clock) {
  auto db = store::Database::open(path);
  if (!db) return std::move(db).error();
  if (auto applied = store::apply_migrations(*db, "cloudwatch_metrics", kMetricMigrations); !applied)
    return std::move(applied).error();
  std::unique_ptr<MetricStore> store(new MetricStore(std::move(*db), clock));
  if (auto loaded = store->load(); !loaded) return std::move(loaded).error();
  return store;
}

Status MetricStore::load() {
  int64_t oldest = to_ms(clock_.now() - kMinuteRetention);
  return db_.read([&](store::Tx& tx) -> Status {
    auto stmt = tx.prepare(
        "SELECT series, t_ms, unit, count, sum, min, max, vals, folded FROM samples WHERE t_ms >= ? ORDER BY t_ms");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(oldest);
    while (true) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      auto key = parse_series_id(stmt->column_text(0));
      if (!key) continue;
      Sample s;
      s.t_ms = stmt->column_int64(1);
      s.unit = stmt->column_string(2);
      s.count = stmt->column_double(3);
      s.sum = stmt->column_double(4);
      s.min = stmt->column_double(5);
      s.max = stmt->column_double(6);
      if (!stmt->column_is_null(7)) unpack(stmt->column_blob(7), s);
      s.folded = stmt->column_int64(8) != 0;
      Series& series = series_[*key];
      series.last_put = std::max(series.last_put, WallTime(std::chrono::milliseconds(s.t_ms)));
      series.samples.push_back(std::move(s));
    }
    return Ok{};
  });
}

void MetricStore::put(const Datum& d) {
  MetricKey key{d.namespace_name, d.metric_name, d.dimensions};
  std::sort(key.dimensions.begin(), key.dimensions.end());
  Sample s;
  s.t_ms = to_ms(d.timestamp);
  s.unit = d.unit.empty() ? "None" : d.unit;
  if (d.statistics) {
    s.count = d.statistics->sample_count;
    s.sum = d.statistics->sum;
    s.min = d.statistics->minimum;
    s.max = d.statistics->maximum;
  } else {
    if (d.value) {
      s.values.push_back(*d.value);
      s.weights.push_back(1);
    }
    for (size_t i = 0; i < d.values.size(); ++i) {
      s.values.push_back(d.values[i]);
      s.weights.push_back(i < d.counts.size() ? d.counts[i] : 1);
    }
    bool first = true;
    for (size_t i = 0; i < s.values.size(); ++i) {
      s.count += s.weights[i];
      s.sum += s.values[i] * s.weights[i];
      s.min = first ? s.values[i] : std::min(s.min, s.values[i]);
      s.max = first ? s.values[i] : std::max(s.max, s.values[i]);
      first = false;
    }
  }
  std::lock_guard lock(mu_);
  Series& series = series_[key];
  auto at = std::upper_bound(series.samples.begin(), series.samples.end(), s.t_ms,
                             [](int64_t t, const Sample& x) { return t < x.t_ms; });
  series.samples.insert(at, s);
  series.last_put = std::max(series.last_put, clock_.now());
  pending_.emplace_back(std::move(key), std::move(s));
}

std::vector<Bucket> MetricStore::buckets(const MetricKey& wanted, WallTime start, WallTime end, int64_t period_ms,
                                         std::string_view unit) const {
  MetricKey key = wanted;
  std::sort(key.dimensions.begin(), key.dimensions.end());
  std::vector<Bucket> out;
  if (period_ms <= 0) return out;
  int64_t from = to_ms(start), to = to_ms(end);
  std::lock_guard lock(mu_);
  auto it = series_.find(key);
  if (it == series_.end()) return out;
  const auto& samples = it->second.samples;
  auto first =
      std::lower_bound(samples.begin(), samples.end(), from, [](const Sample& x, int64_t t) { return x.t_ms < t; });
  for (auto s = first; s != samples.end() && s->t_ms < to; ++s) {
    if (!unit.empty() && s->unit != unit) continue;
    int64_t bucket_start = s->t_ms - ((s->t_ms % period_ms) + period_ms) % period_ms;
    if (out.empty() || out.back().start_ms != bucket_start) {
      out.push_back(Bucket{});
      out.back().start_ms = bucket_start;
    }
    add_to(out.back(), *s);
  }
  return out;
}

std::vector<MetricStore::Listed> MetricStore::list() const {
  std::lock_guard lock(mu_);
  std::vector<Listed> out;
  out.reserve(series_.size());
  for (const auto& [key, series] : series_) out.push_back({key, series.last_put});
  return out;
}

Status MetricStore::flush() {
  std::vector<std::pair<MetricKey, Sample>> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return Ok{};
  auto written = db_.transaction([&](store::Tx& tx) -> Status {
    for (const auto& [key, s] : batch) {
      auto stmt = tx.prepare(
          "INSERT INTO samples (series, t_ms, unit, count, sum, min, max, vals, folded) VALUES (?,?,?,?,?,?,?,?,?)");
      if (!stmt) return std::move(stmt).error();
      auto blob = pack(s);
      stmt->bind_all(series_id(key), s.t_ms, s.unit, s.count, s.sum, s.min, s.max);
      stmt->bind_blob(8, store::Blob(blob.data(), blob.size()));
      stmt->bind_int64(9, s.folded ? 1 : 0);
      if (auto ran = stmt->run(); !ran) return ran;
    }
    return Ok{};
  });
  if (!written) {
    std::lock_guard lock(mu_);  // keep them for the next try
    pending_.insert(pending_.begin(), batch.begin(), batch.end());
  }
  return written;
}

Status MetricStore::prune() {
  if (auto flushed = flush(); !flushed) return flushed;
  int64_t now = to_ms(clock_.now());
  int64_t fold_before = now - to_ms(WallTime(kRawRetention));
  fold_before -= ((fold_before % 60000) + 60000) % 60000;  // whole minutes only
  int64_t drop_before = now - to_ms(WallTime(kMinuteRetention));
  std::vector<std::pair<MetricKey, Sample>> folded_rows;
  {
    std::lock_guard lock(mu_);
    for (auto it = series_.begin(); it != series_.end();) {
      auto& samples = it->second.samples;
      std::vector<Sample> kept;
      std::map<std::pair<int64_t, std::string>, Sample> minutes;
      for (auto& s : samples) {
        if (s.t_ms < drop_before) continue;
        if (s.folded || s.t_ms >= fold_before) {
          kept.push_back(std::move(s));
          continue;
        }
        int64_t minute = s.t_ms - ((s.t_ms % 60000) + 60000) % 60000;
        Sample& m = minutes[{minute, s.unit}];
        if (m.count == 0 && !m.folded) {
          m = Sample{minute, s.count, s.sum, s.min, s.max, {}, {}, s.unit, true};
        } else {
          m.count += s.count;
          m.sum += s.sum;
          m.min = std::min(m.min, s.min);
          m.max = std::max(m.max, s.max);
        }
      }
      for (auto& [k, m] : minutes) {
        folded_rows.emplace_back(it->first, m);
        kept.push_back(std::move(m));
      }
      std::stable_sort(kept.begin(), kept.end(), [](const Sample& a, const Sample& b) { return a.t_ms < b.t_ms; });
      samples = std::move(kept);
      if (samples.empty() && it->second.last_put < clock_.now() - kMinuteRetention)
        it = series_.erase(it);
      else
        ++it;
    }
  }
  return db_.transaction([&](store::Tx& tx) -> Status {
    if (auto r = tx.run("DELETE FROM samples WHERE t_ms < ?", drop_before); !r) return r;
    if (auto r = tx.run("DELETE FROM samples WHERE t_ms < ? AND folded = 0", fold_before); !r) return r;
    for (const auto& [key, s] : folded_rows)
      if (auto r = tx.run("INSERT INTO samples (series, t_ms, unit, count, sum, min, max, vals, folded)"
                          " VALUES (?,?,?,?,?,?,?,NULL,1)",
                          series_id(key), s.t_ms, s.unit, s.count, s.sum, s.min, s.max);
          !r)
        return r;
    return Ok{};
  });
}

}  // namespace berth::cloudwatch
