// RunInstances, DescribeInstances, StartInstances, StopInstances,
// TerminateInstances, DescribeInstanceAttribute.
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "core/ids.h"
#include "ec2/addresses.h"
#include "ec2/api_support.h"
#include "ec2/attachments.h"
#include "ec2/catalogue.h"
#include "ec2/instances.h"
#include "ec2/key_crypto.h"
#include "ec2/network_store.h"
#include "ec2/sg_support.h"

namespace berth::ec2 {
namespace {

constexpr int kMaxInstances = 20;  // DescribeAccountAttributes max-instances

std::string gmt_text(WallTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S GMT", &tm);
  return buf;
}

std::string eni_id(const Instance& i) { return "eni-" + i.instance_id.substr(2); }

Result<std::vector<std::string>> group_names(store::Tx& tx, const std::vector<std::string>& ids) {
  std::vector<std::string> names;
  for (const auto& id : ids) {
    auto g = find_group(tx, id);
    if (!g) return std::move(g).error();
    names.push_back(*g ? (*g)->name : std::string());
  }
  return names;
}

struct Described {
  Instance instance;
  std::vector<std::string> group_names;
  Tags tags;
};

void write_group_set(api::XmlWriter& w, const Described& d) {
  w.open("groupSet");
  for (size_t k = 0; k < d.instance.security_group_ids.size(); ++k)
    w.open("item").leaf("groupId", d.instance.security_group_ids[k]).leaf("groupName", d.group_names[k]).close("item");
  w.close("groupSet");
}

void write_instance(api::XmlWriter& w, const Described& d, const Context& ctx) {
  const Instance& i = d.instance;
  const std::string& region = ctx.options.region;
  const InstanceTypeInfo* type = find_instance_type(i.instance_type);
  std::string private_dns = private_dns_name(i.private_ip, region);
  std::string public_dns = public_dns_name(i.public_ip, region);
  bool gone = i.state == InstanceState::kTerminated;
  w.open("item")
      .leaf("instanceId", i.instance_id)
      .leaf("imageId", i.image_id)
      .open("instanceState").leaf_int("code", state_code(i.state)).leaf("name", state_name(i.state)).close("instanceState")
      .leaf("privateDnsName", gone ? "" : private_dns)
      .leaf("dnsName", public_dns)
      .leaf("reason", i.reason);
  if (!i.key_name.empty()) w.leaf("keyName", i.key_name);
  w.leaf_int("amiLaunchIndex", i.ami_launch_index)
      .empty("productCodes")
      .leaf("instanceType", i.instance_type)
      .leaf_time("launchTime", i.launch_time)
      .open("placement")
      .leaf("availabilityZone", i.availability_zone)
      .leaf("groupName", "")
      .leaf("tenancy", "default")
      .close("placement")
      .open("monitoring").leaf("state", "disabled").close("monitoring");
  if (!gone) {
    w.leaf("subnetId", i.subnet_id).leaf("vpcId", i.vpc_id).leaf("privateIpAddress", i.private_ip);
    if (!i.public_ip.empty()) w.leaf("ipAddress", i.public_ip);
  }
  w.leaf_bool("sourceDestCheck", true);
  write_group_set(w, d);
  if (!i.state_reason_code.empty()) {
    std::string message = i.state_reason_code == "Client.UserInitiatedShutdown"
                              ? "Client.UserInitiatedShutdown: User initiated shutdown"
                              : i.state_reason_code;
    w.open("stateReason").leaf("code", i.state_reason_code).leaf("message", message).close("stateReason");
  }
  w.leaf("architecture", "x86_64")
      .leaf("rootDeviceType", "ebs")
      .leaf("rootDeviceName", "/dev/xvda")
      .empty("blockDeviceMapping")
      .leaf("virtualizationType", "hvm")
      .leaf("clientToken", i.client_token);
  write_tag_set(w, d.tags);
  w.leaf("hypervisor", "xen");
  w.open("networkInterfaceSet");
  if (!gone) {
    w.open("item")
        .leaf("networkInterfaceId", eni_id(i))
        .leaf("subnetId", i.subnet_id)
        .leaf("vpcId", i.vpc_id)
        .leaf("description", "")
        .leaf("ownerId", ctx.options.account_id)
        .leaf("status", "in-use")
        .leaf("privateIpAddress", i.private_ip)
        .leaf("privateDnsName", private_dns)
        .leaf_bool("sourceDestCheck", true);
    write_group_set(w, d);
    w.open("attachment")
        .leaf("attachmentId", "eni-attach-" + i.instance_id.substr(2))
        .leaf_int("deviceIndex", 0)
        .leaf("status", "attached")
        .leaf_time("attachTime", i.launch_time)
        .leaf_bool("deleteOnTermination", true)
        .leaf_int("networkCardIndex", 0)
        .close("attachment");
    auto association = [&] {
      if (i.public_ip.empty()) return;
      w.open("association").leaf("publicIp", i.public_ip).leaf("publicDnsName", public_dns)
          .leaf("ipOwnerId", "amazon").close("association");
    };
    association();
    w.open("privateIpAddressesSet").open("item")
        .leaf("privateIpAddress", i.private_ip)
        .leaf("privateDnsName", private_dns)
        .leaf_bool("primary", true);
    association();
    w.close("item").close("privateIpAddressesSet");
    w.leaf("interfaceType", "interface").close("item");
  }
  w.close("networkInterfaceSet");
  w.leaf_bool("ebsOptimized", false).leaf_bool("enaSupport", type && type->nitro);
  if (type)
    w.open("cpuOptions").leaf_int("coreCount", type->cores).leaf_int("threadsPerCore", type->vcpus / type->cores)
        .close("cpuOptions");
  w.leaf("platformDetails", "Linux/UNIX").leaf("usageOperation", "RunInstances").close("item");
}

Result<std::vector<Described>> describe_all(store::Tx& tx, std::vector<Instance> instances) {
  std::vector<Described> out;
  for (auto& i : instances) {
    auto names = group_names(tx, i.security_group_ids);
    if (!names) return std::move(names).error();
    auto tags = load_tags(tx, i.instance_id);
    if (!tags) return std::move(tags).error();
    out.push_back({std::move(i), std::move(*names), std::move(*tags)});
  }
  return out;
}

void write_reservation(api::XmlWriter& w, std::span<const Described> instances, const Context& ctx, bool wrap_item) {
  if (wrap_item) w.open("item");
  w.leaf("reservationId", instances.front().instance.reservation_id)
      .leaf("ownerId", ctx.options.account_id)
      .empty("groupSet")
      .open("instancesSet");
  for (const auto& d : instances) write_instance(w, d, ctx);
  w.close("instancesSet");
  if (wrap_item) w.close("item");
}

// ---------------------------------------------------------------- RunInstances

struct LaunchSpec {
  std::string image_id;
  std::string instance_type;
  std::string key_name;
  std::string subnet_id;
  std::string availability_zone;
  std::vector<std::string> group_ids;
  std::vector<std::string> group_names;
  std::optional<bool> associate_public_ip;
  std::string private_ip;
  std::string user_data;
  std::string client_token;
  int64_t min_count = 1;
  int64_t max_count = 1;
  Tags tags;
};

Result<LaunchSpec> parse_launch(const api::QueryView& q) {
  LaunchSpec s;
  auto image = required(q, "ImageId");
  if (!image) return std::move(image).error();
  s.image_id = *image;
  auto min = optional_int(q, "MinCount");
  if (!min) return std::move(min).error();
  auto max = optional_int(q, "MaxCount");
  if (!max) return std::move(max).error();
  if (!*min) return missing_parameter("MinCount");
  if (!*max) return missing_parameter("MaxCount");
  s.min_count = **min;
  s.max_count = **max;
  if (s.min_count < 1)
    return invalid_parameter_value("Value (" + std::to_string(s.min_count) +
                                   ") for parameter minCount is invalid. Expected a value greater than 0.");
  if (s.max_count < s.min_count)
    return invalid_parameter_value("Value (" + std::to_string(s.max_count) +
                                   ") for parameter maxCount is invalid. Expected a value greater than or equal to minCount.");
  // AWS's default m1.small is not in berth's catalogue; t2.micro stands in.
  s.instance_type = optional_string(q, "InstanceType");
  if (s.instance_type.empty()) s.instance_type = "t2.micro";
  if (!find_instance_type(s.instance_type))
    return invalid_parameter_value("Invalid value '" + s.instance_type + "' for InstanceType.");
  s.key_name = optional_string(q, "KeyName");
  s.subnet_id = optional_string(q, "SubnetId");
  s.availability_zone = optional_string(q, "Placement.AvailabilityZone");
  auto ids = string_list(q, "SecurityGroupId");
  if (!ids) return std::move(ids).error();
  s.group_ids = std::move(*ids);
  auto names = string_list(q, "SecurityGroup");
  if (!names) return std::move(names).error();
  s.group_names = std::move(*names);
  s.private_ip = optional_string(q, "PrivateIpAddress");
  // `aws ec2 run-instances --associate-public-ip-address` moves the subnet
  // and the groups into NetworkInterface.1.
  auto interfaces = q.items("NetworkInterface");
  if (!interfaces) return std::move(interfaces).error();
  if (interfaces->size() > 1)
    return invalid_parameter_value("berth instances have one network interface (DeviceIndex 0)");
  if (!interfaces->empty()) {
    const auto& eni = interfaces->front();
    if (!s.subnet_id.empty() || !s.group_ids.empty() || !s.group_names.empty())
      return invalid_parameter_combination(
          "Network interfaces and an instance-level security groups may not be specified on the same request");
    s.subnet_id = optional_string(eni, "SubnetId");
    auto eni_groups = string_list(eni, "SecurityGroupId");
    if (!eni_groups) return std::move(eni_groups).error();
    s.group_ids = std::move(*eni_groups);
    auto assoc = eni.get("AssociatePublicIpAddress");
    if (assoc) s.associate_public_ip = *assoc == "true";
    if (auto ip = eni.get("PrivateIpAddress")) s.private_ip = std::string(*ip);
  }
  s.user_data = optional_string(q, "UserData");
  if (!s.user_data.empty()) {
    auto raw = base64_decode(s.user_data);
    if (!raw) return invalid_parameter_value("Invalid BASE64 encoding of user data.");
    if (raw->size() > 16384) return invalid_parameter_value("User data is limited to 16384 bytes");
  }
  if (!s.private_ip.empty() && s.max_count > 1)
    return invalid_parameter_combination("Cannot specify a private IP address when launching more than one instance");
  s.client_token = optional_string(q, "ClientToken");
  auto tags = parse_tag_specifications(q, "instance", /*skip_other_types=*/true);
  if (!tags) return std::move(tags).error();
  s.tags = std::move(*tags);
  if (!has_id_prefix(s.image_id, "ami-"))
    return Error::invalid("InvalidAMIID.Malformed", "Invalid id: \"" + s.image_id + "\" (expecting \"ami-...\")");
  if (!find_image(s.image_id))
    return Error::not_found("InvalidAMIID.NotFound", "The image id '[" + s.image_id + "]' does not exist");
  return s;
}

Result<std::vector<std::string>> resolve_groups(store::Tx& tx, const LaunchSpec& s, const SubnetRecord& subnet) {
  std::vector<std::string> out;
  for (const auto& id : s.group_ids) {
    auto parsed = parse_group_id(id);
    if (!parsed) return std::move(parsed).error();
    auto g = find_group(tx, id);
    if (!g) return std::move(g).error();
    if (!*g) return group_not_found(id);
    if ((*g)->vpc_id != subnet.vpc_id)
      return Error::invalid("InvalidParameter", "Security group " + id + " and subnet " + subnet.subnet_id +
                                                    " belong to different networks.");
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  for (const auto& name : s.group_names) {
    auto g = find_group_by_name(tx, subnet.vpc_id, name);
    if (!g) return std::move(g).error();
    if (!*g)
      return Error::not_found("InvalidGroup.NotFound", "The security group '" + name + "' does not exist in VPC '" +
                                                           subnet.vpc_id + "'");
    if (std::find(out.begin(), out.end(), (*g)->group_id) == out.end()) out.push_back((*g)->group_id);
  }
  if (out.empty()) {
    auto g = find_group_by_name(tx, subnet.vpc_id, "default");
    if (!g) return std::move(g).error();
    if (!*g) return group_not_found("default");
    out.push_back((*g)->group_id);
  }
  if (out.size() > 5)
    return Error::invalid("SecurityGroupLimitExceeded",
                          "The maximum number of security groups per interface has been reached.");
  return out;
}

Result<std::vector<Instance>> by_client_token(store::Tx& tx, std::string_view token) {
  auto all = list_instances(tx);
  if (!all) return std::move(all).error();
  std::vector<Instance> out;
  for (auto& i : *all)
    if (!token.empty() && i.client_token == token) out.push_back(std::move(i));
  return out;
}

Result<std::string> run_instances(const Context& ctx, const api::CallContext& call, const api::QueryView& q) {
  auto spec = parse_launch(q);
  if (!spec) return std::move(spec).error();
  if (auto dry = dry_run_check(q)) return *dry;
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    if (auto st = advance_instance_states(tx, call.now, ctx.options.timings); !st) return std::move(st).error();
    auto previous = by_client_token(tx, spec->client_token);
    if (!previous) return std::move(previous).error();
    std::vector<Instance> launched = std::move(*previous);
    if (launched.empty()) {
      if (!spec->key_name.empty()) {
        auto exists = key_pair_exists(tx, spec->key_name);
        if (!exists) return std::move(exists).error();
        if (!*exists)
          return Error::not_found("InvalidKeyPair.NotFound", "The key pair '" + spec->key_name + "' does not exist");
      }
      auto subnet = spec->subnet_id.empty() ? default_subnet(tx, spec->availability_zone)
                                            : get_subnet(tx, spec->subnet_id);
      if (!subnet) return std::move(subnet).error();
      auto groups = resolve_groups(tx, *spec, *subnet);
      if (!groups) return std::move(groups).error();
      auto all = list_instances(tx);
      if (!all) return std::move(all).error();
      int64_t live = std::count_if(all->begin(), all->end(), [](const Instance& i) {
        return i.state != InstanceState::kTerminated && i.state != InstanceState::kShuttingDown;
      });
      int64_t room = kMaxInstances - live;
      if (room < spec->min_count)
        return Error::conflict("InstanceLimitExceeded",
                               "You have requested more instances (" + std::to_string(live + spec->min_count) +
                                   ") than your current instance limit of " + std::to_string(kMaxInstances) +
                                   " allows for the specified instance type. Please visit "
                                   "http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.");
      int64_t count = std::min(spec->max_count, room);
      bool public_ip = spec->associate_public_ip.value_or(subnet->map_public_ip);
      std::string reservation = ids::prefixed("r-");
      for (int64_t n = 0; n < count; ++n) {
        Instance i;
        i.instance_id = ids::prefixed("i-");
        i.reservation_id = reservation;
        i.image_id = spec->image_id;
        i.instance_type = spec->instance_type;
        i.key_name = spec->key_name;
        i.subnet_id = subnet->subnet_id;
        i.vpc_id = subnet->vpc_id;
        i.availability_zone = subnet->availability_zone;
        i.user_data = spec->user_data;
        i.state = InstanceState::kPending;
        i.state_since = call.now;
        i.launch_time = call.now;
        i.ami_launch_index = static_cast<int>(n);
        i.client_token = spec->client_token;
        i.security_group_ids = *groups;
        if (!spec->private_ip.empty()) {
          if (auto st = claim_private_ip(tx, i.subnet_id, spec->private_ip, i.instance_id); !st)
            return std::move(st).error();
          i.private_ip = spec->private_ip;
        } else {
          auto ip = allocate_private_ip(tx, i.subnet_id, i.instance_id);
          if (!ip) return std::move(ip).error();
          i.private_ip = *ip;
        }
        if (public_ip) {
          auto ip = allocate_public_ip(tx, ctx.options.public_ip_block, i.instance_id);
          if (!ip) return std::move(ip).error();
          i.public_ip = *ip;
        }
        auto st = tx.run(
            "INSERT INTO ec2_instances(" + std::string("instance_id, reservation_id, image_id, instance_type, key_name, "
                                                       "subnet_id, vpc_id, availability_zone, private_ip, public_ip, "
                                                       "user_data, state, state_since, launch_time, ami_launch_index, "
                                                       "state_reason, reason, client_token") +
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', ?)",
            i.instance_id, i.reservation_id, i.image_id, i.instance_type,
            i.key_name.empty() ? std::optional<std::string>() : std::optional<std::string>(i.key_name), i.subnet_id,
            i.vpc_id, i.availability_zone, i.private_ip,
            i.public_ip.empty() ? std::optional<std::string>() : std::optional<std::string>(i.public_ip),
            i.user_data.empty() ? std::optional<std::string>() : std::optional<std::string>(i.user_data),
            state_name(i.state), to_millis(i.state_since), to_millis(i.launch_time), i.ami_launch_index,
            i.client_token);
        if (!st) return std::move(st).error();
        for (size_t k = 0; k < groups->size(); ++k) {
          auto gst = tx.run("INSERT INTO ec2_instance_groups(instance_id, position, group_id) VALUES (?, ?, ?)",
                            i.instance_id, static_cast<int64_t>(k), (*groups)[k]);
          if (!gst) return std::move(gst).error();
        }
        if (auto ast = attach_security_groups(tx, i.instance_id, *groups); !ast) return std::move(ast).error();
        if (auto tst = put_tags(tx, i.instance_id, spec->tags); !tst) return std::move(tst).error();
        tx.record_change(kInstancesTable, i.instance_id, store::ChangeKind::kPut);
        launched.push_back(std::move(i));
      }
    }
    auto described = describe_all(tx, std::move(launched));
    if (!described) return std::move(described).error();
    std::string out;
    api::XmlWriter w(out);
    write_reservation(w, *described, ctx, /*wrap_item=*/false);
    return out;
  });
}

// ---------------------------------------------------------------- Describe

Status check_ids(const std::vector<std::string>& ids) {
  for (const auto& id : ids)
    if (!has_id_prefix(id, "i-"))
      return Error::invalid("InvalidInstanceID.Malformed", "Invalid id: \"" + id + "\"");
  return Ok{};
}

// InvalidInstanceID.NotFound naming every missing id, as EC2 does.
Status check_exist(const std::vector<std::string>& ids, const std::vector<Instance>& all) {
  std::vector<std::string> missing;
  for (const auto& id : ids)
    if (std::none_of(all.begin(), all.end(), [&](const Instance& i) { return i.instance_id == id; }))
      missing.push_back(id);
  if (missing.empty()) return Ok{};
  if (missing.size() == 1) return instance_not_found(missing.front());
  std::string list;
  for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
  return Error::not_found("InvalidInstanceID.NotFound", "The instance IDs '" + list + "' do not exist");
}

bool instance_matches(const Filter& f, const Described& d, const Context& ctx, bool& known) {
  const Instance& i = d.instance;
  known = true;
  if (auto t = match_tag_filter(f, d.tags)) return *t;
  const std::string& n = f.name;
  if (n == "instance-state-name") return any_value_matches(f, state_name(i.state));
  if (n == "instance-state-code") return any_value_matches(f, std::to_string(state_code(i.state)));
  if (n == "instance-id") return any_value_matches(f, i.instance_id);
  if (n == "instance-type") return any_value_matches(f, i.instance_type);
  if (n == "vpc-id") return any_value_matches(f, i.vpc_id);
  if (n == "subnet-id") return any_value_matches(f, i.subnet_id);
  if (n == "image-id") return any_value_matches(f, i.image_id);
  if (n == "key-name") return any_value_matches(f, i.key_name);
  if (n == "reservation-id") return any_value_matches(f, i.reservation_id);
  if (n == "availability-zone") return any_value_matches(f, i.availability_zone);
  if (n == "private-ip-address" || n == "network-interface.addresses.private-ip-address")
    return any_value_matches(f, i.private_ip);
  if (n == "ip-address" || n == "network-interface.addresses.association.public-ip")
    return any_value_matches(f, i.public_ip);
  if (n == "private-dns-name") return any_value_matches(f, private_dns_name(i.private_ip, ctx.options.region));
  if (n == "dns-name") return any_value_matches(f, public_dns_name(i.public_ip, ctx.options.region));
  if (n == "launch-index") return any_value_matches(f, std::to_string(i.ami_launch_index));
  if (n == "owner-id") return any_value_matches(f, ctx.options.account_id);
  if (n == "client-token") return any_value_matches(f, i.client_token);
  if (n == "architecture") return any_value_matches(f, "x86_64");
  if (n == "instance.group-id" || n == "group-id" || n == "network-interface.group-id") {
    for (const auto& g : i.security_group_ids)
      if (any_value_matches(f, g)) return true;
    return false;
  }
  if (n == "instance.group-name" || n == "group-name" || n == "network-interface.group-name") {
    for (const auto& g : d.group_names)
      if (any_value_matches(f, g)) return true;
    return false;
  }
  known = false;
  return false;
}

Result<std::string> describe_instances(const Context& ctx, const api::CallContext& call, const api::QueryView& q) {
  auto ids = string_list(q, "InstanceId");
  if (!ids) return std::move(ids).error();
  if (auto st = check_ids(*ids); !st) return std::move(st).error();
  auto filters = parse_filters(q);
  if (!filters) return std::move(filters).error();
  auto page = parse_page(q, 5, 1000);
  if (!page) return std::move(page).error();
  if (page->limit != SIZE_MAX && !ids->empty())
    return invalid_parameter_combination("The parameter instancesSet cannot be used with the parameter maxResults");
  // A write transaction: describing applies the timed transitions first.
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    if (auto st = advance_instance_states(tx, call.now, ctx.options.timings); !st) return std::move(st).error();
    auto all = list_instances(tx);
    if (!all) return std::move(all).error();
    if (auto st = check_exist(*ids, *all); !st) return std::move(st).error();
    std::vector<Instance> selected;
    for (auto& i : *all)
      if (ids->empty() || std::find(ids->begin(), ids->end(), i.instance_id) != ids->end())
        selected.push_back(std::move(i));
    auto described = describe_all(tx, std::move(selected));
    if (!described) return std::move(described).error();
    std::vector<Described> rows;
    for (auto& d : *described) {
      bool keep = true;
      for (const auto& f : *filters) {
        bool known = false;
        bool match = instance_matches(f, d, ctx, known);
        if (!known) return unknown_filter(f.name);
        keep = keep && match;
      }
      if (keep) rows.push_back(std::move(d));
    }
    std::string out;
    api::XmlWriter w(out);
    w.open("reservationSet");
    size_t end = std::min(rows.size(), page->limit == SIZE_MAX ? rows.size() : page->offset + page->limit);
    // Consecutive instances of one reservation share an item.
    for (size_t start = page->offset; start < end;) {
      size_t stop = start + 1;
      while (stop < end && rows[stop].instance.reservation_id == rows[start].instance.reservation_id) ++stop;
      write_reservation(w, std::span<const Described>(rows.data() + start, stop - start), ctx, true);
      start = stop;
    }
    w.close("reservationSet");
    write_next_token(w, next_token(*page, rows.size()));
    return out;
  });
}

// ---------------------------------------------------------------- state changes

enum class Action { kStart, kStop, kTerminate };

Result<std::string> change_state(const Context& ctx, const api::CallContext& call, const api::QueryView& q,
                                 Action action) {
  auto ids = string_list(q, "InstanceId");
  if (!ids) return std::move(ids).error();
  if (ids->empty()) return missing_parameter("InstanceId");
  if (auto st = check_ids(*ids); !st) return std::move(st).error();
  if (auto dry = dry_run_check(q)) return *dry;
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    if (auto st = advance_instance_states(tx, call.now, ctx.options.timings); !st) return std::move(st).error();
    auto all = list_instances(tx);
    if (!all) return std::move(all).error();
    if (auto st = check_exist(*ids, *all); !st) return std::move(st).error();
    std::string out;
    api::XmlWriter w(out);
    w.open("instancesSet");
    std::vector<std::string> done;
    for (const auto& id : *ids) {
      if (std::find(done.begin(), done.end(), id) != done.end()) continue;
      done.push_back(id);
      Instance& i = *std::find_if(all->begin(), all->end(), [&](const Instance& x) { return x.instance_id == id; });
      InstanceState before = i.state;
      InstanceState after = before;
      std::string reason = "User initiated (" + gmt_text(call.now) + ")";
      switch (action) {
        case Action::kStop:
          if (before == InstanceState::kTerminated || before == InstanceState::kShuttingDown)
            return Error::conflict("IncorrectInstanceState",
                                   "The instance '" + id + "' is not in a state from which it can be stopped.");
          if (before == InstanceState::kPending || before == InstanceState::kRunning) after = InstanceState::kStopping;
          break;
        case Action::kStart:
          if (before == InstanceState::kTerminated || before == InstanceState::kShuttingDown ||
              before == InstanceState::kStopping)
            return Error::conflict("IncorrectInstanceState",
                                   "The instance '" + id + "' is not in a state from which it can be started.");
          if (before == InstanceState::kStopped) after = InstanceState::kPending;
          break;
        case Action::kTerminate:
          if (before != InstanceState::kTerminated && before != InstanceState::kShuttingDown)
            after = InstanceState::kShuttingDown;
          break;
      }
      if (after != before) {
        std::string public_ip = i.public_ip;
        std::string reason_code = action == Action::kStart ? "" : "Client.UserInitiatedShutdown";
        std::string reason_text = action == Action::kStart ? "" : reason;
        if (after == InstanceState::kStopping || after == InstanceState::kShuttingDown) {
          // AWS releases the public IPv4 address when an instance stops or terminates.
          if (auto st = release_public_ips(tx, i.instance_id); !st) return std::move(st).error();
          public_ip.clear();
        } else if (after == InstanceState::kPending) {
          auto subnet = get_subnet(tx, i.subnet_id);
          if (!subnet) return std::move(subnet).error();
          if (subnet->map_public_ip) {
            auto ip = allocate_public_ip(tx, ctx.options.public_ip_block, i.instance_id);
            if (!ip) return std::move(ip).error();
            public_ip = *ip;
          }
        }
        auto st = tx.run(
            "UPDATE ec2_instances SET state = ?, state_since = ?, public_ip = ?, state_reason = ?, reason = ? "
            "WHERE instance_id = ?",
            state_name(after), to_millis(call.now),
            public_ip.empty() ? std::optional<std::string>() : std::optional<std::string>(public_ip), reason_code,
            reason_text, i.instance_id);
        if (!st) return std::move(st).error();
        tx.record_change(kInstancesTable, i.instance_id, store::ChangeKind::kPut);
      }
      w.open("item")
          .leaf("instanceId", id)
          .open("currentState").leaf_int("code", state_code(after)).leaf("name", state_name(after)).close("currentState")
          .open("previousState").leaf_int("code", state_code(before)).leaf("name", state_name(before))
          .close("previousState")
          .close("item");
    }
    w.close("instancesSet");
    return out;
  });
}

Result<std::string> describe_instance_attribute(const Context& ctx, const api::CallContext& call,
                                                const api::QueryView& q) {
  auto id = required(q, "InstanceId");
  if (!id) return std::move(id).error();
  auto attribute = required(q, "Attribute");
  if (!attribute) return std::move(attribute).error();
  auto instance = get_instance(ctx.db, *id, call.now, ctx.options.timings);
  if (!instance) return std::move(instance).error();
  std::string out;
  api::XmlWriter w(out);
  w.leaf("instanceId", instance->instance_id);
  const std::string& a = *attribute;
  auto value = [&](std::string_view element, std::string_view v) {
    w.open(element).leaf("value", v).close(element);
  };
  if (a == "instanceType") value("instanceType", instance->instance_type);
  else if (a == "userData") {
    if (instance->user_data.empty()) w.empty("userData");
    else value("userData", instance->user_data);
  } else if (a == "disableApiTermination") value("disableApiTermination", "false");
  else if (a == "disableApiStop") value("disableApiStop", "false");
  else if (a == "instanceInitiatedShutdownBehavior") value("instanceInitiatedShutdownBehavior", "stop");
  else if (a == "rootDeviceName") value("rootDeviceName", "/dev/xvda");
  else if (a == "ebsOptimized") value("ebsOptimized", "false");
  else if (a == "sourceDestCheck") value("sourceDestCheck", "true");
  else if (a == "enaSupport") value("enaSupport", find_instance_type(instance->instance_type)->nitro ? "true" : "false");
  else if (a == "groupSet") {
    auto names = ctx.db.read([&](store::Tx& tx) { return group_names(tx, instance->security_group_ids); });
    if (!names) return std::move(names).error();
    w.open("groupSet");
    for (size_t k = 0; k < names->size(); ++k)
      w.open("item").leaf("groupId", instance->security_group_ids[k]).leaf("groupName", (*names)[k]).close("item");
    w.close("groupSet");
  } else {
    return invalid_parameter_value("Value (" + a + ") for parameter attribute is invalid. Unknown attribute.");
  }
  return out;
}

}  // namespace

void add_instance_operations(api::Service& service, const ContextPtr& ctx) {
  service.add("RunInstances", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return run_instances(*ctx, call, query_of(in));
  });
  service.add("DescribeInstances", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return describe_instances(*ctx, call, query_of(in));
  });
  service.add("StartInstances", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return change_state(*ctx, call, query_of(in), Action::kStart);
  });
  service.add("StopInstances", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return change_state(*ctx, call, query_of(in), Action::kStop);
  });
  service.add("TerminateInstances", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return change_state(*ctx, call, query_of(in), Action::kTerminate);
  });
  service.add("DescribeInstanceAttribute", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return describe_instance_attribute(*ctx, call, query_of(in));
  });
}

}  // namespace berth::ec2
