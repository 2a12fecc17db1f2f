// iam/validation: reading the members of IAM's query requests against the
// model's constraints (botocore's service-2.json: lengths, patterns,
// ranges), with IAM's ValidationError texts:
//   "1 validation error detected: Value 'x y' at 'roleName' failed to satisfy
//    constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+"
// Only the first failing member is reported.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "api/query_codec.h"
#include "core/error.h"
#include "iam/identity.h"

namespace berth::iam {

Error validation_error(std::string constraint_text);

// Reads a required or optional user name (pattern [\w+=,.@-]+, 1..max).
// `member` is the model's lowerCamel name ("userName") used in messages.
Result<std::string_view> required_name(const api::QueryView& q, std::string_view key, std::string_view member,
                                       size_t max_length);
Result<std::optional<std::string_view>> optional_name(const api::QueryView& q, std::string_view key,
                                                      std::string_view member, size_t max_length);
// MaxItems: 1..1000, default 100.
Result<size_t> max_items(const api::QueryView& q);
// An optional integer member within [min, max].
Result<std::optional<int64_t>> optional_int(const api::QueryView& q, std::string_view key, std::string_view member,
                                            int64_t min, int64_t max);

// Path (pathType): "/" or "/" + \u0021-\u007E + "/", at most 512 long.
Status check_path(std::string_view path, std::string_view member);
// The optional Path of a create, "/" when absent.
Result<std::string_view> path(const api::QueryView& q);
// PathPrefix of ListUsers, ListRoles, ListInstanceProfiles (pathPrefixType), "/" when absent.
Result<std::string_view> path_prefix(const api::QueryView& q);
// PathPrefix of ListAttached*Policies (policyPathType), "/" when absent.
Result<std::string_view> policy_path_prefix(const api::QueryView& q);
// Marker (markerType), "" when absent.
Result<std::string_view> marker(const api::QueryView& q);
// PolicyArn (arnType), required.
Result<std::string_view> required_policy_arn(const api::QueryView& q);

// Free-text members, whose model pattern is a set of characters.
enum class TextKind {
  kPolicyDocument,   // policyDocumentType: 1..131072 of [\u0009\u000A\u000D\u0020-\u00FF]
  kRoleDescription,  // roleDescriptionType: 0..1000 of [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]
};
Result<std::string_view> required_text(const api::QueryView& q, std::string_view key, std::string_view member,
                                       TextKind kind);
Result<std::optional<std::string_view>> optional_text(const api::QueryView& q, std::string_view key,
                                                      std::string_view member, TextKind kind);

// Tags.member.N.Key / .Value (tagListType): at most 50; keys unique
// ignoring case (InvalidInput otherwise, as IAM answers).
Result<std::vector<Tag>> tags(const api::QueryView& q);

}  // namespace berth::iam
