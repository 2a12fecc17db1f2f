#include "ec2/sg_store.h"

#include <unordered_map>

#include "core/ids.h"

namespace berth::ec2 {
namespace {

constexpr std::string_view kGroupColumns = "group_id, group_name, description, vpc_id, owner_id";

GroupRecord group_from_row(const store::Statement& s) {
  return {s.column_string(0), s.column_string(1), s.column_string(2), s.column_string(3), s.column_string(4)};
}

Result<std::vector<GroupRecord>> query_groups(store::Tx& tx, const std::string& sql,
                                              std::string_view a = {}, std::string_view b = {}, int binds = 0) {
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  if (binds >= 1) stmt->bind_text(1, a);
  if (binds >= 2) stmt->bind_text(2, b);
  std::vector<GroupRecord> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(group_from_row(*stmt));
  }
  return out;
}

Result<std::optional<GroupRecord>> first(Result<std::vector<GroupRecord>> rows) {
  if (!rows) return std::move(rows).error();
  if (rows->empty()) return std::optional<GroupRecord>{};
  return std::optional<GroupRecord>{std::move(rows->front())};
}

}  // namespace

Result<std::optional<GroupRecord>> find_group(store::Tx& tx, std::string_view group_id) {
  return first(query_groups(tx, "SELECT " + std::string(kGroupColumns) + " FROM ec2_security_groups WHERE group_id = ?",
                            group_id, {}, 1));
}

Result<std::optional<GroupRecord>> find_group_by_name(store::Tx& tx, std::string_view vpc_id, std::string_view name) {
  return first(query_groups(
      tx, "SELECT " + std::string(kGroupColumns) + " FROM ec2_security_groups WHERE vpc_id = ? AND group_name = ?",
      vpc_id, name, 2));
}

Result<std::vector<GroupRecord>> list_groups(store::Tx& tx) {
  return query_groups(tx, "SELECT " + std::string(kGroupColumns) + " FROM ec2_security_groups ORDER BY rowid");
}

Status insert_group(store::Tx& tx, const GroupRecord& g) {
  auto st = tx.run("INSERT INTO ec2_security_groups(group_id, group_name, description, vpc_id, owner_id) "
                   "VALUES (?, ?, ?, ?, ?)",
                   g.group_id, g.name, g.description, g.vpc_id, g.owner_id);
  if (!st) return st;
  tx.record_change(kGroupsTable, g.group_id, store::ChangeKind::kPut);
  return Ok{};
}

Status delete_group(store::Tx& tx, std::string_view group_id) {
  auto st = tx.run("DELETE FROM ec2_sg_rules WHERE group_id = ?", group_id);
  if (!st) return st;
  st = tx.run("DELETE FROM ec2_security_groups WHERE group_id = ?", group_id);
  if (!st) return st;
  tx.record_change(kGroupsTable, group_id, store::ChangeKind::kDelete);
  return Ok{};
}

Result<std::vector<StoredRule>> load_rules(store::Tx& tx, std::string_view group_id) {
  std::string sql =
      "SELECT group_id, rule_id, is_egress, protocol, from_port, to_port, peer_kind, peer, peer_user_id, description "
      "FROM ec2_sg_rules";
  if (!group_id.empty()) sql += " WHERE group_id = ?";
  sql += " ORDER BY rowid";
  auto stmt = tx.prepare(sql);
  if (!stmt) return std::move(stmt).error();
  if (!group_id.empty()) stmt->bind_text(1, group_id);
  std::vector<StoredRule> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    StoredRule r;
    r.group_id = stmt->column_string(0);
    r.rule.rule_id = stmt->column_string(1);
    r.rule.direction = stmt->column_int64(2) ? RuleDirection::kEgress : RuleDirection::kIngress;
    r.rule.protocol = IpProtocol(static_cast<int16_t>(stmt->column_int64(3)));
    r.rule.ports = {static_cast<int32_t>(stmt->column_int64(4)), static_cast<int32_t>(stmt->column_int64(5))};
    std::string_view kind = stmt->column_text(6);
    std::string peer = stmt->column_string(7);
    if (kind == "cidr4") {
      r.rule.peer = Cidr::parse_v4(peer).value_or(Cidr{});
    } else if (kind == "cidr6") {
      r.rule.peer = Cidr::parse_v6(peer).value_or(Cidr{});
    } else if (kind == "prefix") {
      r.rule.peer = PrefixListPeer{peer};
    } else {
      r.rule.peer = GroupPeer{GroupId::parse(peer).value_or(GroupId{}), stmt->column_string(8)};
    }
    r.rule.description = stmt->column_string(9);
    out.push_back(std::move(r));
  }
  return out;
}

Status insert_rule(store::Tx& tx, std::string_view group_id, SecurityGroupRule& rule) {
  if (rule.rule_id.empty()) rule.rule_id = ids::prefixed("sgr-");
  std::string kind, peer, user_id;
  if (const auto* cidr = std::get_if<Cidr>(&rule.peer)) {
    kind = cidr->family() == IpFamily::kV4 ? "cidr4" : "cidr6";
    peer = cidr->to_string();
  } else if (const auto* group = std::get_if<GroupPeer>(&rule.peer)) {
    kind = "group";
    peer = group->group_id.to_string();
    user_id = group->user_id;
  } else {
    kind = "prefix";
    peer = std::get<PrefixListPeer>(rule.peer).prefix_list_id;
  }
  auto st = tx.run(
      "INSERT INTO ec2_sg_rules(rule_id, group_id, is_egress, protocol, from_port, to_port, peer_kind, peer, "
      "peer_user_id, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      rule.rule_id, group_id, rule.direction == RuleDirection::kEgress ? 1 : 0, rule.protocol.number(),
      rule.ports.from, rule.ports.to, kind, peer, user_id, rule.description);
  if (!st) return st;
  tx.record_change(kGroupsTable, group_id, store::ChangeKind::kPut);
  return Ok{};
}

Status delete_rule(store::Tx& tx, std::string_view group_id, std::string_view rule_id) {
  auto st = tx.run("DELETE FROM ec2_sg_rules WHERE rule_id = ?", rule_id);
  if (!st) return st;
  tx.record_change(kGroupsTable, group_id, store::ChangeKind::kPut);
  return Ok{};
}

Result<std::vector<std::string>> groups_referencing(store::Tx& tx, std::string_view group_id) {
  auto stmt = tx.prepare(
      "SELECT DISTINCT group_id FROM ec2_sg_rules WHERE peer_kind = 'group' AND peer = ? AND group_id <> ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(group_id, group_id);
  std::vector<std::string> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(stmt->column_string(0));
  }
  return out;
}

Result<std::vector<SecurityGroup>> load_security_groups(store::Tx& tx) {
  auto groups = list_groups(tx);
  if (!groups) return std::move(groups).error();
  auto rules = load_rules(tx);
  if (!rules) return std::move(rules).error();
  std::vector<SecurityGroup> out;
  std::unordered_map<std::string, size_t> index;
  out.reserve(groups->size());
  for (const auto& g : *groups) {
    SecurityGroup sg;
    sg.id = GroupId::parse(g.group_id).value_or(GroupId{});
    sg.vpc_id = g.vpc_id;
    index.emplace(g.group_id, out.size());
    out.push_back(std::move(sg));
  }
  for (auto& r : *rules) {
    auto it = index.find(r.group_id);
    if (it == index.end()) continue;
    auto& sg = out[it->second];
    (r.rule.direction == RuleDirection::kEgress ? sg.egress : sg.ingress).push_back(std::move(r.rule));
  }
  return out;
}

}  // namespace berth::ec2
