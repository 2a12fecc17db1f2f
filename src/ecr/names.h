// ecr/names: which repository names, tags and references are acceptable.
#pragma once

#include <string_view>

namespace berth::ecr {

// ECR's RepositoryName: 2-256 chars of
// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
// (so no upper case, no "..", no empty or dot-only path components).
bool is_valid_repository_name(std::string_view name);

// OCI tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
bool is_valid_tag(std::string_view tag);

}  // namespace berth::ecr
