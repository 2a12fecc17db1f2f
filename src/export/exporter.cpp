#include "export/exporter.h"

#include <algorithm>

#include <boost/json.hpp>

#include "export/builders.h"

namespace berth::cfn {

std::string str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

const json::array& arr(const json::object& o, std::string_view key) {
  static const json::array kEmpty;
  auto* v = o.if_contains(key);
  return v && v->is_array() ? v->as_array() : kEmpty;
}

const json::object& obj(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  auto* v = o.if_contains(key);
  return v && v->is_object() ? v->as_object() : kEmpty;
}

int64_t num(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return -1;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->as_double());
  if (v->is_string() && !v->as_string().empty()) {
    try {
      return std::stoll(std::string(v->as_string()));
    } catch (...) {
      return -1;
    }
  }
  return -1;
}

bool flag(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && ((v->is_bool() && v->as_bool()) || (v->is_string() && v->as_string() == "true"));
}

std::vector<const json::object*> sorted_by(const json::array& a, std::string_view key) {
  std::vector<const json::object*> out;
  for (const auto& v : a)
    if (v.is_object()) out.push_back(&v.as_object());
  std::stable_sort(out.begin(), out.end(), [&](auto* x, auto* y) { return str(*x, key) < str(*y, key); });
  return out;
}

std::string last_segment(std::string_view arn) { return std::string(arn.substr(arn.rfind('/') + 1)); }

Export export_state(const State& state, const std::string& stack_name) {
  Export out;
  out.resources.description = stack_name +
                              ": exported from berth by `berth export cloudformation` (deploy with --capabilities "
                              "CAPABILITY_IAM and the account's VpcId and Subnets)";
  Context c{state, out.resources, out.notes, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  build_parameters(c);
  build_security_groups(c);
  build_repositories(c);
  build_log_groups(c);
  build_clusters(c);
  build_load_balancing(c);
  build_task_definitions(c);
  build_services(c);
  build_scaling(c);
  out.push_commands = std::move(c.push_commands);
  return out;
}

}  // namespace berth::cfn
