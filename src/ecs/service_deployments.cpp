#include "ecs/service_deployments.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

#include "core/ids.h"
#include "ecs/scheduler/reconciler.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

std::string revision_arn(const Options& o, const ServiceRow& row, std::string_view deployment_id) {
  return arn_prefix(o) + "service-revision/" + row.cluster + "/" + row.name + "/" +
         std::string(deployment_id.substr(deployment_id.find('/') + 1));
}

// A 20-character id as AWS's deployment ARNs end ("NCWGC2ZR-taawPAYrIaU5").
std::string deployment_arn_id() {
  constexpr std::string_view kChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string hex = ids::random_hex(40);
  std::string out;
  for (size_t i = 0; i < 20; ++i) out += kChars[std::stoi(hex.substr(2 * i, 2), nullptr, 16) % kChars.size()];
  return out;
}

struct Record {
  std::string arn, cluster, service, deployment_id;
  json::object doc;
};

Result<std::optional<Record>> find_record(store::Tx& tx, std::string_view column, std::string_view value) {
  std::string sql = "SELECT arn, cluster, service, deployment_id, doc FROM ecs_service_deployments WHERE " +
                    std::string(column) + " = ?";
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(value);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<Record>();
  return std::optional<Record>(Record{stmt->column_string(0), stmt->column_string(1), stmt->column_string(2),
                                     stmt->column_string(3), json::parse(stmt->column_text(4)).as_object()});
}

Status save(store::Tx& tx, const Record& r, double created_at) {
  auto s = tx.run(
      "INSERT INTO ecs_service_deployments(arn, cluster, service, deployment_id, created_at, status, doc) "
      "VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(arn) DO UPDATE SET status = excluded.status, doc = excluded.doc",
      r.arn, r.cluster, r.service, r.deployment_id, created_at, std::string(r.doc.at("status").as_string()),
      json::serialize(r.doc));
  if (!s) return s;
  tx.record_change(kServiceDeploymentsTable, r.arn, store::ChangeKind::kPut);
  return Ok{};
}

void close(json::object& doc, std::string_view status, std::string_view reason, double now) {
  doc["status"] = status;
  if (!reason.empty()) doc["statusReason"] = reason;
  doc["updatedAt"] = now;
  doc[status == "STOPPED" ? "stoppedAt" : "finishedAt"] = now;
}

// The ServiceRevisionSummary counts of one deployment, from its tasks.
Result<json::object> revision_summary(store::Tx& tx, const json::object& revision, const Record& r,
                                      const std::optional<ServiceRow>& service) {
  json::object out = revision;
  const std::string arn(revision.at("arn").as_string());
  std::string deployment_id = "ecs-svc/" + arn.substr(arn.rfind('/') + 1);
  int64_t requested = 0;
  if (service) {
    for (const auto& d : service->doc.at("deployments").as_array())
      if (d.at("id").as_string() == deployment_id) requested = d.at("desiredCount").as_int64();
  }
  auto stmt = tx.prepare(
      "SELECT sum(last_status = 'RUNNING'), sum(last_status IN ('PROVISIONING', 'PENDING', 'ACTIVATING')) "
      "FROM ecs_tasks WHERE cluster = ? AND service = ? AND started_by = ? AND last_status != 'STOPPED'");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(r.cluster, r.service, deployment_id);
  if (auto row = stmt->step(); !row) return std::move(row).error();
  out["requestedTaskCount"] = requested;
  out["runningTaskCount"] = stmt->column_int64_opt(0).value_or(0);
  out["pendingTaskCount"] = stmt->column_int64_opt(1).value_or(0);
  return out;
}

Result<json::object> describe_record(store::Tx& tx, const Record& r) {
  auto service = find_service(tx, r.cluster, r.service);
  if (!service) return std::move(service).error();
  json::object out = r.doc;
  auto target = revision_summary(tx, r.doc.at("targetServiceRevision").as_object(), r, *service);
  if (!target) return std::move(target).error();
  out["targetServiceRevision"] = std::move(*target);
  json::array sources;
  for (const auto& s : r.doc.at("sourceServiceRevisions").as_array()) {
    auto summary = revision_summary(tx, s.as_object(), r, *service);
    if (!summary) return std::move(summary).error();
    sources.push_back(std::move(*summary));
  }
  out["sourceServiceRevisions"] = std::move(sources);
  auto& breaker = out["deploymentCircuitBreaker"].as_object();
  auto failed = failed_tasks(tx, r.cluster, r.deployment_id);
  if (!failed) return std::move(failed).error();
  breaker["failureCount"] = *failed;
  return out;
}

}  // namespace

Result<std::string> begin_deployment(store::Tx& tx, const Options& options, ServiceRow& row, double now,
                                     std::string_view rollback_of) {
  json::array sources;
  std::string replaced;
  for (const auto& d : row.doc.at("deployments").as_array()) {
    std::string id(d.at("id").as_string());
    sources.push_back(json::object{{"arn", revision_arn(options, row, id)}});
    if (d.at("status") == "PRIMARY" && d.at("rolloutState") == "IN_PROGRESS") replaced = id;
  }
  if (!replaced.empty() && replaced != rollback_of) {
    if (auto s = end_deployment(tx, replaced, "STOPPED", "Stopped by a newer service deployment.", now); !s)  // unverified
      return std::move(s).error();
  }
  std::string id = start_deployment(row.doc, now);
  const auto& config = row.doc.at("deploymentConfiguration").as_object();
  bool breaker = config.at("deploymentCircuitBreaker").at("enable").as_bool();
  Record r;
  r.arn = arn_prefix(options) + "service-deployment/" + row.cluster + "/" + row.name + "/" + deployment_arn_id();
  r.cluster = row.cluster;
  r.service = row.name;
  r.deployment_id = id;
  r.doc = json::object{
      {"serviceDeploymentArn", r.arn},
      {"serviceArn", row.doc.at("serviceArn")},
      {"clusterArn", row.doc.at("clusterArn")},
      {"createdAt", now},
      {"startedAt", now},
      {"updatedAt", now},
      {"sourceServiceRevisions", std::move(sources)},
      {"targetServiceRevision", json::object{{"arn", revision_arn(options, row, id)}}},
      {"status", "IN_PROGRESS"},
      {"deploymentConfiguration", config},
      {"deploymentCircuitBreaker",
       json::object{{"status", breaker ? "MONITORING" : "DISABLED"},
                    {"failureCount", 0},
                    {"threshold", scheduler::circuit_breaker_threshold(row.doc.at("desiredCount").as_int64())}}}};
  if (!rollback_of.empty()) {
    auto failed = find_record(tx, "deployment_id", rollback_of);
    if (!failed) return std::move(failed).error();
    if (*failed) {
      Record& f = **failed;
      f.doc["status"] = "ROLLBACK_IN_PROGRESS";
      f.doc["updatedAt"] = now;
      f.doc["deploymentCircuitBreaker"].as_object()["status"] = "TRIGGERED";
      f.doc["rollback"] = json::object{{"reason", "Service deployment rolled back because the circuit breaker threshold "
                                                  "was exceeded."},  // unverified wording
                                       {"startedAt", now},
                                       {"serviceRevisionArn", revision_arn(options, row, id)}};
      f.doc["rollbackDeploymentId"] = id;  // internal: completes with the rollback (removed when shown)
      if (auto s = save(tx, f, f.doc.at("createdAt").as_double()); !s) return std::move(s).error();
    }
  }
  if (auto s = save(tx, r, now); !s) return std::move(s).error();
  return id;
}

Status end_deployment(store::Tx& tx, std::string_view deployment_id, std::string_view status, std::string_view reason,
                      double now) {
  auto found = find_record(tx, "deployment_id", deployment_id);
  if (!found) return std::move(found).error();
  if (!*found) return Ok{};
  Record& r = **found;
  close(r.doc, status, reason, now);
  if (status == "STOPPED" && r.doc.contains("deploymentCircuitBreaker") && reason.find("circuit breaker") != std::string_view::npos)
    r.doc["deploymentCircuitBreaker"].as_object()["status"] = "TRIGGERED";
  if (auto s = save(tx, r, r.doc.at("createdAt").as_double()); !s) return s;
  if (status != "SUCCESSFUL") return Ok{};
  // The deployment this one rolled back is done with it.
  auto stmt = tx.prepare(
      "SELECT deployment_id FROM ecs_service_deployments WHERE json_extract(doc, '$.rollbackDeploymentId') = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(deployment_id);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row) return Ok{};
  std::string failed = stmt->column_string(0);
  auto f = find_record(tx, "deployment_id", failed);
  if (!f || !*f) return f ? Status(Ok{}) : Status(std::move(f).error());
  close((*f)->doc, "ROLLBACK_SUCCESSFUL", "", now);
  (*f)->doc.erase("rollbackDeploymentId");
  return save(tx, **f, (*f)->doc.at("createdAt").as_double());
}

namespace {

Result<std::string> list_service_deployments(Context& ctx, const json::object& in) {
  auto id = opt_string(in, "service");
  if (!id) return std::move(id).error();
  if (!*id) return invalid_parameter("Service must be specified.");  // unverified wording
  auto statuses = string_list(in, "status");
  if (!statuses) return std::move(statuses).error();
  double before = 1e18, after = -1;
  if (const auto* c = in.if_contains("createdAt"); c && c->is_object()) {
    if (const auto* b = c->as_object().if_contains("before"); b && b->is_number()) before = b->to_number<double>();
    if (const auto* a = c->as_object().if_contains("after"); a && a->is_number()) after = a->to_number<double>();
  }
  auto page = read_page(in, 20, 100);
  if (!page) return std::move(page).error();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto cluster = active_cluster(tx, in);
    if (!cluster) return std::move(cluster).error();
    std::string name = service_name_from(**id);
    auto service = find_service(tx, *cluster, name);
    if (!service) return std::move(service).error();
    if (!*service) return service_not_found();
    std::string wanted;
    for (const auto& s : *statuses) wanted += "," + s + ",";
    auto stmt = tx.prepare(
        "SELECT doc FROM ecs_service_deployments WHERE cluster = ?1 AND service = ?2 AND created_at < ?3 "
        "AND created_at > ?4 AND (?5 = '' OR instr(?5, ',' || status || ',') > 0) "
        "ORDER BY rowid DESC LIMIT ?6 OFFSET ?7");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(*cluster, name, before, after, wanted, static_cast<int64_t>(page->max + 1),
                   static_cast<int64_t>(page->offset));
    json::array out;
    bool more = false;
    for (;;) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      if (out.size() == page->max) {
        more = true;
        break;
      }
      json::object doc = json::parse(stmt->column_text(0)).as_object();
      json::object brief{{"serviceDeploymentArn", doc.at("serviceDeploymentArn")},
                         {"serviceArn", doc.at("serviceArn")},
                         {"clusterArn", doc.at("clusterArn")},
                         {"startedAt", doc.at("startedAt")},
                         {"createdAt", doc.at("createdAt")},
                         {"targetServiceRevisionArn", doc.at("targetServiceRevision").at("arn")},
                         {"status", doc.at("status")}};
      if (doc.contains("finishedAt")) brief["finishedAt"] = doc.at("finishedAt");
      if (doc.contains("statusReason")) brief["statusReason"] = doc.at("statusReason");
      out.push_back(std::move(brief));
    }
    json::object answer{{"serviceDeployments", std::move(out)}};
    if (more) answer["nextToken"] = next_token(page->offset + page->max);
    return body(answer);
  });
}

Result<std::string> describe_service_deployments(Context& ctx, const json::object& in) {
  auto arns = string_list(in, "serviceDeploymentArns");
  if (!arns) return std::move(arns).error();
  if (arns->empty() || arns->size() > 20) {
    return invalid_parameter("serviceDeploymentArns must list between 1 and 20 ARNs.");  // unverified wording
  }
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    json::array found, failures;
    for (const auto& arn : *arns) {
      auto r = find_record(tx, "arn", arn);
      if (!r) return std::move(r).error();
      if (!*r) {
        failures.push_back(json::object{{"arn", arn}, {"reason", "MISSING"}});
        continue;
      }
      auto d = describe_record(tx, **r);
      if (!d) return std::move(d).error();
      d->erase("rollbackDeploymentId");
      found.push_back(std::move(*d));
    }
    return body(json::object{{"serviceDeployments", std::move(found)}, {"failures", std::move(failures)}});
  });
}

}  // namespace

void add_service_deployment_operations(api::Service& service, const std::shared_ptr<Context>& ctx) {
  service.add("ListServiceDeployments", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return list_service_deployments(*ctx, *in.json);
  });
  service.add("DescribeServiceDeployments", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return describe_service_deployments(*ctx, *in.json);
  });
}

}  // namespace berth::ecs
