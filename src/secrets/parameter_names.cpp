#include "secrets/parameter_names.h"

#include <cctype>

namespace berth::secrets {
namespace {

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

bool starts_with_ignoring_case(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

bool reserved(std::string_view first_level) {
  return starts_with_ignoring_case(first_level, "aws") || starts_with_ignoring_case(first_level, "ssm");
}

// AWS's text for a name that breaks the character or prefix rules (as
// quoted in boto/boto3#1499 and aws/aws-sdk-php#1952; it names only "ssm",
// also for characters and, unverified, for an "aws" prefix).
Error invalid_name() {
  return Error::invalid(
      "ValidationException",
      "Parameter name: can't be prefixed with \"ssm\" (case-insensitive). If formed as a path, it can consist of "
      "sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following "
      "3 symbols .-_");
}

}  // namespace

Status check_parameter_name(std::string_view name) {
  if (name.empty() || name.size() > 2048) return invalid_name();
  if (name.find('/') != std::string_view::npos && name[0] != '/')
    return Error::invalid("ValidationException", "Parameter name must be a fully qualified name.");
  std::string_view rest = name[0] == '/' ? name.substr(1) : name;
  size_t levels = 0;
  bool first = true;
  for (;;) {
    size_t slash = rest.find('/');
    std::string_view level = rest.substr(0, slash);
    if (level.empty()) return invalid_name();
    for (char c : level)
      if (!name_char(c)) return invalid_name();
    if (first && reserved(level)) return invalid_name();
    first = false;
    ++levels;
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  // AWS's text for the 16th level (unverified wording beyond the first sentence).
  if (levels > kMaxHierarchyLevels)
    return Error::invalid("HierarchyLevelLimitExceededException",
                          "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and "
                          "Constraints for Parameter Names in the AWS Systems Manager User Guide.");
  return Ok{};
}

Status check_parameter_path(std::string_view path) {
  // AWS's text for a path GetParametersByPath refuses, as quoted in
  // aws-samples/resource-autotagger#1, backslashes before the quotes around
  // aws and ssm included.
  Error invalid = Error::invalid(
      "ValidationException",
      "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward "
      "slash \"/\". It can't be prefixed with \\\"aws\\\" or \\\"ssm\\\" (case-insensitive). It must use only letters, "
      "numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not "
      "allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: "
      "/get/parameters2-/by1./path0_.");
  if (path.empty() || path[0] != '/') return invalid;
  if (path == "/") return Ok{};
  std::string_view trimmed = path.back() == '/' ? path.substr(0, path.size() - 1) : path;
  if (!check_parameter_name(trimmed)) return invalid;
  return Ok{};
}

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 100) return false;
  if (std::isdigit(static_cast<unsigned char>(label[0])) || reserved(label)) return false;
  for (char c : label)
    if (!name_char(c)) return false;
  return true;
}

std::string_view parameter_arn_resource(std::string_view arn) {
  if (arn.rfind("arn:", 0) != 0) return {};
  size_t at = arn.find(":parameter/");
  if (at == std::string_view::npos) return {};
  return arn.substr(at + 11);
}

}  // namespace berth::secrets
