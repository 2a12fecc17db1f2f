#include "api/query_tree.h"

#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::api {
namespace {

struct Node {
  std::optional<std::string> value;
  std::map<std::string, Node, std::less<>> fields;
  std::map<long, Node> items;
};

std::optional<long> index_of(std::string_view s) {
  long n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || n <= 0) return std::nullopt;
  return n;
}

boost::json::value to_value(const Node& node) {
  if (!node.items.empty()) {
    boost::json::array out;
    for (const auto& [index, item] : node.items) out.push_back(to_value(item));
    return out;
  }
  if (!node.fields.empty()) {
    boost::json::object out;
    for (const auto& [name, field] : node.fields) out[name] = to_value(field);
    return out;
  }
  return boost::json::value(node.value.value_or(""));
}

}  // namespace

boost::json::object query_to_json(const QueryParams& params) {
  Node root;
  for (const auto& p : params.all()) {
    if (p.key == "Action" || p.key == "Version") continue;
    std::vector<std::string_view> parts;
    std::string_view key = p.key;
    for (size_t start = 0;;) {
      size_t dot = key.find('.', start);
      parts.push_back(key.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    Node* node = &root;
    for (size_t i = 0; i < parts.size();) {
      std::optional<long> index;
      if ((parts[i] == "member" || parts[i] == "entry") && i + 1 < parts.size()) index = index_of(parts[i + 1]);
      if (index) {
        node = &node->items[*index];
        i += 2;
      } else {
        node = &node->fields[std::string(parts[i])];
        i += 1;
      }
    }
    if (!node->value) node->value = p.value;
  }
  auto value = to_value(root);
  if (value.is_object()) return std::move(value.as_object());
  return {};
}

}  // namespace berth::api
