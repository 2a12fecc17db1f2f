// autoscaling/store_rows: the "autoscaling" tables. Each row keeps its
// API shape as a JSON doc (times as epoch seconds), keyed by the ECS
// ResourceId ("service/<cluster>/<service>"); berth scales only that one
// namespace and dimension, so the ResourceId alone names a target.
//
//   autoscaling_targets            ScalableTarget doc + state (cooldown clocks)
//   autoscaling_policies           ScalingPolicy doc (+ Alarms)
//   autoscaling_scheduled_actions  ScheduledAction doc + next_run
//   autoscaling_activities         ScalingActivity doc, newest last
//   autoscaling_tags               the scalable targets' tags
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/store.h"

namespace berth::autoscaling {

namespace json = boost::json;

Status prepare_autoscaling_store(store::Database& db);

struct TargetRow {
  json::object doc;    // the ScalableTarget shape
  json::object state;  // last_scale_out, last_scale_in, scale_out_cooldown, scale_in_cooldown (seconds)
};

struct ScheduledRow {
  json::object doc;  // the ScheduledAction shape
  std::optional<double> next_run;
};

Result<std::optional<TargetRow>> find_target(store::Tx& tx, std::string_view resource_id);
Result<std::optional<TargetRow>> find_target_by_arn(store::Tx& tx, std::string_view arn);
Result<std::vector<TargetRow>> all_targets(store::Tx& tx);
Status write_target(store::Tx& tx, const TargetRow& row);
// The target with its policies, scheduled actions and tags (activities stay, as on AWS).
Status delete_target(store::Tx& tx, std::string_view resource_id);

Result<std::optional<json::object>> find_policy(store::Tx& tx, std::string_view resource_id, std::string_view name);
Result<std::optional<json::object>> find_policy_by_arn(store::Tx& tx, std::string_view arn);
Result<std::vector<json::object>> policies_of(store::Tx& tx, std::optional<std::string_view> resource_id);
Status write_policy(store::Tx& tx, const json::object& doc);
Status delete_policy(store::Tx& tx, std::string_view arn);

Result<std::optional<ScheduledRow>> find_scheduled(store::Tx& tx, std::string_view resource_id, std::string_view name);
Result<std::vector<ScheduledRow>> scheduled_of(store::Tx& tx, std::optional<std::string_view> resource_id);
// Those whose next_run is at or before now.
Result<std::vector<ScheduledRow>> due_scheduled(store::Tx& tx, double now);
Status write_scheduled(store::Tx& tx, const ScheduledRow& row);
Status delete_scheduled(store::Tx& tx, std::string_view arn);

// Appends; keeps the newest kMaxActivities per target.
inline constexpr int64_t kMaxActivities = 1000;
Status add_activity(store::Tx& tx, const json::object& doc, bool scaled);
// Newest first.
Result<std::vector<json::object>> activities_of(store::Tx& tx, std::optional<std::string_view> resource_id,
                                                bool include_not_scaled);

Result<std::vector<std::pair<std::string, std::string>>> tags_of(store::Tx& tx, std::string_view arn);
Status put_tag(store::Tx& tx, std::string_view arn, std::string_view key, std::string_view value);
Status delete_tag(store::Tx& tx, std::string_view arn, std::string_view key);

}  // namespace berth::autoscaling
