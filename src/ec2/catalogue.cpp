// DescribeInstanceTypes and DescribeImages over the static catalogue.
#include "ec2/catalogue.h"

#include <algorithm>
#include <cstdio>

#include "ec2/api_support.h"

namespace berth::ec2 {
namespace {

// vCPU, memory and network figures from https://aws.amazon.com/ec2/instance-types/.
constexpr InstanceTypeInfo kTypes[] = {
    {"t2.nano", 1, 1, 512, 2, 2, "Low to Moderate", 2.4, true, false, false},
    {"t2.micro", 1, 1, 1024, 2, 2, "Low to Moderate", 2.5, true, true, false},
    {"t2.small", 1, 1, 2048, 3, 4, "Low to Moderate", 2.5, true, false, false},
    {"t2.medium", 2, 2, 4096, 3, 6, "Low to Moderate", 2.3, true, false, false},
    {"t2.large", 2, 2, 8192, 3, 12, "Low to Moderate", 2.3, true, false, false},
    {"t2.xlarge", 4, 4, 16384, 3, 15, "Moderate", 2.3, true, false, false},
    {"t3.nano", 2, 1, 512, 2, 2, "Up to 5 Gigabit", 2.5, true, false, true},
    {"t3.micro", 2, 1, 1024, 2, 2, "Up to 5 Gigabit", 2.5, true, true, true},
    {"t3.small", 2, 1, 2048, 3, 4, "Up to 5 Gigabit", 2.5, true, false, true},
    {"t3.medium", 2, 1, 4096, 3, 6, "Up to 5 Gigabit", 2.5, true, false, true},
    {"t3.large", 2, 1, 8192, 3, 12, "Up to 5 Gigabit", 2.5, true, false, true},
    {"t3.xlarge", 4, 2, 16384, 4, 15, "Up to 5 Gigabit", 2.5, true, false, true},
    {"m5.large", 2, 1, 8192, 3, 10, "Up to 10 Gigabit", 3.1, false, false, true},
    {"m5.xlarge", 4, 2, 16384, 4, 15, "Up to 10 Gigabit", 3.1, false, false, true},
};

constexpr ImageInfo kImages[] = {
    {"ami-0c9a0d5a8b4e7f312", "amzn2-ami-ecs-hvm-2.0.20231116-x86_64-ebs",
     "Amazon Linux AMI 2.0.20231116 x86_64 ECS HVM GP2", "591542846629", "2023-11-16T22:09:08.000Z",
     "snap-0a4f1d3e2b7c69a85", 30},
    {"ami-05c13eab67c5d8861", "amzn2-ami-kernel-5.10-hvm-2.0.20231116.0-x86_64-gp2",
     "Amazon Linux 2 Kernel 5.10 AMI 2.0.20231116.0 x86_64 HVM gp2", "137112412989", "2023-11-16T19:10:24.000Z",
     "snap-03d3c7a7e8b6f1c20", 8},
};

std::string ghz_text(double ghz) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f", ghz);
  return buf;
}

void write_type(api::XmlWriter& w, const InstanceTypeInfo& t) {
  w.open("item")
      .leaf("instanceType", t.name)
      .leaf_bool("currentGeneration", true)
      .leaf_bool("freeTierEligible", t.free_tier)
      .open("supportedUsageClasses").leaf("item", "on-demand").leaf("item", "spot").close("supportedUsageClasses")
      .open("supportedRootDeviceTypes").leaf("item", "ebs").close("supportedRootDeviceTypes")
      .open("supportedVirtualizationTypes").leaf("item", "hvm").close("supportedVirtualizationTypes")
      .leaf_bool("bareMetal", false)
      .leaf("hypervisor", t.nitro ? "nitro" : "xen")
      .open("processorInfo")
      .open("supportedArchitectures").leaf("item", "x86_64").close("supportedArchitectures")
      .leaf("sustainedClockSpeedInGhz", ghz_text(t.clock_ghz))
      .leaf("manufacturer", "Intel")
      .close("processorInfo")
      .open("vCpuInfo")
      .leaf_int("defaultVCpus", t.vcpus)
      .leaf_int("defaultCores", t.cores)
      .leaf_int("defaultThreadsPerCore", t.vcpus / t.cores)
      .close("vCpuInfo")
      .open("memoryInfo").leaf_int("sizeInMiB", t.memory_mib).close("memoryInfo")
      .leaf_bool("instanceStorageSupported", false)
      .open("ebsInfo")
      .leaf("ebsOptimizedSupport", t.nitro ? "default" : "unsupported")
      .leaf("encryptionSupport", "supported")
      .leaf("nvmeSupport", t.nitro ? "required" : "unsupported")
      .close("ebsInfo")
      .open("networkInfo")
      .leaf("networkPerformance", t.network_performance)
      .leaf_int("maximumNetworkInterfaces", t.max_network_interfaces)
      .leaf_int("maximumNetworkCards", 1)
      .leaf_int("defaultNetworkCardIndex", 0)
      .open("networkCards").open("item")
      .leaf_int("networkCardIndex", 0)
      .leaf("networkPerformance", t.network_performance)
      .leaf_int("maximumNetworkInterfaces", t.max_network_interfaces)
      .close("item").close("networkCards")
      .leaf_int("ipv4AddressesPerInterface", t.ipv4_per_interface)
      .leaf_int("ipv6AddressesPerInterface", t.ipv4_per_interface)
      .leaf_bool("ipv6Supported", true)
      .leaf("enaSupport", t.nitro ? "required" : "unsupported")
      .leaf_bool("efaSupported", false)
      .close("networkInfo")
      .open("placementGroupInfo").open("supportedStrategies")
      .leaf("item", "partition").leaf("item", "spread")
      .close("supportedStrategies").close("placementGroupInfo")
      .leaf_bool("hibernationSupported", true)
      .leaf_bool("burstablePerformanceSupported", t.burstable)
      .leaf_bool("dedicatedHostsSupported", !t.burstable)
      .leaf_bool("autoRecoverySupported", true)
      .open("supportedBootModes").leaf("item", "legacy-bios").close("supportedBootModes")
      .close("item");
}

Result<std::string> describe_instance_types(const api::QueryView& q) {
  auto names = string_list(q, "InstanceType");
  if (!names) return std::move(names).error();
  auto filters = parse_filters(q);
  if (!filters) return std::move(filters).error();
  auto page = parse_page(q, 5, 100);
  if (!page) return std::move(page).error();
  std::string missing;
  for (const auto& n : *names)
    if (!find_instance_type(n)) missing += (missing.empty() ? "" : ", ") + n;
  if (!missing.empty())
    return Error::invalid("InvalidInstanceType", "The following supplied instance types do not exist: [" + missing + "]");
  std::vector<const InstanceTypeInfo*> rows;
  for (const auto& t : kTypes) {
    if (!names->empty() && std::find(names->begin(), names->end(), t.name) == names->end()) continue;
    bool keep = true;
    for (const auto& f : *filters) {
      if (f.name == "instance-type") keep = keep && any_value_matches(f, t.name);
      else if (f.name == "vcpu-info.default-vcpus") keep = keep && any_value_matches(f, std::to_string(t.vcpus));
      else if (f.name == "memory-info.size-in-mib") keep = keep && any_value_matches(f, std::to_string(t.memory_mib));
      else if (f.name == "current-generation") keep = keep && any_value_matches(f, "true");
      else if (f.name == "free-tier-eligible") keep = keep && any_value_matches(f, t.free_tier ? "true" : "false");
      else if (f.name == "burstable-performance-supported")
        keep = keep && any_value_matches(f, t.burstable ? "true" : "false");
      else if (f.name == "processor-info.supported-architecture") keep = keep && any_value_matches(f, "x86_64");
      else if (f.name == "hypervisor") keep = keep && any_value_matches(f, t.nitro ? "nitro" : "xen");
      else return unknown_filter(f.name);
    }
    if (keep) rows.push_back(&t);
  }
  std::string out;
  api::XmlWriter w(out);
  w.open("instanceTypeSet");
  size_t end = std::min(rows.size(), page->limit == SIZE_MAX ? rows.size() : page->offset + page->limit);
  for (size_t i = page->offset; i < end; ++i) write_type(w, *rows[i]);
  w.close("instanceTypeSet");
  write_next_token(w, next_token(*page, rows.size()));
  return out;
}

void write_image(api::XmlWriter& w, const ImageInfo& i) {
  w.open("item")
      .leaf("imageId", i.image_id)
      .leaf("imageLocation", "amazon/" + std::string(i.name))
      .leaf("imageState", "available")
      .leaf("imageOwnerId", i.owner_id)
      .leaf("creationDate", i.creation_date)
      .leaf_bool("isPublic", true)
      .leaf("architecture", "x86_64")
      .leaf("imageType", "machine")
      .leaf("imageOwnerAlias", "amazon")
      .leaf("name", i.name)
      .leaf("description", i.description)
      .leaf("rootDeviceType", "ebs")
      .leaf("rootDeviceName", "/dev/xvda")
      .open("blockDeviceMapping").open("item")
      .leaf("deviceName", "/dev/xvda")
      .open("ebs")
      .leaf("snapshotId", i.snapshot_id)
      .leaf_int("volumeSize", i.root_volume_gib)
      .leaf_bool("deleteOnTermination", true)
      .leaf("volumeType", "gp2")
      .leaf_bool("encrypted", false)
      .close("ebs")
      .close("item").close("blockDeviceMapping")
      .leaf("virtualizationType", "hvm")
      .leaf("hypervisor", "xen")
      .leaf_bool("enaSupport", true)
      .leaf("sriovNetSupport", "simple")
      .leaf("platformDetails", "Linux/UNIX")
      .leaf("usageOperation", "RunInstances")
      .close("item");
}

Result<std::string> describe_images(const Context& ctx, const api::QueryView& q) {
  auto ids = string_list(q, "ImageId");
  if (!ids) return std::move(ids).error();
  auto owners = string_list(q, "Owner");
  if (!owners) return std::move(owners).error();
  auto filters = parse_filters(q);
  if (!filters) return std::move(filters).error();
  auto page = parse_page(q, 6, 1000);
  if (!page) return std::move(page).error();
  for (const auto& id : *ids) {
    if (!has_id_prefix(id, "ami-"))
      return Error::invalid("InvalidAMIID.Malformed", "Invalid id: \"" + id + "\" (expecting \"ami-...\")");
    if (!find_image(id)) return Error::not_found("InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist");
  }
  std::vector<const ImageInfo*> rows;
  for (const auto& i : kImages) {
    if (!ids->empty() && std::find(ids->begin(), ids->end(), i.image_id) == ids->end()) continue;
    // Owners: "amazon" or the owner's account id; "self" is this account, which owns no image here.
    if (!owners->empty() && std::none_of(owners->begin(), owners->end(), [&](const std::string& o) {
          return o == "amazon" || o == i.owner_id;
        }))
      continue;
    bool keep = true;
    for (const auto& f : *filters) {
      if (f.name == "name") keep = keep && any_value_matches(f, i.name);
      else if (f.name == "image-id") keep = keep && any_value_matches(f, i.image_id);
      else if (f.name == "owner-alias") keep = keep && any_value_matches(f, "amazon");
      else if (f.name == "owner-id") keep = keep && any_value_matches(f, i.owner_id);
      else if (f.name == "description") keep = keep && any_value_matches(f, i.description);
      else if (f.name == "architecture") keep = keep && any_value_matches(f, "x86_64");
      else if (f.name == "state") keep = keep && any_value_matches(f, "available");
      else if (f.name == "image-type") keep = keep && any_value_matches(f, "machine");
      else if (f.name == "is-public") keep = keep && any_value_matches(f, "true");
      else if (f.name == "root-device-type") keep = keep && any_value_matches(f, "ebs");
      else if (f.name == "virtualization-type") keep = keep && any_value_matches(f, "hvm");
      else if (f.name == "platform-details") keep = keep && any_value_matches(f, "Linux/UNIX");
      else if (f.name == "hypervisor") keep = keep && any_value_matches(f, "xen");
      else if (f.name == "ena-support") keep = keep && any_value_matches(f, "true");
      else if (auto t = match_tag_filter(f, {})) keep = keep && *t;
      else return unknown_filter(f.name);
    }
    if (keep) rows.push_back(&i);
  }
  std::string out;
  api::XmlWriter w(out);
  w.open("imagesSet");
  size_t end = std::min(rows.size(), page->limit == SIZE_MAX ? rows.size() : page->offset + page->limit);
  for (size_t i = page->offset; i < end; ++i) write_image(w, *rows[i]);
  w.close("imagesSet");
  write_next_token(w, next_token(*page, rows.size()));
  return out;
}

}  // namespace

std::span<const InstanceTypeInfo> instance_types() { return kTypes; }

const InstanceTypeInfo* find_instance_type(std::string_view name) {
  for (const auto& t : kTypes)
    if (t.name == name) return &t;
  return nullptr;
}

std::span<const ImageInfo> images() { return kImages; }

const ImageInfo* find_image(std::string_view image_id) {
  for (const auto& i : kImages)
    if (i.image_id == image_id) return &i;
  return nullptr;
}

void add_catalogue_operations(api::Service& service, const ContextPtr& ctx) {
  service.add("DescribeInstanceTypes", [](const api::CallContext&, const api::OperationInput& in) {
    return describe_instance_types(query_of(in));
  });
  service.add("DescribeImages", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return describe_images(*ctx, query_of(in));
  });
}

}  // namespace berth::ec2
