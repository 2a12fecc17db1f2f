#include "ec2/sg_publisher.h"

#include "core/log.h"
#include "ec2/sg_store.h"

namespace berth::ec2 {

Result<std::unique_ptr<SecurityGroupPublisher>> SecurityGroupPublisher::start(store::Database& db) {
  std::unique_ptr<SecurityGroupPublisher> publisher(new SecurityGroupPublisher(db));
  if (auto st = publisher->refresh(); !st) return std::move(st).error();
  SecurityGroupPublisher* self = publisher.get();
  publisher->subscription_ = db.subscribe([self](const std::vector<store::Change>& changes) {
    for (const auto& change : changes) {
      if (change.table != kGroupsTable) continue;
      if (auto st = self->refresh(); !st)
        log::error("ec2", "security group table rebuild failed: ", st.error().message);
      return;
    }
  });
  return publisher;
}

Status SecurityGroupPublisher::refresh() {
  // Batches arrive one at a time in commit order, so the last build wins
  // with the newest state.
  auto groups = db_.read([](store::Tx& tx) { return load_security_groups(tx); });
  if (!groups) return std::move(groups).error();
  table_.store(SecurityGroupTable::build(*groups), std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return Ok{};
}

}  // namespace berth::ec2
