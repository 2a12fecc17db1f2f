// elb/api_support: what the ELBv2 handlers share (internal to the module):
// the handler context, the model's error codes with their HTTP statuses,
// reading query input, and writing the model's output shapes as XML.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/query_codec.h"
#include "api/service.h"
#include "api/xml_writer.h"
#include "core/clock.h"
#include "core/error.h"
#include "elb/elb_service.h"
#include "elb/model.h"
#include "store/store.h"

namespace berth::elb {

struct Context {
  store::Database& db;
  const Clock& clock;
  ElbOptions options;
  const HealthSource* health;  // may be null (no checker: targets stay initial)
};
using ContextPtr = std::shared_ptr<const Context>;

void add_load_balancer_operations(api::Service& service, const ContextPtr& ctx);
void add_target_group_operations(api::Service& service, const ContextPtr& ctx);
void add_target_operations(api::Service& service, const ContextPtr& ctx);
void add_listener_operations(api::Service& service, const ContextPtr& ctx);
void add_rule_operations(api::Service& service, const ContextPtr& ctx);
void add_tag_operations(api::Service& service, const ContextPtr& ctx);

// ---------------------------------------------------------------- errors
// A model error: code without "Exception", HTTP status from the model (400).
Error elb_error(std::string_view code, std::string message);
Error validation_error(std::string message);
Error load_balancer_not_found();
Error target_group_not_found();
Error listener_not_found();
Error rule_not_found();

// ---------------------------------------------------------------- input
const api::QueryView& query_of(const api::OperationInput& input);
Result<std::string> required(const api::QueryView& q, std::string_view key);
std::string optional_string(const api::QueryView& q, std::string_view key, std::string fallback = {});
Result<std::optional<int64_t>> optional_int(const api::QueryView& q, std::string_view key);
Result<std::optional<bool>> optional_bool(const api::QueryView& q, std::string_view key);
Result<std::vector<std::string>> member_strings(const api::QueryView& q, std::string_view key);
Result<std::vector<Tag>> parse_tags(const api::QueryView& q, std::string_view key = "Tags");
// Marker / PageSize (1-400) pagination over n items: [begin, end) and the next marker.
struct Page {
  size_t begin = 0;
  size_t end = 0;
  std::string next_marker;
};
Result<Page> paginate(const api::QueryView& q, size_t n);

Result<std::vector<Action>> parse_actions(const api::QueryView& q, std::string_view key);
Result<std::vector<Condition>> parse_conditions(const api::QueryView& q);
// Checks the actions: one terminal action, target groups exist (and are not
// bound to another load balancer when lb_arn is given).
Status validate_actions(store::Tx& tx, const std::vector<Action>& actions, const std::string& lb_arn);
// Every target group an action list forwards to.
std::vector<std::string> forwarded_groups(const std::vector<Action>& actions);

// ---------------------------------------------------------------- output
void write_tags(api::XmlWriter& w, const std::vector<Tag>& tags);
void write_actions(api::XmlWriter& w, std::string_view element, const std::vector<Action>& actions);
void write_conditions(api::XmlWriter& w, const std::vector<Condition>& conditions);
void write_attributes(api::XmlWriter& w, const std::map<std::string, std::string>& attributes);
// "active" once the provisioning moment has passed.
std::string load_balancer_state(const LoadBalancer& lb, WallTime now, std::chrono::milliseconds provisioning);
void write_load_balancer(api::XmlWriter& w, const LoadBalancer& lb, std::string_view state);
void write_target_group(api::XmlWriter& w, const TargetGroup& tg, const std::vector<std::string>& lb_arns);
void write_listener(api::XmlWriter& w, const Listener& l);

int64_t to_ms(WallTime t);
// The group's deregistration_delay.timeout_seconds, in ms (300 s when unset).
int64_t deregistration_delay_ms(const TargetGroup& tg);
// A draining registration whose delay has passed: gone for every reader.
bool draining_over(const Registration& r, const TargetGroup& tg, int64_t now_ms);
// The load balancers a target group serves through listeners and rules.
std::vector<std::string> load_balancers_of_group(const Config& config, const std::string& tg_arn);

}  // namespace berth::elb
