#include "iam/authorize.h"

namespace berth::iam {

std::string denial_text(std::string_view caller_arn, std::string_view action_prefix, std::string_view operation) {
  std::string text = "User: ";
  text += caller_arn;
  text += " is not authorized to perform: ";
  text += action_prefix;
  text += ':';
  text += operation;
  return text;
}

Status authorize(const Principal& principal, std::string_view action_prefix, std::string_view operation,
                 bool read_only) {
  if (principal.administrator) return Ok{};
  if (read_only && principal.read_only) return Ok{};
  if (action_prefix == "sts" && operation == "GetCallerIdentity") return Ok{};
  std::string action = std::string(action_prefix) + ":" + std::string(operation);
  Error denied{ErrorClass::kDenied, "AccessDenied",
               denial_text(principal.caller.arn, action_prefix, operation) +
                   " because no identity-based policy allows the " + action + " action"};
  return denied;
}

}  // namespace berth::iam
