// iam/validation: IAM's ValidationError texts for the members berth reads.
#pragma once

#include <optional>
#include <string_view>

#include "api/query_codec.h"
#include "core/error.h"

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

}  // namespace berth::iam
