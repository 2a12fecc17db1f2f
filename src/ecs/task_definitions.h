// ecs/task_definitions: reading task definitions by family, family:revision
// or ARN, for RunTask and the task-definition operations.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/store.h"

namespace berth::ecs {

struct TaskDefinitionRow {
  std::string family;
  int64_t revision = 0;
  std::string status;         // ACTIVE | INACTIVE | DELETE_IN_PROGRESS
  boost::json::object doc;    // the TaskDefinition shape, status and deregisteredAt filled in
};

// "family" -> its latest ACTIVE revision; "family:rev" or an ARN -> that
// revision in any status. nullopt when there is none.
Result<std::optional<TaskDefinitionRow>> find_task_definition(store::Tx& tx, std::string_view id);

}  // namespace berth::ecs
