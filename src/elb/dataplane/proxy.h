// elb/dataplane/proxy: the load balancer's HTTP data plane. One acceptor
// per listener port per event loop (SO_REUSEPORT), a coroutine per client
// connection that never leaves its loop, and per-loop keep-alive pools to
// targets. It reads only the published Snapshot and the security-group
// table; it never touches the store or a lock shared with API handlers.
//
//   client ──accept──> SG admit? (no: close, no answer)
//      └─ read request (Beast parser, limits) ──> Host -> LbRoute ──> rules ──> action
//            fixed-response / redirect: answered here
//            forward: group by weight ──> target (health, algorithm) ──> pooled upstream
//                      refused before any byte: once more on another target
//                      no target: 503; bad / closed upstream: 502; timeout: 504
//
// Heads are parsed straight into the bytes sent on (http_heads.h); bodies
// stream through, held whole only up to 64 KiB (so a small request can be
// retried and a small response still answered 502/504 when its target
// fails mid-body). Deadlines are a field per socket that one coarse sweeper
// per loop enforces, not a timer per operation. Targets on private addresses
// are reached through the injected PrivateConnector (private_route.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ec2/connection_policy.h"
#include "elb/dataplane/metrics.h"
#include "elb/dataplane/private_route.h"
#include "elb/dataplane/routing.h"
#include "net/event_loops.h"

namespace berth::elb::dp {

struct ProxyOptions {
  std::string bind_address = "127.0.0.1";
  std::chrono::milliseconds connect_timeout{10'000};  // ALB: 504 after 10 s without a TCP connection
  size_t max_header_bytes = 64 * 1024;                 // ALB: all headers over 64 K -> 400
  uint64_t max_body_bytes = 1ull << 30;
  size_t max_idle_per_target = 512;  // per loop: fewer than the requests in flight means reconnects
  // Targets' private addresses (instances' VPC addresses, IP targets off the
  // host); empty: every target is dialled on its address.
  PrivateConnector private_connector;
};

using SecurityGroupSource = std::function<std::shared_ptr<const ec2::SecurityGroupTable>()>;

class Proxy {
 public:
  Proxy(net::EventLoops& loops, ProxyOptions options, SecurityGroupSource groups);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // Swaps in a new snapshot and opens or closes listener ports to match it.
  // Any thread; the loops pick it up on their next request.
  void publish(std::shared_ptr<const Snapshot> snapshot);
  // Ports currently listening (for tests and logs).
  std::vector<uint16_t> listening_ports() const;
  // CloudWatch's load balancer metrics in Prometheus text format (metrics.h). Any thread.
  std::string metrics_text() const;
  std::vector<LbTotals> metric_totals() const;
  // Closes every listener and idle upstream connection. Only once the loops
  // have stopped (the daemon's stop hooks run then).
  void stop();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// True when the load balancer's security groups admit a TCP connection from
// source to its listener port.
bool admitted(const LbRoute& lb, const ec2::IpAddress& source, uint16_t port, const ec2::SecurityGroupTable& table);

}  // namespace berth::elb::dp
