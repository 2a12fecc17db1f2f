// ecs/task_creation: making task rows, shared by RunTask/StartTask
// (task_ops.cpp) and the service scheduler (scheduler/). Each function works
// inside the caller's transaction, so a placement and the rows it creates
// commit together or not at all.
//
//   TaskSpec (what to run) ─┐
//   placement_candidates ───┼─ place() (placement.h) ──> Placed ──create_task──> ecs_tasks row (+ ENI for awsvpc)
//   demand_of(definition) ──┘
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "ecs/common.h"
#include "ecs/placement.h"
#include "ecs/task_definition_rules.h"
#include "ecs/task_definitions.h"
#include "store/store.h"

namespace berth::ecs {

// What every task of one RunTask call or one service deployment shares.
struct TaskSpec {
  std::string cluster;
  TaskDefinitionRow td;
  std::string launch_type;        // "EC2" | "FARGATE"
  std::string capacity_provider;  // set when a capacityProviderStrategy chose FARGATE(_SPOT)
  std::string group;              // "family:<f>" | "service:<name>" | the caller's
  std::optional<std::string> started_by;
  std::string service;            // the owning service's name; "" for standalone tasks
  // awsvpc: the task's ENI (awsvpcConfiguration).
  std::vector<std::string> subnets;  // as listed
  std::vector<std::string> security_groups;
  bool assign_public_ip = false;
  Tags tags;
};

// Where one task goes: a container instance, or nothing for FARGATE.
struct Placed {
  std::string instance_id;
  std::string ec2_instance_id;
  std::string availability_zone;
};

// The ACTIVE container instances of the cluster as placement sees them
// (free resources, ports, attributes, ENI slots, tasks of `group`). `only`
// non-empty: just those ids (StartTask).
Result<std::vector<Candidate>> placement_candidates(store::Tx& tx, std::string_view cluster, std::string_view group,
                                                    const std::vector<std::string>& only = {});

// A request's placementConstraints and placementStrategy members (RunTask,
// CreateService, UpdateService), each entry checked for its types.
Result<std::vector<Constraint>> read_constraints(const boost::json::object& in);
Result<std::vector<Strategy>> read_strategies(const boost::json::object& in);

// What a task of this definition asks of an instance, and the definition's
// own placement constraints.
Demand demand_of(const boost::json::object& task_definition, const Reservation& reservation);
std::vector<Constraint> definition_constraints(const boost::json::object& task_definition);

// The placed instance's row fields for a candidate id.
Placed placed_on(const std::vector<Candidate>& candidates, std::string_view instance_id);

// overrides as AWS echoes them: one containerOverrides entry per container
// (just the name when not overridden), inferenceAcceleratorOverrides [].
boost::json::object echoed_overrides(const boost::json::object& task_definition,
                                     const boost::json::array& container_overrides = {});

// awsvpcConfiguration of a networkConfiguration into spec (subnets, groups,
// public IP); AWS's errors when missing or wrong. Uses spec.launch_type.
Status read_awsvpc_configuration(const boost::json::object& network_configuration, TaskSpec& spec);

// Writes one task row (lastStatus PROVISIONING for awsvpc, else PENDING;
// desiredStatus RUNNING) and, for awsvpc, its ENI. Returns the Task shape.
Result<boost::json::object> create_task(store::Tx& tx, const Options& options, WallTime now, const TaskSpec& spec,
                                        const boost::json::object& overrides, const Reservation& reservation,
                                        const Placed& where);

}  // namespace berth::ecs
