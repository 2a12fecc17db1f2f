// ecs/schema: the "ecs" tables. Each row keeps the columns that queries
// filter or count on, and the rest of the AWS shape as a JSON document
// (doc), written once by the handler that validated it.
#pragma once

#include <string_view>

namespace berth::ecs {

inline constexpr std::string_view kClustersTable = "ecs_clusters";
inline constexpr std::string_view kTaskDefinitionsTable = "ecs_task_definitions";
inline constexpr std::string_view kContainerInstancesTable = "ecs_container_instances";
inline constexpr std::string_view kTasksTable = "ecs_tasks";
// Services: the spec and deployments (doc, as DescribeServices shows them
// less counts and events), the scheduler's memory (state), and events.
// Change keys are "<cluster>/<name>".
inline constexpr std::string_view kServicesTable = "ecs_services";
inline constexpr std::string_view kServiceEventsTable = "ecs_service_events";
// Task columns the scheduler owns: service (the owning service's name),
// targets (JSON [[target group ARN, id, port], ...] registered in load
// balancers) and drain_until (set while DEACTIVATING: the runtime is not
// asked to stop the task before its targets have drained).

}  // namespace berth::ecs
