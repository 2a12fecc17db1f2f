// Test helpers for real runc runs: a busybox root filesystem (from Debian's
// busybox-static), an OCI layout of it made with umoci, a blocking TCP
// client, and security-group tables from ec2 values.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "ec2/connection_policy.h"
#include "runtime/runtime.h"

namespace berth::runtime::testing {

// A rootfs with /bin/busybox, its applets as symlinks, /www/index.html
// ("hello berth"), /etc/passwd, made under `dir` (once).
std::string busybox_rootfs(const std::filesystem::path& dir);

// An OCI image layout of busybox_rootfs(), tag "latest"; returns the
// manifest digest.
std::string busybox_layout(const std::filesystem::path& rootfs, const std::filesystem::path& layout);

// Connects to ip:port, sends `request`, reads until EOF or timeout.
// "" when the connection is refused or closed without a byte.
std::string exchange(const std::string& ip, uint16_t port, const std::string& request,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

// Connects the (non-blocking) socket `fd` to 127.0.0.1:port, exchanges as
// above, closes it.
std::string exchange_on(int fd, uint16_t port, const std::string& request);

// Groups: one group `id`, with `protocol` ingress from 127.0.0.0/8 on
// `port` if port != 0 (else no ingress rule).
std::shared_ptr<const ec2::SecurityGroupTable> table_with(const std::string& id, uint16_t port,
                                                          const std::string& protocol = "tcp");

// Sends one UDP datagram to ip:port and waits for one answer; "" on timeout.
std::string udp_exchange(const std::string& ip, uint16_t port, const std::string& datagram,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

class GroupsHolder {
 public:
  void set(std::shared_ptr<const ec2::SecurityGroupTable> t) {
    std::lock_guard lock(mutex_);
    table_ = std::move(t);
  }
  SecurityGroupSource source() {
    return [this] {
      std::lock_guard lock(mutex_);
      return table_;
    };
  }

 private:
  std::mutex mutex_;
  std::shared_ptr<const ec2::SecurityGroupTable> table_ = ec2::SecurityGroupTable::empty();
};

// A 127.x.y.1 address unlikely to clash with other test processes.
std::string private_loopback(int n);

bool mounted_under(const std::string& prefix);  // any mount point below prefix in /proc/self/mountinfo

}  // namespace berth::runtime::testing
