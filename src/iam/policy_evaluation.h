// iam/policy_evaluation: reading IAM policy documents and deciding whether
// they allow one action on one resource, as IAM's evaluation logic does for
// identity-based policies:
//
//   statements of every policy ─► any Deny that matches?  ─► explicit deny
//                               └► any Allow that matches? ─► allow
//                                                           └► implicit deny
//
// A statement matches when its Action (or NotAction) matches the action and
// its Resource (or NotResource) matches the resource. Actions compare
// ignoring case ("SSM:getparameters" is ssm:GetParameters); resources compare
// exactly; both take the wildcards `*` (any run) and `?` (one character).
//
// Conditions are not evaluated: berth has no request context to test them
// against, so an Allow with a Condition grants nothing and a Deny with a
// Condition always applies (the answer errs towards refusing).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace berth::iam {

enum class Effect { kAllow, kDeny };

struct PolicyStatement {
  Effect effect = Effect::kAllow;
  std::vector<std::string> actions;  // Action, or NotAction when not_action
  bool not_action = false;
  std::vector<std::string> resources;  // Resource, or NotResource when not_resource
  bool not_resource = false;
  bool has_condition = false;
};

enum class Decision { kImplicitDeny, kAllow, kExplicitDeny };

// The statements of a policy document (Statement as one object or a list;
// Action/Resource as a string or a list). MalformedPolicyDocument (400) for
// text that is not such a document.
Result<std::vector<PolicyStatement>> parse_policy_document(std::string_view document);

// `pattern` with `*` and `?` against `text`.
bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case);

Decision evaluate(std::span<const PolicyStatement> statements, std::string_view action, std::string_view resource);

// Whether a role's trust policy lets `service` ("ecs-tasks.amazonaws.com")
// assume it: an Allow of sts:AssumeRole whose Principal's Service names it
// (a string or a list), and no such Deny. Conditions count as above.
bool trust_policy_allows_service(std::string_view trust_policy, std::string_view service);

}  // namespace berth::iam
