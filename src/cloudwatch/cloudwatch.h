// cloudwatch: CloudWatch metrics and alarms (signing name "monitoring",
// API 2010-08-01), spoken in smithy-rpc-v2-cbor, JSON 1.0 and query.
//
//   publishers (elb, ecs) ──put_metric_data──┐
//   API PutMetricData ───────────────────────┤──► MetricStore (memory + metrics.db)
//                                            │          ▲
//   API PutMetricAlarm / autoscaling ──► alarms (shared store: alarms, tags, history)
//                                            │          │
//                evaluator thread: every (scaled) period ─► evaluate_alarm()
//                    ─► state change: store transaction + history item
//                    ─► actions: the handler owning the ARN's prefix, else a
//                       failed-action history item
//
// Time scale: options.time_scale (BERTH_TIME_SCALE in the daemon) divides
// alarm periods and the evaluation cadence: Period 60 with time_scale 20
// is evaluated over 3 s buckets of real time every 3 s. Datapoints keep
// their real timestamps; what clients see keeps AWS's numbers. 1 is AWS.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "api/service.h"
#include "cloudwatch/alarm_evaluation.h"
#include "cloudwatch/metric_store.h"
#include "cloudwatch/types.h"
#include "core/error.h"
#include "store/store.h"

namespace berth::cloudwatch {

// AWS keeps alarm history for 30 days, also after the alarm is deleted.
inline constexpr auto kHistoryRetention = std::chrono::hours(24 * 30);

struct CloudWatchOptions {
  std::string account_id = "000000000000";
  std::string region = "us-east-1";
  const Clock* clock = nullptr;       // default: the system clock
  std::string metrics_path;           // "<data_dir>/metrics.db"; "" keeps datapoints in memory only
  double time_scale = 1;              // > 0; see the head comment
  bool run_evaluator = true;          // false: tests call evaluate_due_alarms() themselves
};

// One alarm as kept: the definition plus its state.
struct Alarm {
  AlarmDefinition def;
  std::string arn;
  std::string state = std::string(kStateInsufficient);
  std::string reason = "Unchecked: Initial alarm creation";
  std::string reason_data;
  WallTime state_updated{}, transitioned{}, config_updated{};
  int64_t next_evaluation_ms = 0;     // real time (scaled periods)
  WallTime last_repeat{};             // autoscaling actions: last time they were sent
};

struct HistoryItem {
  std::string alarm_name, alarm_type = "MetricAlarm", item_type, summary, data;
  WallTime when{};
};

class CloudWatch {
 public:
  static Result<std::shared_ptr<CloudWatch>> open(store::Database& db, CloudWatchOptions options);
  ~CloudWatch();
  CloudWatch(const CloudWatch&) = delete;
  CloudWatch& operator=(const CloudWatch&) = delete;

  // Stops the evaluator and flushes datapoints; idempotent.
  void stop();

  // ---- the in-process interface ----
  // Validates as the API does (the namespace per datum), except that AWS/
  // namespaces are allowed: the daemon's own publishers write them.
  Status put_metric_data(std::span<const Datum> data);
  Status put_metric_alarm(const AlarmDefinition& alarm);
  Status delete_alarms(std::span<const std::string> names);
  void add_action_handler(std::string arn_prefix, AlarmActionHandler handler);

  api::Service service();

  // The evaluator's step at clock.now(): every alarm whose (scaled) period
  // ended is evaluated. Tests with a ManualClock call it directly.
  void evaluate_due_alarms();

  // ---- what the API reads and writes ----
  MetricStore& metrics() { return *metrics_; }
  const CloudWatchOptions& options() const { return options_; }
  WallTime now() const { return clock_.now(); }
  std::vector<Alarm> alarms() const;  // by name
  std::optional<Alarm> alarm(const std::string& name) const;
  Status set_alarm_state(const std::string& name, const std::string& state, const std::string& reason,
                         const std::string& reason_data);
  Status set_actions_enabled(std::span<const std::string> names, bool enabled);
  Result<std::vector<HistoryItem>> history(const std::string& alarm_name, const std::string& item_type,
                                           WallTime start, WallTime end) const;
  Status tag_alarm(const std::string& arn, const std::vector<Tag>& tags);
  Status untag_alarm(const std::string& arn, const std::vector<std::string>& keys);
  Result<std::vector<Tag>> alarm_tags(const std::string& arn) const;
  std::string alarm_arn(const std::string& name) const;

  // Drops alarm history older than kHistoryRetention (the evaluator calls it every minute).
  Status prune_history();

  // The alarm's evaluated periods (newest first) at `now`, for evaluation.
  std::vector<PeriodValue> period_values(const AlarmDefinition& def, WallTime now) const;

 private:
  CloudWatch(store::Database& db, CloudWatchOptions options, std::unique_ptr<MetricStore> metrics);
  Status load();
  int64_t scaled_period_ms(int period_seconds) const;
  Status apply_decision(Alarm& alarm, const Decision& decision, WallTime now);
  using PendingCall = std::pair<AlarmActionHandler, AlarmAction>;
  // Records failed actions; the handlers to call go to `calls`, called by
  // the caller once mu_ is released (a handler may call back in).
  void collect_actions(const Alarm& alarm, const std::string& previous, const std::vector<double>& datapoints,
                       WallTime now, bool repeat_only, std::vector<PendingCall>& calls);
  static void call_handlers(std::vector<PendingCall>& calls);
  void evaluate_locked(std::vector<PendingCall>& calls);
  Status set_state_locked(const std::string& name, const std::string& state, const std::string& reason,
                          const std::string& reason_data, std::vector<PendingCall>& calls);
  Status write_alarm(store::Tx& tx, const Alarm& alarm);
  Status write_history(store::Tx& tx, const HistoryItem& item);
  void evaluator_loop();

  store::Database& db_;
  CloudWatchOptions options_;
  const Clock& clock_;
  std::unique_ptr<MetricStore> metrics_;

  mutable std::mutex mu_;  // alarms_, handlers_
  std::map<std::string, Alarm> alarms_;
  std::vector<std::pair<std::string, AlarmActionHandler>> handlers_;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread evaluator_;
};

// Validation shared by the API and the in-process callers.
Status validate_datum(const Datum& d, size_t index);
// allow_aws: the in-process publishers (AWS/ApplicationELB, AWS/ECS) may
// use AWS/ namespaces; API callers may not.
Status validate_namespace(std::string_view ns, bool allow_aws);
Status validate_alarm(const AlarmDefinition& alarm);
std::string statistic_label(const AlarmDefinition& alarm);
bool is_unit(std::string_view unit);
// A single-metric alarm's Period, or a metric-math alarm's shortest MetricStat period.
int alarm_period(const AlarmDefinition& alarm);

}  // namespace berth::cloudwatch
