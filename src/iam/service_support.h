// iam/service_support: what the IAM API's files (iam_service.cpp for users
// and keys, role_service.cpp for roles and instance profiles) share. Not
// for other modules.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/service.h"
#include "api/xml_writer.h"
#include "iam/iam.h"

namespace berth::iam::detail {

// IsTruncated, and Marker when there is more.
inline void write_truncation(api::XmlWriter& w, const std::optional<std::string>& next_marker) {
  w.leaf_bool("IsTruncated", next_marker.has_value());
  if (next_marker) w.leaf("Marker", *next_marker);
}

// <Tags><member><Key/><Value/></member>...</Tags>, nothing when empty.
inline void write_tags(api::XmlWriter& w, const std::vector<Tag>& tags) {
  if (tags.empty()) return;
  w.open("Tags");
  for (const auto& tag : tags) w.open("member").leaf("Key", tag.key).leaf("Value", tag.value).close("member");
  w.close("Tags");
}

// Registers an operation fn(Iam&, const CallContext&, const OperationInput&).
template <class Fn>
void add_operation(api::Service& service, Iam& iam, std::string name, Fn fn, bool has_output = true) {
  api::Operation run = [&iam, fn](const api::CallContext& ctx, const api::OperationInput& in) {
    return fn(iam, ctx, in);
  };
  if (has_output)
    service.add(std::move(name), std::move(run));
  else
    service.add_without_output(std::move(name), std::move(run));
}

// Adds the role and instance-profile operations (role_service.cpp).
void add_role_operations(api::Service& service, Iam& iam);

}  // namespace berth::iam::detail
