#include "ec2/zones.h"

#include <utility>

namespace berth::ec2 {
namespace {

// "us-east-1" -> "use1", "ap-southeast-2" -> "apse2", "eu-central-1" -> "euc1".
std::string short_region(std::string_view region) {
  static const std::pair<std::string_view, std::string_view> kDirections[] = {
      {"northeast", "ne"}, {"northwest", "nw"}, {"southeast", "se"}, {"southwest", "sw"},
      {"north", "n"},      {"south", "s"},      {"east", "e"},       {"west", "w"},
      {"central", "c"}};
  std::string out;
  size_t start = 0;
  int part = 0;
  while (start <= region.size()) {
    size_t dash = region.find('-', start);
    std::string_view piece = region.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start);
    if (part == 1) {
      bool mapped = false;
      for (auto [word, abbrev] : kDirections)
        if (piece == word) out += abbrev, mapped = true;
      if (!mapped) out += piece.substr(0, 1);
    } else {
      out += piece;
    }
    ++part;
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  return out;
}

}  // namespace

std::vector<Zone> zones_of(std::string_view region) {
  std::vector<Zone> zones;
  std::string prefix = short_region(region);
  for (int i = 0; i < 6; ++i)
    zones.push_back({std::string(region) + static_cast<char>('a' + i), prefix + "-az" + std::to_string(i + 1)});
  return zones;
}

const std::vector<std::string_view>& known_regions() {
  static const std::vector<std::string_view> kRegions = {
      "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
      "ap-southeast-2", "ca-central-1",   "eu-central-1",   "eu-north-1", "eu-west-1",
      "eu-west-2",      "eu-west-3",      "sa-east-1",      "us-east-1",  "us-east-2",
      "us-west-1",      "us-west-2"};
  return kRegions;
}

}  // namespace berth::ec2
