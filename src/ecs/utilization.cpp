#include "ecs/utilization.h"

#include <map>

#include <boost/json/parse.hpp>

#include "ecs/container_instances.h"
#include "ecs/task_definition_rules.h"

namespace berth::ecs {

namespace json = boost::json;

Result<std::vector<RunningTaskReservation>> running_task_reservations(store::Database& db) {
  return db.read([](store::Tx& tx) -> Result<std::vector<RunningTaskReservation>> {
    auto stmt =
        tx.prepare("SELECT id, cluster, service, cpu, memory, doc, container_instance_id FROM ecs_tasks "
                   "WHERE last_status = 'RUNNING'");
    if (!stmt) return std::move(stmt).error();
    std::vector<RunningTaskReservation> out;
    for (;;) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      RunningTaskReservation t{stmt->column_string(0), stmt->column_string(1), stmt->column_string(2),
                               stmt->column_int64(3), stmt->column_int64(4), !stmt->column_text(6).empty()};
      // FARGATE tasks take nothing from an instance (the columns are 0):
      // their task-level sizes, as DescribeTasks shows them.
      if (t.cpu_units == 0 || t.memory_mib == 0) {
        boost::system::error_code ec;
        auto doc = json::parse(stmt->column_text(5), ec);
        if (!ec && doc.is_object()) {
          const auto& o = doc.as_object();
          if (auto* cpu = o.if_contains("cpu"); cpu && cpu->is_string() && t.cpu_units == 0)
            t.cpu_units = parse_task_cpu(std::string(cpu->as_string())).value_or(0);
          if (auto* memory = o.if_contains("memory"); memory && memory->is_string() && t.memory_mib == 0)
            t.memory_mib = parse_task_memory(std::string(memory->as_string())).value_or(0);
        }
      }
      out.push_back(std::move(t));
    }
    return out;
  });
}

Result<std::vector<ClusterCapacity>> registered_capacity(store::Database& db) {
  return db.read([](store::Tx& tx) -> Result<std::vector<ClusterCapacity>> {
    auto stmt = tx.prepare("SELECT cluster, doc FROM ecs_container_instances WHERE status = 'ACTIVE'");
    if (!stmt) return std::move(stmt).error();
    std::map<std::string, ClusterCapacity> by_cluster;
    for (;;) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      boost::system::error_code ec;
      auto doc = json::parse(stmt->column_text(1), ec);
      if (ec || !doc.is_object() || !doc.as_object().contains("registeredResources")) continue;
      auto& c = by_cluster[stmt->column_string(0)];
      c.cluster = stmt->column_string(0);
      c.cpu_units += registered_integer(doc.as_object(), "CPU");
      c.memory_mib += registered_integer(doc.as_object(), "MEMORY");
    }
    std::vector<ClusterCapacity> out;
    for (auto& [name, c] : by_cluster) out.push_back(std::move(c));
    return out;
  });
}

}  // namespace berth::ecs
