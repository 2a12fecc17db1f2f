#include "ec2/schema.h"

#include <array>

#include "core/ids.h"
#include "ec2/sg_store.h"
#include "ec2/zones.h"
#include "store/migrations.h"

namespace berth::ec2 {
namespace {

// Times are milliseconds since the epoch. Rows are listed in rowid order,
// which is creation order, as Describe calls answer.
constexpr store::Migration kMigrations[] = {
    {1, "vpcs, subnets, security groups, tags, key pairs, instances, addresses", R"sql(
CREATE TABLE ec2_vpcs (
  vpc_id TEXT PRIMARY KEY, cidr TEXT NOT NULL, is_default INTEGER NOT NULL,
  dhcp_options_id TEXT NOT NULL, owner_id TEXT NOT NULL);
CREATE TABLE ec2_subnets (
  subnet_id TEXT PRIMARY KEY, vpc_id TEXT NOT NULL REFERENCES ec2_vpcs(vpc_id), cidr TEXT NOT NULL,
  availability_zone TEXT NOT NULL, availability_zone_id TEXT NOT NULL,
  default_for_az INTEGER NOT NULL, map_public_ip INTEGER NOT NULL, owner_id TEXT NOT NULL);
CREATE TABLE ec2_security_groups (
  group_id TEXT PRIMARY KEY, group_name TEXT NOT NULL, description TEXT NOT NULL,
  vpc_id TEXT NOT NULL, owner_id TEXT NOT NULL, UNIQUE (vpc_id, group_name));
CREATE TABLE ec2_sg_rules (
  rule_id TEXT PRIMARY KEY, group_id TEXT NOT NULL REFERENCES ec2_security_groups(group_id),
  is_egress INTEGER NOT NULL, protocol INTEGER NOT NULL, from_port INTEGER NOT NULL, to_port INTEGER NOT NULL,
  peer_kind TEXT NOT NULL, peer TEXT NOT NULL, peer_user_id TEXT NOT NULL, description TEXT NOT NULL);
CREATE INDEX ec2_sg_rules_by_group ON ec2_sg_rules(group_id);
CREATE INDEX ec2_sg_rules_by_peer ON ec2_sg_rules(peer) WHERE peer_kind = 'group';
CREATE TABLE ec2_sg_attachments (
  group_id TEXT NOT NULL, resource_id TEXT NOT NULL, PRIMARY KEY (group_id, resource_id));
CREATE INDEX ec2_sg_attachments_by_resource ON ec2_sg_attachments(resource_id);
CREATE TABLE ec2_tags (
  resource_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (resource_id, key));
CREATE TABLE ec2_key_pairs (
  key_pair_id TEXT PRIMARY KEY, key_name TEXT NOT NULL UNIQUE, key_type TEXT NOT NULL,
  fingerprint TEXT NOT NULL, public_key TEXT NOT NULL, create_time INTEGER NOT NULL);
CREATE TABLE ec2_instances (
  instance_id TEXT PRIMARY KEY, reservation_id TEXT NOT NULL, image_id TEXT NOT NULL,
  instance_type TEXT NOT NULL, key_name TEXT, subnet_id TEXT NOT NULL, vpc_id TEXT NOT NULL,
  availability_zone TEXT NOT NULL, private_ip TEXT NOT NULL, public_ip TEXT, user_data TEXT,
  state TEXT NOT NULL, state_since INTEGER NOT NULL, launch_time INTEGER NOT NULL,
  ami_launch_index INTEGER NOT NULL, state_reason TEXT NOT NULL, reason TEXT NOT NULL,
  client_token TEXT NOT NULL);
CREATE INDEX ec2_instances_by_reservation ON ec2_instances(reservation_id);
CREATE TABLE ec2_instance_groups (
  instance_id TEXT NOT NULL, position INTEGER NOT NULL, group_id TEXT NOT NULL,
  PRIMARY KEY (instance_id, position));
CREATE TABLE ec2_private_ips (
  subnet_id TEXT NOT NULL, address INTEGER NOT NULL, resource_id TEXT NOT NULL,
  PRIMARY KEY (subnet_id, address));
CREATE TABLE ec2_public_ips (address INTEGER PRIMARY KEY, resource_id TEXT NOT NULL);
)sql"},
    {2, "network interfaces other modules make (ECS awsvpc tasks)", R"sql(
CREATE TABLE ec2_network_interfaces (
  eni_id TEXT PRIMARY KEY, subnet_id TEXT NOT NULL, vpc_id TEXT NOT NULL, availability_zone TEXT NOT NULL,
  mac_address TEXT NOT NULL, private_ip TEXT NOT NULL, public_ip TEXT NOT NULL, security_groups TEXT NOT NULL,
  description TEXT NOT NULL, requester_id TEXT NOT NULL, created_at INTEGER NOT NULL);
)sql"},
};

Result<bool> exists(store::Tx& tx, std::string_view sql, std::string_view arg) {
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(arg);
  return stmt->step();
}

Status seed(store::Tx& tx, const Ec2Options& options) {
  std::string vpc_id;
  auto existing = default_vpc_id(tx);
  if (existing) {
    vpc_id = *existing;
  } else {
    vpc_id = ids::prefixed("vpc-");
    auto st = tx.run("INSERT INTO ec2_vpcs(vpc_id, cidr, is_default, dhcp_options_id, owner_id) VALUES (?, ?, 1, ?, ?)",
                     vpc_id, kDefaultVpcCidr, ids::prefixed("dopt-"), options.account_id);
    if (!st) return st;
    tx.record_change("ec2_vpcs", vpc_id, store::ChangeKind::kPut);
  }
  // 172.31.0.0/20, 172.31.16.0/20, ... one per zone.
  auto zones = zones_of(options.region);
  for (size_t i = 0; i < zones.size(); ++i) {
    auto found = exists(tx, "SELECT 1 FROM ec2_subnets WHERE availability_zone = ? AND default_for_az = 1",
                        zones[i].name);
    if (!found) return std::move(found).error();
    if (*found) continue;
    std::string subnet_id = ids::prefixed("subnet-");
    std::string cidr = "172.31." + std::to_string(16 * i) + ".0/20";
    auto st = tx.run(
        "INSERT INTO ec2_subnets(subnet_id, vpc_id, cidr, availability_zone, availability_zone_id, default_for_az, "
        "map_public_ip, owner_id) VALUES (?, ?, ?, ?, ?, 1, 1, ?)",
        subnet_id, vpc_id, cidr, zones[i].name, zones[i].id, options.account_id);
    if (!st) return st;
    tx.record_change("ec2_subnets", subnet_id, store::ChangeKind::kPut);
  }
  auto group = find_group_by_name(tx, vpc_id, "default");
  if (!group) return std::move(group).error();
  if (!*group) {
    GroupRecord g{ids::prefixed("sg-"), "default", "default VPC security group", vpc_id, options.account_id};
    if (auto st = insert_group(tx, g); !st) return st;
    // Inbound: all traffic from members of the group itself; outbound: all.
    SecurityGroupRule self;
    self.direction = RuleDirection::kIngress;
    self.protocol = IpProtocol::all();
    self.peer = GroupPeer{GroupId::parse(g.group_id).value_or(GroupId{}), options.account_id};
    if (auto st = insert_rule(tx, g.group_id, self); !st) return st;
    SecurityGroupRule egress = default_egress_rule();
    if (auto st = insert_rule(tx, g.group_id, egress); !st) return st;
  }
  return Ok{};
}

}  // namespace

Status apply_ec2_migrations(store::Database& db) { return store::apply_migrations(db, "ec2", kMigrations); }

Status seed_defaults(store::Database& db, const Ec2Options& options) {
  return db.transaction([&](store::Tx& tx) { return seed(tx, options); });
}

Result<std::string> default_vpc_id(store::Tx& tx) {
  auto stmt = tx.prepare("SELECT vpc_id FROM ec2_vpcs WHERE is_default = 1");
  if (!stmt) return std::move(stmt).error();
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row) return Error::not_found("VPCIdNotSpecified", "No default VPC for this user");
  return stmt->column_string(0);
}

Status prepare_ec2_store(store::Database& db, const Ec2Options& options) {
  if (auto st = apply_ec2_migrations(db); !st) return st;
  return seed_defaults(db, options);
}

}  // namespace berth::ec2
