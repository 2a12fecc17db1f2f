// Services: CreateService, UpdateService, DeleteService, DescribeServices,
// ListServices (reference §2.6, §6). Handlers validate and write the spec
// and the deployments; the scheduler (scheduler/) makes tasks follow.
#include <boost/json/serialize.hpp>

#include <algorithm>

#include "ecs/common.h"
#include "ecs/load_balancing.h"
#include "ecs/placement.h"
#include "ecs/service_deployments.h"
#include "ecs/services.h"
#include "ecs/task_creation.h"
#include "ecs/task_definitions.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

constexpr std::string_view kServiceLinkedRole = "role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS";

Error service_not_active() { return Error::invalid("ServiceNotActiveException", "Service was not ACTIVE."); }

// The spec members CreateService and UpdateService share, read and checked
// without the store.
struct DeploymentConfig {
  int64_t minimum_healthy_percent = 100;
  int64_t maximum_percent = 200;
  bool breaker_enable = false;
  bool breaker_rollback = false;
  json::object to_json() const {
    return json::object{{"deploymentCircuitBreaker", json::object{{"enable", breaker_enable}, {"rollback", breaker_rollback}}},
                        {"maximumPercent", maximum_percent},
                        {"minimumHealthyPercent", minimum_healthy_percent}};
  }
};

DeploymentConfig config_of(const json::object& doc) {
  DeploymentConfig c;
  const auto& d = doc.at("deploymentConfiguration").as_object();
  c.minimum_healthy_percent = d.at("minimumHealthyPercent").as_int64();
  c.maximum_percent = d.at("maximumPercent").as_int64();
  const auto& b = d.at("deploymentCircuitBreaker").as_object();
  c.breaker_enable = b.at("enable").as_bool();
  c.breaker_rollback = b.at("rollback").as_bool();
  return c;
}

// deploymentConfiguration over `base` (the defaults, or the service's current one).
Result<DeploymentConfig> read_deployment_configuration(const json::object& in, DeploymentConfig base) {
  auto it = in.find("deploymentConfiguration");
  if (it == in.end() || it->value().is_null()) return base;
  if (!it->value().is_object()) return invalid_parameter("Invalid parameter at 'deploymentConfiguration'");
  const auto& d = it->value().get_object();
  auto min = opt_int(d, "minimumHealthyPercent");
  auto max = opt_int(d, "maximumPercent");
  if (!min) return std::move(min).error();
  if (!max) return std::move(max).error();
  if (*min) base.minimum_healthy_percent = **min;
  if (*max) base.maximum_percent = **max;
  if (base.minimum_healthy_percent < 0 || base.minimum_healthy_percent > 100) {
    return invalid_parameter("Minimum healthy percent must be between 0 and 100.");  // unverified wording
  }
  if (base.maximum_percent < 100) {
    return invalid_parameter("Maximum percent must be greater than or equal to 100.");  // unverified wording
  }
  if (auto b = d.find("deploymentCircuitBreaker"); b != d.end() && !b->value().is_null()) {
    if (!b->value().is_object()) return invalid_parameter("Invalid parameter at 'deploymentCircuitBreaker'");
    auto enable = opt_bool(b->value().get_object(), "enable");
    auto rollback = opt_bool(b->value().get_object(), "rollback");
    if (!enable) return std::move(enable).error();
    if (!rollback) return std::move(rollback).error();
    base.breaker_enable = enable->value_or(false);
    base.breaker_rollback = rollback->value_or(false);
  }
  return base;
}

// loadBalancers: each names a target group, a container and its port, and
// fits the task definition's network mode.
Result<json::array> read_load_balancers(store::Tx& tx, Context& ctx, const json::object& in, const json::object& td) {
  json::array out;
  const auto* items = opt_array(in, "loadBalancers");
  if (!items) {
    if (in.contains("loadBalancers") && !in.at("loadBalancers").is_null())
      return invalid_parameter("Invalid parameter at 'loadBalancers'");
    return out;
  }
  std::string mode(td.at("networkMode").as_string());
  for (const auto& item : *items) {
    if (!item.is_object()) return invalid_parameter("Invalid parameter at 'loadBalancers'");
    const auto& lb = item.get_object();
    auto arn = opt_string(lb, "targetGroupArn");
    auto container = opt_string(lb, "containerName");
    auto port = opt_int(lb, "containerPort");
    auto lb_name = opt_string(lb, "loadBalancerName");
    for (const auto* r : {&arn, &container, &lb_name})
      if (!*r) return r->error();
    if (!port) return std::move(port).error();
    if (*lb_name) return invalid_parameter("Classic Load Balancers are not supported by berth; use a targetGroupArn.");
    if (!*arn) return invalid_parameter("Target group ARN must be specified.");  // unverified wording
    if (!*container || !*port) {
      return invalid_parameter("Container name and container port must be specified for a load balancer.");  // unverified
    }
    if (!ctx.load_balancing) {
      return invalid_parameter("Unable to assume role and validate the specified targetGroupArn. Please verify that "
                               "the ECS service role being passed has the proper permissions.");
    }
    auto tg = ctx.load_balancing->target_group(tx, **arn);
    if (!tg) return std::move(tg).error();
    if (!*tg) {
      return invalid_parameter("Unable to assume role and validate the specified targetGroupArn. Please verify that "
                               "the ECS service role being passed has the proper permissions.");  // observed
    }
    if (!(*tg)->in_use) {
      return invalid_parameter("The target group with targetGroupArn " + **arn +
                               " does not have an associated load balancer.");
    }
    bool wants_ip = mode == "awsvpc";
    if (((*tg)->target_type == "ip") != wants_ip) {
      return invalid_parameter("The provided target group " + **arn + " has target type " + (*tg)->target_type +
                               ", which is incompatible with the " + mode +
                               " network mode specified in the task definition.");  // observed
    }
    const json::object* definition = nullptr;
    for (const auto& c : td.at("containerDefinitions").as_array())
      if (c.at("name").as_string() == **container) definition = &c.as_object();
    if (!definition) {
      return invalid_parameter("The container " + **container + " does not exist in the task definition.");  // observed
    }
    bool has_port = false;
    if (const auto* mappings = definition->if_contains("portMappings"))
      for (const auto& m : mappings->as_array())
        has_port = has_port || m.at("containerPort").as_int64() == **port;
    if (!has_port) {
      return invalid_parameter("The container " + **container + " did not have a container port " +
                               std::to_string(**port) + " defined.");  // observed
    }
    out.push_back(json::object{{"targetGroupArn", **arn}, {"containerName", **container}, {"containerPort", **port}});
  }
  return out;
}

Result<TaskDefinitionRow> active_task_definition(store::Tx& tx, const std::optional<std::string>& id) {
  if (!id) return invalid_parameter("TaskDefinition not found.");
  auto td = find_task_definition(tx, *id);
  if (!td) return std::move(td).error();
  if (!*td) return invalid_parameter("TaskDefinition not found.");  // observed wording
  if ((*td)->status != "ACTIVE") return invalid_parameter("TaskDefinition is inactive");  // observed wording
  return std::move(**td);
}

// The launch type of a new service: launchType, a FARGATE capacity
// provider strategy, the cluster's default strategy, else EC2.
Result<std::string> read_launch_type(store::Tx& tx, const json::object& in, std::string_view cluster) {
  auto launch_type = opt_string(in, "launchType");
  if (!launch_type) return std::move(launch_type).error();
  const auto* strategy = opt_array(in, "capacityProviderStrategy");
  if (*launch_type && strategy && !strategy->empty()) {
    return invalid_parameter("Specifying both a launch type and capacity provider strategy is not supported. "
                             "Remove one and try again.");  // observed wording
  }
  if (*launch_type) {
    if (**launch_type != "EC2" && **launch_type != "FARGATE") {
      return invalid_parameter("launchType " + **launch_type + " is not supported.");  // unverified wording
    }
    return **launch_type;
  }
  if (strategy && !strategy->empty()) {
    const auto& first = (*strategy)[0];
    std::string provider;
    if (first.is_object() && first.as_object().contains("capacityProvider") &&
        first.as_object().at("capacityProvider").is_string())
      provider = std::string(first.as_object().at("capacityProvider").as_string());
    if (provider != "FARGATE" && provider != "FARGATE_SPOT") {
      return invalid_parameter("The specified capacity provider strategy cannot contain a capacity provider that is "
                               "not associated with the cluster. Associate the capacity provider with the cluster "
                               "or specify a valid capacity provider and try again.");
    }
    return std::string("FARGATE");
  }
  auto stmt = tx.prepare("SELECT json_array_length(doc, '$.defaultCapacityProviderStrategy') FROM ecs_clusters "
                         "WHERE name = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(cluster);
  if (auto row = stmt->step(); !row) return std::move(row).error();
  return std::string(stmt->column_int64_opt(0).value_or(0) > 0 ? "FARGATE" : "EC2");
}

// placementConstraints and placementStrategy as given (checked).
Status read_placement(const json::object& in, json::object& doc) {
  for (std::string_view key : {"placementConstraints", "placementStrategy"}) {
    auto it = in.find(key);
    if (it == in.end() || it->value().is_null()) continue;
    if (!it->value().is_array()) return invalid_parameter("Invalid parameter at '" + std::string(key) + "'");
    doc[key] = it->value();
  }
  auto constraints = read_constraints(doc);
  if (!constraints) return std::move(constraints).error();
  auto strategies = read_strategies(doc);
  if (!strategies) return std::move(strategies).error();
  if (auto s = validate_constraints(*constraints); !s) return s;
  return validate_strategies(*strategies);
}

// networkConfiguration: required by awsvpc, refused otherwise.
Status check_network_configuration(const json::object& doc, const json::object& td, std::string_view launch_type) {
  bool awsvpc = td.at("networkMode").as_string() == "awsvpc";
  const auto* nc = doc.if_contains("networkConfiguration");
  if (!awsvpc) {
    if (nc) return invalid_parameter("Network Configuration is not valid for the given networkMode of this task definition.");  // observed
    return Ok{};
  }
  TaskSpec probe;
  probe.launch_type = std::string(launch_type);
  return read_awsvpc_configuration(nc && nc->is_object() ? nc->as_object() : json::object(), probe);
}

// Members berth does not act on are refused, never silently ignored.
Status refuse_unsupported(const json::object& in) {
  for (std::string_view key : {"serviceRegistries", "serviceConnectConfiguration", "volumeConfigurations",
                               "vpcLatticeConfigurations"}) {
    const auto* v = in.if_contains(key);
    bool given = v && !v->is_null() && !(v->is_array() && v->as_array().empty()) &&
                 !(v->is_object() && v->as_object().empty());
    if (given) {
      return Error::invalid("UnsupportedFeatureException", std::string(key) + " is not supported by berth.");
    }
  }
  if (const auto* c = in.if_contains("deploymentController"); c && c->is_object()) {
    const auto* type = c->as_object().if_contains("type");
    if (type && type->is_string() && type->as_string() != "ECS") {
      return Error::invalid("UnsupportedFeatureException", "The " + std::string(type->as_string()) +
                                                               " deployment controller is not supported by berth.");
    }
  }
  return Ok{};
}

Result<std::string> create_service(Context& ctx, const api::CallContext& call, const json::object& in) {
  auto name = opt_string(in, "serviceName");
  auto td_id = opt_string(in, "taskDefinition");
  auto desired = opt_int(in, "desiredCount");
  auto role = opt_string(in, "role");
  auto grace = opt_int(in, "healthCheckGracePeriodSeconds");
  auto scheduling = opt_string(in, "schedulingStrategy");
  auto propagate = opt_string(in, "propagateTags");
  auto managed_tags = opt_bool(in, "enableECSManagedTags");
  auto platform = opt_string(in, "platformVersion");
  for (const auto* r : {&name, &td_id, &role, &scheduling, &propagate, &platform})
    if (!*r) return r->error();
  if (!desired) return std::move(desired).error();
  if (!grace) return std::move(grace).error();
  if (!managed_tags) return std::move(managed_tags).error();
  if (!*name || !valid_name(**name)) {
    return invalid_parameter("Service name must be 1-255 characters of letters, numbers, hyphens and underscores.");  // unverified
  }
  std::string strategy = scheduling->value_or("REPLICA");
  if (strategy != "REPLICA" && strategy != "DAEMON") {
    return invalid_parameter("schedulingStrategy must be REPLICA or DAEMON.");  // unverified wording
  }
  bool daemon = strategy == "DAEMON";
  if (!daemon && !*desired) {
    return invalid_parameter("desiredCount is required for services with the REPLICA scheduling strategy.");  // unverified
  }
  if (desired->value_or(0) < 0) return invalid_parameter("Desired count must be greater than or equal to 0.");  // unverified
  if (daemon) {
    // One task per instance: the scheduler counts the instances.
    *desired = 0;
    if (opt_array(in, "placementStrategy") && !opt_array(in, "placementStrategy")->empty()) {
      return invalid_parameter("Placement strategies are not supported with a DAEMON scheduling strategy.");  // unverified
    }
  }
  std::string propagate_tags = propagate->value_or("NONE");
  if (propagate_tags != "NONE" && propagate_tags != "SERVICE" && propagate_tags != "TASK_DEFINITION") {
    return invalid_parameter("propagateTags must be NONE, SERVICE or TASK_DEFINITION.");  // unverified
  }
  // DAEMON services replace in place: at most 100 %, none kept by default.
  DeploymentConfig defaults;
  if (scheduling->value_or("REPLICA") == "DAEMON") defaults.minimum_healthy_percent = 0, defaults.maximum_percent = 100;
  if (auto s = refuse_unsupported(in); !s) return std::move(s).error();
  auto config = read_deployment_configuration(in, defaults);
  if (!config) return std::move(config).error();
  auto tags = read_tags(in);
  if (!tags) return std::move(tags).error();
  double now = now_seconds(call.now);

  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto cluster = active_cluster(tx, in);
    if (!cluster) return std::move(cluster).error();
    auto existing = find_service(tx, *cluster, **name);
    if (!existing) return std::move(existing).error();
    if (*existing && (*existing)->status != "INACTIVE") {
      return invalid_parameter("Creation of service was not idempotent.");
    }
    auto td = active_task_definition(tx, *td_id);
    if (!td) return std::move(td).error();
    auto launch_type = read_launch_type(tx, in, *cluster);
    if (!launch_type) return std::move(launch_type).error();
    if (daemon && *launch_type == "FARGATE") {
      return invalid_parameter("The DAEMON scheduling strategy does not support the FARGATE launch type.");  // unverified
    }
    if (*launch_type == "FARGATE") {
      bool compatible = false;
      for (const auto& c : td->doc.at("compatibilities").as_array()) compatible = compatible || c.as_string() == "FARGATE";
      if (!compatible) return invalid_parameter("Task definition does not support launch_type FARGATE.");  // observed
    }
    auto load_balancers = read_load_balancers(tx, ctx, in, td->doc);
    if (!load_balancers) return std::move(load_balancers).error();
    bool awsvpc = td->doc.at("networkMode").as_string() == "awsvpc";
    if (*role && load_balancers->empty()) {
      return invalid_parameter("You cannot specify an IAM role for services that do not use a load balancer.");  // unverified
    }
    if (*role && awsvpc) {
      return invalid_parameter("You cannot specify an IAM role for services that require a service linked role.");  // observed
    }
    if (*grace && load_balancers->empty()) {
      return invalid_parameter("Health check grace period is only valid for services configured to use load "
                               "balancers");  // observed
    }

    json::object doc;
    doc["serviceArn"] = service_arn(ctx.options, *cluster, **name);
    doc["serviceName"] = **name;
    doc["clusterArn"] = cluster_arn(ctx.options, *cluster);
    doc["loadBalancers"] = std::move(*load_balancers);
    doc["serviceRegistries"] = json::array();
    doc["desiredCount"] = **desired;
    if (const auto* cps = opt_array(in, "capacityProviderStrategy"); cps && !cps->empty()) {
      doc["capacityProviderStrategy"] = *cps;
    } else {
      doc["launchType"] = *launch_type;
    }
    if (*launch_type == "FARGATE") doc["platformVersion"] = platform->value_or("LATEST");
    doc["taskDefinition"] = td->doc.at("taskDefinitionArn");
    doc["deploymentConfiguration"] = config->to_json();
    doc["deployments"] = json::array();
    if (*role) {
      doc["roleArn"] = (*role)->rfind("arn:", 0) == 0 ? **role : "arn:aws:iam::" + ctx.options.account_id + ":role/" + **role;
    } else if (!doc["loadBalancers"].as_array().empty()) {
      doc["roleArn"] = "arn:aws:iam::" + ctx.options.account_id + ":" + std::string(kServiceLinkedRole);
    }
    doc["createdAt"] = now;
    doc["placementConstraints"] = json::array();
    doc["placementStrategy"] = json::array();
    if (auto s = read_placement(in, doc); !s) return std::move(s).error();
    if (auto nc = in.find("networkConfiguration"); nc != in.end() && !nc->value().is_null()) {
      if (!nc->value().is_object()) return invalid_parameter("Invalid parameter at 'networkConfiguration'");
      doc["networkConfiguration"] = nc->value();
    }
    if (auto s = check_network_configuration(doc, td->doc, *launch_type); !s) return std::move(s).error();
    if (!doc["loadBalancers"].as_array().empty()) doc["healthCheckGracePeriodSeconds"] = grace->value_or(0);
    doc["schedulingStrategy"] = strategy;
    doc["deploymentController"] = json::object{{"type", "ECS"}};
    doc["createdBy"] = call.caller.arn;
    doc["enableECSManagedTags"] = managed_tags->value_or(false);
    doc["propagateTags"] = propagate_tags;
    doc["enableExecuteCommand"] = false;

    ServiceRow row{*cluster, **name, "ACTIVE", std::move(doc), json::object()};
    if (auto id = begin_deployment(tx, ctx.options, row, now); !id) return std::move(id).error();
    // A name used before by a deleted service starts afresh.
    if (auto s = tx.run("DELETE FROM ecs_service_events WHERE cluster = ? AND service = ?", *cluster, **name); !s)
      return std::move(s).error();
    if (auto s = write_service(tx, row, now); !s) return std::move(s).error();
    if (auto s = put_tags(tx, row.doc.at("serviceArn").as_string(), *tags); !s) return std::move(s).error();
    auto out = describe_service(tx, row);
    if (!out) return std::move(out).error();
    (*out)["tags"] = json::array();
    for (const auto& [k, v] : *tags) (*out)["tags"].as_array().push_back(json::object{{"key", k}, {"value", v}});
    return body(json::object{{"service", std::move(*out)}});
  });
}

// The service the request's "service" member names in its cluster.
Result<ServiceRow> named_service(store::Tx& tx, const json::object& in, std::string_view cluster) {
  auto id = opt_string(in, "service");
  if (!id) return std::move(id).error();
  if (!*id) return invalid_parameter("Service must be specified.");  // unverified wording
  auto row = find_service(tx, cluster, service_name_from(**id));
  if (!row) return std::move(row).error();
  if (!*row) return service_not_found();
  return std::move(**row);
}

// Writes the changed service and answers {"service": ...} as UpdateService and DeleteService do.
Result<std::string> save_and_answer(store::Tx& tx, const ServiceRow& row) {
  if (auto s = write_service(tx, row, row.doc.at("createdAt").as_double()); !s) return std::move(s).error();
  auto out = describe_service(tx, row);
  if (!out) return std::move(out).error();
  (*out)["tags"] = json::array();
  return body(json::object{{"service", std::move(*out)}});
}

// desiredCount of the doc, and of the PRIMARY deployment in place unless a
// new deployment (which copies the doc's) follows (reference §2.6).
Status change_desired_count(ServiceRow& row, int64_t count, double now, bool in_place) {
  json::object& doc = row.doc;
  if (doc.at("schedulingStrategy") == "DAEMON") {
    return invalid_parameter("The desired count of a service with the DAEMON scheduling strategy cannot be "
                             "changed.");  // unverified wording
  }
  doc["desiredCount"] = count;
  if (in_place) {
    auto& primary = doc["deployments"].as_array()[0].as_object();
    primary["desiredCount"] = count;
    primary["updatedAt"] = now;
  }
  row.state["steady"] = false;
  return Ok{};
}

Result<std::string> update_service(Context& ctx, const api::CallContext& call, const json::object& in) {
  auto desired = opt_int(in, "desiredCount");
  auto td_id = opt_string(in, "taskDefinition");
  auto force = opt_bool(in, "forceNewDeployment");
  auto grace = opt_int(in, "healthCheckGracePeriodSeconds");
  if (!desired) return std::move(desired).error();
  if (!td_id) return std::move(td_id).error();
  if (!force) return std::move(force).error();
  if (!grace) return std::move(grace).error();
  if (*desired && **desired < 0) return invalid_parameter("Desired count must be greater than or equal to 0.");  // unverified
  if (auto s = refuse_unsupported(in); !s) return std::move(s).error();
  double now = now_seconds(call.now);
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto cluster = active_cluster(tx, in);
    if (!cluster) return std::move(cluster).error();
    auto row = named_service(tx, in, *cluster);
    if (!row) return std::move(row).error();
    if (row->status != "ACTIVE") return service_not_active();
    json::object& doc = row->doc;
    auto config = read_deployment_configuration(in, config_of(doc));
    if (!config) return std::move(config).error();
    doc["deploymentConfiguration"] = config->to_json();
    bool redeploy = force->value_or(false);
    std::string td_arn(doc.at("taskDefinition").as_string());
    auto td = active_task_definition(tx, td_id->value_or(td_arn));
    if (!td && !*td_id && td.error().message == "TaskDefinition is inactive") {
      // The service's own revision may have been deregistered since: it keeps running it.
      auto current = find_task_definition(tx, td_arn);
      if (!current) return std::move(current).error();
      if (*current) td = std::move(**current);
    }
    if (!td) return std::move(td).error();
    if (*td_id && td->doc.at("taskDefinitionArn").as_string() != td_arn) {
      doc["taskDefinition"] = td->doc.at("taskDefinitionArn");
      redeploy = true;
    }
    if (in.contains("loadBalancers") && !in.at("loadBalancers").is_null()) {
      auto lbs = read_load_balancers(tx, ctx, in, td->doc);
      if (!lbs) return std::move(lbs).error();
      if (json::value(*lbs) != doc["loadBalancers"]) redeploy = true;
      doc["loadBalancers"] = std::move(*lbs);
    }
    if (auto nc = in.find("networkConfiguration"); nc != in.end() && !nc->value().is_null()) {
      if (!nc->value().is_object()) return invalid_parameter("Invalid parameter at 'networkConfiguration'");
      if (!doc.contains("networkConfiguration") || doc.at("networkConfiguration") != nc->value()) redeploy = true;
      doc["networkConfiguration"] = nc->value();
    }
    std::string launch_type = doc.contains("launchType") ? std::string(doc.at("launchType").as_string()) : "FARGATE";
    if (auto s = check_network_configuration(doc, td->doc, launch_type); !s) return std::move(s).error();
    if (auto s = read_placement(in, doc); !s) return std::move(s).error();
    if (*grace) {
      if (doc["loadBalancers"].as_array().empty()) {
        return invalid_parameter("Health check grace period is only valid for services configured to use load "
                                 "balancers");  // observed
      }
      doc["healthCheckGracePeriodSeconds"] = **grace;
    }
    if (*desired) {
      if (auto s = change_desired_count(*row, **desired, now, /*in_place=*/!redeploy); !s) return std::move(s).error();
    }
    if (redeploy) {
      if (auto id = begin_deployment(tx, ctx.options, *row, now); !id) return std::move(id).error();
      row->state["steady"] = false;
    }
    return save_and_answer(tx, *row);
  });
}

Result<std::string> delete_service(Context& ctx, const json::object& in) {
  auto force = opt_bool(in, "force");
  if (!force) return std::move(force).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto cluster = active_cluster(tx, in);
    if (!cluster) return std::move(cluster).error();
    auto row = named_service(tx, in, *cluster);
    if (!row) return std::move(row).error();
    if (row->status != "ACTIVE") return service_not_active();
    if (row->doc.at("desiredCount").as_int64() > 0 && !force->value_or(false)) {
      return invalid_parameter("The service cannot be stopped while it is scaled above 0.");
    }
    row->status = "DRAINING";
    row->doc["desiredCount"] = 0;
    for (auto& d : row->doc["deployments"].as_array()) d.as_object()["desiredCount"] = 0;
    return save_and_answer(tx, *row);
  });
}

Result<std::string> describe_services(Context& ctx, const json::object& in) {
  auto ids = string_list(in, "services");
  if (!ids) return std::move(ids).error();
  if (ids->empty()) return invalid_parameter("Services cannot be empty.");  // unverified wording
  if (ids->size() > 10) return invalid_parameter("services can have at most 10 items.");  // unverified wording
  auto include = string_list(in, "include");
  if (!include) return std::move(include).error();
  bool with_tags = std::find(include->begin(), include->end(), "TAGS") != include->end();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto cluster = active_cluster(tx, in);
    if (!cluster) return std::move(cluster).error();
    json::array services, failures;
    for (const auto& id : *ids) {
      std::string name = service_name_from(id);
      auto row = find_service(tx, *cluster, name);
      if (!row) return std::move(row).error();
      if (!*row) {
        failures.push_back(json::object{
            {"arn", id.rfind("arn:", 0) == 0 ? id : service_arn(ctx.options, *cluster, name)}, {"reason", "MISSING"}});
        continue;
      }
      auto s = describe_service(tx, **row);
      if (!s) return std::move(s).error();
      if (with_tags) {
        auto tags = tags_json(tx, (*s).at("serviceArn").as_string());
        if (!tags) return std::move(tags).error();
        if (!tags->empty()) (*s)["tags"] = std::move(*tags);
      }
      services.push_back(std::move(*s));
    }
    return body(json::object{{"services", std::move(services)}, {"failures", std::move(failures)}});
  });
}

Result<std::string> list_services(Context& ctx, const json::object& in) {
  auto launch_type = opt_string(in, "launchType");
  auto scheduling = opt_string(in, "schedulingStrategy");
  if (!launch_type) return std::move(launch_type).error();
  if (!scheduling) return std::move(scheduling).error();
  auto page = read_page(in, 10, 100);
  if (!page) return std::move(page).error();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto cluster = active_cluster(tx, in);
    if (!cluster) return std::move(cluster).error();
    auto stmt = tx.prepare(
        "SELECT name FROM ecs_services WHERE cluster = ?1 AND status = 'ACTIVE' "
        "AND (?2 = '' OR coalesce(json_extract(doc, '$.launchType'), 'FARGATE') = ?2) "
        "AND (?3 = '' OR json_extract(doc, '$.schedulingStrategy') = ?3) ORDER BY rowid LIMIT ?4 OFFSET ?5");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(*cluster, launch_type->value_or(""), scheduling->value_or(""), static_cast<int64_t>(page->max + 1),
                   static_cast<int64_t>(page->offset));
    auto out = page_of(*stmt, *page, "serviceArns", [&](const store::Statement& row) {
      return service_arn(ctx.options, *cluster, row.column_text(0));
    });
    if (!out) return std::move(out).error();
    return body(*out);
  });
}

// A service by cluster name and service name or ARN, for the in-process
// functions; kNotFound as the API answers.
Result<ServiceRow> live_service(store::Tx& tx, std::string_view cluster, std::string_view service) {
  auto stmt = tx.prepare("SELECT status FROM ecs_clusters WHERE name = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(cluster);
  auto found = stmt->step();
  if (!found) return std::move(found).error();
  if (!*found || stmt->column_text(0) != "ACTIVE") return cluster_not_found();
  auto row = find_service(tx, cluster, service_name_from(service));
  if (!row) return std::move(row).error();
  if (!*row || (*row)->status == "INACTIVE") return service_not_found();
  return std::move(**row);
}

}  // namespace

Result<ServiceCapacity> read_service_capacity(store::Database& db, std::string_view cluster, std::string_view service) {
  return db.read([&](store::Tx& tx) -> Result<ServiceCapacity> {
    auto row = live_service(tx, cluster, service);
    if (!row) return std::move(row).error();
    auto shown = describe_service(tx, *row);
    if (!shown) return std::move(shown).error();
    return ServiceCapacity{shown->at("desiredCount").to_number<int64_t>(), shown->at("runningCount").to_number<int64_t>(),
                           row->status};
  });
}

Status set_service_desired_count(store::Database& db, std::string_view cluster, std::string_view service,
                                 int64_t count, WallTime now) {
  if (count < 0) return invalid_parameter("Desired count must be greater than or equal to 0.");  // unverified
  return db.transaction([&](store::Tx& tx) -> Status {
    auto row = live_service(tx, cluster, service);
    if (!row) return std::move(row).error();
    if (row->status != "ACTIVE") return service_not_active();
    if (auto s = change_desired_count(*row, count, now_seconds(now), /*in_place=*/true); !s) return s;
    return write_service(tx, *row, row->doc.at("createdAt").as_double());
  });
}

void add_service_operations(api::Service& service, const std::shared_ptr<Context>& ctx) {
  service.add("CreateService", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return create_service(*ctx, call, *in.json);
  });
  service.add("UpdateService", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return update_service(*ctx, call, *in.json);
  });
  service.add("DeleteService", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return delete_service(*ctx, *in.json);
  });
  service.add("DescribeServices", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return describe_services(*ctx, *in.json);
  });
  service.add("ListServices", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return list_services(*ctx, *in.json);
  });
}

}  // namespace berth::ecs
