// runtime/ports: host ports per host address, as the ECS agent hands them
// out: static ports as asked, dynamic ones from 49153-65535 (next fit, so
// a just-released port is not reused at once), never the agent's reserved
// ports. Pure bookkeeping; the forwarder's bind is the final word.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace berth::runtime {

class PortAllocator {
 public:
  static constexpr uint16_t kDynamicFirst = 49153;
  static constexpr uint16_t kDynamicLast = 65535;

  explicit PortAllocator(std::vector<uint16_t> reserved = {22, 2375, 2376, 51678, 51679});

  // requested 0: the next free dynamic port. kConflict when the port is
  // taken or reserved, or the dynamic range is exhausted.
  Result<uint16_t> allocate(const std::string& address, uint16_t requested);
  // Marks a port used (adoption); false if it already was.
  bool claim(const std::string& address, uint16_t port);
  void release(const std::string& address, uint16_t port);
  bool in_use(const std::string& address, uint16_t port) const;
  size_t used_count() const;

 private:
  mutable std::mutex mutex_;
  std::set<uint16_t> reserved_;
  std::map<std::string, std::set<uint16_t>> used_;
  std::map<std::string, uint16_t> cursor_;
};

}  // namespace berth::runtime
