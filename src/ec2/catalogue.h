// ec2/catalogue: the static instance-type catalogue and the Amazon images
// berth offers (DescribeInstanceTypes, DescribeImages, RunInstances checks).
// ECS reads instance types from here for a container instance's registered
// CPU (vCPU x 1024) and memory.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace berth::ec2 {

struct InstanceTypeInfo {
  std::string_view name;  // "t2.micro"
  int vcpus;
  int cores;
  int64_t memory_mib;
  int max_network_interfaces;
  int ipv4_per_interface;
  std::string_view network_performance;
  double clock_ghz;
  bool burstable;
  bool free_tier;
  bool nitro;  // hypervisor nitro (t3, m5) vs xen (t2)
};

struct ImageInfo {
  std::string_view image_id;
  std::string_view name;
  std::string_view description;
  std::string_view owner_id;
  std::string_view creation_date;  // ISO-8601 as DescribeImages prints it
  std::string_view snapshot_id;
  int root_volume_gib;
};

std::span<const InstanceTypeInfo> instance_types();
const InstanceTypeInfo* find_instance_type(std::string_view name);
std::span<const ImageInfo> images();
const ImageInfo* find_image(std::string_view image_id);

}  // namespace berth::ec2
