// The network: the VPC and its subnets are the account's (parameters), the
// security groups are berth's with all their rules. A rule whose source is
// another group becomes its own SecurityGroupIngress/Egress resource, so
// groups that name each other make no dependency cycle.
#include <boost/json.hpp>

#include "export/builders.h"

namespace berth::cfn {

void build_parameters(Context& c) {
  c.t.parameters[kVpcParameter] = {
      {"Type", "AWS::EC2::VPC::Id"},
      {"Description", "The VPC of the security groups and target groups (berth ran them in its default VPC; "
                      "aws ec2 describe-vpcs --filters Name=is-default,Values=true names the account's)"}};
  c.t.parameters[kSubnetsParameter] = {
      {"Type", "List<AWS::EC2::Subnet::Id>"},
      {"Description", "Subnets of that VPC in at least two Availability Zones, for the load balancers, the "
                      "instances and the awsvpc tasks (berth used its default VPC's subnets)"}};
}

namespace {

bool is_default_egress(const json::array& egress) {
  if (egress.size() != 1 || !egress[0].is_object()) return false;
  const auto& p = egress[0].as_object();
  return str(p, "ipProtocol") == "-1" && arr(p, "ipRanges").size() == 1 && arr(p, "groups").empty() &&
         arr(p, "ipv6Ranges").empty() && str(arr(p, "ipRanges")[0].as_object(), "cidrIp") == "0.0.0.0/0";
}

// The protocol and ports of a permission, as CloudFormation writes them.
json::object rule_base(const json::object& p) {
  json::object r{{"IpProtocol", str(p, "ipProtocol")}};
  if (str(p, "ipProtocol") != "-1") {
    if (num(p, "fromPort") != -1 || str(p, "ipProtocol") == "icmp") r["FromPort"] = num(p, "fromPort");
    if (num(p, "toPort") != -1 || str(p, "ipProtocol") == "icmp") r["ToPort"] = num(p, "toPort");
  }
  return r;
}

std::string ports_name(const json::object& p) {
  std::string proto = str(p, "ipProtocol") == "-1" ? "all" : str(p, "ipProtocol");
  if (str(p, "ipProtocol") == "-1") return proto;
  return proto + "-" + std::to_string(num(p, "fromPort")) + "-" + std::to_string(num(p, "toPort"));
}

// The CIDR ranges of the permissions, one entry each; the group sources as
// separate resources; prefix lists said plainly.
json::array cidr_rules(Context& c, const std::string& name, const json::array& permissions, bool ingress) {
  json::array rules;
  for (const auto& v : permissions) {
    if (!v.is_object()) continue;
    const auto& p = v.as_object();
    for (const auto& range : arr(p, "ipRanges")) {
      json::object r = rule_base(p);
      r["CidrIp"] = str(range.as_object(), "cidrIp");
      if (auto d = str(range.as_object(), "description"); !d.empty()) r["Description"] = d;
      rules.push_back(std::move(r));
    }
    for (const auto& range : arr(p, "ipv6Ranges")) {
      json::object r = rule_base(p);
      r["CidrIpv6"] = str(range.as_object(), "cidrIpv6");
      if (auto d = str(range.as_object(), "description"); !d.empty()) r["Description"] = d;
      rules.push_back(std::move(r));
    }
    for (const auto& list : arr(p, "prefixListIds"))
      c.note("not exported: the " + std::string(ingress ? "inbound" : "outbound") + " rule " + ports_name(p) +
             " of security group " + name + " for prefix list " + str(list.as_object(), "prefixListId") +
             " (berth's prefix lists are not the account's)");
  }
  return rules;
}

void group_rules(Context& c, const std::string& name, const std::string& id, const json::array& permissions,
                 bool ingress, const std::map<std::string, std::string>& names) {
  for (const auto& v : permissions) {
    if (!v.is_object()) continue;
    const auto& p = v.as_object();
    for (const auto& pair_value : arr(p, "groups")) {
      const auto& pair = pair_value.as_object();
      std::string source = str(pair, "groupId");
      auto known = c.security_groups.find(source);
      if (known == c.security_groups.end()) {
        c.note("not exported: the " + std::string(ingress ? "inbound" : "outbound") + " rule " + ports_name(p) +
               " of security group " + name + " that names group " + source +
               " (not exported itself: the VPC's default group or another account's)");
        continue;
      }
      std::string other = names.at(source);
      auto& r = c.add(c.ids.make(name + "-" + ports_name(p) + (ingress ? "-from-" : "-to-") + other,
                                 ingress ? "Ingress" : "Egress"),
                      ingress ? "AWS::EC2::SecurityGroupIngress" : "AWS::EC2::SecurityGroupEgress");
      r.properties = rule_base(p);
      r.properties["GroupId"] = get_att(id, "GroupId");
      r.properties[ingress ? "SourceSecurityGroupId" : "DestinationSecurityGroupId"] =
          get_att(known->second, "GroupId");
      if (auto d = str(pair, "description"); !d.empty()) r.properties["Description"] = d;
    }
  }
}

}  // namespace

void build_security_groups(Context& c) {
  std::map<std::string, std::string> names;  // berth id -> name
  auto groups = sorted_by(c.state.security_groups, "groupName");
  for (const auto* g : groups) {
    // The VPC's own default group comes with the VPC on AWS too.
    if (str(*g, "groupName") == "default") continue;
    c.security_groups[str(*g, "groupId")] = c.ids.make(str(*g, "groupName"), "SecurityGroup");
    names[str(*g, "groupId")] = str(*g, "groupName");
  }
  for (const auto* g : groups) {
    auto found = c.security_groups.find(str(*g, "groupId"));
    if (found == c.security_groups.end()) continue;
    std::string name = str(*g, "groupName");
    auto& r = c.add(found->second, "AWS::EC2::SecurityGroup");
    r.properties["GroupDescription"] = str(*g, "groupDescription");
    r.properties["VpcId"] = make_ref(kVpcParameter);
    r.properties["Tags"] = json::array{json::object{{"Key", "Name"}, {"Value", name}}};
    if (auto in = cidr_rules(c, name, arr(*g, "ipPermissions"), true); !in.empty())
      r.properties["SecurityGroupIngress"] = std::move(in);
    // CloudFormation gives a group the same allow-all egress rule unless told otherwise.
    if (!is_default_egress(arr(*g, "ipPermissionsEgress"))) {
      auto out = cidr_rules(c, name, arr(*g, "ipPermissionsEgress"), false);
      // No CIDR egress rule: an empty list would leave CloudFormation's
      // allow-all in place; a rule to nowhere replaces it (as the CDK does).
      if (out.empty())
        out.push_back(json::object{{"IpProtocol", "icmp"}, {"FromPort", 252}, {"ToPort", 86},
                                   {"CidrIp", "255.255.255.255/32"}});
      r.properties["SecurityGroupEgress"] = std::move(out);
    }
    group_rules(c, name, found->second, arr(*g, "ipPermissions"), true, names);
    group_rules(c, name, found->second, arr(*g, "ipPermissionsEgress"), false, names);
  }
}

}  // namespace berth::cfn
