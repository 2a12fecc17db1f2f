// Clusters: CreateCluster, DescribeClusters, ListClusters, DeleteCluster,
// UpdateCluster, PutClusterCapacityProviders.
//
// A cluster row keeps its name, status (ACTIVE, INACTIVE after delete; a
// deleted cluster stays describable and CreateCluster of the same name
// makes it ACTIVE again, as on AWS) and the user's settings as a document.
// Counts are computed from container instances and tasks at read time, so
// they can never drift from the rows they count.
#include <boost/json/parse.hpp>

#include <set>

#include "ecs/common.h"
#include "ecs/schema.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

constexpr size_t kMaxDescribe = 100;

Result<json::array> read_settings(const json::object& in) {
  json::array out;
  const auto* settings = opt_array(in, "settings");
  if (!settings) return out;
  for (const auto& s : *settings) {
    if (!s.is_object()) return invalid_parameter("Invalid parameter at 'settings'");
    auto name = opt_string(s.get_object(), "name");
    auto value = opt_string(s.get_object(), "value");
    if (!name) return std::move(name).error();
    if (!value) return std::move(value).error();
    if (name->value_or("") != "containerInsights") {
      return invalid_parameter("Invalid cluster setting name: " + name->value_or("") +
                               ". Valid values are containerInsights.");  // AWS-like wording (unverified)
    }
    std::string v = value->value_or("");
    if (v != "enabled" && v != "disabled" && v != "enhanced") {
      return invalid_parameter("Invalid value for containerInsights: " + v +
                               ". Valid values are enabled, disabled, enhanced.");  // unverified wording
    }
    out.push_back(json::object{{"name", "containerInsights"}, {"value", v}});
  }
  return out;
}

// Only the two Fargate providers exist in berth (no CreateCapacityProvider),
// so they are the only names a cluster can be associated with.
Status read_capacity_providers(const json::object& in, json::array& providers, json::array& strategy) {
  auto names = string_list(in, "capacityProviders");
  if (!names) return std::move(names).error();
  std::set<std::string> seen;
  for (const auto& n : *names) {
    if (n != "FARGATE" && n != "FARGATE_SPOT") {
      // AWS-like wording (unverified).
      return invalid_parameter("The specified capacity provider '" + n +
                               "' is not in an ACTIVE state. Specify a valid capacity provider and try again.");
    }
    if (seen.insert(n).second) providers.push_back(json::string(n));
  }
  const auto* items = opt_array(in, "defaultCapacityProviderStrategy");
  if (!items) return Ok{};
  for (const auto& item : *items) {
    if (!item.is_object()) return invalid_parameter("Invalid parameter at 'defaultCapacityProviderStrategy'");
    const auto& o = item.get_object();
    auto provider = opt_string(o, "capacityProvider");
    auto weight = opt_int(o, "weight");
    auto base = opt_int(o, "base");
    if (!provider) return std::move(provider).error();
    if (!weight) return std::move(weight).error();
    if (!base) return std::move(base).error();
    if (!seen.count(provider->value_or(""))) {
      return invalid_parameter(
          "The specified capacity provider strategy cannot contain a capacity provider that is not associated with "
          "the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and "
          "try again.");
    }
    if (weight->value_or(0) < 0 || weight->value_or(0) > 1000) {
      return invalid_parameter("The specified capacity provider strategy weight must be between 0 and 1000.");
    }
    if (base->value_or(0) < 0 || base->value_or(0) > 100000) {
      return invalid_parameter("The specified capacity provider strategy base must be between 0 and 100000.");
    }
    strategy.push_back(json::object{
        {"capacityProvider", **provider}, {"weight", weight->value_or(0)}, {"base", base->value_or(0)}});
  }
  return Ok{};
}

Result<int64_t> count(store::Tx& tx, std::string_view sql, std::string_view cluster) {
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(cluster);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  return *row ? stmt->column_int64(0) : 0;
}

struct Counts {
  int64_t instances = 0, running = 0, pending = 0, services = 0;
  int64_t running_ec2 = 0, running_fargate = 0, pending_ec2 = 0, pending_fargate = 0;
};

Result<Counts> counts(store::Tx& tx, std::string_view cluster) {
  Counts c;
  auto n = count(tx,
                 "SELECT count(*) FROM ecs_container_instances WHERE cluster = ? AND status IN ('ACTIVE', 'DRAINING')",
                 cluster);
  if (!n) return std::move(n).error();
  c.instances = *n;
  auto stmt = tx.prepare(
      "SELECT last_status, launch_type, count(*) FROM ecs_tasks WHERE cluster = ? AND last_status != 'STOPPED' "
      "GROUP BY last_status, launch_type");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(cluster);
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    bool running = stmt->column_text(0) == "RUNNING";
    bool fargate = stmt->column_text(1) == "FARGATE";
    int64_t k = stmt->column_int64(2);
    (running ? c.running : c.pending) += k;
    if (running) (fargate ? c.running_fargate : c.running_ec2) += k;
    else (fargate ? c.pending_fargate : c.pending_ec2) += k;
  }
  // Services count while ACTIVE or DRAINING (their tasks still stopping).
  auto services = count(tx, "SELECT count(*) FROM ecs_services WHERE cluster = ? AND status IN ('ACTIVE', 'DRAINING')",
                        cluster);
  if (!services) return std::move(services).error();
  c.services = *services;
  return c;
}

struct Include {
  bool settings = false, statistics = false, tags = false, configurations = false, attachments = false;
};

Result<Include> read_include(const json::object& in) {
  Include inc;
  auto values = string_list(in, "include");
  if (!values) return std::move(values).error();
  for (const auto& v : *values) {
    if (v == "SETTINGS") inc.settings = true;
    else if (v == "STATISTICS") inc.statistics = true;
    else if (v == "TAGS") inc.tags = true;
    else if (v == "CONFIGURATIONS") inc.configurations = true;
    else if (v == "ATTACHMENTS") inc.attachments = true;
    else return invalid_parameter("Invalid include value: " + v + ".");  // unverified wording
  }
  return inc;
}

json::object stat(std::string_view name, int64_t v) {
  return json::object{{"name", name}, {"value", std::to_string(v)}};
}

// The Cluster shape. `all` (Create/Update/Delete answers) shows every part
// the way AWS echoes a write; DescribeClusters shows settings, statistics,
// tags and configuration only when `include` asks for them.
Result<json::object> cluster_json(store::Tx& tx, const Options& o, std::string_view name, std::string_view status,
                                  const json::object& doc, const Include& inc, bool all) {
  json::object c;
  c["clusterArn"] = cluster_arn(o, name);
  c["clusterName"] = name;
  if ((all || inc.configurations) && doc.contains("configuration")) c["configuration"] = doc.at("configuration");
  c["status"] = status;
  auto n = counts(tx, name);
  if (!n) return std::move(n).error();
  c["registeredContainerInstancesCount"] = n->instances;
  c["runningTasksCount"] = n->running;
  c["pendingTasksCount"] = n->pending;
  c["activeServicesCount"] = n->services;
  json::array stats;
  if (inc.statistics) {
    stats.push_back(stat("runningEC2TasksCount", n->running_ec2));
    stats.push_back(stat("runningFargateTasksCount", n->running_fargate));
    stats.push_back(stat("pendingEC2TasksCount", n->pending_ec2));
    stats.push_back(stat("pendingFargateTasksCount", n->pending_fargate));
    stats.push_back(stat("activeEC2ServiceCount", 0));
    stats.push_back(stat("activeFargateServiceCount", 0));
    stats.push_back(stat("drainingEC2ServiceCount", 0));
    stats.push_back(stat("drainingFargateServiceCount", 0));
  }
  c["statistics"] = std::move(stats);
  json::array tags;
  if (all || inc.tags) {
    auto t = tags_json(tx, cluster_arn(o, name));
    if (!t) return std::move(t).error();
    tags = std::move(*t);
  }
  c["tags"] = std::move(tags);
  c["settings"] = (all || inc.settings) ? doc.at("settings") : json::array();
  c["capacityProviders"] = doc.at("capacityProviders");
  c["defaultCapacityProviderStrategy"] = doc.at("defaultCapacityProviderStrategy");
  if (inc.attachments) c["attachments"] = json::array();
  if (doc.contains("serviceConnectDefaults")) c["serviceConnectDefaults"] = doc.at("serviceConnectDefaults");
  return c;
}

struct Row {
  std::string status;
  json::object doc;
};

Result<std::optional<Row>> find_cluster(store::Tx& tx, std::string_view name) {
  auto stmt = tx.prepare("SELECT status, doc FROM ecs_clusters WHERE name = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(name);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<Row>();
  return std::optional<Row>(Row{stmt->column_string(0), json::parse(stmt->column_text(1)).as_object()});
}

Status write_cluster(store::Tx& tx, std::string_view name, std::string_view status, const json::object& doc) {
  auto s = tx.run(
      "INSERT INTO ecs_clusters(name, status, doc) VALUES(?, ?, ?) "
      "ON CONFLICT(name) DO UPDATE SET status = excluded.status, doc = excluded.doc",
      name, status, json::serialize(doc));
  if (!s) return s;
  tx.record_change(kClustersTable, name, store::ChangeKind::kPut);
  return Ok{};
}

Result<json::object> read_configuration(const json::object& in) {
  auto it = in.find("configuration");
  if (it == in.end() || it->value().is_null()) return json::object();
  if (!it->value().is_object()) return invalid_parameter("Invalid parameter at 'configuration'");
  return it->value().get_object();
}

Result<std::optional<json::object>> read_service_connect_defaults(const json::object& in) {
  auto it = in.find("serviceConnectDefaults");
  if (it == in.end() || it->value().is_null()) return std::optional<json::object>();
  if (!it->value().is_object()) return invalid_parameter("Invalid parameter at 'serviceConnectDefaults'");
  return std::optional<json::object>(it->value().get_object());
}

Result<std::string> create_cluster(Context& ctx, const json::object& in) {
  auto name_in = opt_string(in, "clusterName");
  if (!name_in) return std::move(name_in).error();
  std::string name = name_in->value_or("default");
  if (!valid_name(name)) {
    return invalid_parameter(
        "Cluster name can only contain alphanumeric characters, hyphens, and underscores, and must be 255 "
        "characters or less.");  // AWS-like wording (unverified)
  }
  auto settings = read_settings(in);
  if (!settings) return std::move(settings).error();
  auto tags = read_tags(in);
  if (!tags) return std::move(tags).error();
  json::array providers, strategy;
  if (auto s = read_capacity_providers(in, providers, strategy); !s) return std::move(s).error();
  auto configuration = read_configuration(in);
  if (!configuration) return std::move(configuration).error();
  auto sc = read_service_connect_defaults(in);
  if (!sc) return std::move(sc).error();
  if (settings->empty()) settings->push_back(json::object{{"name", "containerInsights"}, {"value", "disabled"}});

  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto existing = find_cluster(tx, name);
    if (!existing) return std::move(existing).error();
    // CreateCluster is idempotent on an ACTIVE cluster: it answers the
    // cluster as it is (with any new tags added).
    if (*existing && (*existing)->status == "ACTIVE") {
      if (auto s = put_tags(tx, cluster_arn(ctx.options, name), *tags); !s) return std::move(s).error();
      auto c = cluster_json(tx, ctx.options, name, "ACTIVE", (*existing)->doc, {}, true);
      if (!c) return std::move(c).error();
      return body(json::object{{"cluster", std::move(*c)}});
    }
    json::object doc;
    doc["settings"] = std::move(*settings);
    doc["capacityProviders"] = std::move(providers);
    doc["defaultCapacityProviderStrategy"] = std::move(strategy);
    if (!configuration->empty()) doc["configuration"] = std::move(*configuration);
    if (*sc) doc["serviceConnectDefaults"] = std::move(**sc);
    if (auto s = write_cluster(tx, name, "ACTIVE", doc); !s) return std::move(s).error();
    if (auto s = tx.run("DELETE FROM ecs_tags WHERE arn = ?", cluster_arn(ctx.options, name)); !s) {
      return std::move(s).error();
    }
    if (auto s = put_tags(tx, cluster_arn(ctx.options, name), *tags); !s) return std::move(s).error();
    auto c = cluster_json(tx, ctx.options, name, "ACTIVE", doc, {}, true);
    if (!c) return std::move(c).error();
    return body(json::object{{"cluster", std::move(*c)}});
  });
}

Result<std::string> describe_clusters(Context& ctx, const json::object& in) {
  auto ids = string_list(in, "clusters");
  if (!ids) return std::move(ids).error();
  if (ids->empty()) ids->push_back("default");
  if (ids->size() > kMaxDescribe) {
    return invalid_parameter("The number of clusters must be less than or equal to 100.");  // unverified wording
  }
  auto inc = read_include(in);
  if (!inc) return std::move(inc).error();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    json::array clusters, failures;
    for (const auto& id : *ids) {
      std::string name = cluster_name_from(id);
      auto row = find_cluster(tx, name);
      if (!row) return std::move(row).error();
      if (!*row) {
        failures.push_back(json::object{{"arn", cluster_arn(ctx.options, name)}, {"reason", "MISSING"}});
        continue;
      }
      auto c = cluster_json(tx, ctx.options, name, (*row)->status, (*row)->doc, *inc, false);
      if (!c) return std::move(c).error();
      clusters.push_back(std::move(*c));
    }
    return body(json::object{{"clusters", std::move(clusters)}, {"failures", std::move(failures)}});
  });
}

Result<std::string> list_clusters(Context& ctx, const json::object& in) {
  auto page = read_page(in);
  if (!page) return std::move(page).error();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto stmt = tx.prepare("SELECT name FROM ecs_clusters WHERE status = 'ACTIVE' ORDER BY rowid LIMIT ? OFFSET ?");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(static_cast<int64_t>(page->max + 1), static_cast<int64_t>(page->offset));
    auto out = page_of(*stmt, *page, "clusterArns",
                       [&](const store::Statement& row) { return cluster_arn(ctx.options, row.column_text(0)); });
    if (!out) return std::move(out).error();
    return body(*out);
  });
}

Result<std::string> delete_cluster(Context& ctx, const json::object& in) {
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto name = active_cluster(tx, in);
    if (!name) return std::move(name).error();
    auto n = counts(tx, *name);
    if (!n) return std::move(n).error();
    // The order of the checks follows the teardown order of reference §6:
    // services, then instances, then tasks.
    if (n->services > 0) {
      return Error::conflict("ClusterContainsServicesException",
                             "The Cluster cannot be deleted while Services are active.");
    }
    if (n->instances > 0) {
      // Wording not verified against AWS (reference §7).
      return Error::conflict("ClusterContainsContainerInstancesException",
                             "The Cluster cannot be deleted while Container Instances are active or draining.");
    }
    if (n->running + n->pending > 0) {
      return Error::conflict("ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active.");
    }
    auto row = find_cluster(tx, *name);
    if (!row) return std::move(row).error();
    json::object doc = (*row)->doc;
    if (auto s = write_cluster(tx, *name, "INACTIVE", doc); !s) return std::move(s).error();
    auto c = cluster_json(tx, ctx.options, *name, "INACTIVE", doc, {}, true);
    if (!c) return std::move(c).error();
    return body(json::object{{"cluster", std::move(*c)}});
  });
}

Result<std::string> update_cluster(Context& ctx, const json::object& in) {
  auto settings = read_settings(in);
  if (!settings) return std::move(settings).error();
  auto configuration = read_configuration(in);
  if (!configuration) return std::move(configuration).error();
  auto sc = read_service_connect_defaults(in);
  if (!sc) return std::move(sc).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto name = active_cluster(tx, in);
    if (!name) return std::move(name).error();
    auto row = find_cluster(tx, *name);
    if (!row) return std::move(row).error();
    json::object doc = (*row)->doc;
    if (!settings->empty()) doc["settings"] = std::move(*settings);
    if (!configuration->empty()) doc["configuration"] = std::move(*configuration);
    if (*sc) doc["serviceConnectDefaults"] = std::move(**sc);
    if (auto s = write_cluster(tx, *name, "ACTIVE", doc); !s) return std::move(s).error();
    auto c = cluster_json(tx, ctx.options, *name, "ACTIVE", doc, {}, true);
    if (!c) return std::move(c).error();
    return body(json::object{{"cluster", std::move(*c)}});
  });
}

Result<std::string> put_cluster_capacity_providers(Context& ctx, const json::object& in) {
  json::array providers, strategy;
  if (auto s = read_capacity_providers(in, providers, strategy); !s) return std::move(s).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto name = active_cluster(tx, in);
    if (!name) return std::move(name).error();
    auto row = find_cluster(tx, *name);
    if (!row) return std::move(row).error();
    json::object doc = (*row)->doc;
    doc["capacityProviders"] = std::move(providers);
    doc["defaultCapacityProviderStrategy"] = std::move(strategy);
    if (auto s = write_cluster(tx, *name, "ACTIVE", doc); !s) return std::move(s).error();
    auto c = cluster_json(tx, ctx.options, *name, "ACTIVE", doc, {}, true);
    if (!c) return std::move(c).error();
    return body(json::object{{"cluster", std::move(*c)}});
  });
}

}  // namespace

void add_cluster_operations(api::Service& service, const std::shared_ptr<Context>& ctx) {
  auto op = [ctx](Result<std::string> (*fn)(Context&, const json::object&)) {
    return [ctx, fn](const api::CallContext&, const api::OperationInput& in) { return fn(*ctx, *in.json); };
  };
  service.add("CreateCluster", op(create_cluster));
  service.add("DescribeClusters", op(describe_clusters));
  service.add("ListClusters", op(list_clusters));
  service.add("DeleteCluster", op(delete_cluster));
  service.add("UpdateCluster", op(update_cluster));
  service.add("PutClusterCapacityProviders", op(put_cluster_capacity_providers));
}

}  // namespace berth::ecs
