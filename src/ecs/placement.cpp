#include "ecs/placement.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <tuple>

#include "ecs/common.h"

namespace berth::ecs {
namespace {

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits on a keyword surrounded by spaces, case-insensitively.
std::vector<std::string> split_keyword(std::string_view s, std::string_view keyword) {
  std::vector<std::string> out;
  std::string l = lower(s);
  std::string k = " " + std::string(keyword) + " ";
  size_t start = 0;
  for (;;) {
    size_t pos = l.find(k, start);
    if (pos == std::string::npos) {
      out.push_back(trim(s.substr(start)));
      return out;
    }
    out.push_back(trim(s.substr(start, pos - start)));
    start = pos + k.size();
  }
}

Error bad_expression(std::string_view e) {
  // Unverified wording.
  return invalid_parameter("Invalid expression: " + std::string(e) + ".");
}

Result<std::vector<std::string>> list_value(std::string_view v, std::string_view whole) {
  std::string t = trim(v);
  if (t.size() < 2 || t.front() != '[' || t.back() != ']') return bad_expression(whole);
  std::vector<std::string> out;
  std::string_view inner = std::string_view(t).substr(1, t.size() - 2);
  size_t start = 0;
  while (start <= inner.size()) {
    size_t comma = inner.find(',', start);
    if (comma == std::string_view::npos) comma = inner.size();
    std::string item = trim(inner.substr(start, comma - start));
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

Result<bool> term(std::string_view t, const Candidate& c) {
  std::string s = trim(t);
  // subject, operator, value
  size_t sp = s.find(' ');
  if (sp == std::string::npos) return bad_expression(t);
  std::string subject = s.substr(0, sp);
  std::string rest = trim(std::string_view(s).substr(sp + 1));
  size_t sp2 = rest.find(' ');
  std::string op = lower(sp2 == std::string::npos ? rest : rest.substr(0, sp2));
  std::string value = sp2 == std::string::npos ? "" : trim(std::string_view(rest).substr(sp2 + 1));

  std::optional<std::string> actual;
  if (subject.rfind("attribute:", 0) == 0) {
    auto it = c.attributes.find(subject.substr(10));
    if (it != c.attributes.end()) actual = it->second;
  } else if (subject == "ec2InstanceId") {
    actual = c.ec2_instance_id;
  } else if (subject == "agentConnected") {
    actual = c.agent_connected ? "true" : "false";
  } else if (subject == "runningTasksCount") {
    actual = std::to_string(c.running_tasks);
  } else {
    return bad_expression(t);
  }
  if (op == "exists") return value.empty() ? Result<bool>(actual.has_value()) : bad_expression(t);
  if (op == "==" || op == "!=") {
    if (value.empty()) return bad_expression(t);
    bool eq = actual && *actual == value;
    return op == "==" ? eq : !eq;
  }
  if (op == "in" || op == "not_in") {
    auto values = list_value(value, t);
    if (!values) return std::move(values).error();
    bool in = actual && std::find(values->begin(), values->end(), *actual) != values->end();
    return op == "in" ? in : !in;
  }
  return bad_expression(t);
}

bool has_port(const Candidate& c, const std::pair<int64_t, std::string>& p) { return c.ports_used.count(p) > 0; }

// The first filter that refuses the candidate, or "" when it is feasible.
std::string refusal(const Candidate& c, const Demand& d, const std::vector<Constraint>& constraints,
                    const std::set<std::string>& used_by_this_call) {
  if (!c.agent_connected) return std::string(kReasonAgent);
  for (const auto& a : d.required_attributes) {
    if (!c.attributes.count(a)) return std::string(kReasonAttribute);
  }
  for (const auto& k : constraints) {
    if (k.type == "memberOf") {
      auto m = matches_expression(k.expression, c);
      if (!m || !*m) return std::string(kReasonAttribute);
    } else if (k.type == "distinctInstance" && (used_by_this_call.count(c.id) || c.group_tasks > 0)) {
      return std::string(kReasonAttribute);
    }
  }
  if (d.memory > c.memory_free) return std::string(kReasonMemory);
  if (d.cpu > c.cpu_free) return std::string(kReasonCpu);
  for (const auto& p : d.ports) {
    if (has_port(c, p)) return std::string(kReasonPorts);
  }
  if (d.needs_eni && c.eni_free <= 0) return std::string(kReasonEni);
  return "";
}

}  // namespace

Result<bool> matches_expression(std::string_view expression, const Candidate& c) {
  if (trim(expression).empty()) return bad_expression(expression);
  bool any = false;
  for (const auto& alternative : split_keyword(expression, "or")) {
    bool all = true;
    for (const auto& t : split_keyword(alternative, "and")) {
      auto v = term(t, c);
      if (!v) return v;
      all = all && *v;
    }
    any = any || all;
  }
  return any;
}

Status validate_constraints(const std::vector<Constraint>& constraints) {
  if (constraints.size() > 10) {
    return invalid_parameter("The number of placement constraints must be less than or equal to 10.");  // unverified
  }
  Candidate probe;
  for (const auto& k : constraints) {
    if (k.type == "distinctInstance") continue;
    if (k.type != "memberOf") {
      return invalid_parameter("Invalid placement constraint type: " + k.type + ".");  // unverified
    }
    if (k.expression.size() > 2000) return invalid_parameter("The expression is too long.");  // unverified
    if (auto m = matches_expression(k.expression, probe); !m) return std::move(m).error();
  }
  return Ok{};
}

Status validate_strategies(const std::vector<Strategy>& strategies) {
  if (strategies.size() > 5) {
    return invalid_parameter("The number of placement strategies must be less than or equal to 5.");  // unverified
  }
  for (const auto& s : strategies) {
    bool ok = (s.type == "random" && s.field.empty()) ||
              (s.type == "binpack" && (lower(s.field) == "cpu" || lower(s.field) == "memory")) ||
              (s.type == "spread" && (s.field == "instanceId" || s.field == "host" ||
                                      (s.field.rfind("attribute:", 0) == 0 && s.field.size() > 10)));
    if (!ok) {
      return invalid_parameter("Invalid placement strategy: type " + s.type + ", field " + s.field + ".");  // unverified
    }
  }
  return Ok{};
}

PlacementResult place(std::vector<Candidate> candidates, const Demand& demand, int count,
                      const std::vector<Constraint>& constraints, const std::vector<Strategy>& strategies,
                      std::mt19937& rng) {
  PlacementResult result;
  std::set<std::string> used;
  // A random key per candidate per call, for `random` and for ties.
  std::vector<uint32_t> noise(candidates.size());
  for (auto& n : noise) n = rng();
  for (int task = 0; task < count; ++task) {
    std::vector<size_t> feasible;
    for (size_t i = 0; i < candidates.size(); ++i) {
      std::string why = refusal(candidates[i], demand, constraints, used);
      if (why.empty()) {
        feasible.push_back(i);
      } else if (std::find(result.failures.begin(), result.failures.end(), std::make_pair(candidates[i].id, why)) ==
                 result.failures.end()) {
        result.failures.emplace_back(candidates[i].id, why);
      }
    }
    if (feasible.empty()) break;
    // Per strategy a score, lower is better; compared in strategy order.
    // Spread over an attribute counts the group's tasks per value once per
    // task, not once per candidate (1,000s of tasks on 100s of instances).
    std::vector<std::map<std::string, int64_t, std::less<>>> per_value(strategies.size());
    for (size_t k = 0; k < strategies.size(); ++k) {
      const auto& st = strategies[k];
      if (st.type != "spread" || st.field == "instanceId" || st.field == "host") continue;
      std::string name = st.field.substr(10);
      for (const auto& o : candidates) {
        auto it = o.attributes.find(name);
        per_value[k][it == o.attributes.end() ? std::string("\x01" "absent") : it->second] += o.group_tasks;
      }
    }
    auto score = [&](size_t i) {
      std::vector<int64_t> key;
      key.reserve(strategies.size() + 1);
      const Candidate& c = candidates[i];
      for (size_t k = 0; k < strategies.size(); ++k) {
        const auto& st = strategies[k];
        if (st.type == "binpack") {
          key.push_back(lower(st.field) == "cpu" ? c.cpu_free : c.memory_free);
        } else if (st.type == "spread") {
          if (st.field == "instanceId" || st.field == "host") {
            key.push_back(c.group_tasks);
          } else {
            auto it = c.attributes.find(st.field.substr(10));
            key.push_back(per_value[k][it == c.attributes.end() ? std::string("\x01" "absent") : it->second]);
          }
        } else {
          key.push_back(noise[i]);
        }
      }
      key.push_back(noise[i]);
      return key;
    };
    size_t best = feasible.front();
    std::vector<int64_t> best_key = score(best);
    for (size_t f = 1; f < feasible.size(); ++f) {
      auto key = score(feasible[f]);
      if (key < best_key) best = feasible[f], best_key = std::move(key);
    }
    Candidate& chosen = candidates[best];
    chosen.cpu_free -= demand.cpu;
    chosen.memory_free -= demand.memory;
    for (const auto& p : demand.ports) chosen.ports_used.insert(p);
    if (demand.needs_eni) chosen.eni_free -= 1;
    chosen.group_tasks += 1;
    chosen.running_tasks += 1;
    used.insert(chosen.id);
    result.placed.push_back(chosen.id);
  }
  // Failures only matter for the tasks that were not placed.
  if (static_cast<int>(result.placed.size()) == count) result.failures.clear();
  return result;
}

}  // namespace berth::ecs
