// ecs/task_definition_rules: RegisterTaskDefinition's validation and
// normalisation as a pure function (no store), so every rule is a table
// row in task_definition_rules_test.cpp (reference §2.2, §2.3).
//
//   request JSON ──validate_task_definition──> ClientException "<AWS text>"
//                                          └─> TaskDefinition JSON with AWS's defaults filled in
//                                              (arn, revision, status, registeredAt left for the handler)
//
// Messages quoted from real AWS output are marked "observed"; the others
// are AWS-like wording that could not be verified (reference §7).
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace berth::ecs {

struct ValidatedTaskDefinition {
  std::string family;
  // The TaskDefinition shape in AWS's key order; taskDefinitionArn,
  // revision, status, registeredAt and registeredBy are placeholders.
  boost::json::object doc;
};

Result<ValidatedTaskDefinition> validate_task_definition(const boost::json::object& request);

// Task-level sizes as RegisterTaskDefinition accepts them: "1024",
// "1 vCPU", "0.5 vCPU" -> CPU units; "512", "1GB", "2 GB" -> MiB.
std::optional<int64_t> parse_task_cpu(std::string_view text);
std::optional<int64_t> parse_task_memory(std::string_view text);

// Whether (cpu units, MiB) is a Fargate size (reference §2.3).
bool fargate_pair_valid(int64_t cpu, int64_t memory_mib);

// What a task of this definition reserves on a container instance
// (reference §2.10): task-level cpu/memory when set, else the sum over
// containers of cpu and of memoryReservation-or-memory; static host ports.
struct HostPort {
  int64_t port;
  std::string protocol;  // "tcp" | "udp"
};
struct Reservation {
  int64_t cpu = 0;
  int64_t memory = 0;
  std::vector<HostPort> ports;
};
Reservation reservation_of(const boost::json::object& task_definition);

}  // namespace berth::ecs
