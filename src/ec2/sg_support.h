// ec2/sg_support: what the security-group handlers share: finding a group
// by id or by name in the default VPC with EC2's errors, and the XML of
// IpPermission lists and SecurityGroupRule items.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "api/xml_writer.h"
#include "ec2/api_support.h"
#include "ec2/sg_store.h"

namespace berth::ec2 {

Error group_not_found(std::string_view group_id);
// "The security group '<name>' does not exist in default VPC '<vpc>'".
Error group_name_not_found(std::string_view name, std::string_view vpc_id);

// GroupId wins when both are given (as EC2 does); a name is looked up in
// the default VPC. MissingParameter when neither is given.
Result<GroupRecord> resolve_group(store::Tx& tx, std::string_view group_id, std::string_view group_name);

std::string security_group_arn(std::string_view region, std::string_view owner, std::string_view group_id);

// <element><item>ipProtocol, fromPort, toPort, groups, ipRanges, ipv6Ranges,
// prefixListIds</item>...</element>: rules with the same protocol and ports
// are one IpPermission, as Describe shows them.
void write_ip_permissions(api::XmlWriter& w, std::string_view element, std::span<const SecurityGroupRule> rules);

// One <item> of securityGroupRuleSet.
void write_rule_item(api::XmlWriter& w, const SecurityGroupRule& rule, std::string_view group_id,
                     std::string_view owner_id, std::string_view region, const Tags& tags = {});

}  // namespace berth::ec2
