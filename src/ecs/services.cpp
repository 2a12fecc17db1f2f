#include "ecs/services.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/rand.h>

#include <map>

#include "core/ids.h"
#include "ecs/schema.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

ServiceRow read_row(const store::Statement& stmt) {
  ServiceRow r;
  r.cluster = stmt.column_string(0);
  r.name = stmt.column_string(1);
  r.status = stmt.column_string(2);
  r.doc = json::parse(stmt.column_text(3)).as_object();
  r.state = json::parse(stmt.column_text(4)).as_object();
  return r;
}

struct Counts {
  int64_t running = 0, pending = 0;
};

// Tasks not yet STOPPED of the service by deployment (startedBy): RUNNING
// ones, and those still on their way there.
Result<std::map<std::string, Counts, std::less<>>> task_counts(store::Tx& tx, std::string_view cluster,
                                                                std::string_view service) {
  std::map<std::string, Counts, std::less<>> out;
  auto stmt = tx.prepare(
      "SELECT started_by, sum(last_status = 'RUNNING'), "
      "sum(last_status IN ('PROVISIONING', 'PENDING', 'ACTIVATING')) FROM ecs_tasks "
      "WHERE cluster = ? AND service = ? AND last_status != 'STOPPED' GROUP BY started_by");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(cluster, service);
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out[stmt->column_string(0)] = {stmt->column_int64(1), stmt->column_int64(2)};
  }
  return out;
}

}  // namespace

std::string service_arn(const Options& o, std::string_view cluster, std::string_view name) {
  return arn_prefix(o) + "service/" + std::string(cluster) + "/" + std::string(name);
}

std::string service_name_from(std::string_view id) { return last_segment(id); }

std::string new_deployment_id() {
  unsigned char bytes[8];
  RAND_bytes(bytes, sizeof bytes);
  uint64_t n = 0;
  for (unsigned char b : bytes) n = (n << 8) | b;
  std::string digits = std::to_string(1'000'000'000'000'000'000ULL + n % 9'000'000'000'000'000'000ULL);
  return "ecs-svc/" + digits;
}

namespace {

json::object new_deployment(const json::object& service, double now) {
  std::string id = new_deployment_id();
  json::object d{{"id", id},
                 {"status", "PRIMARY"},
                 {"taskDefinition", service.at("taskDefinition")},
                 {"desiredCount", service.at("desiredCount")},
                 {"pendingCount", 0},
                 {"runningCount", 0},
                 {"failedTasks", 0},
                 {"createdAt", now},
                 {"updatedAt", now},
                 {"rolloutState", "IN_PROGRESS"},
                 {"rolloutStateReason", "ECS deployment " + id + " in progress."}};
  if (service.contains("launchType")) d["launchType"] = service.at("launchType");
  if (service.contains("capacityProviderStrategy")) d["capacityProviderStrategy"] = service.at("capacityProviderStrategy");
  if (service.contains("platformVersion")) d["platformVersion"] = service.at("platformVersion");
  if (service.contains("networkConfiguration")) d["networkConfiguration"] = service.at("networkConfiguration");
  return d;
}

}  // namespace

std::string start_deployment(json::object& doc, double now) {
  json::array deployments;
  deployments.push_back(new_deployment(doc, now));
  for (auto& d : doc["deployments"].as_array()) {
    d.as_object()["status"] = "ACTIVE";
    deployments.push_back(d);
  }
  std::string id(deployments[0].at("id").as_string());
  doc["deployments"] = std::move(deployments);
  return id;
}

Result<std::optional<ServiceRow>> find_service(store::Tx& tx, std::string_view cluster, std::string_view name) {
  auto stmt = tx.prepare("SELECT cluster, name, status, doc, state FROM ecs_services WHERE cluster = ? AND name = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(cluster, name);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<ServiceRow>();
  return std::optional<ServiceRow>(read_row(*stmt));
}

Result<std::vector<ServiceRow>> live_services(store::Tx& tx, std::string_view cluster) {
  auto stmt = tx.prepare(
      "SELECT cluster, name, status, doc, state FROM ecs_services WHERE status IN ('ACTIVE', 'DRAINING') "
      "AND (?1 = '' OR cluster = ?1) ORDER BY rowid");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(cluster);
  std::vector<ServiceRow> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(read_row(*stmt));
  }
  return out;
}

Status write_service(store::Tx& tx, const ServiceRow& row, double created_at) {
  auto s = tx.run(
      "INSERT INTO ecs_services(cluster, name, status, created_at, doc, state) VALUES(?, ?, ?, ?, ?, ?) "
      "ON CONFLICT(cluster, name) DO UPDATE SET status = excluded.status, created_at = excluded.created_at, "
      "doc = excluded.doc, state = excluded.state",
      row.cluster, row.name, row.status, created_at, json::serialize(row.doc), json::serialize(row.state));
  if (!s) return s;
  tx.record_change(kServicesTable, row.cluster + "/" + row.name, store::ChangeKind::kPut);
  return Ok{};
}

Status add_service_event(store::Tx& tx, std::string_view cluster, std::string_view service, std::string_view message,
                         double now, double repeat_after_seconds) {
  auto last = tx.prepare(
      "SELECT message, created_at FROM ecs_service_events WHERE cluster = ? AND service = ? ORDER BY seq DESC LIMIT 1");
  if (!last) return std::move(last).error();
  last->bind_all(cluster, service);
  auto row = last->step();
  if (!row) return std::move(row).error();
  if (*row && last->column_text(0) == message && now - last->column_double(1) < repeat_after_seconds) return Ok{};
  if (auto s = tx.run("INSERT INTO ecs_service_events(cluster, service, id, created_at, message) VALUES(?, ?, ?, ?, ?)",
                      cluster, service, ids::uuid4(), now, message);
      !s)
    return s;
  auto s = tx.run(
      "DELETE FROM ecs_service_events WHERE cluster = ?1 AND service = ?2 AND seq <= "
      "(SELECT seq FROM ecs_service_events WHERE cluster = ?1 AND service = ?2 ORDER BY seq DESC LIMIT 1 OFFSET ?3)",
      cluster, service, kMaxServiceEvents);
  if (!s) return s;
  tx.record_change(kServiceEventsTable, std::string(cluster) + "/" + std::string(service), store::ChangeKind::kPut);
  return Ok{};
}

Result<json::array> service_events(store::Tx& tx, std::string_view cluster, std::string_view service) {
  auto stmt = tx.prepare(
      "SELECT id, created_at, message FROM ecs_service_events WHERE cluster = ? AND service = ? "
      "ORDER BY seq DESC LIMIT ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(cluster, service, kMaxServiceEvents);
  json::array out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(json::object{
        {"id", stmt->column_string(0)}, {"createdAt", stmt->column_double(1)}, {"message", stmt->column_string(2)}});
  }
  return out;
}

Result<int64_t> failed_tasks(store::Tx& tx, std::string_view cluster, std::string_view deployment_id) {
  // Tasks that never started, whose essential container exited, or that
  // the scheduler stopped for failed health checks (reference §2.7).
  auto stmt = tx.prepare(
      "SELECT count(*) FROM ecs_tasks WHERE cluster = ? AND started_by = ? AND desired_status = 'STOPPED' AND ("
      "json_extract(doc, '$.stopCode') IN ('TaskFailedToStart', 'EssentialContainerExited') OR "
      "json_extract(doc, '$.stoppedReason') LIKE 'Task failed % health checks%')");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(cluster, deployment_id);
  if (auto row = stmt->step(); !row) return std::move(row).error();
  return stmt->column_int64(0);
}

Result<json::object> describe_service(store::Tx& tx, const ServiceRow& row) {
  json::object s = row.doc;
  s["status"] = row.status;
  auto counts = task_counts(tx, row.cluster, row.name);
  if (!counts) return std::move(counts).error();
  Counts all;
  for (const auto& [_, c] : *counts) all.running += c.running, all.pending += c.pending;
  s["runningCount"] = all.running;
  s["pendingCount"] = all.pending;
  for (auto& dv : s["deployments"].as_array()) {
    auto& d = dv.as_object();
    std::string id(d.at("id").as_string());
    auto it = counts->find(id);
    d["runningCount"] = it == counts->end() ? 0 : it->second.running;
    d["pendingCount"] = it == counts->end() ? 0 : it->second.pending;
    auto failed = failed_tasks(tx, row.cluster, id);
    if (!failed) return std::move(failed).error();
    d["failedTasks"] = *failed;
  }
  auto current = tx.prepare("SELECT arn FROM ecs_service_deployments WHERE cluster = ? AND service = ? "
                            "ORDER BY rowid DESC LIMIT 1");
  if (!current) return std::move(current).error();
  current->bind_all(row.cluster, row.name);
  auto found = current->step();
  if (!found) return std::move(found).error();
  if (*found) s["currentServiceDeployment"] = current->column_string(0);
  auto events = service_events(tx, row.cluster, row.name);
  if (!events) return std::move(events).error();
  s["events"] = std::move(*events);
  return s;
}

}  // namespace berth::ecs
