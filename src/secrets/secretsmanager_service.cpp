// The Secrets Manager operations: one function per operation, each reading
// its members (json_members.h), calling SecretStore and writing the
// model's output shape. Secret values never reach a log: they only travel
// in request and response bodies, which berth does not log.
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/ids.h"
#include "core/time_format.h"
#include "secrets/services.h"

namespace berth::secrets {
namespace {

// NextToken is the base64 of a decimal offset into the listing.
Result<size_t> page_offset(std::string_view token) {
  std::string text;
  size_t offset = 0;
  if (base64_decode(token, text) && !text.empty()) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), offset);
    if (ec == std::errc() && end == text.data() + text.size()) return offset;
  }
  return Error::invalid("InvalidNextTokenException", "The NextToken value is invalid.");  // unverified wording
}

namespace json = boost::json;
using api::CallContext;
using api::OperationInput;

constexpr std::string_view kInvalidParameter = "InvalidParameterException";

std::string body(const json::object& o) { return json::serialize(o); }

Error invalid_parameter(std::string message) { return Error::invalid(std::string(kInvalidParameter), std::move(message)); }

json::array strings(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return a;
}

json::array tags_json(const Tags& tags) {
  json::array a;
  for (const auto& [k, v] : tags) a.push_back(json::object{{"Key", k}, {"Value", v}});
  return a;
}

json::object stages_json(const SecretRecord& r) {
  json::object o;
  for (const auto& [version, stages] : r.version_stages) o[version] = strings(stages);
  return o;
}

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("/_+=.@-").find(c) != std::string_view::npos;
}

Status check_name(std::string_view name) {
  if (!name.empty() && std::all_of(name.begin(), name.end(), name_char)) return Ok{};
  return invalid_parameter(
      "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!");
}

// SecretString or SecretBinary (base64 on the wire); at most one.
Result<SecretValueInput> read_value(const JsonMembers& m) {
  SecretValueInput v;
  auto s = m.opt_string("SecretString", 1, 65536);
  if (!s) return std::move(s).error();
  auto b = m.opt_string("SecretBinary", 1, 4 * 65536 / 3 + 4);
  if (!b) return std::move(b).error();
  if (*s && *b)  // unverified wording
    return invalid_parameter("You can't specify both a binary secret value and a string secret value in the same secret.");
  v.string = std::move(*s);
  if (*b) {
    std::string raw;
    if (!base64_decode(**b, raw) || raw.empty() || raw.size() > 65536)
      return invalid_parameter("Invalid base64 in SecretBinary.");
    v.binary = std::move(raw);
  }
  return v;
}

// ClientRequestToken (botocore fills one in), or a fresh UUID.
Result<std::string> request_token(const JsonMembers& m) {
  auto token = m.opt_string("ClientRequestToken", 32, 64);
  if (!token) return std::move(token).error();
  return token->value_or(ids::uuid4());
}

Result<std::string> secret_id(const JsonMembers& m) { return m.req_string("SecretId", 1, 2048); }

json::object arn_and_name(std::string_view arn, std::string_view name) {
  return json::object{{"ARN", arn}, {"Name", name}};
}

Result<std::string> create_secret(SecretStore& store, const CallContext& ctx, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kInvalidParameter));
  CreateSecretInput c;
  auto name = m.req_string("Name", 1, 512);
  if (!name) return std::move(name).error();
  if (auto s = check_name(*name); !s) return std::move(s).error();
  auto token = request_token(m);
  auto description = m.opt_string("Description", 0, 2048);
  auto kms = m.opt_string("KmsKeyId", 0, 2048);
  auto value = read_value(m);
  auto tags = m.tags("Tags");
  if (!token) return std::move(token).error();
  if (!description) return std::move(description).error();
  if (!kms) return std::move(kms).error();
  if (!value) return std::move(value).error();
  if (!tags) return std::move(tags).error();
  if (in.json->contains("AddReplicaRegions"))
    return invalid_parameter("berth keeps secrets in one region; AddReplicaRegions is not supported.");
  c.name = std::move(*name);
  c.client_request_token = std::move(*token);
  c.description = std::move(*description);
  c.kms_key_id = std::move(*kms);
  c.value = std::move(*value);
  c.tags = std::move(*tags);
  auto w = store.create(c, ctx.now);
  if (!w) return std::move(w).error();
  json::object o = arn_and_name(w->arn, w->name);
  if (w->version_id) o["VersionId"] = *w->version_id;
  return body(o);
}

Result<std::string> get_secret_value(SecretStore& store, const CallContext& ctx, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kInvalidParameter));
  auto id = secret_id(m);
  auto version = m.opt_string("VersionId", 32, 64);
  auto stage = m.opt_string("VersionStage", 1, 256);
  if (!id) return std::move(id).error();
  if (!version) return std::move(version).error();
  if (!stage) return std::move(stage).error();
  auto v = store.get_value(*id, *version, *stage, ctx.now);
  if (!v) return std::move(v).error();
  json::object o = arn_and_name(v->arn, v->name);
  o["VersionId"] = v->version_id;
  if (v->string) o["SecretString"] = *v->string;
  if (v->binary) o["SecretBinary"] = base64_encode(*v->binary);
  o["VersionStages"] = strings(v->stages);
  o["CreatedDate"] = epoch_seconds(v->created);
  return body(o);
}

Result<std::string> put_secret_value(SecretStore& store, const CallContext& ctx, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kInvalidParameter));
  auto id = secret_id(m);
  auto token = request_token(m);
  auto value = read_value(m);
  auto stages = m.opt_strings("VersionStages", 1, 20);
  if (!id) return std::move(id).error();
  if (!token) return std::move(token).error();
  if (!value) return std::move(value).error();
  if (!stages) return std::move(stages).error();
  if (value->empty())  // unverified wording
    return invalid_parameter("You must provide either SecretString or SecretBinary.");
  auto w = store.put_value(*id, *token, *value, std::move(*stages), ctx.now);
  if (!w) return std::move(w).error();
  json::object o = arn_and_name(w->arn, w->name);
  o["VersionId"] = *w->version_id;
  o["VersionStages"] = strings(w->stages);
  return body(o);
}

Result<std::string> update_secret(SecretStore& store, const CallContext& ctx, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kInvalidParameter));
  auto id = secret_id(m);
  auto token = request_token(m);
  auto description = m.opt_string("Description", 0, 2048);
  auto kms = m.opt_string("KmsKeyId", 0, 2048);
  auto value = read_value(m);
  if (!id) return std::move(id).error();
  if (!token) return std::move(token).error();
  if (!description) return std::move(description).error();
  if (!kms) return std::move(kms).error();
  if (!value) return std::move(value).error();
  auto w = store.update(*id, std::move(*description), std::move(*kms), *token, *value, ctx.now);
  if (!w) return std::move(w).error();
  json::object o = arn_and_name(w->arn, w->name);
  if (w->version_id) o["VersionId"] = *w->version_id;
  return body(o);
}

Result<std::string> delete_secret(SecretStore& store, const CallContext& ctx, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kInvalidParameter));
  auto id = secret_id(m);
  if (!id) return std::move(id).error();
  auto force = m.opt_bool("ForceDeleteWithoutRecovery");
  if (!force) return std::move(force).error();
  const auto* window = in.json->if_contains("RecoveryWindowInDays");
  int64_t days = 30;
  if (window && !window->is_null()) {
    if (*force)
      return invalid_parameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    if (!window->is_int64() || window->get_int64() < 7 || window->get_int64() > 30)
      return invalid_parameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
    days = window->get_int64();
  }
  auto r = store.schedule_deletion(*id, days, *force, ctx.now);
  if (!r) return std::move(r).error();
  json::object o = arn_and_name(r->arn, r->name);
  o["DeletionDate"] = epoch_seconds(*r->deletion_date);
  return body(o);
}

Result<std::string> restore_secret(SecretStore& store, const CallContext& ctx, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kInvalidParameter));
  auto id = secret_id(m);
  if (!id) return std::move(id).error();
  auto r = store.restore(*id, ctx.now);
  if (!r) return std::move(r).error();
  return body(arn_and_name(r->arn, r->name));
}

// DescribeSecret's shape; ListSecrets' entries are the same less
// VersionIdsToStages, which they call SecretVersionsToStages.
json::object secret_json(const SecretRecord& r, bool list_entry) {
  json::object o = arn_and_name(r.arn, r.name);
  if (r.description) o["Description"] = *r.description;
  if (r.kms_key_id && !r.kms_key_id->empty()) o["KmsKeyId"] = *r.kms_key_id;
  o["RotationEnabled"] = false;
  o["LastChangedDate"] = epoch_seconds(r.last_changed);
  if (r.deleted) o["DeletedDate"] = epoch_seconds(*r.deleted);
  o["Tags"] = tags_json(r.tags);
  if (!r.version_stages.empty()) o[list_entry ? "SecretVersionsToStages" : "VersionIdsToStages"] = stages_json(r);
  o["CreatedDate"] = epoch_seconds(r.created);
  return o;
}

Result<std::string> describe_secret(SecretStore& store, const CallContext& ctx, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kInvalidParameter));
  auto id = secret_id(m);
  if (!id) return std::move(id).error();
  auto r = store.describe(*id, ctx.now);
  if (!r) return std::move(r).error();
  return body(secret_json(*r, false));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool starts(std::string_view text, std::string_view prefix, bool ignore_case) {
  if (ignore_case) return lower(text).rfind(lower(prefix), 0) == 0;
  return text.rfind(prefix, 0) == 0;
}

// One value of a ListSecrets filter ("!" negates), against one secret.
bool filter_value_matches(std::string_view key, std::string_view value, const SecretRecord& r) {
  auto any_tag = [&](auto pick, bool ignore_case) {
    return std::any_of(r.tags.begin(), r.tags.end(), [&](const auto& t) { return starts(pick(t), value, ignore_case); });
  };
  auto tag_key = [](const auto& t) -> std::string_view { return t.first; };
  auto tag_value = [](const auto& t) -> std::string_view { return t.second; };
  if (key == "name") return starts(r.name, value, false);
  if (key == "description") return r.description && starts(*r.description, value, true);
  if (key == "tag-key") return any_tag(tag_key, false);
  if (key == "tag-value") return any_tag(tag_value, false);
  if (key == "all")
    return starts(r.name, value, true) || (r.description && starts(*r.description, value, true)) ||
           any_tag(tag_key, true) || any_tag(tag_value, true);
  return false;  // primary-region and owning-service: berth's secrets have neither
}

Result<std::string> list_secrets(SecretStore& store, const CallContext& ctx, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kInvalidParameter));
  auto include_deleted = m.opt_bool("IncludePlannedDeletion");
  auto max = m.opt_int("MaxResults", 1, 100);
  auto token = m.opt_string("NextToken", 1, 4096);
  auto order = m.opt_string("SortOrder");
  auto sort_by = m.opt_string("SortBy");
  auto filters = m.objects("Filters");
  if (!include_deleted) return std::move(include_deleted).error();
  if (!max) return std::move(max).error();
  if (!token) return std::move(token).error();
  if (!order) return std::move(order).error();
  if (!sort_by) return std::move(sort_by).error();
  if (!filters) return std::move(filters).error();
  size_t offset = 0;
  if (*token) {
    auto decoded = page_offset(**token);
    if (!decoded) return std::move(decoded).error();
    offset = *decoded;
  }
  auto all = store.list(*include_deleted, ctx.now);
  if (!all) return std::move(all).error();
  std::vector<SecretRecord> chosen;
  for (auto& r : *all) {
    bool keep = true;
    for (const auto* f : *filters) {
      JsonMembers fm(*f, std::string(kInvalidParameter));
      auto key = fm.req_string("Key");
      auto values = fm.opt_strings("Values", 1, 10);
      if (!key) return std::move(key).error();
      if (!values) return std::move(values).error();
      static constexpr std::string_view kKeys[] = {"description", "name", "tag-key", "tag-value",
                                                   "primary-region", "owning-service", "all"};
      if (std::find(std::begin(kKeys), std::end(kKeys), *key) == std::end(kKeys))
        return invalid_parameter("1 validation error detected: Value '" + *key +
                                 "' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum "
                                 "value set: [all, name, tag-key, description, tag-value, owning-service, "
                                 "primary-region]");
      bool any = false;
      for (const auto& v : values->value_or(std::vector<std::string>{})) {
        bool negated = !v.empty() && v[0] == '!';
        std::string_view text = negated ? std::string_view(v).substr(1) : std::string_view(v);
        any = any || (filter_value_matches(*key, text, r) != negated);
      }
      keep = keep && any;
    }
    if (keep) chosen.push_back(std::move(r));
  }
  // By creation unless told otherwise (the store lists them so); ascending
  // when no SortOrder is given (unverified: AWS documents no default).
  std::string by = sort_by->value_or("created-date");
  if (by == "name")
    std::stable_sort(chosen.begin(), chosen.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  else if (by == "last-changed-date")
    std::stable_sort(chosen.begin(), chosen.end(),
                     [](const auto& a, const auto& b) { return a.last_changed < b.last_changed; });
  else if (by != "created-date" && by != "last-accessed-date")
    return invalid_parameter("1 validation error detected: Value '" + by +
                             "' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: "
                             "[created-date, last-accessed-date, last-changed-date, name]");
  if (order->value_or("asc") == "desc") std::reverse(chosen.begin(), chosen.end());
  size_t limit = static_cast<size_t>(max->value_or(100));
  json::array list;
  for (size_t i = offset; i < chosen.size() && i < offset + limit; ++i) list.push_back(secret_json(chosen[i], true));
  json::object o{{"SecretList", std::move(list)}};
  if (offset + limit < chosen.size()) o["NextToken"] = base64_encode(std::to_string(offset + limit));
  return body(o);
}

Result<std::string> list_secret_version_ids(SecretStore& store, const CallContext& ctx, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kInvalidParameter));
  auto id = secret_id(m);
  auto max = m.opt_int("MaxResults", 1, 100);
  auto token = m.opt_string("NextToken", 1, 4096);
  auto deprecated = m.opt_bool("IncludeDeprecated");
  if (!id) return std::move(id).error();
  if (!max) return std::move(max).error();
  if (!token) return std::move(token).error();
  if (!deprecated) return std::move(deprecated).error();
  size_t offset = 0;
  if (*token) {
    auto decoded = page_offset(**token);
    if (!decoded) return std::move(decoded).error();
    offset = *decoded;
  }
  auto listed = store.versions(*id, ctx.now);
  if (!listed) return std::move(listed).error();
  // A version without a stage is deprecated: listed only when asked for.
  std::vector<SecretStore::VersionEntry> shown;
  for (auto& v : listed->second)
    if (!v.stages.empty() || *deprecated) shown.push_back(std::move(v));
  size_t limit = static_cast<size_t>(max->value_or(100));
  json::array versions;
  for (size_t i = offset; i < shown.size() && i < offset + limit; ++i)
    versions.push_back(json::object{{"VersionId", shown[i].version_id},
                                    {"VersionStages", strings(shown[i].stages)},
                                    {"CreatedDate", epoch_seconds(shown[i].created)}});
  json::object o{{"Versions", std::move(versions)}, {"ARN", listed->first.arn}, {"Name", listed->first.name}};
  if (offset + limit < shown.size()) o["NextToken"] = base64_encode(std::to_string(offset + limit));
  return body(o);
}

Result<std::string> tag_resource(SecretStore& store, const CallContext& ctx, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kInvalidParameter));
  auto id = secret_id(m);
  auto tags = m.tags("Tags");
  if (!id) return std::move(id).error();
  if (!tags) return std::move(tags).error();
  if (auto s = store.tag(*id, *tags, ctx.now); !s) return std::move(s).error();
  return body({});
}

Result<std::string> untag_resource(SecretStore& store, const CallContext& ctx, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kInvalidParameter));
  auto id = secret_id(m);
  auto keys = m.opt_strings("TagKeys", 0, 200);
  if (!id) return std::move(id).error();
  if (!keys) return std::move(keys).error();
  if (!*keys) return m.req_string("TagKeys").error();
  if (auto s = store.untag(*id, **keys, ctx.now); !s) return std::move(s).error();
  return body({});
}

using Handler = Result<std::string> (*)(SecretStore&, const CallContext&, const OperationInput&);

}  // namespace

api::Service make_secretsmanager_service(SecretStore& secrets) {
  api::Service service;
  service.signing_name = "secretsmanager";
  service.protocol = api::Protocol::kJson;
  service.json_target_prefix = "secretsmanager";
  service.api_version = "2017-10-17";
  const std::pair<const char*, Handler> operations[] = {
      {"CreateSecret", create_secret},   {"GetSecretValue", get_secret_value}, {"PutSecretValue", put_secret_value},
      {"UpdateSecret", update_secret},   {"DeleteSecret", delete_secret},      {"RestoreSecret", restore_secret},
      {"DescribeSecret", describe_secret}, {"ListSecrets", list_secrets},    {"TagResource", tag_resource},
      {"UntagResource", untag_resource}, {"ListSecretVersionIds", list_secret_version_ids},
  };
  for (const auto& [name, handler] : operations)
    service.add(name, [&secrets, handler](const CallContext& ctx, const OperationInput& in) {
      return handler(secrets, ctx, in);
    });
  // Reading a secret's value is no read-only right: ReadOnlyAccess leaves
  // secretsmanager:GetSecretValue out.
  service.operations["GetSecretValue"].read_only = false;
  return service;
}

}  // namespace berth::secrets
