// ec2/sg_publisher: keeps the data planes' SecurityGroupTable current.
// Builds a fresh immutable table from the store at start and after every
// committed change to the security-group tables, and publishes it with an
// atomic pointer swap. Readers (ALB, port forwarders) call current() once
// per connection and keep the shared_ptr; they never wait on the store.
//
//   store change feed (ec2_security_groups) ──> load_security_groups(tx)
//        ──> SecurityGroupTable::build ──> atomic<shared_ptr<const T>> ──> current()
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "core/error.h"
#include "ec2/connection_policy.h"
#include "store/store.h"

namespace berth::ec2 {

class SecurityGroupPublisher {
 public:
  // Builds the first table and subscribes to the change feed. The Database
  // must outlive the publisher; destroying it unsubscribes.
  static Result<std::unique_ptr<SecurityGroupPublisher>> start(store::Database& db);

  std::shared_ptr<const SecurityGroupTable> current() const { return table_.load(std::memory_order_acquire); }
  // How many tables have been published (starts at 1); for tests and metrics.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Rebuilds now (also what the subscription does).
  Status refresh();

 private:
  explicit SecurityGroupPublisher(store::Database& db) : db_(db) {}

  store::Database& db_;
  std::atomic<std::shared_ptr<const SecurityGroupTable>> table_{SecurityGroupTable::empty()};
  std::atomic<uint64_t> generation_{0};
  store::Subscription subscription_;
};

}  // namespace berth::ec2
