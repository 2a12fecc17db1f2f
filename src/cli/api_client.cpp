#include "cli/api_client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <optional>
#include <sstream>

#include "api/sigv4.h"
#include "cli/data_dir.h"
#include "cli/options.h"
#include "core/clock.h"

namespace berth::cli {

namespace http = boost::beast::http;
namespace pt = boost::property_tree;

namespace {

std::string form_encode(std::string_view text) { return boost::urls::encode(text, boost::urls::unreserved_chars); }

Error aws_error(unsigned status, std::string code, std::string message) {
  if (code.empty()) code = "HTTP" + std::to_string(status);
  if (status == 404 || code.find("NotFound") != std::string::npos) return Error::not_found(code, message);
  return Error::invalid(code, message);
}

}  // namespace

Result<std::unique_ptr<ApiClient>> ApiClient::for_data_dir(const std::string& data_dir) {
  auto endpoint = read_endpoint(data_dir);
  if (!endpoint) return Error::unavailable("no daemon has run with data dir " + data_dir);
  auto key = read_credentials(data_dir);
  if (!key) return std::move(key).error();
  return std::make_unique<ApiClient>(*endpoint, key->access_key_id, key->secret_access_key,
                                     std::string(kDefaultRegion));
}

ApiClient::ApiClient(std::string endpoint, std::string access_key_id, std::string secret_access_key,
                     std::string region)
    : endpoint_(std::move(endpoint)),
      access_key_id_(std::move(access_key_id)),
      secret_access_key_(std::move(secret_access_key)),
      region_(std::move(region)),
      http_(io_.get_executor()) {}

Result<std::string> ApiClient::call(std::string_view service, std::string content_type, std::string target,
                                    std::string body, unsigned& status) {
  std::string host = endpoint_.substr(endpoint_.find("://") + 3);
  std::vector<api::HeaderField> headers{{"content-type", content_type}, {"host", host}};
  if (!target.empty()) headers.push_back({"x-amz-target", target});
  api::SignedRequest to_sign{"POST", "/", "", headers, body};
  auto signature = api::sign_request(to_sign, {access_key_id_, secret_access_key_, {}}, region_, service,
                                     SystemClock::instance().now());
  net::ClientRequest request;
  request.method = http::verb::post;
  request.url = endpoint_ + "/";
  request.headers.set(http::field::content_type, content_type);
  request.headers.set(http::field::host, host);
  if (!target.empty()) request.headers.set("X-Amz-Target", target);
  request.headers.set("X-Amz-Date", signature.amz_date);
  request.headers.set(http::field::authorization, signature.authorization);
  request.body = std::move(body);

  std::optional<Result<net::ClientResponse>> answer;
  auto ask = [&](net::ClientRequest r) -> boost::asio::awaitable<void> {
    answer.emplace(co_await http_.request(std::move(r)));
  };
  boost::asio::co_spawn(io_, ask(std::move(request)), [&](std::exception_ptr e) {
    if (e && !answer) answer.emplace(Error::unavailable("request to " + endpoint_ + " failed"));
  });
  io_.restart();
  while (!answer && io_.run_one() > 0) {
  }
  if (!answer) return Error::unavailable("request to " + endpoint_ + " did not finish");
  if (!*answer) return std::move(*answer).error();
  status = (*answer)->status;
  return std::move((*answer)->body);
}

Result<boost::json::value> ApiClient::ecs(std::string_view action, const boost::json::value& input) {
  return json_call("ecs", "AmazonEC2ContainerServiceV20141113", action, input);
}

Result<boost::json::value> ApiClient::ecr(std::string_view action, const boost::json::value& input) {
  return json_call("ecr", "AmazonEC2ContainerRegistry_V20150921", action, input);
}

Result<boost::json::value> ApiClient::application_autoscaling(std::string_view action,
                                                              const boost::json::value& input) {
  return json_call("application-autoscaling", "AnyScaleFrontendService", action, input);
}

Result<boost::json::value> ApiClient::logs(std::string_view action, const boost::json::value& input) {
  return json_call("logs", "Logs_20140328", action, input);
}

Result<boost::json::value> ApiClient::console(std::string_view action, const boost::json::value& input) {
  return json_call("berth", "BerthConsole", action, input);
}

Result<boost::json::value> ApiClient::json_call(std::string_view service, std::string_view target_prefix,
                                                std::string_view action, const boost::json::value& input) {
  unsigned status = 0;
  auto body = call(service, "application/x-amz-json-1.1", std::string(target_prefix) + "." + std::string(action),
                   boost::json::serialize(input), status);
  if (!body) return std::move(body).error();
  boost::system::error_code ec;
  auto value = boost::json::parse(*body, ec);
  if (ec || !value.is_object())
    return Error::internal(std::string(service) + " " + std::string(action) + ": not JSON: " + *body);
  if (status != 200) {
    const auto& o = value.as_object();
    std::string code, message;
    if (auto* t = o.if_contains("__type"); t && t->is_string()) code = t->as_string();
    if (auto* m = o.if_contains("message"); m && m->is_string()) message = m->as_string();
    return aws_error(status, code.substr(code.rfind('#') + 1), message);
  }
  return value;
}

Result<pt::ptree> ApiClient::query(std::string_view service, std::string_view version, std::string_view action,
                                   const QueryParams& params) {
  std::string body = "Action=" + std::string(action) + "&Version=" + std::string(version);
  for (const auto& [name, value] : params) body += "&" + form_encode(name) + "=" + form_encode(value);
  unsigned status = 0;
  auto text = call(service, "application/x-www-form-urlencoded; charset=utf-8", "", std::move(body), status);
  if (!text) return std::move(text).error();
  pt::ptree tree;
  try {
    std::istringstream in(*text);
    pt::read_xml(in, tree, pt::xml_parser::trim_whitespace);
  } catch (const pt::xml_parser_error&) {
    return Error::internal(std::string(action) + ": not XML: " + *text);
  }
  if (tree.empty()) return Error::internal(std::string(action) + ": empty answer");
  pt::ptree root = tree.front().second;
  if (status != 200) {
    // ELBv2: ErrorResponse/Error; EC2: Response/Errors/Error.
    auto error = root.get_child_optional("Error");
    if (!error) error = root.get_child_optional("Errors.Error");
    std::string code = error ? error->get("Code", "") : "", message = error ? error->get("Message", "") : "";
    return aws_error(status, code, message);
  }
  return root;
}

Result<pt::ptree> ApiClient::elbv2(std::string_view action, const QueryParams& params) {
  return query("elasticloadbalancing", "2015-12-01", action, params);
}

Result<pt::ptree> ApiClient::ec2(std::string_view action, const QueryParams& params) {
  return query("ec2", "2016-11-15", action, params);
}

std::vector<const pt::ptree*> members(const pt::ptree& tree, const std::string& path) {
  std::vector<const pt::ptree*> out;
  auto list = tree.get_child_optional(path);
  if (!list) return out;
  for (const auto& [name, child] : *list)
    if (name == "member" || name == "item") out.push_back(&child);
  return out;
}

}  // namespace berth::cli
