#include "ecs/common.h"

#include <charconv>

#include "ecs/schema.h"

namespace berth::ecs {
namespace {

Error wrong_type(std::string_view key, std::string_view type) {
  return invalid_parameter("Invalid parameter at '" + std::string(key) + "': expected " + std::string(type));
}

const boost::json::value* member(const boost::json::object& in, std::string_view key) {
  auto it = in.find(key);
  if (it == in.end() || it->value().is_null()) return nullptr;
  return &it->value();
}

}  // namespace

Result<std::optional<std::string>> opt_string(const boost::json::object& in, std::string_view key) {
  const auto* v = member(in, key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return wrong_type(key, "a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

Result<std::optional<int64_t>> opt_int(const boost::json::object& in, std::string_view key) {
  const auto* v = member(in, key);
  if (!v) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->get_int64());
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return std::optional<int64_t>(static_cast<int64_t>(v->get_uint64()));
  }
  return wrong_type(key, "an integer");
}

Result<std::optional<bool>> opt_bool(const boost::json::object& in, std::string_view key) {
  const auto* v = member(in, key);
  if (!v) return std::optional<bool>();
  if (!v->is_bool()) return wrong_type(key, "a boolean");
  return std::optional<bool>(v->get_bool());
}

Result<std::vector<std::string>> string_list(const boost::json::object& in, std::string_view key) {
  std::vector<std::string> out;
  const auto* v = member(in, key);
  if (!v) return out;
  if (!v->is_array()) return wrong_type(key, "a list of strings");
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) return wrong_type(key, "a list of strings");
    out.emplace_back(e.get_string());
  }
  return out;
}

const boost::json::array* opt_array(const boost::json::object& in, std::string_view key) {
  const auto* v = member(in, key);
  return v && v->is_array() ? &v->get_array() : nullptr;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string arn_prefix(const Options& o) { return "arn:aws:ecs:" + o.region + ":" + o.account_id + ":"; }
std::string cluster_arn(const Options& o, std::string_view cluster) {
  return arn_prefix(o) + "cluster/" + std::string(cluster);
}
std::string task_definition_arn(const Options& o, std::string_view family, int64_t revision) {
  return arn_prefix(o) + "task-definition/" + std::string(family) + ":" + std::to_string(revision);
}
std::string container_instance_arn(const Options& o, std::string_view cluster, std::string_view id) {
  return arn_prefix(o) + "container-instance/" + std::string(cluster) + "/" + std::string(id);
}
std::string task_arn(const Options& o, std::string_view cluster, std::string_view id) {
  return arn_prefix(o) + "task/" + std::string(cluster) + "/" + std::string(id);
}
std::string container_arn(const Options& o, std::string_view cluster, std::string_view task_id,
                          std::string_view uuid) {
  return arn_prefix(o) + "container/" + std::string(cluster) + "/" + std::string(task_id) + "/" + std::string(uuid);
}

std::string last_segment(std::string_view id_or_arn) {
  auto slash = id_or_arn.rfind('/');
  return std::string(slash == std::string_view::npos ? id_or_arn : id_or_arn.substr(slash + 1));
}

std::string cluster_name_from(std::optional<std::string> id) {
  if (!id || id->empty()) return "default";
  if (id->rfind("arn:", 0) == 0) {
    auto pos = id->find(":cluster/");
    if (pos != std::string::npos) return id->substr(pos + 9);
  }
  return *id;
}

Result<std::string> active_cluster(store::Tx& tx, const boost::json::object& in) {
  auto id = opt_string(in, "cluster");
  if (!id) return std::move(id).error();
  std::string name = cluster_name_from(std::move(*id));
  auto stmt = tx.prepare("SELECT status FROM ecs_clusters WHERE name = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(name);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row || stmt->column_text(0) != "ACTIVE") return cluster_not_found();
  return name;
}

Result<Tags> read_tags(const boost::json::object& in, std::string_view key) {
  Tags out;
  const auto* v = member(in, key);
  if (!v) return out;
  if (!v->is_array()) return wrong_type(key, "a list of tags");
  if (v->get_array().size() > 50) {
    return invalid_parameter("Invalid parameter at 'tags' failed to satisfy constraint: 'Member must have length "
                             "less than or equal to 50'");
  }
  for (const auto& t : v->get_array()) {
    if (!t.is_object()) return wrong_type(key, "a list of tags");
    auto k = opt_string(t.get_object(), "key");
    auto val = opt_string(t.get_object(), "value");
    if (!k) return std::move(k).error();
    if (!val) return std::move(val).error();
    if (!*k || (*k)->empty() || (*k)->size() > 128) {
      return invalid_parameter("Invalid parameter at 'tags.key' failed to satisfy constraint: 'Member must have "
                               "length between 1 and 128'");
    }
    if ((*val).value_or("").size() > 256) {
      return invalid_parameter("Invalid parameter at 'tags.value' failed to satisfy constraint: 'Member must have "
                               "length less than or equal to 256'");
    }
    out.emplace_back(std::move(**k), (*val).value_or(""));
  }
  return out;
}

Status put_tags(store::Tx& tx, std::string_view arn, const Tags& tags) {
  for (const auto& [k, v] : tags) {
    auto s = tx.run("INSERT INTO ecs_tags(arn, key, value) VALUES(?, ?, ?) "
                    "ON CONFLICT(arn, key) DO UPDATE SET value = excluded.value",
                    arn, k, v);
    if (!s) return s;
  }
  return Ok{};
}

Result<boost::json::array> tags_json(store::Tx& tx, std::string_view arn) {
  boost::json::array out;
  auto stmt = tx.prepare("SELECT key, value FROM ecs_tags WHERE arn = ? ORDER BY rowid");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(arn);
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(boost::json::object{{"key", stmt->column_text(0)}, {"value", stmt->column_text(1)}});
  }
  return out;
}

Result<Page> read_page(const boost::json::object& in, size_t default_max, size_t limit) {
  Page page;
  page.max = default_max;
  auto max = opt_int(in, "maxResults");
  if (!max) return std::move(max).error();
  if (*max) {
    if (**max < 1 || static_cast<size_t>(**max) > limit) {
      return invalid_parameter("maxResults must be between 1 and " + std::to_string(limit) + ".");
    }
    page.max = static_cast<size_t>(**max);
  }
  auto token = opt_string(in, "nextToken");
  if (!token) return std::move(token).error();
  if (*token) {
    // Tokens are "b1." + decimal offset; anything else is not ours.
    std::string_view t = **token;
    size_t offset = 0;
    if (t.rfind("b1.", 0) != 0 ||
        std::from_chars(t.data() + 3, t.data() + t.size(), offset).ptr != t.data() + t.size() || t.size() == 3) {
      return invalid_parameter("Invalid token " + std::string(t));
    }
    page.offset = offset;
  }
  return page;
}

std::string next_token(size_t offset) { return "b1." + std::to_string(offset); }

Result<boost::json::object> page_of(store::Statement& stmt, const Page& page, std::string_view key,
                                     const std::function<std::string(const store::Statement&)>& item) {
  boost::json::array items;
  bool more = false;
  for (;;) {
    auto row = stmt.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    if (items.size() == page.max) {
      more = true;
      break;
    }
    items.push_back(boost::json::string(item(stmt)));
  }
  boost::json::object out{{key, std::move(items)}};
  if (more) out["nextToken"] = next_token(page.offset + page.max);
  return out;
}

double now_seconds(WallTime t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return static_cast<double>(ms) / 1000.0;
}

}  // namespace berth::ecs
