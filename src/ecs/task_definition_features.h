// ecs/task_definition_features: RegisterTaskDefinition's rules for what ties
// containers to volumes, to each other and to the launch type: volumes and
// mountPoints, volumesFrom, dependsOn, linuxParameters, secrets, the
// awsvpc and FARGATE restrictions. Pure, like task_definition_rules (which
// calls it once the containers are valid one by one).
//
// Texts marked "observed" are AWS's own output (seen in public issue
// threads); "documented" rules come from the ECS developer guide with
// AWS's usual wording for them; the rest are unverified.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/error.h"

namespace berth::ecs {

// A Docker size ("1m", "25MiB", "512k", "1048576"): binary multiples, as
// Docker reads max-buffer-size. nullopt when it is not one.
std::optional<uint64_t> parse_docker_size(std::string_view text);

// ClientException when the definition asks for something ECS refuses.
// `containers` are the validated container definitions.
Status check_container_features(const boost::json::object& request, const boost::json::array& containers,
                                std::string_view network_mode, bool fargate);

}  // namespace berth::ecs
