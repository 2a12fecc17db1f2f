#include "runtime/ports.h"

namespace berth::runtime {

PortAllocator::PortAllocator(std::vector<uint16_t> reserved) : reserved_(reserved.begin(), reserved.end()) {}

Result<uint16_t> PortAllocator::allocate(const std::string& address, uint16_t requested) {
  std::lock_guard lock(mutex_);
  auto& used = used_[address];
  if (requested != 0) {
    if (reserved_.count(requested) || used.count(requested))
      return Error::conflict("PortInUse", "host port " + std::to_string(requested) + " is in use on " + address);
    used.insert(requested);
    return requested;
  }
  constexpr uint32_t kSpan = kDynamicLast - kDynamicFirst + 1;
  auto [it, fresh] = cursor_.try_emplace(address, kDynamicFirst);
  uint32_t start = it->second - kDynamicFirst;
  for (uint32_t i = 0; i < kSpan; ++i) {
    auto port = static_cast<uint16_t>(kDynamicFirst + (start + i) % kSpan);
    if (reserved_.count(port) || used.count(port)) continue;
    used.insert(port);
    it->second = static_cast<uint16_t>(kDynamicFirst + (port - kDynamicFirst + 1) % kSpan);
    return port;
  }
  return Error::conflict("PortsExhausted", "no dynamic host port left on " + address);
}

bool PortAllocator::claim(const std::string& address, uint16_t port) {
  std::lock_guard lock(mutex_);
  return used_[address].insert(port).second;
}

void PortAllocator::release(const std::string& address, uint16_t port) {
  std::lock_guard lock(mutex_);
  auto it = used_.find(address);
  if (it == used_.end()) return;
  it->second.erase(port);
  if (it->second.empty()) used_.erase(it);
}

bool PortAllocator::in_use(const std::string& address, uint16_t port) const {
  std::lock_guard lock(mutex_);
  auto it = used_.find(address);
  return it != used_.end() && it->second.count(port);
}

size_t PortAllocator::used_count() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [a, s] : used_) n += s.size();
  return n;
}

}  // namespace berth::runtime
