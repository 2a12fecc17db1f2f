#include "export/template.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace berth::cfn {

json::value make_ref(std::string_view logical_id) { return json::object{{"Ref", logical_id}}; }

json::value get_att(std::string_view logical_id, std::string_view attribute) {
  return json::object{{"Fn::GetAtt", json::array{json::string(logical_id), json::string(attribute)}}};
}

json::value sub(std::string_view text) { return json::object{{"Fn::Sub", text}}; }

json::value join(std::string_view separator, json::array parts) {
  return json::object{{"Fn::Join", json::array{json::string(separator), std::move(parts)}}};
}

std::string LogicalIds::make(std::string_view name, std::string_view kind) {
  std::string base;
  bool upper = true;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      upper = true;
      continue;
    }
    base += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  base += kind;
  // CloudFormation's limit is 255 characters; leave room for a suffix.
  if (base.size() > 240) base.resize(240);
  std::string id = base;
  for (int n = 2; taken_.count(id); ++n) id = base + std::to_string(n);
  taken_.insert(id);
  return id;
}

json::object to_document(const Template& t) {
  json::object doc;
  doc["AWSTemplateFormatVersion"] = "2010-09-09";
  if (!t.description.empty()) doc["Description"] = t.description;
  if (!t.parameters.empty()) {
    json::object params;
    for (const auto& [id, p] : t.parameters) params[id] = p;
    doc["Parameters"] = std::move(params);
  }
  json::object resources;
  for (const auto& [id, r] : t.resources) {
    json::object o{{"Type", r.type}};
    if (!r.properties.empty()) o["Properties"] = r.properties;
    if (!r.deletion_policy.empty()) {
      o["DeletionPolicy"] = r.deletion_policy;
      o["UpdateReplacePolicy"] = r.deletion_policy;
    }
    if (!r.depends_on.empty()) {
      json::array deps;
      for (const auto& d : r.depends_on) deps.emplace_back(d);
      o["DependsOn"] = std::move(deps);
    }
    resources[id] = std::move(o);
  }
  doc["Resources"] = std::move(resources);
  if (!t.outputs.empty()) {
    json::object outputs;
    for (const auto& [id, o] : t.outputs) outputs[id] = o;
    doc["Outputs"] = std::move(outputs);
  }
  return doc;
}

namespace {

// A double in plain decimal with a point ("100.0", not Boost.JSON's "1E2"),
// which YAML 1.1 parsers read as a number and not as a string.
std::string number_text(const json::value& v) {
  if (!v.is_double()) return json::serialize(v);
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.as_double(), std::chars_format::fixed);
  std::string text(buf, ec == std::errc() ? end : buf);
  if (text.find('.') == std::string::npos) text += ".0";
  return text;
}

std::vector<const json::key_value_pair*> sorted(const json::object& o) {
  std::vector<const json::key_value_pair*> out;
  for (const auto& kv : o) out.push_back(&kv);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
  return out;
}

void json_value(std::string& out, const json::value& v, int indent) {
  std::string pad(static_cast<size_t>(indent) * 2, ' '), inner(static_cast<size_t>(indent + 1) * 2, ' ');
  if (v.is_object()) {
    const auto& o = v.as_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto* kv : sorted(o)) {
      if (!first) out += ",\n";
      first = false;
      out += inner + json::serialize(json::string(kv->key())) + ": ";
      json_value(out, kv->value(), indent + 1);
    }
    out += "\n" + pad + "}";
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    if (a.empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    for (size_t i = 0; i < a.size(); ++i) {
      out += inner;
      json_value(out, a[i], indent + 1);
      out += i + 1 < a.size() ? ",\n" : "\n";
    }
    out += pad + "]";
  } else {
    out += number_text(v);
  }
}

// A key that needs no quotes in YAML: letters, digits and "::" of Fn::X.
bool plain_key(std::string_view k) {
  if (k.empty()) return false;
  for (char c : k)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != ':' && c != '_') return false;
  return std::isalpha(static_cast<unsigned char>(k.front())) && k.back() != ':';
}

std::string yaml_key(std::string_view k) {
  return plain_key(k) ? std::string(k) : json::serialize(json::string(k));
}

// A JSON string literal is a valid YAML double-quoted scalar (YAML's escapes
// are a superset of JSON's), so strings are written with JSON's escaping.
std::string yaml_scalar(const json::value& v) { return number_text(v); }

bool is_collection(const json::value& v) {
  return (v.is_object() && !v.as_object().empty()) || (v.is_array() && !v.as_array().empty());
}

void yaml_value(std::string& out, const json::value& v, int indent);

void yaml_object(std::string& out, const json::object& o, int indent, bool first_inline) {
  std::string pad(static_cast<size_t>(indent) * 2, ' ');
  bool first = true;
  for (const auto* kv : sorted(o)) {
    if (!(first && first_inline)) out += pad;
    first = false;
    out += yaml_key(kv->key()) + ":";
    if (is_collection(kv->value())) {
      out += "\n";
      yaml_value(out, kv->value(), indent + 1);
    } else {
      out += " ";
      yaml_value(out, kv->value(), indent + 1);
      out += "\n";
    }
  }
}

void yaml_value(std::string& out, const json::value& v, int indent) {
  std::string pad(static_cast<size_t>(indent) * 2, ' ');
  if (v.is_object()) {
    if (v.as_object().empty()) {
      out += "{}";
      return;
    }
    yaml_object(out, v.as_object(), indent, false);
  } else if (v.is_array()) {
    if (v.as_array().empty()) {
      out += "[]";
      return;
    }
    for (const auto& item : v.as_array()) {
      out += pad + "-";
      if (item.is_object() && !item.as_object().empty()) {
        out += " ";
        yaml_object(out, item.as_object(), indent + 1, true);
      } else if (item.is_array() && !item.as_array().empty()) {
        out += "\n";
        yaml_value(out, item, indent + 1);
      } else {
        out += " ";
        yaml_value(out, item, indent + 1);
        out += "\n";
      }
    }
  } else {
    out += yaml_scalar(v);
  }
}

}  // namespace

std::string write_json(const Template& t) {
  std::string out;
  json_value(out, to_document(t), 0);
  return out + "\n";
}

std::string write_yaml(const Template& t) {
  std::string out;
  yaml_object(out, to_document(t), 0, false);
  return out;
}

}  // namespace berth::cfn
