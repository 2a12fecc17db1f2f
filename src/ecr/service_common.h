// ecr/service_common: input reading and output shapes shared by the ECR
// API operations (service_*.cpp).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/service.h"
#include "core/error.h"
#include "ecr/blob_store.h"
#include "ecr/catalog.h"

namespace berth::ecr::svc {

inline Error invalid_parameter(std::string message) {
  return Error::invalid("InvalidParameterException", std::move(message));
}

// A string member; nullopt if absent; an error if present but not a string.
Result<std::optional<std::string>> opt_string(const boost::json::object& in, std::string_view key);
Result<std::string> req_string(const boost::json::object& in, std::string_view key);
Result<std::string> repository_name(const boost::json::object& in);
// maxResults in [1, max]; default if absent.
Result<size_t> max_results(const boost::json::object& in, size_t default_value, size_t max);
Result<std::vector<Tag>> tag_list(const boost::json::object& in, std::string_view key);

boost::json::object repository_json(const RepositoryRecord& r, std::string_view host);
boost::json::object image_id_json(std::string_view digest, std::optional<std::string_view> tag);
inline std::string body(const boost::json::object& o) { return boost::json::serialize(o); }

void add_repository_operations(api::Service& service, Catalog& catalog);
void add_image_operations(api::Service& service, Catalog& catalog, BlobStore& blobs);

}  // namespace berth::ecr::svc
