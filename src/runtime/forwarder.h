// runtime/forwarder: the user-space TCP and UDP forwarders that publish
// container ports on host addresses without leaving loopback.
//
//   client ──> ADDR:host_port (acceptor, host netns)
//                 │ ec2::connection_allowed(source, no source groups,
//                 │   destination = ADDR, destination groups = task's)
//                 │   no  → dropped_ += 1, no byte ever sent; held open
//                 │         (unread) until the client gives up, as a
//                 │         dropped SYN makes it wait on AWS
//                 ▼ yes
//              socket created inside the task's netns
//                 ──> 127.0.0.1:container_port ──> bytes both ways
//
// UDP: each client address is a flow with its own socket inside the task's
// netns, decided once by security groups (protocol udp) when its first
// datagram comes; a dropped flow's datagrams vanish; a flow idle for
// kUdpFlowIdle is forgotten.
//
// One io_context on one thread of its own; the data path never takes a
// lock (the security-group snapshot is whatever the source returns).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "ec2/security_group_rules.h"
#include "runtime/runtime.h"

namespace berth::runtime {

struct ListenerSpec {
  std::string owner;  // task id: close_owner() closes all of them
  std::string bind_ip;
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  std::string netns_name;
  std::vector<ec2::GroupId> destination_groups;
  std::string protocol = "tcp";  // "tcp" or "udp"
};

class Forwarders {
 public:
  explicit Forwarders(SecurityGroupSource groups);
  ~Forwarders();
  Forwarders(const Forwarders&) = delete;
  Forwarders& operator=(const Forwarders&) = delete;

  // Binds and starts accepting. kConflict when the address is in use,
  // kInvalid when it is not an address of this host.
  Status listen(const ListenerSpec& spec);
  // A published port with no socket (a non-local private address), for open_route.
  void add_route(const ListenerSpec& spec);
  // See TaskRuntime::open_private_route. Takes a short lock (the route map).
  Result<PrivateRoute> open_route(const std::string& ip, uint16_t port, const ec2::IpAddress& source,
                                  std::span<const ec2::GroupId> source_groups);
  // Closes the owner's listeners, routes and open connections; waits for it.
  void close_owner(const std::string& owner);
  size_t listener_count() const;
  uint64_t dropped() const { return dropped_->load(); }

 private:
  Status listen_udp(const ListenerSpec& spec);

  struct Impl;
  std::shared_ptr<std::atomic<uint64_t>> dropped_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::runtime
