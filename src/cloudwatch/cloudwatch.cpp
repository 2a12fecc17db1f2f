#include "cloudwatch/cloudwatch.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>

#include "cloudwatch/alarm_record.h"
#include "cloudwatch/metric_math.h"
#include "core/log.h"
#include "store/migrations.h"

namespace berth::cloudwatch {
namespace {

constexpr store::Migration kMigrations[] = {
    {1, "create alarms, history",
     "CREATE TABLE cloudwatch_alarms (name TEXT PRIMARY KEY, definition TEXT NOT NULL, state TEXT NOT NULL,"
     " reason TEXT NOT NULL, reason_data TEXT NOT NULL, state_updated_ms INTEGER NOT NULL,"
     " transitioned_ms INTEGER NOT NULL, config_updated_ms INTEGER NOT NULL);"
     "CREATE TABLE cloudwatch_alarm_history (id INTEGER PRIMARY KEY AUTOINCREMENT, alarm_name TEXT NOT NULL,"
     " t_ms INTEGER NOT NULL, item_type TEXT NOT NULL, summary TEXT NOT NULL, data TEXT NOT NULL);"
     "CREATE INDEX cloudwatch_alarm_history_by_name ON cloudwatch_alarm_history (alarm_name, t_ms);"},
};

int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
WallTime from_ms(int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

const std::vector<std::string>& actions_for(const AlarmDefinition& d, std::string_view state) {
  if (state == kStateAlarm) return d.alarm_actions;
  if (state == kStateOk) return d.ok_actions;
  return d.insufficient_data_actions;
}

std::string history_state_data(const Alarm& before, const Alarm& after) {
  boost::json::object old_state{{"stateValue", before.state}, {"stateReason", before.reason}};
  boost::json::object new_state{{"stateValue", after.state}, {"stateReason", after.reason}};
  if (!after.reason_data.empty()) {
    boost::system::error_code ec;
    auto parsed = boost::json::parse(after.reason_data, ec);
    if (!ec) new_state["stateReasonData"] = parsed;
  }
  boost::json::object data{{"version", "1.0"}, {"oldState", old_state}, {"newState", new_state}};
  return boost::json::serialize(data);
}

}  // namespace

int alarm_period(const AlarmDefinition& a) {
  if (a.metrics.empty()) return a.period;
  int period = 0;
  for (const auto& q : a.metrics)
    if (q.metric_stat) period = period == 0 ? q.metric_stat->period : std::min(period, q.metric_stat->period);
  return period;
}

Result<std::shared_ptr<CloudWatch>> CloudWatch::open(store::Database& db, CloudWatchOptions options) {
  if (!(options.time_scale > 0)) return Error::invalid("InvalidTimeScale", "time_scale must be greater than 0");
  if (auto applied = store::apply_migrations(db, "cloudwatch", kMigrations); !applied)
    return std::move(applied).error();
  const Clock& clock = options.clock ? *options.clock : SystemClock::instance();
  auto metrics = MetricStore::open(options.metrics_path.empty() ? ":memory:" : options.metrics_path, clock);
  if (!metrics) return std::move(metrics).error();
  std::shared_ptr<CloudWatch> cw(new CloudWatch(db, std::move(options), std::move(*metrics)));
  if (auto loaded = cw->load(); !loaded) return std::move(loaded).error();
  if (cw->options_.run_evaluator) cw->evaluator_ = std::thread([raw = cw.get()] { raw->evaluator_loop(); });
  return cw;
}

CloudWatch::CloudWatch(store::Database& db, CloudWatchOptions options, std::unique_ptr<MetricStore> metrics)
    : db_(db),
      options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : SystemClock::instance()),
      metrics_(std::move(metrics)) {}

CloudWatch::~CloudWatch() { stop(); }

void CloudWatch::stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (evaluator_.joinable()) evaluator_.join();
  if (auto flushed = metrics_->flush(); !flushed)
    log::error("cloudwatch", "flushing datapoints: ", flushed.error().message);
}

Status CloudWatch::load() {
  return db_.read([&](store::Tx& tx) -> Status {
    auto stmt = tx.prepare(
        "SELECT definition, state, reason, reason_data, state_updated_ms, transitioned_ms, config_updated_ms"
        " FROM cloudwatch_alarms");
    if (!stmt) return std::move(stmt).error();
    while (true) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      auto def = definition_from_json(stmt->column_text(0));
      if (!def) return std::move(def).error();
      Alarm a;
      a.def = std::move(*def);
      a.arn = alarm_arn(a.def.name);
      a.state = stmt->column_string(1);
      a.reason = stmt->column_string(2);
      a.reason_data = stmt->column_string(3);
      a.state_updated = from_ms(stmt->column_int64(4));
      a.transitioned = from_ms(stmt->column_int64(5));
      a.config_updated = from_ms(stmt->column_int64(6));
      alarms_[a.def.name] = std::move(a);
    }
    return Ok{};
  });
}

std::string CloudWatch::alarm_arn(const std::string& name) const {
  return "arn:aws:cloudwatch:" + options_.region + ":" + options_.account_id + ":alarm:" + name;
}

int64_t CloudWatch::scaled_period_ms(int period_seconds) const {
  return std::max<int64_t>(10, static_cast<int64_t>(std::llround(period_seconds * 1000.0 / options_.time_scale)));
}

Status CloudWatch::put_metric_data(std::span<const Datum> data) {
  if (data.size() > 1000)
    return Error::invalid("InvalidParameterValue", "The collection MetricData must not have a size greater than 1000.");
  WallTime now = clock_.now();
  for (size_t i = 0; i < data.size(); ++i) {
    if (auto ns = validate_namespace(data[i].namespace_name, /*allow_aws=*/true); !ns) return ns;
    if (auto ok = validate_datum(data[i], i); !ok) return ok;
    WallTime t = data[i].timestamp == WallTime{} ? now : data[i].timestamp;
    std::string at = "MetricData.member." + std::to_string(i + 1) + ".Timestamp";
    if (t < now - std::chrono::hours(24 * 14))
      return Error::invalid("InvalidParameterValue",
                            "The parameter " + at + " must specify a time no more than two weeks in the past.");
    if (t > now + std::chrono::hours(2))
      return Error::invalid("InvalidParameterValue",
                            "The parameter " + at + " must specify a time no more than two hours in the future.");
  }
  for (const auto& d : data) {
    if (d.timestamp == WallTime{}) {
      Datum copy = d;
      copy.timestamp = now;
      metrics_->put(copy);
    } else {
      metrics_->put(d);
    }
  }
  return Ok{};
}

Status CloudWatch::write_alarm(store::Tx& tx, const Alarm& a) {
  return tx.run(
      "INSERT INTO cloudwatch_alarms (name, definition, state, reason, reason_data, state_updated_ms,"
      " transitioned_ms, config_updated_ms) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET"
      " definition = excluded.definition, state = excluded.state, reason = excluded.reason,"
      " reason_data = excluded.reason_data, state_updated_ms = excluded.state_updated_ms,"
      " transitioned_ms = excluded.transitioned_ms, config_updated_ms = excluded.config_updated_ms",
      a.def.name, definition_to_json(a.def), a.state, a.reason, a.reason_data, to_ms(a.state_updated),
      to_ms(a.transitioned), to_ms(a.config_updated));
}

Status CloudWatch::write_history(store::Tx& tx, const HistoryItem& item) {
  return tx.run("INSERT INTO cloudwatch_alarm_history (alarm_name, t_ms, item_type, summary, data) VALUES (?,?,?,?,?)",
                item.alarm_name, to_ms(item.when), item.item_type, item.summary, item.data);
}

Status CloudWatch::put_metric_alarm(const AlarmDefinition& def) {
  if (auto ok = validate_alarm(def); !ok) return ok;
  WallTime now = clock_.now();
  std::lock_guard lock(mu_);
  auto existing = alarms_.find(def.name);
  Alarm a;
  bool created = existing == alarms_.end();
  if (!created) a = existing->second;
  std::vector<Tag> tags = created ? def.tags : a.def.tags;  // PutMetricAlarm ignores Tags on an update
  a.def = def;
  a.def.tags = std::move(tags);
  a.arn = alarm_arn(def.name);
  a.config_updated = now;
  if (created) {
    a.state_updated = now;
    a.transitioned = now;
  }
  a.next_evaluation_ms = 0;  // evaluate on the next tick
  HistoryItem item{def.name,
                   "MetricAlarm",
                   "ConfigurationUpdate",
                   "Alarm \"" + def.name + "\" " + (created ? "created" : "updated"),
                   "",
                   now};
  boost::json::object data{{"version", "1.0"}, {"type", created ? "Create" : "Update"}};
  data[created ? "createdAlarm" : "updatedAlarm"] = boost::json::object{{"alarmName", def.name}};
  item.data = boost::json::serialize(data);
  auto written = db_.transaction([&](store::Tx& tx) -> Status {
    if (auto w = write_alarm(tx, a); !w) return w;
    return write_history(tx, item);
  });
  if (!written) return written;
  alarms_[def.name] = std::move(a);
  return Ok{};
}

Status CloudWatch::delete_alarms(std::span<const std::string> names) {
  if (names.size() > 100)
    return Error::invalid("InvalidParameterValue", "The collection AlarmNames must not have a size greater than 100.");
  std::lock_guard lock(mu_);
  std::string unknown;
  for (const auto& n : names)
    if (!alarms_.contains(n)) unknown += (unknown.empty() ? "" : ", ") + n;
  if (!unknown.empty()) {
    Error e =
        Error::not_found("ResourceNotFound", "The following alarms were not found: [" + unknown + "]");  // unverified
    e.http_status = 404;
    return e;
  }
  auto written = db_.transaction([&](store::Tx& tx) -> Status {
    for (const auto& n : names) {
      // The history stays (DescribeAlarmHistory answers for deleted alarms
      // until prune_history() drops it after 30 days).
      if (auto r = tx.run("DELETE FROM cloudwatch_alarms WHERE name = ?", n); !r) return r;
    }
    return Ok{};
  });
  if (!written) return written;
  for (const auto& n : names) alarms_.erase(n);
  return Ok{};
}

void CloudWatch::add_action_handler(std::string arn_prefix, AlarmActionHandler handler) {
  std::lock_guard lock(mu_);
  handlers_.emplace_back(std::move(arn_prefix), std::move(handler));
}

std::vector<Alarm> CloudWatch::alarms() const {
  std::lock_guard lock(mu_);
  std::vector<Alarm> out;
  out.reserve(alarms_.size());
  for (const auto& [name, a] : alarms_) out.push_back(a);
  return out;
}

std::optional<Alarm> CloudWatch::alarm(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = alarms_.find(name);
  if (it == alarms_.end()) return std::nullopt;
  return it->second;
}

std::vector<PeriodValue> CloudWatch::period_values(const AlarmDefinition& def, WallTime now) const {
  const int period = alarm_period(def);
  const int64_t p = scaled_period_ms(period);
  const int64_t end = to_ms(now) - ((to_ms(now) % p) + p) % p;  // the last complete period ends here
  const int64_t start = end - p * def.evaluation_periods;
  std::vector<PeriodValue> out;
  out.reserve(def.evaluation_periods);
  for (int i = 0; i < def.evaluation_periods; ++i) out.push_back(PeriodValue{from_ms(end - (i + 1) * p), {}, 0});
  auto slot = [&](int64_t bucket_start) -> PeriodValue* {
    int64_t index = (end - bucket_start) / p - 1;
    if (index < 0 || index >= def.evaluation_periods) return nullptr;
    return &out[static_cast<size_t>(index)];
  };
  if (def.metrics.empty()) {
    MetricKey key{def.namespace_name, def.metric_name, def.dimensions};
    for (const auto& b : metrics_->buckets(key, from_ms(start), from_ms(end), p, def.unit)) {
      PeriodValue* v = slot(b.start_ms);
      if (!v) continue;
      v->sample_count = b.count;
      if (!def.extended_statistic.empty() && def.evaluate_low_sample_count_percentile == "ignore") {
        // Too few samples for a meaningful percentile: AWS leaves such a period out.
        double needed = 10.0 / (1.0 - std::min(0.99, std::strtod(def.extended_statistic.c_str() + 1, nullptr) / 100));
        if (b.count < needed) continue;
      }
      v->value = statistic_of(b, statistic_label(def));
    }
    return out;
  }
  // Metric math: every query over the same periods, then the one returning data.
  std::map<std::string, TimeSeries> series;
  for (const auto& q : def.metrics) {
    if (!q.metric_stat) continue;
    TimeSeries ts;
    for (const auto& b : metrics_->buckets(q.metric_stat->metric, from_ms(start), from_ms(end), p, q.metric_stat->unit))
      if (auto x = statistic_of(b, q.metric_stat->stat)) ts[b.start_ms] = *x;
    series[q.id] = std::move(ts);
  }
  for (const auto& q : def.metrics) {
    if (!q.return_data) continue;
    TimeSeries result;
    if (q.metric_stat) {
      result = series[q.id];
    } else if (auto v = evaluate_expression(q.expression, series)) {
      if (auto* ts = std::get_if<TimeSeries>(&*v)) {
        result = *ts;
      } else {
        for (auto& pv : out) result[to_ms(pv.start)] = std::get<double>(*v);
      }
    }
    for (const auto& [t, x] : result)
      if (PeriodValue* v = slot(t)) {
        v->value = x;
        v->sample_count = 1;
      }
  }
  return out;
}

Status CloudWatch::apply_decision(Alarm& a, const Decision& d, WallTime now) {
  if (d.state == a.state) return Ok{};  // no transition: AWS keeps the reason of the last change
  Alarm before = a;
  a.state = d.state;
  a.reason = d.reason;
  a.reason_data = d.reason_data;
  a.state_updated = now;
  a.transitioned = now;
  HistoryItem item{a.def.name,
                   "MetricAlarm",
                   "StateUpdate",
                   "Alarm updated from " + before.state + " to " + a.state,
                   history_state_data(before, a),
                   now};
  return db_.transaction([&](store::Tx& tx) -> Status {
    if (auto w = write_alarm(tx, a); !w) return w;
    return write_history(tx, item);
  });
}

void CloudWatch::call_handlers(std::vector<PendingCall>& calls) {
  for (auto& [handler, action] : calls) {
    try {
      handler(action);
    } catch (const std::exception& e) {
      log::error("cloudwatch", "action handler for ", action.action_arn, " threw: ", e.what());
    }
  }
}

void CloudWatch::collect_actions(const Alarm& a, const std::string& previous, const std::vector<double>& datapoints,
                                 WallTime now, bool repeat_only, std::vector<PendingCall>& calls) {
  if (!a.def.actions_enabled) return;
  std::vector<HistoryItem> failures;
  for (const auto& arn : actions_for(a.def, a.state)) {
    bool autoscaling = arn.starts_with("arn:aws:autoscaling:");
    if (repeat_only && !autoscaling) continue;
    const AlarmActionHandler* handler = nullptr;
    for (const auto& [prefix, h] : handlers_)
      if (arn.starts_with(prefix)) handler = &h;
    if (!handler) {
      if (repeat_only) continue;
      // AWS's summary (re:Post, "cloudwatch-receive-sns-for-alarm-trigger"):
      // Failed to execute action <arn>. Received error: "<the target's error>"
      const std::string error = "berth does not run actions of this service";
      boost::json::object data{{"actionState", "Failed"},
                               {"stateUpdateTimestamp", to_ms(a.state_updated)},
                               {"error", error}};
      failures.push_back(HistoryItem{a.def.name, "MetricAlarm", "Action",
                                     "Failed to execute action " + arn + ". Received error: \"" + error + "\"",
                                     boost::json::serialize(data), now});
      continue;
    }
    AlarmAction action{arn,
                       a.def.name,
                       a.arn,
                       a.state,
                       previous,
                       a.reason,
                       now,
                       datapoints,
                       a.def.threshold.value_or(0),
                       a.def.comparison_operator};
    calls.emplace_back(*handler, std::move(action));
  }
  if (failures.empty()) return;
  auto written = db_.transaction([&](store::Tx& tx) -> Status {
    for (const auto& f : failures)
      if (auto w = write_history(tx, f); !w) return w;
    return Ok{};
  });
  if (!written) log::error("cloudwatch", "writing alarm history: ", written.error().message);
}

void CloudWatch::evaluate_due_alarms() {
  std::vector<PendingCall> calls;
  evaluate_locked(calls);
  call_handlers(calls);
}

void CloudWatch::evaluate_locked(std::vector<PendingCall>& calls) {
  WallTime now = clock_.now();
  int64_t now_ms = to_ms(now);
  std::lock_guard lock(mu_);
  for (auto& [name, a] : alarms_) {
    if (now_ms < a.next_evaluation_ms) continue;
    const int64_t p = scaled_period_ms(alarm_period(a.def));
    a.next_evaluation_ms = now_ms - ((now_ms % p) + p) % p + p;
    auto periods = period_values(a.def, now);
    auto decision = evaluate_alarm(a.def, periods, statistic_label(a.def), now);
    if (!decision) continue;
    std::string previous = a.state;
    if (decision->state != a.state) {
      if (auto applied = apply_decision(a, *decision, now); !applied) {
        log::error("cloudwatch", "alarm ", name, ": ", applied.error().message);
        a.state = previous;
        continue;
      }
      a.last_repeat = now;
      collect_actions(a, previous, decision->datapoints, now, false, calls);
    } else if (now - a.last_repeat >= std::chrono::milliseconds(p) - std::chrono::milliseconds(p / 10)) {
      // Auto Scaling actions repeat once per period while the state lasts.
      a.last_repeat = now;
      collect_actions(a, previous, decision->datapoints, now, true, calls);
    }
  }
}

Status CloudWatch::set_alarm_state(const std::string& name, const std::string& state, const std::string& reason,
                                   const std::string& reason_data) {
  if (state != kStateOk && state != kStateAlarm && state != kStateInsufficient)
    return Error::invalid("ValidationError", "1 validation error detected: Value '" + state +
                                                 "' at 'stateValue' failed to satisfy constraint: Member must "
                                                 "satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]");
  if (!reason_data.empty()) {
    boost::system::error_code ec;
    auto parsed = boost::json::parse(reason_data, ec);
    if (ec || !parsed.is_object())
      return Error::invalid("InvalidFormat", "Reason data must be a valid JSON object");  // unverified
  }
  std::vector<PendingCall> calls;
  auto set = set_state_locked(name, state, reason, reason_data, calls);
  call_handlers(calls);
  return set;
}

Status CloudWatch::set_state_locked(const std::string& name, const std::string& state, const std::string& reason,
                                    const std::string& reason_data, std::vector<PendingCall>& calls) {
  WallTime now = clock_.now();
  std::lock_guard lock(mu_);
  auto it = alarms_.find(name);
  if (it == alarms_.end()) {
    Error e = Error::not_found("ResourceNotFound", "Alarm " + name + " not found");
    e.http_status = 404;
    return e;
  }
  Alarm& a = it->second;
  std::string previous = a.state;
  Decision d{state, reason, reason_data, {}};
  if (state == a.state) {
    // Same state: the reason changes, no transition and no actions.
    a.reason = reason;
    a.reason_data = reason_data;
    a.state_updated = now;
    return db_.transaction([&](store::Tx& tx) { return write_alarm(tx, a); });
  }
  Alarm saved = a;
  if (auto applied = apply_decision(a, d, now); !applied) {
    a = saved;
    return applied;
  }
  // The next evaluation may move it back, as on AWS.
  const int64_t p = scaled_period_ms(alarm_period(a.def));
  a.next_evaluation_ms = to_ms(now) - ((to_ms(now) % p) + p) % p + p;
  a.last_repeat = now;
  collect_actions(a, previous, {}, now, false, calls);
  return Ok{};
}

Status CloudWatch::set_actions_enabled(std::span<const std::string> names, bool enabled) {
  std::lock_guard lock(mu_);
  return db_.transaction([&](store::Tx& tx) -> Status {
    for (const auto& n : names) {
      auto it = alarms_.find(n);
      if (it == alarms_.end()) continue;  // AWS ignores unknown names here
      Alarm copy = it->second;
      copy.def.actions_enabled = enabled;
      if (auto w = write_alarm(tx, copy); !w) return w;
    }
    for (const auto& n : names)
      if (auto it = alarms_.find(n); it != alarms_.end()) it->second.def.actions_enabled = enabled;
    return Ok{};
  });
}

Result<std::vector<HistoryItem>> CloudWatch::history(const std::string& alarm_name, const std::string& item_type,
                                                     WallTime start, WallTime end) const {
  return db_.read([&](store::Tx& tx) -> Result<std::vector<HistoryItem>> {
    auto stmt = tx.prepare(
        "SELECT alarm_name, t_ms, item_type, summary, data FROM cloudwatch_alarm_history"
        " WHERE (?1 = '' OR alarm_name = ?1) AND (?2 = '' OR item_type = ?2) AND t_ms >= ?3 AND t_ms < ?4"
        " ORDER BY t_ms DESC, id DESC");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(alarm_name, item_type, to_ms(start), to_ms(end));
    std::vector<HistoryItem> out;
    while (true) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      out.push_back(HistoryItem{stmt->column_string(0), "MetricAlarm", stmt->column_string(2), stmt->column_string(3),
                                stmt->column_string(4), from_ms(stmt->column_int64(1))});
    }
    return out;
  });
}

namespace {
Error resource_not_found(const std::string& arn) {
  Error e = Error::not_found("ResourceNotFoundException", "Resource " + arn + " not found");  // unverified
  e.http_status = 404;
  return e;
}
}  // namespace

Status CloudWatch::tag_alarm(const std::string& arn, const std::vector<Tag>& tags) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(alarms_.begin(), alarms_.end(), [&](const auto& kv) { return kv.second.arn == arn; });
  if (it == alarms_.end()) return resource_not_found(arn);
  Alarm copy = it->second;
  for (const auto& t : tags) {
    auto same = std::find_if(copy.def.tags.begin(), copy.def.tags.end(), [&](const Tag& x) { return x.key == t.key; });
    if (same != copy.def.tags.end())
      same->value = t.value;
    else
      copy.def.tags.push_back(t);
  }
  if (copy.def.tags.size() > 50)
    return Error::invalid("InvalidParameterValue", "The collection Tags must not have a size greater than 50.");
  if (auto w = db_.transaction([&](store::Tx& tx) { return write_alarm(tx, copy); }); !w) return w;
  it->second = std::move(copy);
  return Ok{};
}

Status CloudWatch::untag_alarm(const std::string& arn, const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(alarms_.begin(), alarms_.end(), [&](const auto& kv) { return kv.second.arn == arn; });
  if (it == alarms_.end()) return resource_not_found(arn);
  Alarm copy = it->second;
  std::erase_if(copy.def.tags, [&](const Tag& t) { return std::find(keys.begin(), keys.end(), t.key) != keys.end(); });
  if (auto w = db_.transaction([&](store::Tx& tx) { return write_alarm(tx, copy); }); !w) return w;
  it->second = std::move(copy);
  return Ok{};
}

Result<std::vector<Tag>> CloudWatch::alarm_tags(const std::string& arn) const {
  std::lock_guard lock(mu_);
  for (const auto& [name, a] : alarms_)
    if (a.arn == arn) return a.def.tags;
  return resource_not_found(arn);
}

Status CloudWatch::prune_history() {
  int64_t cutoff = to_ms(clock_.now() - kHistoryRetention);
  return db_.transaction(
      [&](store::Tx& tx) { return tx.run("DELETE FROM cloudwatch_alarm_history WHERE t_ms < ?", cutoff); });
}

void CloudWatch::evaluator_loop() {
  auto last_prune = std::chrono::steady_clock::now();
  // The cadence: a tenth of the shortest scaled period, within [20 ms, 1 s].
  const auto tick = std::chrono::milliseconds(std::clamp<int64_t>(scaled_period_ms(10) / 10, 20, 1000));
  auto last_flush = std::chrono::steady_clock::now();
  while (true) {
    {
      std::unique_lock lock(stop_mu_);
      if (stop_cv_.wait_for(lock, tick, [&] { return stopping_; })) return;
    }
    try {  // a pass that throws must not end the thread (and the daemon)
      evaluate_due_alarms();
    } catch (const std::exception& e) {
      log::error("cloudwatch", "evaluating alarms: ", e.what());
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_flush >= std::chrono::seconds(1)) {
      last_flush = now;
      if (auto f = metrics_->flush(); !f) log::error("cloudwatch", "flushing datapoints: ", f.error().message);
    }
    if (now - last_prune >= std::chrono::minutes(1)) {
      last_prune = now;
      if (auto p = metrics_->prune(); !p) log::error("cloudwatch", "pruning datapoints: ", p.error().message);
      if (auto p = prune_history(); !p) log::error("cloudwatch", "pruning alarm history: ", p.error().message);
    }
  }
}

}  // namespace berth::cloudwatch
