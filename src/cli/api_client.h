// cli/api_client: berth's own commands (status, down, logs of a service)
// as a client of the daemon's public API, signed with the data dir's
// administrator key like the aws CLI signs: ECS speaks JSON 1.1, ELBv2 and
// EC2 the query protocol with XML answers.
//
// Blocking: each call runs the client's private event loop until its
// answer is in. One thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>
#include <boost/property_tree/ptree.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "net/http_client.h"

namespace berth::cli {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

class ApiClient {
 public:
  // The endpoint and key of the daemon that last ran with this data dir.
  static Result<std::unique_ptr<ApiClient>> for_data_dir(const std::string& data_dir);
  ApiClient(std::string endpoint, std::string access_key_id, std::string secret_access_key, std::string region);

  // An ECS action ("DescribeServices") with its JSON input. An AWS error
  // answer is an Error whose code is AWS's (ClusterNotFoundException).
  Result<boost::json::value> ecs(std::string_view action, const boost::json::value& input);
  Result<boost::json::value> ecr(std::string_view action, const boost::json::value& input);
  Result<boost::json::value> application_autoscaling(std::string_view action, const boost::json::value& input);
  Result<boost::json::value> logs(std::string_view action, const boost::json::value& input);
  // berth's own console operations (src/console: CreateConsoleSignInToken).
  Result<boost::json::value> console(std::string_view action, const boost::json::value& input);
  // An ELBv2 or EC2 query action; the answer's XML as a tree from its root
  // element ("DescribeLoadBalancersResponse").
  Result<boost::property_tree::ptree> elbv2(std::string_view action, const QueryParams& params);
  Result<boost::property_tree::ptree> ec2(std::string_view action, const QueryParams& params);

  const std::string& endpoint() const { return endpoint_; }

 private:
  Result<std::string> call(std::string_view service, std::string content_type, std::string target, std::string body,
                           unsigned& status);
  Result<boost::json::value> json_call(std::string_view service, std::string_view target_prefix,
                                        std::string_view action, const boost::json::value& input);
  Result<boost::property_tree::ptree> query(std::string_view service, std::string_view version,
                                            std::string_view action, const QueryParams& params);

  std::string endpoint_, access_key_id_, secret_access_key_, region_;
  boost::asio::io_context io_;
  net::HttpClient http_;
};

// The children of `tree` at `path` named "member" or "item" (the query
// protocols' list elements), in order.
std::vector<const boost::property_tree::ptree*> members(const boost::property_tree::ptree& tree,
                                                        const std::string& path);

}  // namespace berth::cli
