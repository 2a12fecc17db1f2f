// The cluster query language (memberOf placement constraints,
// ListContainerInstances filter): ecs::matches_expression against a few
// container instances, and validate_constraints on the same expression.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ecs/placement.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string expression(reinterpret_cast<const char*>(data), size);
  static const std::vector<berth::ecs::Candidate> candidates = [] {
    std::vector<berth::ecs::Candidate> c(3);
    c[0].id = "a1";
    c[0].ec2_instance_id = "i-0123456789abcdef0";
    c[0].attributes = {{"ecs.instance-type", "t2.micro"}, {"ecs.os-type", "linux"}, {"stack", "prod"}};
    c[0].running_tasks = 3;
    c[1].id = "b2";
    c[1].ec2_instance_id = "i-1";
    c[1].agent_connected = false;
    c[1].attributes = {{"ecs.availability-zone", "us-east-1a"}, {"com.amazonaws.ecs.capability.docker-remote-api.1.17", ""}};
    c[2].id = "c3";
    return c;
  }();
  for (const auto& candidate : candidates) (void)berth::ecs::matches_expression(expression, candidate);
  (void)berth::ecs::validate_constraints({{"memberOf", expression}});
  return 0;
}
