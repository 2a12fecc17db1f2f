// ec2/zones: the region's availability zones as berth presents them: six
// zones <region>a..f with zone ids <short region>-az1..6 (us-east-1 ->
// use1-az1), and the regions DescribeRegions lists.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth::ec2 {

struct Zone {
  std::string name;  // us-east-1a
  std::string id;    // use1-az1
};

std::vector<Zone> zones_of(std::string_view region);
// The commercial regions that need no opt-in.
const std::vector<std::string_view>& known_regions();

}  // namespace berth::ec2
