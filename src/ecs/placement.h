// ecs/placement: where a task goes, as filter-then-rank (STYLE.md: nomad's
// feasible/stack.go, swarmkit's filters that explain a refusal). Pure: the
// caller gathers the candidates from the store and applies the result.
//
//   candidates ──filters (first refusal is the instance's reason)──> feasible
//      agent ─ attributes ─ memberOf ─ distinctInstance ─ memory ─ cpu ─ ports ─ ENI
//   feasible ──strategies in order (binpack / spread / random), lexicographic──> best
//   best takes the task's reservation; the next task of the same call sees it.
//
// Refusal reasons are RunTask's failures[].reason values (reference §2.11).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace berth::ecs {

inline constexpr std::string_view kReasonMemory = "RESOURCE:MEMORY";
inline constexpr std::string_view kReasonCpu = "RESOURCE:CPU";
inline constexpr std::string_view kReasonPorts = "RESOURCE:PORTS";
inline constexpr std::string_view kReasonEni = "RESOURCE:ENI";
inline constexpr std::string_view kReasonAgent = "AGENT";
inline constexpr std::string_view kReasonAttribute = "ATTRIBUTE";

struct Candidate {
  std::string id;  // container instance id
  std::string ec2_instance_id;
  bool agent_connected = true;
  int64_t cpu_free = 0;
  int64_t memory_free = 0;
  std::set<std::pair<int64_t, std::string>> ports_used;  // (port, "tcp"|"udp"), reserved ones included
  int64_t eni_free = 0;                                   // awsvpc task slots
  std::map<std::string, std::string> attributes;          // capabilities map to ""
  int64_t running_tasks = 0;
  int64_t group_tasks = 0;  // non-stopped tasks of the placing group on this instance
};

struct Demand {
  int64_t cpu = 0;
  int64_t memory = 0;
  std::vector<std::pair<int64_t, std::string>> ports;  // static host ports
  bool needs_eni = false;                              // awsvpc
  std::vector<std::string> required_attributes;        // requiresAttributes names
};

struct Constraint {
  std::string type;        // "distinctInstance" | "memberOf"
  std::string expression;  // memberOf: cluster query language
};

struct Strategy {
  std::string type;   // "random" | "spread" | "binpack"
  std::string field;  // spread: "instanceId" | "host" | "attribute:<name>"; binpack: "cpu" | "memory"
};

struct PlacementResult {
  std::vector<std::string> placed;                          // a candidate id per placed task, in order
  std::vector<std::pair<std::string, std::string>> failures;  // (candidate id, reason), first refusal, deduplicated
};

// Places up to `count` tasks. A task that fits nowhere ends the placement
// (the rest would not fit either).
PlacementResult place(std::vector<Candidate> candidates, const Demand& demand, int count,
                      const std::vector<Constraint>& constraints, const std::vector<Strategy>& strategies,
                      std::mt19937& rng);

// The cluster query language subset berth evaluates (ListContainerInstances
// filter, memberOf): terms `attribute:<name> == v`, `!= v`, `exists`,
// `in [a, b]`, `not_in [a, b]`, `ec2InstanceId == i-...`,
// `agentConnected == true|false`, `runningTasksCount == n`, joined by
// `and` / `or` (and binds tighter). kInvalid on anything else.
Result<bool> matches_expression(std::string_view expression, const Candidate& candidate);

Status validate_constraints(const std::vector<Constraint>& constraints);
Status validate_strategies(const std::vector<Strategy>& strategies);

}  // namespace berth::ecs
