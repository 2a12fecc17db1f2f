// The stop reasons, as the ECS agent and Fargate word them:
//
//   prefix   "ResourceInitializationError: unable to pull secrets or registry auth: execution resource
//            retrieval failed: " (every report below)
//   SSM      "unable to retrieve secrets from ssm: service call has been retried 1 time(s): " then
//              "AccessDeniedException: User: arn:aws:sts::<acct>:assumed-role/<role>/<session> is not
//              authorized to perform: ssm:GetParameters on resource: <parameter ARN> because no
//              identity-based policy allows the ssm:GetParameters action status code: 400, request id: <id>"
//              (aws/copilot-cli#4504, #3240), or "invalid parameters: <names>" (amazon-ecs-agent
//              agent/ssm/ssm.go extractSSMValues: GetParameters' InvalidParameters, joined by ",")
//   Secrets  "unable to retrieve secret from asm: service call has been retried 1 time(s): " then
//              "failed to fetch secret <id> from secrets manager: <Code>: <message> status code: 400,
//              request id: <id>" (GiamPy5/terraform-aws-directus#10, Releem/releem-agent#195; the first
//              is the secret under a customer managed key the role may not kms:Decrypt with:
//              "AccessDeniedException: Access to KMS is not allowed"), or
//              "retrieved secret from Secrets Manager did not contain json key <key>" (amazon-ecs-agent
//              agent/asm/asm.go GetSecretFromASMWithInput). For a value that is not a JSON object
//              Go says "invalid character 'x' looking for beginning of value"
//              (rileydakota/valheim-ecs-fargate-cdk#9), quoting part of the secret: berth says so
//              without the character, as the reason is shown by DescribeTasks.
//   role     unverified: no public report of the exact text for an execution role that does not exist
//            or does not trust ecs-tasks.amazonaws.com; berth puts ECS's RunTask wording for a role it
//            cannot assume after the prefix.
//
// The first failing request (in request order) gives the reason; the agent
// fetches SSM parameters before Secrets Manager secrets, and so does this.
#include "secrets/store_secret_reader.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/ids.h"
#include "secrets/parameter_names.h"

namespace berth::secrets {
namespace {

constexpr std::string_view kPrefix =
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: ";
constexpr std::string_view kFromSsm = "unable to retrieve secrets from ssm: service call has been retried 1 time(s): ";
constexpr std::string_view kFromAsm = "unable to retrieve secret from asm: service call has been retried 1 time(s): ";

Error stop_reason(ErrorClass error_class, std::string text) {
  return Error{error_class, "ResourceInitializationError", std::string(kPrefix) + text};
}

std::string status_and_request_id() { return " status code: 400, request id: " + ids::uuid4(); }

bool is_secret_arn(std::string_view v) { return v.rfind("arn:aws:secretsmanager:", 0) == 0; }

// "arn:aws:secretsmanager:r:a:secret:name-AbCdEf[:json-key:stage:version-id]"
struct SecretReference {
  std::string secret_id;
  std::string json_key;
  std::string stage;
  std::string version_id;
};

std::optional<SecretReference> parse_secret_reference(std::string_view value_from) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t colon = value_from.find(':', start);
    parts.push_back(value_from.substr(start, colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  // arn, aws, secretsmanager, region, account, "secret", name [, key, stage, version]
  if ((parts.size() != 7 && parts.size() != 10) || parts[5] != "secret") return std::nullopt;
  SecretReference r;
  size_t id_end = parts[6].data() + parts[6].size() - value_from.data();
  r.secret_id = std::string(value_from.substr(0, id_end));
  if (parts.size() == 10) {
    r.json_key = parts[7];
    r.stage = parts[8];
    r.version_id = parts[9];
  }
  return r;
}

// Go's fmt "%v" of a decoded JSON value, for the plain cases.
std::string go_format(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  return boost::json::serialize(v);
}

}  // namespace

std::string StoreSecretReader::assumed_role(std::string_view role) const {
  std::string_view name = role.substr(role.rfind('/') == std::string_view::npos ? 0 : role.rfind('/') + 1);
  return "arn:aws:sts::" + account_id_ + ":assumed-role/" + std::string(name) + "/" +
         std::string(kExecutionSessionName);
}

std::string StoreSecretReader::kms_key_arn(std::string_view key_id) const {
  if (key_id.rfind("arn:", 0) == 0) return std::string(key_id);
  std::string prefix = "arn:aws:kms:" + region_ + ":" + account_id_ + ":";
  if (key_id.rfind("alias/", 0) == 0) return prefix + std::string(key_id);
  return prefix + "key/" + std::string(key_id);
}

Result<bool> StoreSecretReader::may(std::string_view role, std::string_view action, std::string_view resource) {
  auto trusted = role.empty() ? Result<bool>(Error::not_found("NoSuchEntity", "no execution role"))
                              : roles_.trusted_by_ecs_tasks(role);
  if (trusted && *trusted) return roles_.allows(role, action, resource);
  if (!trusted && trusted.error().error_class != ErrorClass::kNotFound) return std::move(trusted).error();
  return stop_reason(ErrorClass::kDenied,
                     "ECS was unable to assume the role '" + std::string(role) +
                         "' that was provided for this task. Please verify that the role being passed has the proper "
                         "trust relationship and permissions and that your IAM user has permissions to pass this "
                         "role.");
}

Result<std::vector<std::string>> StoreSecretReader::read(const std::vector<Request>& requests) {
  std::vector<std::string> values(requests.size());
  std::vector<std::string> missing;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (is_secret_arn(requests[i].value_from)) continue;
    auto v = read_parameter(requests[i], missing);
    if (!v) return std::move(v).error();
    values[i] = std::move(*v);
  }
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ",") + m;
    return stop_reason(ErrorClass::kNotFound, std::string(kFromSsm) + "invalid parameters: " + names);
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    if (!is_secret_arn(requests[i].value_from)) continue;
    auto v = read_secret(requests[i]);
    if (!v) return std::move(v).error();
    values[i] = std::move(*v);
  }
  return values;
}

Result<std::string> StoreSecretReader::read_parameter(const Request& r, std::vector<std::string>& missing) {
  std::string resource = r.value_from.rfind("arn:", 0) == 0 ? r.value_from : parameters_.arn(r.value_from);
  auto allowed = may(r.execution_role_arn, "ssm:GetParameters", resource);
  if (!allowed) return std::move(allowed).error();
  if (!*allowed)
    return stop_reason(ErrorClass::kDenied,
                       std::string(kFromSsm) + "AccessDeniedException: User: " + assumed_role(r.execution_role_arn) +
                           " is not authorized to perform: ssm:GetParameters on resource: " + resource +
                           " because no identity-based policy allows the ssm:GetParameters action" +
                           status_and_request_id());
  auto p = parameters_.get(r.value_from, true);
  if (!p) {
    if (p.error().error_class != ErrorClass::kNotFound) return std::move(p).error();
    missing.push_back(r.value_from);
    return std::string();
  }
  if (p->type == "SecureString" && p->key_id != kDefaultSsmKeyId) {
    std::string key = kms_key_arn(p->key_id);
    auto decrypt = may(r.execution_role_arn, "kms:Decrypt", key);
    if (!decrypt) return std::move(decrypt).error();
    // Unverified wording: SSM relaying KMS's refusal.
    if (!*decrypt)
      return stop_reason(ErrorClass::kDenied, std::string(kFromSsm) + "AccessDeniedException: User: " +
                                                  assumed_role(r.execution_role_arn) +
                                                  " is not authorized to perform: kms:Decrypt on resource: " + key +
                                                  " because no identity-based policy allows the kms:Decrypt action" +
                                                  status_and_request_id());
  }
  return std::move(p->value);
}

Result<std::string> StoreSecretReader::read_secret(const Request& r) {
  auto ref = parse_secret_reference(r.value_from);
  if (!ref)
    return stop_reason(ErrorClass::kInvalid,
                       std::string(kFromAsm) + "an invalid ARN format for the AWS Secrets Manager secret was specified. "
                                               "Specify a valid ARN and try again.");
  auto fetch_failed = [&](std::string_view code, std::string_view message, ErrorClass error_class) {
    return stop_reason(error_class, std::string(kFromAsm) + "failed to fetch secret " + ref->secret_id +
                                        " from secrets manager: " + std::string(code) + ": " + std::string(message) +
                                        status_and_request_id());
  };
  WallTime now = clock_.now();
  // IAM checks the secret's full ARN, whatever form named it.
  auto described = secrets_.describe(ref->secret_id, now);
  std::string resource = described ? described->arn : ref->secret_id;
  auto allowed = may(r.execution_role_arn, "secretsmanager:GetSecretValue", resource);
  if (!allowed) return std::move(allowed).error();
  if (!*allowed)
    return fetch_failed("AccessDeniedException",
                        "User: " + assumed_role(r.execution_role_arn) +
                            " is not authorized to perform: secretsmanager:GetSecretValue on resource: " +
                            ref->secret_id + " because no identity-based policy allows the "
                                             "secretsmanager:GetSecretValue action",
                        ErrorClass::kDenied);
  if (described && described->kms_key_id && !described->kms_key_id->empty() &&
      *described->kms_key_id != "alias/aws/secretsmanager") {
    auto decrypt = may(r.execution_role_arn, "kms:Decrypt", kms_key_arn(*described->kms_key_id));
    if (!decrypt) return std::move(decrypt).error();
    if (!*decrypt) return fetch_failed("AccessDeniedException", "Access to KMS is not allowed", ErrorClass::kDenied);
  }
  std::optional<std::string_view> version, stage;
  if (!ref->version_id.empty()) version = ref->version_id;
  if (!ref->stage.empty()) stage = ref->stage;
  auto value = secrets_.get_value(ref->secret_id, version, stage, now);
  if (!value) {
    if (value.error().error_class == ErrorClass::kInternal) return std::move(value).error();
    return fetch_failed(value.error().code, value.error().message, value.error().error_class);
  }
  std::string text = value->string.value_or("");
  if (ref->json_key.empty()) return text;
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(text, ec);
  if (ec || !parsed.is_object()) {
    // Go's words, without the character itself: the reason is shown by
    // DescribeTasks, and no part of a secret may be.
    return stop_reason(ErrorClass::kInvalid, std::string(kFromAsm) +
                                                 "the secret's value is not a JSON object: cannot select json key " +
                                                 ref->json_key);
  }
  const auto* member = parsed.get_object().if_contains(ref->json_key);
  if (!member)
    return stop_reason(ErrorClass::kNotFound, std::string(kFromAsm) +
                                                  "retrieved secret from Secrets Manager did not contain json key " +
                                                  ref->json_key);
  return go_format(*member);
}

}  // namespace berth::secrets
