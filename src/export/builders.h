// export/builders: one builder per resource family, all sharing a Context
// (exporter.h draws the order). Each reads its part of the State, adds its
// resources and records the logical ids later builders refer to.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "export/state.h"
#include "export/template.h"

namespace berth::cfn {

inline constexpr const char* kVpcParameter = "VpcId";
inline constexpr const char* kSubnetsParameter = "Subnets";
inline constexpr const char* kAmiParameter = "EcsAmiId";

struct Context {
  const State& state;
  Template& t;
  std::vector<std::string>& notes;
  LogicalIds ids;
  std::map<std::string, std::string> security_groups;  // berth group id -> logical id
  std::map<std::string, std::string> repositories;     // repository name -> logical id
  std::map<std::string, std::string> log_groups;       // log group name -> logical id
  std::map<std::string, std::string> clusters;         // cluster ARN -> logical id
  std::map<std::string, std::string> capacity;         // cluster ARN -> its Auto Scaling group's logical id
  std::map<std::string, std::string> load_balancers;   // ARN -> logical id
  std::map<std::string, std::string> target_groups;    // ARN -> logical id
  std::map<std::string, std::set<std::string>> forwarders;  // target group ARN -> listeners / rules sending to it
  std::map<std::string, std::string> task_definitions;      // ARN -> logical id
  std::map<std::string, std::string> services;              // "cluster/service" -> logical id
  std::set<std::string> images;  // "repository:tag" of berth's registry that task definitions run
  std::vector<std::string> push_commands;

  void note(std::string text) { notes.push_back(std::move(text)); }
  Resource& add(const std::string& id, std::string type) {
    auto& r = t.resources[id];
    r.type = std::move(type);
    return r;
  }
};

void build_parameters(Context& c);
void build_security_groups(Context& c);
void build_repositories(Context& c);
void build_log_groups(Context& c);
void build_clusters(Context& c);
void build_load_balancing(Context& c);
void build_task_definitions(Context& c);
void build_services(Context& c);
void build_scaling(Context& c);

// Reading the state's JSON without exceptions: a missing or mistyped field
// reads as empty.
std::string str(const json::object& o, std::string_view key);
const json::array& arr(const json::object& o, std::string_view key);
const json::object& obj(const json::object& o, std::string_view key);
// A number given as a JSON number or as the query protocols' string; -1 when absent.
int64_t num(const json::object& o, std::string_view key);
bool flag(const json::object& o, std::string_view key);  // true or "true"
// The objects of an array sorted by one of their string fields.
std::vector<const json::object*> sorted_by(const json::array& a, std::string_view key);
std::string last_segment(std::string_view arn);  // after the last '/'

}  // namespace berth::cfn
