// ecs/container_instances: EC2 instances of the ECS-optimized AMI become
// container instances the way the ECS agent registers them (reference
// §2.10, §5.5), and the container-instance operations.
//
//   ec2_instances change ─┐
//   ecs_clusters change  ─┼─> InstanceReconciler::reconcile(now)   (level-triggered, idempotent)
//   timer (advances EC2  ─┘     for every EC2 instance, from its state alone:
//   instance states)              running, ECS AMI, never registered, cluster ACTIVE -> register (ACTIVE)
//                                 stopping/stopped                                   -> agentConnected false
//                                 running again                                      -> agentConnected true
//                                 shutting-down/terminated/gone                      -> INACTIVE, tasks stopped
//
// An instance is registered at most once, as with the real agent, whose
// state file keeps its container-instance ARN: after DeregisterContainerInstance
// or termination it is never registered again.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "ec2/ec2_service.h"
#include "ec2/instances.h"
#include "ecs/ecs.h"
#include "store/store.h"

namespace berth::ecs {

// What the agent reads from /etc/ecs/ecs.config as the user data writes it,
// either as plain `KEY=value` lines or inside a shell script
// (`echo ECS_CLUSTER=web >> /etc/ecs/ecs.config`). The last assignment wins.
struct AgentConfig {
  std::string cluster = "default";
  int64_t reserved_memory_mib = 0;  // ECS_RESERVED_MEMORY
};
AgentConfig parse_agent_config(std::string_view user_data_text);

// Whether the image carries the ECS agent (the catalogue's ECS-optimized AMIs).
bool is_ecs_optimized_image(std::string_view image_id);

// MemTotal of the instance type in MiB as the agent reads it from
// /proc/meminfo (installed memory less what the kernel keeps).
int64_t mem_total_mib(std::string_view instance_type);

inline constexpr int64_t kReservedPorts[] = {22, 2375, 2376, 51678, 51679};

// A container instance as placement and the operations read it.
struct ContainerInstanceRow {
  std::string id;  // 32 hex
  std::string cluster;
  std::string ec2_instance_id;
  std::string status;  // ACTIVE | DRAINING | INACTIVE
  bool agent_connected = false;
  boost::json::object doc;  // registeredResources, attributes, versionInfo, registeredAt, version
};

// What the non-stopped tasks on an instance hold (reference §2.10).
struct Usage {
  int64_t cpu = 0;
  int64_t memory = 0;
  std::vector<std::pair<int64_t, std::string>> ports;  // (host port, protocol)
  int64_t running = 0;
  int64_t pending = 0;
};

// cluster "" = every cluster; statuses empty = every status.
Result<std::vector<ContainerInstanceRow>> load_container_instances(store::Tx& tx, std::string_view cluster,
                                                                   const std::vector<std::string>& statuses = {});
Result<Usage> usage_of(store::Tx& tx, std::string_view container_instance_id);
int64_t registered_integer(const boost::json::object& doc, std::string_view name);  // CPU, MEMORY
std::vector<int64_t> registered_ports(const boost::json::object& doc, std::string_view name);  // PORTS, PORTS_UDP
std::string attribute_value(const boost::json::object& doc, std::string_view name);  // "" when absent

class InstanceReconciler {
 public:
  InstanceReconciler(store::Database& db, const Clock& clock, Options options, ec2::InstanceTimings timings = {});
  ~InstanceReconciler();

  // Reconciles every instance now. Safe to call from any thread, any time.
  Status reconcile(WallTime now);
  // Watches the change feed and runs a timer on `loop` until stop().
  void start(boost::asio::io_context& loop, std::chrono::milliseconds period = std::chrono::milliseconds(500));
  void stop();

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace berth::ecs
