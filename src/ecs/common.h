// ecs/common: what every ECS operation file shares: reading JSON 1.1 input
// fields with AWS-shaped errors, ARNs (reference §2.1), cluster lookup,
// tags, pagination tokens and the options the module was built with.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/service.h"
#include "core/clock.h"
#include "core/error.h"
#include "ecs/ecs.h"
#include "store/store.h"

namespace berth::ecs {

inline constexpr std::string_view kClusterNotFound = "ClusterNotFoundException";

inline Error client_exception(std::string message) { return Error::invalid("ClientException", std::move(message)); }
inline Error invalid_parameter(std::string message) {
  return Error::invalid("InvalidParameterException", std::move(message));
}
inline Error cluster_not_found() { return Error::not_found(std::string(kClusterNotFound), "Cluster not found."); }

inline std::string body(const boost::json::object& o) { return boost::json::serialize(o); }

// Input readers: nullopt when absent or null; InvalidParameterException
// when present with the wrong JSON type (botocore validates types before
// sending, so only hand-made requests get here).
Result<std::optional<std::string>> opt_string(const boost::json::object& in, std::string_view key);
Result<std::optional<int64_t>> opt_int(const boost::json::object& in, std::string_view key);
Result<std::optional<bool>> opt_bool(const boost::json::object& in, std::string_view key);
Result<std::vector<std::string>> string_list(const boost::json::object& in, std::string_view key);
const boost::json::array* opt_array(const boost::json::object& in, std::string_view key);

// Names of clusters, families and containers: 1-255 of [A-Za-z0-9_-].
bool valid_name(std::string_view name);

// ARNs, long format.
std::string arn_prefix(const Options& o);  // "arn:aws:ecs:<region>:<account>:"
std::string cluster_arn(const Options& o, std::string_view cluster);
std::string task_definition_arn(const Options& o, std::string_view family, int64_t revision);
std::string container_instance_arn(const Options& o, std::string_view cluster, std::string_view id);
std::string task_arn(const Options& o, std::string_view cluster, std::string_view id);
std::string container_arn(const Options& o, std::string_view cluster, std::string_view task_id,
                          std::string_view uuid);

// "name" or a cluster ARN -> name; omitted -> "default".
std::string cluster_name_from(std::optional<std::string> id);
// The cluster name of the request's "cluster" member if that cluster is
// ACTIVE; ClusterNotFoundException otherwise.
Result<std::string> active_cluster(store::Tx& tx, const boost::json::object& in);
// The last path segment of an ARN, or the id itself.
std::string last_segment(std::string_view id_or_arn);

// Tags as AWS spells them in ECS: [{"key": "...", "value": "..."}].
using Tags = std::vector<std::pair<std::string, std::string>>;
Result<Tags> read_tags(const boost::json::object& in, std::string_view key = "tags");
Status put_tags(store::Tx& tx, std::string_view arn, const Tags& tags);
Result<boost::json::array> tags_json(store::Tx& tx, std::string_view arn);

// Pagination: maxResults in [1, 100] (default `default_max`), nextToken an
// opaque encoding of the offset into the ordered result.
struct Page {
  size_t offset = 0;
  size_t max = 100;
};
Result<Page> read_page(const boost::json::object& in, size_t default_max = 100, size_t limit = 100);
std::string next_token(size_t offset);
// One page of a List* answer: steps `stmt`, whose query ends "LIMIT max+1
// OFFSET offset" (the extra row says a next page exists), into
// {key: [item(row)...]} plus nextToken when there is more.
Result<boost::json::object> page_of(store::Statement& stmt, const Page& page, std::string_view key,
                                     const std::function<std::string(const store::Statement&)>& item);

double now_seconds(WallTime t);

// Operation registration per API area (one file each).
class LoadBalancing;  // load_balancing.h
struct Context {
  store::Database& db;
  Options options;
  // The load balancer's side for services with loadBalancers; null when
  // no load balancer module runs (CreateService then refuses them).
  LoadBalancing* load_balancing = nullptr;
};
void add_cluster_operations(api::Service& service, const std::shared_ptr<Context>& ctx);
void add_task_definition_operations(api::Service& service, const std::shared_ptr<Context>& ctx);
void add_tag_operations(api::Service& service, const std::shared_ptr<Context>& ctx);
void add_container_instance_operations(api::Service& service, const std::shared_ptr<Context>& ctx);
void add_task_operations(api::Service& service, const std::shared_ptr<Context>& ctx);
void add_service_operations(api::Service& service, const std::shared_ptr<Context>& ctx);

}  // namespace berth::ecs
