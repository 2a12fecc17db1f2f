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

}  // namespace berth::ecs
