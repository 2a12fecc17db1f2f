// elb/dataplane/routing: the immutable routing snapshot the data plane
// reads, and the pure decisions on it (which load balancer, which rule,
// which target group, which target). No store, no I/O, no lock.
//
//   Snapshot
//     ports: 80 ──> [LbRoute by DNS name (Host)] ──> rules by priority, default last
//                                                     └─ RouteAction: forward ─> [(group index, weight)]
//     groups: [GroupRoute] ──> targets (address, port, health, draining)
//
// A snapshot is built by the control plane (elb/routing_builder) and swapped
// whole; each loop keeps its own pointer. Counters that requests update
// (round robin position, requests in flight) are atomics the snapshot
// points to, so a request never needs a lock; a target's in-flight counter
// outlives the snapshot (in_flight.h).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ec2/security_group_rules.h"
#include "elb/dataplane/in_flight.h"

namespace berth::elb::dp {

enum class Health : uint8_t { kInitial, kHealthy, kUnhealthy };
enum class Algorithm : uint8_t { kRoundRobin, kLeastOutstanding, kWeightedRandom };

struct TargetRoute {
  std::string key;      // registration key (model.h)
  std::string address;  // dotted quad to connect to
  uint16_t port = 0;
  Health health = Health::kInitial;
  // The target's security groups (instance targets), checked when it is
  // dialled on its public address; empty for IP targets.
  std::vector<ec2::GroupId> groups;
  // Tried first through the proxy's private connector, where the target's
  // own groups decide (the runtime knows them): an instance's private (VPC)
  // address, or an IP target's address when it is not on the host (an
  // awsvpc task's ENI). Empty, or nothing published there: `address` is dialled.
  std::string private_address;
  // When the target last became healthy (slow start); epoch when unknown.
  std::chrono::steady_clock::time_point healthy_since{};
  // Requests in flight to this target, across loops and snapshots: every
  // forwarded request counts while it runs (least outstanding requests picks
  // by it; ECS ends a deregistered target's draining early at 0). The routing
  // builder takes it from an InFlightCounters registry by key (in_flight.h).
  InFlightCounter outstanding = make_in_flight_counter();
};

struct GroupRoute {
  std::string arn;
  Algorithm algorithm = Algorithm::kRoundRobin;
  // Registered, not draining. Draining targets get no new requests.
  std::vector<TargetRoute> targets;
  std::shared_ptr<std::atomic<uint32_t>> next = std::make_shared<std::atomic<uint32_t>>(0);
  // slow_start.duration_seconds (round robin only; 0 = off).
  uint32_t slow_start_seconds = 0;
  // stickiness.enabled with stickiness.type lb_cookie: AWSALB / AWSALBCORS.
  bool sticky = false;
  uint32_t sticky_seconds = 86400;  // stickiness.lb_cookie.duration_seconds
};

struct MatchCondition {
  enum class Field : uint8_t { kPath, kHost, kHeader, kMethod, kQuery, kSourceIp };
  Field field = Field::kPath;
  std::string header_name;                                 // kHeader
  std::vector<std::string> values;                         // globs (kPath/kHost/kHeader/kQuery values), methods
  std::vector<std::pair<std::string, std::string>> pairs;  // kQuery: key glob ("" any), value glob
  std::vector<ec2::Cidr> cidrs;                            // kSourceIp
};

struct RouteAction {
  enum class Type : uint8_t { kForward, kFixedResponse, kRedirect };
  Type type = Type::kForward;
  std::vector<std::pair<size_t, uint32_t>> groups;  // (index into Snapshot::groups, weight)
  unsigned fixed_status = 200;
  std::string fixed_content_type;
  std::string fixed_body;
  unsigned redirect_status = 301;
  std::string redirect_protocol, redirect_port, redirect_host, redirect_path, redirect_query;
};

struct RouteRule {
  int64_t priority = 0;  // 0 = default rule
  std::vector<MatchCondition> conditions;
  RouteAction action;
};

struct LbRoute {
  std::string arn;
  std::string dns_name;  // lower case
  std::vector<ec2::GroupId> security_groups;
  std::vector<RouteRule> rules;  // by ascending priority, default last
  uint32_t idle_timeout_seconds = 60;
  bool drop_invalid_header_fields = false;
  // The load balancer's own address in its VPC: the source its connections
  // to targets on private addresses carry, with its security groups.
  ec2::IpAddress private_address;
};

struct PortRoute {
  uint16_t port = 0;
  std::vector<LbRoute> load_balancers;  // creation order
};

struct Snapshot {
  std::vector<GroupRoute> groups;
  std::map<uint16_t, PortRoute> ports;
};

// What a request looks like to the rules.
struct RequestView {
  std::string_view method;
  std::string_view path;   // target up to '?'
  std::string_view query;  // after '?'
  std::string_view host;   // Host header, as sent
  ec2::IpAddress source;
  // Header lookup by case-insensitive name; every value of that name.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
};

// '*' any run, '?' one character.
bool glob_match(std::string_view pattern, std::string_view text, bool case_insensitive);
bool condition_matches(const MatchCondition& c, const RequestView& r);
// The first rule whose conditions all match (the default rule matches always).
const RouteRule* match_rule(const LbRoute& lb, const RequestView& r);
// The load balancer a Host names on a port; the only one when the Host names none.
const LbRoute* pick_load_balancer(const PortRoute& port, std::string_view host);
// A group of a forward action by weight; `roll` is any random number.
size_t pick_group(const RouteAction& action, uint64_t roll);
// A target of a group: healthy ones first; if none is healthy, all (fail
// open, as ALB does). `exclude` is a target index already tried (or -1).
// nullopt when the group has no registered target. `now` is the data
// plane's clock, for slow start: under round robin a target healthy for
// less than slow_start_seconds gets a share growing linearly from 0 to a
// full one over that time (while another target is past its ramp).
std::optional<size_t> pick_target(const GroupRoute& group, long exclude, uint64_t roll,
                                  std::chrono::steady_clock::time_point now = {});
// The weight of a target under slow start, 0..1 (1 when not ramping).
double slow_start_weight(const GroupRoute& group, const TargetRoute& target, std::chrono::steady_clock::time_point now);

// Stickiness (lb_cookie): the opaque cookie value naming a target, and the
// target a request's Cookie header pins (AWSALB, else AWSALBCORS) when it is
// still eligible (healthy, or every target while none is: fail open).
std::string sticky_cookie_value(const TargetRoute& target);
std::optional<size_t> sticky_target(const GroupRoute& group, std::string_view cookie_header, long exclude);
// Whether a header name is one ALB accepts: letters, digits and hyphens only
// (routing.http.drop_invalid_header_fields.enabled drops the others).
bool valid_header_name(std::string_view name);

}  // namespace berth::elb::dp
