// secrets/parameter_names: SSM Parameter Store's rules for parameter names
// and version labels, with AWS's error codes and texts.
//
//   "name"            one level, letters, digits and . - _
//   "/a/b/c"          a hierarchy: starts with "/", at most 15 levels
//   neither may begin (ignoring case) with "aws" or "ssm", at any level's start
//   of the name ("/aws/x", "awsome", "SSM-x" are refused)
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace berth::secrets {

inline constexpr size_t kMaxHierarchyLevels = 15;

// ValidationException or HierarchyLevelLimitExceededException for a name
// PutParameter may not create.
Status check_parameter_name(std::string_view name);
// A GetParametersByPath path: "/" or "/a/b" (a trailing "/" allowed).
Status check_parameter_path(std::string_view path);
// A label LabelParameterVersion accepts (invalid ones are returned, not refused):
// 1..100 of letters, digits, . - _; not starting with a digit, "aws" or "ssm".
bool valid_label(std::string_view label);

// "arn:aws:ssm:us-east-1:123456789012:parameter/a/b" -> "a/b" (what follows
// "parameter/"); nullopt-like empty for anything else.
std::string_view parameter_arn_resource(std::string_view arn);

}  // namespace berth::secrets
