#include "ec2/instances.h"

#include "ec2/addresses.h"
#include "ec2/api_support.h"
#include "ec2/attachments.h"

namespace berth::ec2 {

namespace {
constexpr std::string_view kStateNames[] = {"pending", "running", "shutting-down", "terminated", "stopping", "stopped"};
constexpr int kStateCodes[] = {0, 16, 32, 48, 64, 80};

constexpr std::string_view kColumns =
    "instance_id, reservation_id, image_id, instance_type, key_name, subnet_id, vpc_id, availability_zone, "
    "private_ip, public_ip, user_data, state, state_since, launch_time, ami_launch_index, state_reason, reason, "
    "client_token";

std::string dashed(std::string_view ip) {
  std::string out(ip);
  for (char& c : out)
    if (c == '.') c = '-';
  return out;
}

Status load_groups(store::Tx& tx, Instance& instance) {
  auto stmt = tx.prepare("SELECT group_id FROM ec2_instance_groups WHERE instance_id = ? ORDER BY position");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(instance.instance_id);
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    instance.security_group_ids.push_back(stmt->column_string(0));
  }
  return Ok{};
}

Result<std::vector<Instance>> query(store::Tx& tx, std::string_view where, std::string_view arg) {
  auto stmt = tx.prepare("SELECT " + std::string(kColumns) + " FROM ec2_instances " + std::string(where) +
                         " ORDER BY rowid");
  if (!stmt) return std::move(stmt).error();
  if (!arg.empty()) stmt->bind_text(1, arg);
  std::vector<Instance> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    Instance i;
    i.instance_id = stmt->column_string(0);
    i.reservation_id = stmt->column_string(1);
    i.image_id = stmt->column_string(2);
    i.instance_type = stmt->column_string(3);
    i.key_name = stmt->column_string_opt(4).value_or("");
    i.subnet_id = stmt->column_string(5);
    i.vpc_id = stmt->column_string(6);
    i.availability_zone = stmt->column_string(7);
    i.private_ip = stmt->column_string(8);
    i.public_ip = stmt->column_string_opt(9).value_or("");
    i.user_data = stmt->column_string_opt(10).value_or("");
    i.state = parse_state(stmt->column_text(11)).value_or(InstanceState::kTerminated);
    i.state_since = from_millis(stmt->column_int64(12));
    i.launch_time = from_millis(stmt->column_int64(13));
    i.ami_launch_index = static_cast<int>(stmt->column_int64(14));
    i.state_reason_code = stmt->column_string(15);
    i.reason = stmt->column_string(16);
    i.client_token = stmt->column_string(17);
    out.push_back(std::move(i));
  }
  for (auto& i : out)
    if (auto st = load_groups(tx, i); !st) return std::move(st).error();
  return out;
}

Status set_state(store::Tx& tx, const Instance& i, InstanceState state, WallTime since) {
  auto st = tx.run("UPDATE ec2_instances SET state = ?, state_since = ? WHERE instance_id = ?", state_name(state),
                   to_millis(since), i.instance_id);
  if (!st) return st;
  tx.record_change(kInstancesTable, i.instance_id, store::ChangeKind::kPut);
  return Ok{};
}

}  // namespace

std::string_view state_name(InstanceState state) { return kStateNames[static_cast<int>(state)]; }
int state_code(InstanceState state) { return kStateCodes[static_cast<int>(state)]; }

std::optional<InstanceState> parse_state(std::string_view name) {
  for (int i = 0; i < 6; ++i)
    if (kStateNames[i] == name) return static_cast<InstanceState>(i);
  return std::nullopt;
}

std::string private_dns_name(std::string_view private_ip, std::string_view region) {
  std::string suffix = region == "us-east-1" ? ".ec2.internal" : "." + std::string(region) + ".compute.internal";
  return "ip-" + dashed(private_ip) + suffix;
}

std::string public_dns_name(std::string_view public_ip, std::string_view region) {
  if (public_ip.empty()) return {};
  std::string suffix =
      region == "us-east-1" ? ".compute-1.amazonaws.com" : "." + std::string(region) + ".compute.amazonaws.com";
  return "ec2-" + dashed(public_ip) + suffix;
}

Error instance_not_found(std::string_view instance_id) {
  return Error::not_found("InvalidInstanceID.NotFound",
                          "The instance ID '" + std::string(instance_id) + "' does not exist");
}

Status advance_instance_states(store::Tx& tx, WallTime now, const InstanceTimings& timings) {
  auto all = query(tx, "WHERE state IN ('pending', 'stopping', 'shutting-down', 'terminated')", "");
  if (!all) return std::move(all).error();
  for (const auto& i : *all) {
    switch (i.state) {
      case InstanceState::kPending:
        if (i.state_since + timings.pending <= now)
          if (auto st = set_state(tx, i, InstanceState::kRunning, i.state_since + timings.pending); !st) return st;
        break;
      case InstanceState::kStopping:
        if (i.state_since + timings.stopping <= now)
          if (auto st = set_state(tx, i, InstanceState::kStopped, i.state_since + timings.stopping); !st) return st;
        break;
      case InstanceState::kShuttingDown:
        if (i.state_since + timings.shutting_down <= now) {
          if (auto st = set_state(tx, i, InstanceState::kTerminated, i.state_since + timings.shutting_down); !st)
            return st;
          // A terminated instance holds no address and no group.
          if (auto st = release_private_ips(tx, i.instance_id); !st) return st;
          if (auto st = detach_security_groups(tx, i.instance_id); !st) return st;
        }
        break;
      case InstanceState::kTerminated:
        if (i.state_since + timings.terminated_visible <= now) {
          for (std::string_view sql : {"DELETE FROM ec2_instance_groups WHERE instance_id = ?",
                                       "DELETE FROM ec2_instances WHERE instance_id = ?"})
            if (auto st = tx.run(sql, i.instance_id); !st) return st;
          if (auto st = delete_tags(tx, i.instance_id); !st) return st;
          tx.record_change(kInstancesTable, i.instance_id, store::ChangeKind::kDelete);
        }
        break;
      default:
        break;
    }
  }
  return Ok{};
}

Status advance_instance_states(store::Database& db, WallTime now, const InstanceTimings& timings) {
  return db.transaction([&](store::Tx& tx) { return advance_instance_states(tx, now, timings); });
}

Result<std::optional<Instance>> find_instance(store::Tx& tx, std::string_view instance_id) {
  auto rows = query(tx, "WHERE instance_id = ?", instance_id.empty() ? "-" : instance_id);
  if (!rows) return std::move(rows).error();
  if (rows->empty()) return std::optional<Instance>{};
  return std::optional<Instance>{std::move(rows->front())};
}

Result<std::vector<Instance>> list_instances(store::Tx& tx) { return query(tx, "", ""); }

Result<Instance> get_instance(store::Database& db, std::string_view instance_id, WallTime now,
                              const InstanceTimings& timings) {
  return db.transaction([&](store::Tx& tx) -> Result<Instance> {
    if (auto st = advance_instance_states(tx, now, timings); !st) return std::move(st).error();
    auto found = find_instance(tx, instance_id);
    if (!found) return std::move(found).error();
    if (!*found) return instance_not_found(instance_id);
    return std::move(**found);
  });
}

}  // namespace berth::ec2
