#include "iam/policy_evaluation.h"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "iam/store_support.h"

namespace berth::iam {
namespace {

// IAM's texts: "This policy contains invalid Json" is what CreateRole and
// PutRolePolicy answer for text that does not parse; "Syntax errors in
// policy." for JSON that is no policy (wording as seen from IAM; unverified
// for every shape).
Error malformed(std::string message) {
  return detail::with_status(Error::invalid("MalformedPolicyDocument", std::move(message)), 400);
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool same_char(char a, char b, bool ignore_case) { return ignore_case ? lower(a) == lower(b) : a == b; }

// A string or a list of strings; false for anything else.
bool string_list(const boost::json::value& v, std::vector<std::string>& out) {
  if (v.is_string()) {
    out.emplace_back(v.get_string());
    return true;
  }
  if (!v.is_array() || v.get_array().empty()) return false;
  for (const auto& item : v.get_array()) {
    if (!item.is_string()) return false;
    out.emplace_back(item.get_string());
  }
  return true;
}

Result<PolicyStatement> parse_statement(const boost::json::value& v) {
  const auto* o = v.if_object();
  if (!o) return malformed("Syntax errors in policy.");
  PolicyStatement s;
  const auto* effect = o->if_contains("Effect");
  if (!effect || !effect->is_string()) return malformed("Syntax errors in policy.");
  if (effect->get_string() == "Allow")
    s.effect = Effect::kAllow;
  else if (effect->get_string() == "Deny")
    s.effect = Effect::kDeny;
  else
    return malformed("Syntax errors in policy.");
  const auto* action = o->if_contains("Action");
  const auto* not_action = o->if_contains("NotAction");
  if ((action == nullptr) == (not_action == nullptr)) return malformed("Syntax errors in policy.");
  s.not_action = not_action != nullptr;
  if (!string_list(action ? *action : *not_action, s.actions)) return malformed("Syntax errors in policy.");
  const auto* resource = o->if_contains("Resource");
  const auto* not_resource = o->if_contains("NotResource");
  // An identity-based policy names its resources (a Principal belongs to
  // resource policies).
  if ((resource == nullptr) == (not_resource == nullptr)) return malformed("Syntax errors in policy.");
  if (o->contains("Principal") || o->contains("NotPrincipal"))
    return malformed("Policy document should not specify a principal.");
  s.not_resource = not_resource != nullptr;
  if (!string_list(resource ? *resource : *not_resource, s.resources)) return malformed("Syntax errors in policy.");
  s.has_condition = o->contains("Condition");
  return s;
}

bool any_matches(const std::vector<std::string>& patterns, std::string_view text, bool ignore_case) {
  for (const auto& p : patterns)
    if (wildcard_match(p, text, ignore_case)) return true;
  return false;
}

bool statement_matches(const PolicyStatement& s, std::string_view action, std::string_view resource) {
  if (any_matches(s.actions, action, true) == s.not_action) return false;
  return any_matches(s.resources, resource, false) != s.not_resource;
}

}  // namespace

Result<std::vector<PolicyStatement>> parse_policy_document(std::string_view document) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::json::value v = boost::json::parse(document, ec, {}, options);
  if (ec || !v.is_object()) return malformed("This policy contains invalid Json");
  const auto* statement = v.get_object().if_contains("Statement");
  if (!statement) return malformed("Syntax errors in policy.");
  std::vector<PolicyStatement> out;
  if (statement->is_array()) {
    for (const auto& item : statement->get_array()) {
      auto s = parse_statement(item);
      if (!s) return std::move(s).error();
      out.push_back(std::move(*s));
    }
  } else {
    auto s = parse_statement(*statement);
    if (!s) return std::move(s).error();
    out.push_back(std::move(*s));
  }
  return out;
}

bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case) {
  // Greedy with one backtrack point: the last `*` seen.
  size_t p = 0, t = 0, star = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || (pattern[p] != '*' && same_char(pattern[p], text[t], ignore_case)))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Decision evaluate(std::span<const PolicyStatement> statements, std::string_view action, std::string_view resource) {
  bool allowed = false;
  for (const auto& s : statements) {
    if (!statement_matches(s, action, resource)) continue;
    if (s.effect == Effect::kDeny) return Decision::kExplicitDeny;
    if (!s.has_condition) allowed = true;
  }
  return allowed ? Decision::kAllow : Decision::kImplicitDeny;
}

bool trust_policy_allows_service(std::string_view trust_policy, std::string_view service) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(trust_policy, ec);
  if (ec || !v.is_object()) return false;
  const auto* statement = v.get_object().if_contains("Statement");
  if (!statement) return false;
  std::vector<const boost::json::value*> statements;
  if (statement->is_array())
    for (const auto& item : statement->get_array()) statements.push_back(&item);
  else
    statements.push_back(statement);
  bool allowed = false;
  for (const auto* item : statements) {
    const auto* o = item->if_object();
    if (!o) continue;
    const auto* effect = o->if_contains("Effect");
    const auto* action = o->if_contains("Action");
    const auto* principal = o->if_contains("Principal");
    std::vector<std::string> actions, services;
    if (!effect || !effect->is_string() || !action || !string_list(*action, actions) || !principal) continue;
    if (!any_matches(actions, "sts:AssumeRole", true)) continue;
    bool names_service = principal->is_string() && principal->get_string() == "*";
    if (const auto* p = principal->if_object(); p && p->contains("Service") && string_list(p->at("Service"), services))
      names_service = names_service || std::find(services.begin(), services.end(), service) != services.end();
    if (!names_service) continue;
    if (effect->get_string() == "Deny") return false;
    if (effect->get_string() == "Allow" && !o->contains("Condition")) allowed = true;
  }
  return allowed;
}

}  // namespace berth::iam
