// The SSM Parameter Store operations: one function per operation, each
// reading its members (json_members.h), calling ParameterStore and writing
// the model's output shape.
#include <boost/json/serialize.hpp>

#include <algorithm>

#include "core/time_format.h"
#include "secrets/parameter_names.h"
#include "secrets/services.h"

namespace berth::secrets {
namespace {

namespace json = boost::json;
using api::CallContext;
using api::OperationInput;

constexpr std::string_view kValidation = "ValidationException";

std::string body(const json::object& o) { return json::serialize(o); }

json::array strings(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return a;
}

json::object parameter_json(const ParameterStore& store, const ParameterVersion& p) {
  json::object o{{"Name", p.name},
                 {"Type", p.type},
                 {"Value", p.value},
                 {"Version", p.version},
                 {"LastModifiedDate", epoch_seconds(p.modified)},
                 {"ARN", store.arn(p.name)},
                 {"DataType", p.data_type}};
  if (!p.selector.empty()) o["Selector"] = p.selector;
  return o;
}

// The members ParameterMetadata and ParameterHistory share.
json::object metadata_json(const ParameterVersion& p) {
  json::object o{{"Name", p.name}, {"Type", p.type}};
  if (!p.key_id.empty()) o["KeyId"] = p.key_id;
  o["LastModifiedDate"] = epoch_seconds(p.modified);
  o["LastModifiedUser"] = p.modified_user;
  if (!p.description.empty()) o["Description"] = p.description;
  if (!p.allowed_pattern.empty()) o["AllowedPattern"] = p.allowed_pattern;
  o["Version"] = p.version;
  o["Tier"] = p.tier;
  o["Policies"] = json::array();
  o["DataType"] = p.data_type;
  return o;
}

// NextToken: where the next page starts (opaque to callers).
std::string page_token(std::string_view after) { return base64_encode(after); }

Result<std::string> read_page_token(const JsonMembers& in) {
  auto token = in.opt_string("NextToken");
  if (!token) return std::move(token).error();
  std::string after;
  if (*token && !base64_decode(**token, after))
    return Error::invalid("InvalidNextToken", "The specified token is not valid.");  // unverified wording
  return after;
}

template <class Item>
json::object paged(std::vector<Item> items, size_t max, std::string_view list_member,
                   const std::function<std::string(const Item&)>& key, const std::function<json::object(const Item&)>& out) {
  json::object o;
  json::array a;
  for (size_t i = 0; i < items.size() && i < max; ++i) a.push_back(out(items[i]));
  o[list_member] = std::move(a);
  if (items.size() > max) o["NextToken"] = page_token(key(items[max - 1]));
  return o;
}

Result<std::string> put_parameter(ParameterStore& store, const CallContext& ctx, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kValidation));
  PutParameterInput p;
  auto name = m.req_string("Name", 1, 2048);
  if (!name) return std::move(name).error();
  auto value = m.req_string("Value");
  if (!value) return std::move(value).error();
  auto type = m.opt_string("Type");
  auto description = m.opt_string("Description", 0, 1024);
  auto pattern = m.opt_string("AllowedPattern", 0, 1024);
  auto key_id = m.opt_string("KeyId", 1, 256);
  auto tier = m.opt_string("Tier");
  auto data_type = m.opt_string("DataType", 0, 128);
  auto overwrite = m.opt_bool("Overwrite");
  auto tags = m.tags("Tags");
  for (const auto* r : {&type, &description, &pattern, &key_id, &tier, &data_type})
    if (!*r) return r->error();
  if (!overwrite) return std::move(overwrite).error();
  if (!tags) return std::move(tags).error();
  if (in.json->contains("Policies"))
    return Error::invalid(std::string(kValidation), "berth does not support parameter policies.");
  p.name = std::move(*name);
  p.value = std::move(*value);
  p.type = std::move(*type);
  p.description = std::move(*description);
  p.allowed_pattern = std::move(*pattern);
  p.key_id = std::move(*key_id);
  p.tier = tier->value_or("Standard");
  p.data_type = data_type->value_or("text");
  p.overwrite = *overwrite;
  p.tags = std::move(*tags);
  p.user = ctx.caller.arn;
  auto version = store.put(p, ctx.now);
  if (!version) return std::move(version).error();
  auto stored = store.get(p.name + ":" + std::to_string(*version), false);
  std::string tier_out = stored ? stored->tier : p.tier;
  return body({{"Version", *version}, {"Tier", tier_out}});
}

Result<std::string> get_parameter(ParameterStore& store, const CallContext&, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kValidation));
  auto name = m.req_string("Name", 1, 2048);
  if (!name) return std::move(name).error();
  auto decrypt = m.opt_bool("WithDecryption");
  if (!decrypt) return std::move(decrypt).error();
  auto p = store.get(*name, *decrypt);
  if (!p) return std::move(p).error();
  return body({{"Parameter", parameter_json(store, *p)}});
}

Result<std::string> get_parameters(ParameterStore& store, const CallContext&, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kValidation));
  auto names = m.opt_strings("Names", 1, 10);
  if (!names) return std::move(names).error();
  if (!*names) return m.req_string("Names").error();
  auto decrypt = m.opt_bool("WithDecryption");
  if (!decrypt) return std::move(decrypt).error();
  json::array found;
  std::vector<std::string> invalid;
  for (const auto& name : **names) {
    auto p = store.get(name, *decrypt);
    if (p) {
      found.push_back(parameter_json(store, *p));
    } else if (p.error().error_class == ErrorClass::kNotFound) {
      invalid.push_back(name);
    } else {
      return std::move(p).error();
    }
  }
  return body({{"Parameters", std::move(found)}, {"InvalidParameters", strings(invalid)}});
}

// ParameterStringFilter: Key, Option, Values.
struct Filter {
  std::string key;
  std::string option = "Equals";
  std::vector<std::string> values;
};

Result<std::vector<Filter>> string_filters(const JsonMembers& m, std::string_view member) {
  std::vector<Filter> out;
  auto list = m.objects(member);
  if (!list) return std::move(list).error();
  for (const auto* o : *list) {
    JsonMembers f(*o, std::string(kValidation));
    auto key = f.req_string("Key", 1, 132);
    auto option = f.opt_string("Option", 1, 10);
    auto values = f.opt_strings("Values", 1, 50);
    if (!key) return std::move(key).error();
    if (!option) return std::move(option).error();
    if (!values) return std::move(values).error();
    out.push_back(Filter{*key, option->value_or("Equals"), values->value_or(std::vector<std::string>{})});
  }
  return out;
}

bool matches_any(const Filter& f, std::string_view text) {
  return std::any_of(f.values.begin(), f.values.end(), [&](const std::string& v) {
    if (f.option == "BeginsWith") return text.rfind(v, 0) == 0;
    if (f.option == "Contains") return text.find(v) != std::string_view::npos;
    return text == v;
  });
}

// Whether `name` sits under `path` ("/a/" form): directly, or anywhere below when recursive.
bool under_path(std::string_view name, std::string_view path, bool recursive) {
  if (name.rfind(path, 0) != 0 || name.size() == path.size()) return false;
  return recursive || name.substr(path.size()).find('/') == std::string_view::npos;
}

Result<std::string> get_parameters_by_path(ParameterStore& store, const CallContext&, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kValidation));
  auto path = m.req_string("Path", 1, 2048);
  if (!path) return std::move(path).error();
  if (auto s = check_parameter_path(*path); !s) return std::move(s).error();
  auto recursive = m.opt_bool("Recursive");
  auto decrypt = m.opt_bool("WithDecryption");
  auto max = m.opt_int("MaxResults", 1, 10);
  auto filters = string_filters(m, "ParameterFilters");
  auto after = read_page_token(m);
  if (!recursive) return std::move(recursive).error();
  if (!decrypt) return std::move(decrypt).error();
  if (!max) return std::move(max).error();
  if (!filters) return std::move(filters).error();
  if (!after) return std::move(after).error();
  for (const auto& f : *filters)
    if (f.key != "Type" && f.key != "KeyId" && f.key != "Label")
      return Error::invalid("InvalidFilterKey", "The following filter key is not valid: " + f.key +
                                                    ". Valid filter keys include: [Type, KeyId, Label].");
  std::string prefix = path->back() == '/' ? *path : *path + "/";
  auto all = store.latest_with_prefix(prefix, *decrypt);
  if (!all) return std::move(all).error();
  std::vector<ParameterVersion> chosen;
  for (auto& p : *all) {
    if (!under_path(p.name, prefix, *recursive) || (!after->empty() && p.name <= *after)) continue;
    bool keep = true;
    for (const auto& f : *filters) {
      if (f.key == "Type") keep = keep && matches_any(f, p.type);
      if (f.key == "KeyId") keep = keep && matches_any(f, p.key_id);
      if (f.key == "Label" && keep) {
        // The version that carries the label, if any.
        std::optional<ParameterVersion> labelled;
        for (const auto& label : f.values)
          if (auto v = store.get(p.name + ":" + label, *decrypt)) labelled = std::move(*v);
        if (!labelled) keep = false;
        else p = std::move(*labelled);
      }
    }
    if (keep) chosen.push_back(std::move(p));
  }
  return body(paged<ParameterVersion>(
      std::move(chosen), static_cast<size_t>(max->value_or(10)), "Parameters",
      [](const ParameterVersion& p) { return p.name; },
      [&](const ParameterVersion& p) {
        ParameterVersion shown = p;
        shown.selector.clear();
        json::object o = parameter_json(store, shown);
        if (!p.selector.empty()) o["Selector"] = p.selector;
        return o;
      }));
}

Result<std::string> delete_parameter(ParameterStore& store, const CallContext&, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kValidation));
  auto name = m.req_string("Name", 1, 2048);
  if (!name) return std::move(name).error();
  if (auto s = store.remove(*name); !s) return std::move(s).error();
  return body({});
}

Result<std::string> delete_parameters(ParameterStore& store, const CallContext&, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kValidation));
  auto names = m.opt_strings("Names", 1, 10);
  if (!names) return std::move(names).error();
  if (!*names) return m.req_string("Names").error();
  std::vector<std::string> deleted, invalid;
  for (const auto& name : **names) {
    auto s = store.remove(name);
    if (s) {
      deleted.push_back(name);
    } else if (s.error().error_class == ErrorClass::kNotFound) {
      invalid.push_back(name);
    } else {
      return std::move(s).error();
    }
  }
  return body({{"DeletedParameters", strings(deleted)}, {"InvalidParameters", strings(invalid)}});
}

// Whether a parameter passes one DescribeParameters filter.
bool describe_filter_passes(const Filter& f, const ParameterVersion& p, const Tags& tags) {
  if (f.key == "Name") {
    // Names match with or without their leading slash.
    std::string_view bare = p.name[0] == '/' ? std::string_view(p.name).substr(1) : std::string_view(p.name);
    Filter g = f;
    for (auto& v : g.values)
      if (!v.empty() && v[0] == '/') v.erase(0, 1);
    return matches_any(g, bare);
  }
  if (f.key == "Type") return matches_any(f, p.type);
  if (f.key == "KeyId") return matches_any(f, p.key_id);
  if (f.key == "Tier") return matches_any(f, p.tier);
  if (f.key == "DataType") return matches_any(f, p.data_type);
  if (f.key == "Path") {
    return std::any_of(f.values.begin(), f.values.end(), [&](const std::string& v) {
      std::string prefix = v.empty() || v.back() != '/' ? v + "/" : v;
      return under_path(p.name, prefix, f.option == "Recursive");
    });
  }
  if (f.key.rfind("tag:", 0) == 0) {
    std::string key = f.key.substr(4);
    return std::any_of(tags.begin(), tags.end(), [&](const auto& t) {
      return t.first == key && (f.values.empty() || matches_any(f, t.second));
    });
  }
  return false;
}

Result<std::string> describe_parameters(ParameterStore& store, const CallContext&, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kValidation));
  auto filters = string_filters(m, "ParameterFilters");
  auto old_filters = string_filters(m, "Filters");  // the deprecated ParametersFilter: Key, Values
  auto max = m.opt_int("MaxResults", 1, 50);
  auto after = read_page_token(m);
  if (!filters) return std::move(filters).error();
  if (!old_filters) return std::move(old_filters).error();
  if (!max) return std::move(max).error();
  if (!after) return std::move(after).error();
  filters->insert(filters->end(), old_filters->begin(), old_filters->end());
  for (const auto& f : *filters) {
    bool known = f.key == "Name" || f.key == "Type" || f.key == "KeyId" || f.key == "Path" || f.key == "Tier" ||
                 f.key == "DataType" || f.key.rfind("tag:", 0) == 0;
    if (!known)
      return Error::invalid("InvalidFilterKey", "The following filter key is not valid: " + f.key +
                                                    ". Valid filter keys include: [Path, Name, Type, KeyId, Tier].");
  }
  auto all = store.latest_with_prefix("", false);
  if (!all) return std::move(all).error();
  std::vector<ParameterVersion> chosen;
  for (auto& p : *all) {
    if (!after->empty() && p.name <= *after) continue;
    Tags tags;
    if (std::any_of(filters->begin(), filters->end(), [](const Filter& f) { return f.key.rfind("tag:", 0) == 0; })) {
      auto t = store.tags(p.name);
      if (t) tags = std::move(*t);
    }
    if (std::all_of(filters->begin(), filters->end(),
                    [&](const Filter& f) { return describe_filter_passes(f, p, tags); }))
      chosen.push_back(std::move(p));
  }
  return body(paged<ParameterVersion>(
      std::move(chosen), static_cast<size_t>(max->value_or(10)), "Parameters",
      [](const ParameterVersion& p) { return p.name; },
      [&](const ParameterVersion& p) {
        json::object o = metadata_json(p);
        o["ARN"] = store.arn(p.name);
        return o;
      }));
}

Result<std::string> get_parameter_history(ParameterStore& store, const CallContext&, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kValidation));
  auto name = m.req_string("Name", 1, 2048);
  if (!name) return std::move(name).error();
  auto decrypt = m.opt_bool("WithDecryption");
  auto max = m.opt_int("MaxResults", 1, 50);
  auto after = read_page_token(m);
  if (!decrypt) return std::move(decrypt).error();
  if (!max) return std::move(max).error();
  if (!after) return std::move(after).error();
  auto versions = store.history(*name, *decrypt);
  if (!versions) return std::move(versions).error();
  int64_t after_version = after->empty() ? 0 : std::atoll(after->c_str());
  std::vector<ParameterVersion> rest;
  for (auto& v : *versions)
    if (v.version > after_version) rest.push_back(std::move(v));
  return body(paged<ParameterVersion>(
      std::move(rest), static_cast<size_t>(max->value_or(50)), "Parameters",
      [](const ParameterVersion& p) { return std::to_string(p.version); },
      [](const ParameterVersion& p) {
        json::object o = metadata_json(p);
        o["Value"] = p.value;
        o["Labels"] = strings(p.labels);
        return o;
      }));
}

Result<std::string> label_parameter_version(ParameterStore& store, const CallContext&, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kValidation));
  auto name = m.req_string("Name", 1, 2048);
  if (!name) return std::move(name).error();
  auto version = m.opt_int("ParameterVersion", 1, INT64_MAX);
  if (!version) return std::move(version).error();
  auto labels = m.opt_strings("Labels", 1, 10);
  if (!labels) return std::move(labels).error();
  if (!*labels) return m.req_string("Labels").error();
  auto out = store.label(*name, *version, **labels);
  if (!out) return std::move(out).error();
  return body({{"InvalidLabels", strings(out->invalid_labels)}, {"ParameterVersion", out->version}});
}

Result<std::string> unlabel_parameter_version(ParameterStore& store, const CallContext&, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kValidation));
  auto name = m.req_string("Name", 1, 2048);
  if (!name) return std::move(name).error();
  auto version = m.opt_int("ParameterVersion", 1, INT64_MAX);
  if (!version) return std::move(version).error();
  if (!*version) return m.req_string("ParameterVersion").error();
  auto labels = m.opt_strings("Labels", 1, 10);
  if (!labels) return std::move(labels).error();
  if (!*labels) return m.req_string("Labels").error();
  std::vector<std::string> removed;
  auto invalid = store.unlabel(*name, **version, **labels, removed);
  if (!invalid) return std::move(invalid).error();
  return body({{"RemovedLabels", strings(removed)}, {"InvalidLabels", strings(*invalid)}});
}

Result<std::string> list_tags_for_resource(ParameterStore& store, const CallContext&, const OperationInput& in) {
  JsonMembers m(*in.json, std::string(kValidation));
  auto type = m.req_string("ResourceType");
  if (!type) return std::move(type).error();
  auto id = m.req_string("ResourceId", 1, 2048);
  if (!id) return std::move(id).error();
  if (*type != "Parameter")
    return Error::invalid("InvalidResourceType", "berth keeps tags of parameters only (ResourceType Parameter).");
  auto tags = store.tags(*id);
  if (!tags) {
    if (tags.error().error_class == ErrorClass::kNotFound)
      return Error::invalid("InvalidResourceId", "The resource ID \"" + *id + "\" is not valid. Verify the ID and try again.");
    return std::move(tags).error();
  }
  json::array a;
  for (const auto& [k, v] : *tags) a.push_back(json::object{{"Key", k}, {"Value", v}});
  return body({{"TagList", std::move(a)}});
}

using Handler = Result<std::string> (*)(ParameterStore&, const CallContext&, const OperationInput&);

}  // namespace

api::Service make_ssm_service(ParameterStore& parameters) {
  api::Service service;
  service.signing_name = "ssm";
  service.protocol = api::Protocol::kJson;
  service.json_target_prefix = "AmazonSSM";
  service.api_version = "2014-11-06";
  const std::pair<const char*, Handler> operations[] = {
      {"PutParameter", put_parameter},
      {"GetParameter", get_parameter},
      {"GetParameters", get_parameters},
      {"GetParametersByPath", get_parameters_by_path},
      {"DeleteParameter", delete_parameter},
      {"DeleteParameters", delete_parameters},
      {"DescribeParameters", describe_parameters},
      {"GetParameterHistory", get_parameter_history},
      {"LabelParameterVersion", label_parameter_version},
      {"UnlabelParameterVersion", unlabel_parameter_version},
      {"ListTagsForResource", list_tags_for_resource},
  };
  for (const auto& [name, handler] : operations)
    service.add(name, [&parameters, handler](const CallContext& ctx, const OperationInput& in) {
      return handler(parameters, ctx, in);
    });
  return service;
}

}  // namespace berth::secrets
