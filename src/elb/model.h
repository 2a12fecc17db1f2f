// elb/model: the ELBv2 configuration as plain values, the one vocabulary
// shared by the API handlers (which write it), the store codec (which keeps
// it as JSON rows) and the snapshot builder (which compiles it for the data
// plane).
//
//   LoadBalancer 1──* Listener 1──* Rule ──Action──> TargetGroup 1──* Registration
//        (DNS name, SGs)   (port)   (priority,        (health check    (target id, port,
//                                    conditions)       settings)        draining since)
#pragma once

#include <boost/describe/class.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "elb/attribute_defaults.h"

namespace berth::elb {

struct Tag {
  std::string key;
  std::string value;
};
BOOST_DESCRIBE_STRUCT(Tag, (), (key, value))

struct ZoneSubnet {
  std::string zone;
  std::string subnet_id;
};
BOOST_DESCRIBE_STRUCT(ZoneSubnet, (), (zone, subnet_id))

struct LoadBalancer {
  std::string arn;
  std::string name;
  std::string dns_name;
  std::string scheme = "internet-facing";
  std::string vpc_id;
  std::string ip_address_type = "ipv4";
  std::vector<ZoneSubnet> zones;
  std::vector<std::string> security_groups;
  int64_t created_ms = 0;
  std::map<std::string, std::string> attributes;
  std::vector<Tag> tags;
};
BOOST_DESCRIBE_STRUCT(LoadBalancer, (),
                      (arn, name, dns_name, scheme, vpc_id, ip_address_type, zones, security_groups, created_ms,
                       attributes, tags))

struct TargetGroup {
  std::string arn;
  std::string name;
  std::string protocol = "HTTP";
  int64_t port = 0;
  std::string vpc_id;
  std::string target_type = "instance";
  std::string protocol_version = "HTTP1";
  std::string health_check_protocol = "HTTP";
  std::string health_check_port = "traffic-port";
  bool health_check_enabled = true;
  int64_t health_check_interval = 30;
  int64_t health_check_timeout = 5;
  int64_t healthy_threshold = 5;
  int64_t unhealthy_threshold = 2;
  std::string health_check_path = "/";
  std::string matcher = "200";
  int64_t created_ms = 0;
  std::map<std::string, std::string> attributes;
  std::vector<Tag> tags;
};
BOOST_DESCRIBE_STRUCT(TargetGroup, (),
                      (arn, name, protocol, port, vpc_id, target_type, protocol_version, health_check_protocol,
                       health_check_port, health_check_enabled, health_check_interval, health_check_timeout,
                       healthy_threshold, unhealthy_threshold, health_check_path, matcher, created_ms, attributes,
                       tags))

struct WeightedGroup {
  std::string target_group_arn;
  int64_t weight = 1;
};
BOOST_DESCRIBE_STRUCT(WeightedGroup, (), (target_group_arn, weight))

struct Action {
  std::string type;  // forward | fixed-response | redirect
  int64_t order = 0;  // 0: not given
  // forward: one group (target_group_arn) or several (groups), as given.
  std::string target_group_arn;
  std::vector<WeightedGroup> groups;
  bool stickiness_enabled = false;
  int64_t stickiness_duration = 0;
  // redirect
  std::string redirect_protocol = "#{protocol}";
  std::string redirect_port = "#{port}";
  std::string redirect_host = "#{host}";
  std::string redirect_path = "/#{path}";
  std::string redirect_query = "#{query}";
  std::string redirect_status;  // HTTP_301 | HTTP_302
  // fixed-response
  std::string fixed_status;
  std::string fixed_content_type;
  std::string fixed_body;
  bool fixed_has_body = false;
};
BOOST_DESCRIBE_STRUCT(Action, (),
                      (type, order, target_group_arn, groups, stickiness_enabled, stickiness_duration,
                       redirect_protocol, redirect_port, redirect_host, redirect_path, redirect_query,
                       redirect_status, fixed_status, fixed_content_type, fixed_body, fixed_has_body))

struct KeyValue {
  std::string key;  // "" matches any key (query-string)
  std::string value;
};
BOOST_DESCRIBE_STRUCT(KeyValue, (), (key, value))

struct Condition {
  std::string field;  // path-pattern | host-header | http-header | http-request-method | query-string | source-ip
  std::vector<std::string> values;
  std::string header_name;    // http-header
  std::vector<KeyValue> pairs;  // query-string
  bool legacy_values = false;   // given as Values (not the *Config form)
};
BOOST_DESCRIBE_STRUCT(Condition, (), (field, values, header_name, pairs, legacy_values))

struct Listener {
  std::string arn;
  std::string load_balancer_arn;
  int64_t port = 80;
  std::string protocol = "HTTP";
  std::vector<Action> default_actions;
  std::string default_rule_arn;
  int64_t created_ms = 0;
  std::vector<Tag> tags;
};
BOOST_DESCRIBE_STRUCT(Listener, (),
                      (arn, load_balancer_arn, port, protocol, default_actions, default_rule_arn, created_ms, tags))

struct Rule {
  std::string arn;
  std::string listener_arn;
  int64_t priority = 0;  // 1..50000; the default rule is not stored (it is the listener's default actions)
  std::vector<Condition> conditions;
  std::vector<Action> actions;
  int64_t created_ms = 0;
  std::vector<Tag> tags;
};
BOOST_DESCRIBE_STRUCT(Rule, (), (arn, listener_arn, priority, conditions, actions, created_ms, tags))

struct Registration {
  std::string target_group_arn;
  std::string id;      // i-... or an IP address
  int64_t port = 0;    // the target's port (the group's port when not given)
  std::string zone;
  int64_t registered_ms = 0;
  int64_t deregistered_ms = 0;  // 0: registered; else draining since then
};
BOOST_DESCRIBE_STRUCT(Registration, (), (target_group_arn, id, port, zone, registered_ms, deregistered_ms))

// Everything, as read in one store transaction, each list in creation order.
struct Config {
  std::vector<LoadBalancer> load_balancers;
  std::vector<TargetGroup> target_groups;
  std::vector<Listener> listeners;
  std::vector<Rule> rules;
  std::vector<Registration> registrations;
  // Not stored: whether IP targets on this host (127.0.0.0/8) are dialled
  // (ElbOptions::loopback_ip_targets). When not, such a target is left out
  // of routing and health checks, as one registered while they were allowed.
  bool loopback_ip_targets = true;
};

// The key of a registration: "<tg arn>|<id>|<port>".
std::string registration_key(const std::string& tg_arn, const std::string& id, int64_t port);


// The arn's trailing id: ".../app/name/0123456789abcdef" -> "0123456789abcdef".
std::string arn_tail(const std::string& arn);

}  // namespace berth::elb
