#include "elb/routing_builder.h"

#include <gtest/gtest.h>

namespace berth::elb {
namespace {

Config sample() {
  Config c;
  LoadBalancer lb;
  lb.arn = "arn:lb/app/web/1";
  lb.dns_name = "Web-123.us-east-1.elb.localhost";
  lb.security_groups = {"sg-0123456789abcdef0"};
  lb.attributes = default_load_balancer_attributes();
  lb.attributes["idle_timeout.timeout_seconds"] = "15";
  c.load_balancers.push_back(lb);
  for (std::string name : {"a", "b", "unused"}) {
    TargetGroup tg;
    tg.arn = "arn:tg/" + name;
    tg.target_type = name == "b" ? "instance" : "ip";
    tg.port = 8080;
    tg.health_check_interval = 5;
    tg.health_check_timeout = 2;
    tg.healthy_threshold = 2;
    tg.health_check_path = "/health";
    tg.attributes = default_target_group_attributes();
    c.target_groups.push_back(tg);
  }
  c.target_groups[0].attributes["load_balancing.algorithm.type"] = "least_outstanding_requests";
  Listener l;
  l.arn = "arn:listener/1";
  l.load_balancer_arn = lb.arn;
  l.port = 8081;
  Action fwd;
  fwd.type = "forward";
  fwd.target_group_arn = "arn:tg/a";
  l.default_actions = {fwd};
  c.listeners.push_back(l);
  Rule r;
  r.arn = "arn:rule/1";
  r.listener_arn = l.arn;
  r.priority = 7;
  Condition cond;
  cond.field = "path-pattern";
  cond.values = {"/b/*"};
  r.conditions = {cond};
  Action weighted;
  weighted.type = "forward";
  weighted.groups = {{"arn:tg/a", 1}, {"arn:tg/b", 4}};
  r.actions = {weighted};
  c.rules.push_back(r);
  c.registrations = {{"arn:tg/a", "127.0.0.2", 9000, "", 1, 0},
                     {"arn:tg/a", "127.0.0.3", 9000, "", 1, 5},  // draining
                     {"arn:tg/b", "i-0abc", 80, "", 1, 0},
                     {"arn:tg/b", "i-0gone", 80, "", 1, 0},      // no address (not running)
                     {"arn:tg/unused", "127.0.0.9", 80, "", 1, 0}};
  return c;
}

TEST(BuildSnapshot, ListenersRulesGroupsTargets) {
  Config c = sample();
  HealthMap health{{registration_key("arn:tg/a", "127.0.0.2", 9000), dp::Health::kHealthy}};
  AddressBook book{{"i-0abc", {"127.100.0.7", {"sg-0aaaaaaaaaaaaaaaa"}, ""}}};
  auto snap = build_snapshot(c, health, book);
  ASSERT_EQ(snap->ports.size(), 1u);
  const auto& port = snap->ports.at(8081);
  ASSERT_EQ(port.load_balancers.size(), 1u);
  const auto& lb = port.load_balancers[0];
  EXPECT_EQ(lb.dns_name, "web-123.us-east-1.elb.localhost");
  EXPECT_EQ(lb.idle_timeout_seconds, 15u);
  ASSERT_EQ(lb.security_groups.size(), 1u);
  ASSERT_EQ(lb.rules.size(), 2u);
  EXPECT_EQ(lb.rules[0].priority, 7);
  ASSERT_EQ(lb.rules[0].action.groups.size(), 2u);
  EXPECT_EQ(lb.rules[0].action.groups[1].second, 4u);
  EXPECT_EQ(lb.rules[1].priority, 0);
  EXPECT_TRUE(lb.rules[1].conditions.empty());
  const auto& a = snap->groups[lb.rules[1].action.groups[0].first];
  EXPECT_EQ(a.arn, "arn:tg/a");
  EXPECT_EQ(a.algorithm, dp::Algorithm::kLeastOutstanding);
  ASSERT_EQ(a.targets.size(), 1u);  // the draining one gets no new requests
  EXPECT_EQ(a.targets[0].health, dp::Health::kHealthy);
  const auto& b = snap->groups[1];
  ASSERT_EQ(b.targets.size(), 1u);
  EXPECT_EQ(b.targets[0].address, "127.100.0.7");
  ASSERT_EQ(b.targets[0].groups.size(), 1u);
  EXPECT_TRUE(a.targets[0].groups.empty());
  EXPECT_EQ(b.targets[0].health, dp::Health::kInitial);
}

TEST(BuildSnapshot, InFlightCountersOutliveTheSnapshotsByKey) {
  Config c = sample();
  dp::InFlightCounters counters;
  auto first = build_snapshot(c, {}, {}, {}, {}, &counters);
  const auto& a = first->groups[0].targets.at(0);
  a.outstanding->fetch_add(1);  // a request in flight on the first snapshot
  // A new snapshot shares the count; so does one built after the target left and came back.
  auto second = build_snapshot(c, {}, {}, {}, {}, &counters);
  EXPECT_EQ(second->groups[0].targets.at(0).outstanding, a.outstanding);
  EXPECT_EQ(counters.in_flight(a.key), 1);
  Config without = c;
  without.registrations.erase(without.registrations.begin());
  second = build_snapshot(without, {}, {}, {}, {}, &counters);
  counters.prune();
  EXPECT_EQ(counters.in_flight(a.key), 1);  // the first snapshot still holds it
  auto third = build_snapshot(c, {}, {}, {}, {}, &counters);
  EXPECT_EQ(third->groups[0].targets.at(0).outstanding, a.outstanding);
  // Once no snapshot holds a counter, the key is forgotten and reads 0.
  std::string key = a.key;
  first.reset();
  third.reset();
  counters.prune();
  EXPECT_EQ(counters.in_flight(key), 0);
  EXPECT_EQ(counters.size(), 1u);  // the unused group's target, in `second`
  second.reset();
  counters.prune();
  EXPECT_EQ(counters.size(), 0u);
  // Without a registry each target gets a fresh counter.
  auto alone = build_snapshot(c, {}, {});
  EXPECT_EQ(alone->groups[0].targets.at(0).outstanding->load(), 0);
}

TEST(ProbeSpecs, OnlyGroupsInUseAndNotDraining) {
  Config c = sample();
  auto specs = probe_specs(c, AddressBook{{"i-0abc", {"127.100.0.7", {"sg-0aaaaaaaaaaaaaaaa"}, ""}}});
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].address, "127.0.0.2");
  EXPECT_EQ(specs[0].port, 9000);
  EXPECT_EQ(specs[0].path, "/health");
  EXPECT_EQ(specs[0].interval, std::chrono::seconds(5));
  EXPECT_EQ(specs[0].healthy_threshold, 2);
  EXPECT_EQ(specs[1].address, "127.100.0.7");
  EXPECT_TRUE(specs[0].target_groups.empty());
  EXPECT_EQ(specs[1].target_groups, std::vector<std::string>{"sg-0aaaaaaaaaaaaaaaa"});
  EXPECT_EQ(specs[1].source_groups, std::vector<std::string>{"sg-0123456789abcdef0"});
  c.target_groups[0].health_check_port = "9999";
  EXPECT_EQ(probe_specs(c, {})[0].port, 9999);
}

TEST(PrivateAddresses, IpTargetsOffTheHostGoThroughThePrivateRoute) {
  Config c = sample();
  // An awsvpc task's ENI address, beside the host address 127.0.0.2 of the same group.
  c.registrations.push_back({"arn:tg/a", "10.0.1.7", 8080, "", 2, 0});
  AddressBook book{{"i-0abc", {"127.100.0.7", {"sg-0aaaaaaaaaaaaaaaa"}, "10.0.1.20"}}};
  LbAddresses lb_addresses{{"arn:lb/app/web/1", "10.0.1.254"}};
  auto snap = build_snapshot(c, {}, book, {}, lb_addresses);
  const auto& a = snap->groups[0].targets;
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].address, "127.0.0.2");
  EXPECT_EQ(a[0].private_address, "");  // on the host: dialled directly
  EXPECT_EQ(a[1].address, "10.0.1.7");
  EXPECT_EQ(a[1].private_address, "10.0.1.7");
  EXPECT_TRUE(a[1].groups.empty());  // the runtime checks the task's own groups on the route
  EXPECT_EQ(snap->groups[1].targets.at(0).private_address, "10.0.1.20");  // an instance's VPC address, as before

  auto specs = probe_specs(c, book, lb_addresses);
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0].address, "127.0.0.2");
  EXPECT_EQ(specs[0].private_address, "");
  EXPECT_TRUE(specs[0].source_groups.empty());
  EXPECT_EQ(specs[1].address, "10.0.1.7");
  EXPECT_EQ(specs[1].private_address, "10.0.1.7");
  EXPECT_EQ(specs[1].source_groups, std::vector<std::string>{"sg-0123456789abcdef0"});
  EXPECT_EQ(specs[1].source_address, "10.0.1.254");
  EXPECT_EQ(specs[2].private_address, "10.0.1.20");
  EXPECT_EQ(specs[2].source_address, "10.0.1.254");
}

TEST(LoopbackIpTargets, LeftOutWhenNotAllowed) {
  // A daemon on a non-loopback address (without --allow-loopback-targets):
  // IP targets on 127.0.0.0/8, e.g. registered by an earlier daemon on a
  // loopback address, are neither routed nor checked; VPC addresses and
  // instances (their public 127.100/16 addresses are berth's own) still are.
  Config c = sample();
  c.registrations.push_back({"arn:tg/a", "10.0.1.7", 8080, "", 2, 0});
  c.loopback_ip_targets = false;
  AddressBook book{{"i-0abc", {"127.100.0.7", {"sg-0aaaaaaaaaaaaaaaa"}, "10.0.1.20"}}};
  auto snap = build_snapshot(c, {}, book);
  const auto& a = snap->groups[0].targets;
  ASSERT_EQ(a.size(), 1u) << "a loopback IP target was routed";
  EXPECT_EQ(a[0].address, "10.0.1.7");
  EXPECT_EQ(snap->groups[1].targets.at(0).address, "127.100.0.7");
  auto specs = probe_specs(c, book);
  ASSERT_EQ(specs.size(), 2u) << "a loopback IP target was health checked";
  EXPECT_EQ(specs[0].address, "10.0.1.7");
  EXPECT_EQ(specs[1].address, "127.100.0.7");
}

}  // namespace
}  // namespace berth::elb
