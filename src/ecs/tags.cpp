// Tags: TagResource, UntagResource, ListTagsForResource on clusters, task
// definitions, container instances, tasks and services (keyed by ARN in ecs_tags).
#include "ecs/common.h"
#include "ecs/task_definitions.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

Result<bool> row_exists(store::Tx& tx, std::string_view sql, std::string_view key) {
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(key);
  return stmt->step();
}

// The resource an ARN names must exist (a cluster: be ACTIVE).
Status check_resource(store::Tx& tx, const Options& o, std::string_view arn) {
  std::string prefix = arn_prefix(o);
  if (arn.rfind(prefix, 0) != 0) return invalid_parameter("The ARN provided is not valid.");  // unverified wording
  std::string_view rest = arn.substr(prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return invalid_parameter("The ARN provided is not valid.");
  std::string_view kind = rest.substr(0, slash);
  std::string_view id = rest.substr(slash + 1);
  Result<bool> found = false;
  if (kind == "cluster") {
    found = row_exists(tx, "SELECT 1 FROM ecs_clusters WHERE name = ? AND status = 'ACTIVE'", id);
    if (found && !*found) return cluster_not_found();
  } else if (kind == "task-definition") {
    auto td = find_task_definition(tx, id);
    if (!td) return std::move(td).error();
    found = td->has_value() && id.find(':') != std::string_view::npos;
  } else if (kind == "container-instance") {
    found = row_exists(tx, "SELECT 1 FROM ecs_container_instances WHERE id = ?", last_segment(id));
  } else if (kind == "task") {
    found = row_exists(tx, "SELECT 1 FROM ecs_tasks WHERE id = ?", last_segment(id));
  } else if (kind == "service") {
    // service/<cluster>/<name>
    found = row_exists(tx, "SELECT 1 FROM ecs_services WHERE cluster || '/' || name = ? AND status != 'INACTIVE'", id);
  } else {
    return invalid_parameter("The ARN provided is not valid.");
  }
  if (!found) return std::move(found).error();
  if (!*found) return Error::not_found("ResourceNotFoundException", "The specified resource could not be found.");
  return Ok{};
}

Result<std::string> resource_arn(const json::object& in) {
  auto arn = opt_string(in, "resourceArn");
  if (!arn) return std::move(arn).error();
  if (!*arn) return invalid_parameter("resourceArn can not be blank.");  // unverified wording
  return std::move(**arn);
}

Result<std::string> tag_resource(Context& ctx, const json::object& in) {
  auto arn = resource_arn(in);
  if (!arn) return std::move(arn).error();
  auto tags = read_tags(in);
  if (!tags) return std::move(tags).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    if (auto s = check_resource(tx, ctx.options, *arn); !s) return std::move(s).error();
    if (auto s = put_tags(tx, *arn, *tags); !s) return std::move(s).error();
    return std::string("{}");
  });
}

Result<std::string> untag_resource(Context& ctx, const json::object& in) {
  auto arn = resource_arn(in);
  if (!arn) return std::move(arn).error();
  auto keys = string_list(in, "tagKeys");
  if (!keys) return std::move(keys).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    if (auto s = check_resource(tx, ctx.options, *arn); !s) return std::move(s).error();
    for (const auto& k : *keys) {
      if (auto s = tx.run("DELETE FROM ecs_tags WHERE arn = ? AND key = ?", *arn, k); !s) return std::move(s).error();
    }
    return std::string("{}");
  });
}

Result<std::string> list_tags_for_resource(Context& ctx, const json::object& in) {
  auto arn = resource_arn(in);
  if (!arn) return std::move(arn).error();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    if (auto s = check_resource(tx, ctx.options, *arn); !s) return std::move(s).error();
    auto t = tags_json(tx, *arn);
    if (!t) return std::move(t).error();
    return body(json::object{{"tags", std::move(*t)}});
  });
}

}  // namespace

void add_tag_operations(api::Service& service, const std::shared_ptr<Context>& ctx) {
  auto op = [ctx](Result<std::string> (*fn)(Context&, const json::object&)) {
    return [ctx, fn](const api::CallContext&, const api::OperationInput& in) { return fn(*ctx, *in.json); };
  };
  service.add("TagResource", op(tag_resource));
  service.add("UntagResource", op(untag_resource));
  service.add("ListTagsForResource", op(list_tags_for_resource));
}

}  // namespace berth::ecs
