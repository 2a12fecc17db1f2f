// Task definitions: RegisterTaskDefinition (validation in
// task_definition_rules.cpp), DescribeTaskDefinition, ListTaskDefinitions,
// ListTaskDefinitionFamilies, DeregisterTaskDefinition, DeleteTaskDefinitions.
//
//   register ──> ACTIVE (revision = last + 1, never reused)
//   deregister ──> INACTIVE (deregisteredAt) ──DeleteTaskDefinitions──> DELETE_IN_PROGRESS
//
// Rows are never removed: a revision number is never handed out twice, and
// tasks keep pointing at the definition they were started from.
#include "ecs/task_definitions.h"

#include <boost/json/parse.hpp>

#include <charconv>

#include "ecs/common.h"
#include "ecs/schema.h"
#include "ecs/task_definition_rules.h"

namespace berth::ecs {
namespace {

namespace json = boost::json;

// "arn:...:task-definition/web:3" -> "web:3"
std::string strip_arn(std::string_view id) {
  if (id.rfind("arn:", 0) == 0) {
    auto pos = id.find(":task-definition/");
    if (pos != std::string_view::npos) return std::string(id.substr(pos + 17));
  }
  return std::string(id);
}

struct FamilyRevision {
  std::string family;
  std::optional<int64_t> revision;  // nullopt: "latest ACTIVE"
  bool malformed = false;
};

FamilyRevision split(std::string_view id) {
  std::string s = strip_arn(id);
  FamilyRevision out;
  auto colon = s.rfind(':');
  if (colon == std::string::npos) {
    out.family = s;
    return out;
  }
  out.family = s.substr(0, colon);
  int64_t rev = 0;
  std::string_view r = std::string_view(s).substr(colon + 1);
  auto [p, ec] = std::from_chars(r.data(), r.data() + r.size(), rev);
  if (ec != std::errc() || p != r.data() + r.size() || r.empty() || rev < 1) out.malformed = true;
  out.revision = rev;
  return out;
}

TaskDefinitionRow row_from(store::Statement& stmt) {
  TaskDefinitionRow row;
  row.family = stmt.column_string(0);
  row.revision = stmt.column_int64(1);
  row.status = stmt.column_string(2);
  row.doc = json::parse(stmt.column_text(4)).as_object();
  row.doc["status"] = row.status;
  if (auto at = stmt.column_double_opt(3)) row.doc["deregisteredAt"] = *at;
  return row;
}

Error unable_to_describe() { return client_exception("Unable to describe task definition."); }

Result<std::string> register_task_definition(Context& ctx, const api::CallContext& call, const json::object& in) {
  auto td = validate_task_definition(in);
  if (!td) return std::move(td).error();
  auto tags = read_tags(in);
  if (!tags) return std::move(tags).error();
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto stmt = tx.prepare("SELECT coalesce(max(revision), 0) FROM ecs_task_definitions WHERE family = ?");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(td->family);
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    int64_t revision = stmt->column_int64(0) + 1;
    json::object doc = std::move(td->doc);
    std::string arn = task_definition_arn(ctx.options, td->family, revision);
    doc["taskDefinitionArn"] = arn;
    doc["revision"] = revision;
    doc["registeredAt"] = now_seconds(call.now);
    doc["registeredBy"] = call.caller.arn;
    if (auto s = tx.run("INSERT INTO ecs_task_definitions(family, revision, status, doc) VALUES(?, ?, 'ACTIVE', ?)",
                        td->family, revision, json::serialize(doc));
        !s) {
      return std::move(s).error();
    }
    tx.record_change(kTaskDefinitionsTable, arn, store::ChangeKind::kPut);
    if (auto s = put_tags(tx, arn, *tags); !s) return std::move(s).error();
    json::object out{{"taskDefinition", std::move(doc)}};
    if (!tags->empty()) {
      auto t = tags_json(tx, arn);
      if (!t) return std::move(t).error();
      out["tags"] = std::move(*t);
    }
    return body(out);
  });
}

Result<std::string> describe_task_definition(Context& ctx, const json::object& in) {
  auto id = opt_string(in, "taskDefinition");
  if (!id) return std::move(id).error();
  if (!*id) return unable_to_describe();
  auto include = string_list(in, "include");
  if (!include) return std::move(include).error();
  bool with_tags = false;
  for (const auto& i : *include) {
    if (i != "TAGS") return invalid_parameter("Invalid include value: " + i + ".");  // unverified wording
    with_tags = true;
  }
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto row = find_task_definition(tx, **id);
    if (!row) return std::move(row).error();
    if (!*row) return unable_to_describe();
    std::string arn = task_definition_arn(ctx.options, (*row)->family, (*row)->revision);
    json::object out{{"taskDefinition", std::move((*row)->doc)}};
    if (with_tags) {
      auto t = tags_json(tx, arn);
      if (!t) return std::move(t).error();
      out["tags"] = std::move(*t);
    }
    return body(out);
  });
}

// LIKE with the prefix's own % and _ escaped.
std::string like_prefix(std::string_view prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

Result<std::string> list_task_definitions(Context& ctx, const json::object& in) {
  auto prefix = opt_string(in, "familyPrefix");
  auto status = opt_string(in, "status");
  auto sort = opt_string(in, "sort");
  if (!prefix) return std::move(prefix).error();
  if (!status) return std::move(status).error();
  if (!sort) return std::move(sort).error();
  std::string st = status->value_or("ACTIVE");
  if (st != "ACTIVE" && st != "INACTIVE" && st != "DELETE_IN_PROGRESS") {
    return invalid_parameter("Invalid status: " + st + ".");  // unverified wording
  }
  std::string order = sort->value_or("ASC");
  if (order != "ASC" && order != "DESC") return invalid_parameter("Invalid sort: " + order + ".");  // unverified
  auto page = read_page(in);
  if (!page) return std::move(page).error();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    // Families in name order, revisions in number order; DESC reverses both.
    // Here familyPrefix is the full family name (the model says so), unlike
    // ListTaskDefinitionFamilies' prefix.
    std::string sql = "SELECT family, revision FROM ecs_task_definitions WHERE status = ?1 AND (?2 = '' OR family = ?2) "
                      "ORDER BY family " + order + ", revision " + order + " LIMIT ?3 OFFSET ?4";
    auto stmt = tx.prepare(sql);
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(st, prefix->value_or(""), static_cast<int64_t>(page->max + 1),
                   static_cast<int64_t>(page->offset));
    auto out = page_of(*stmt, *page, "taskDefinitionArns", [&](const store::Statement& row) {
      return task_definition_arn(ctx.options, row.column_text(0), row.column_int64(1));
    });
    if (!out) return std::move(out).error();
    return body(*out);
  });
}

Result<std::string> list_task_definition_families(Context& ctx, const json::object& in) {
  auto prefix = opt_string(in, "familyPrefix");
  auto status = opt_string(in, "status");
  if (!prefix) return std::move(prefix).error();
  if (!status) return std::move(status).error();
  std::string st = status->value_or("ACTIVE");
  // ACTIVE: families with an ACTIVE revision; INACTIVE: families with none; ALL: every family.
  std::string having;
  if (st == "ACTIVE") having = "HAVING sum(status = 'ACTIVE') > 0";
  else if (st == "INACTIVE") having = "HAVING sum(status = 'ACTIVE') = 0";
  else if (st != "ALL") return invalid_parameter("Invalid status: " + st + ".");  // unverified wording
  auto page = read_page(in);
  if (!page) return std::move(page).error();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto stmt = tx.prepare("SELECT family FROM ecs_task_definitions WHERE family LIKE ?1 ESCAPE '\\' GROUP BY family " +
                           having + " ORDER BY family LIMIT ?2 OFFSET ?3");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(like_prefix(prefix->value_or("")), static_cast<int64_t>(page->max + 1),
                   static_cast<int64_t>(page->offset));
    auto out = page_of(*stmt, *page, "families", [](const store::Statement& row) { return row.column_string(0); });
    if (!out) return std::move(out).error();
    return body(*out);
  });
}

Result<std::string> deregister_task_definition(Context& ctx, const api::CallContext& call, const json::object& in) {
  auto id = opt_string(in, "taskDefinition");
  if (!id) return std::move(id).error();
  FamilyRevision fr = split(id->value_or(""));
  if (!fr.revision || fr.malformed) {
    return client_exception("Invalid revision number. Number: " +
                            (fr.revision ? std::to_string(*fr.revision) : std::string("null")));  // unverified
  }
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto row = find_task_definition(tx, **id);
    if (!row) return std::move(row).error();
    if (!*row) return client_exception("The specified task definition does not exist.");  // unverified
    if ((*row)->status == "ACTIVE") {
      if (auto s = tx.run("UPDATE ecs_task_definitions SET status = 'INACTIVE', deregistered_at = ? "
                          "WHERE family = ? AND revision = ?",
                          now_seconds(call.now), (*row)->family, (*row)->revision);
          !s) {
        return std::move(s).error();
      }
      tx.record_change(kTaskDefinitionsTable, task_definition_arn(ctx.options, (*row)->family, (*row)->revision),
                       store::ChangeKind::kPut);
      row = find_task_definition(tx, **id);
      if (!row) return std::move(row).error();
    }
    return body(json::object{{"taskDefinition", std::move((*row)->doc)}});
  });
}

Result<std::string> delete_task_definitions(Context& ctx, const json::object& in) {
  auto ids = string_list(in, "taskDefinitions");
  if (!ids) return std::move(ids).error();
  if (ids->empty() || ids->size() > 10) {
    return invalid_parameter("The number of task definitions must be between 1 and 10.");  // unverified wording
  }
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    json::array done, failures;
    for (const auto& id : *ids) {
      FamilyRevision fr = split(id);
      std::string arn = id.rfind("arn:", 0) == 0 ? id : arn_prefix(ctx.options) + "task-definition/" + id;
      if (!fr.revision || fr.malformed) {
        failures.push_back(json::object{{"arn", arn}, {"reason", "The specified task definition identifier is "
                                                                 "invalid. Specify a valid name or ARN and try "
                                                                 "again."}});  // unverified
        continue;
      }
      auto row = find_task_definition(tx, id);
      if (!row) return std::move(row).error();
      if (!*row) {
        failures.push_back(json::object{{"arn", arn}, {"reason", "The specified task definition does not exist. "
                                                                 "Specify a valid account, family, revision and try "
                                                                 "again."}});  // unverified
        continue;
      }
      if ((*row)->status == "ACTIVE") {
        failures.push_back(json::object{{"arn", arn}, {"reason", "The specified task definition is still in ACTIVE "
                                                                 "status. Please deregister the target and try "
                                                                 "again."}});  // unverified
        continue;
      }
      if (auto s = tx.run("UPDATE ecs_task_definitions SET status = 'DELETE_IN_PROGRESS' WHERE family = ? AND "
                          "revision = ?",
                          (*row)->family, (*row)->revision);
          !s) {
        return std::move(s).error();
      }
      tx.record_change(kTaskDefinitionsTable, arn, store::ChangeKind::kPut);
      (*row)->doc["status"] = "DELETE_IN_PROGRESS";
      done.push_back(std::move((*row)->doc));
    }
    return body(json::object{{"taskDefinitions", std::move(done)}, {"failures", std::move(failures)}});
  });
}

}  // namespace

Result<std::optional<TaskDefinitionRow>> find_task_definition(store::Tx& tx, std::string_view id) {
  FamilyRevision fr = split(id);
  if (fr.malformed || !valid_name(fr.family)) return std::optional<TaskDefinitionRow>();
  auto stmt = fr.revision
                  ? tx.prepare("SELECT family, revision, status, deregistered_at, doc FROM ecs_task_definitions "
                               "WHERE family = ? AND revision = ?")
                  : tx.prepare("SELECT family, revision, status, deregistered_at, doc FROM ecs_task_definitions "
                               "WHERE family = ? AND status = 'ACTIVE' ORDER BY revision DESC LIMIT 1");
  if (!stmt) return std::move(stmt).error();
  if (fr.revision) stmt->bind_all(fr.family, *fr.revision);
  else stmt->bind_all(fr.family);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<TaskDefinitionRow>();
  return std::optional<TaskDefinitionRow>(row_from(*stmt));
}

void add_task_definition_operations(api::Service& service, const std::shared_ptr<Context>& ctx) {
  service.add("RegisterTaskDefinition", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return register_task_definition(*ctx, call, *in.json);
  });
  service.add("DescribeTaskDefinition", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return describe_task_definition(*ctx, *in.json);
  });
  service.add("ListTaskDefinitions", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return list_task_definitions(*ctx, *in.json);
  });
  service.add("ListTaskDefinitionFamilies", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return list_task_definition_families(*ctx, *in.json);
  });
  service.add("DeregisterTaskDefinition", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return deregister_task_definition(*ctx, call, *in.json);
  });
  service.add("DeleteTaskDefinitions", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return delete_task_definitions(*ctx, *in.json);
  });
}

}  // namespace berth::ecs
