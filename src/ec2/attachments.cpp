#include "ec2/attachments.h"

namespace berth::ec2 {

Status attach_security_groups(store::Tx& tx, std::string_view resource_id, std::span<const std::string> group_ids) {
  for (const auto& group_id : group_ids) {
    auto st = tx.run("INSERT OR IGNORE INTO ec2_sg_attachments(group_id, resource_id) VALUES (?, ?)", group_id,
                     resource_id);
    if (!st) return st;
  }
  tx.record_change(kAttachmentsTable, resource_id, store::ChangeKind::kPut);
  return Ok{};
}

Status detach_security_groups(store::Tx& tx, std::string_view resource_id) {
  auto st = tx.run("DELETE FROM ec2_sg_attachments WHERE resource_id = ?", resource_id);
  if (!st) return st;
  tx.record_change(kAttachmentsTable, resource_id, store::ChangeKind::kDelete);
  return Ok{};
}

Result<size_t> attachment_count(store::Tx& tx, std::string_view group_id) {
  auto stmt = tx.prepare("SELECT count(*) FROM ec2_sg_attachments WHERE group_id = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(group_id);
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  return static_cast<size_t>(stmt->column_int64(0));
}

}  // namespace berth::ec2
