// Placement as pure filter-then-rank: every filter's refusal reason, and
// what each strategy prefers.
#include "ecs/placement.h"
#include "core/testing/expect_ok.h"

#include <gtest/gtest.h>

namespace berth::ecs {
namespace {

Candidate instance(std::string id, int64_t cpu, int64_t memory) {
  Candidate c;
  c.id = std::move(id);
  c.ec2_instance_id = "i-" + c.id;
  c.cpu_free = cpu;
  c.memory_free = memory;
  c.eni_free = 2;
  c.attributes = {{"ecs.instance-type", "t2.micro"}, {"ecs.availability-zone", "us-east-1a"},
                  {"ecs.capability.task-eni", ""}};
  for (int64_t p : {22, 2375, 2376, 51678, 51679}) c.ports_used.insert({p, "tcp"});
  return c;
}

Demand demand(int64_t cpu, int64_t memory) {
  Demand d;
  d.cpu = cpu;
  d.memory = memory;
  return d;
}

std::mt19937 rng(7);

TEST(Placement, RefusalReasonsInFilterOrder) {
  struct Case {
    Candidate c;
    Demand d;
    std::string reason;
  };
  Candidate disconnected = instance("a", 1024, 993);
  disconnected.agent_connected = false;
  Demand needs_attr = demand(0, 64);
  needs_attr.required_attributes = {"ecs.capability.container-health-check"};
  Demand port22 = demand(0, 64);
  port22.ports = {{22, "tcp"}};
  Demand udp22 = demand(0, 64);
  udp22.ports = {{22, "udp"}};
  Demand eni = demand(0, 64);
  eni.needs_eni = true;
  Candidate no_eni = instance("a", 1024, 993);
  no_eni.eni_free = 0;
  const Case cases[] = {
      {disconnected, demand(0, 64), "AGENT"},
      {instance("a", 1024, 993), needs_attr, "ATTRIBUTE"},
      {instance("a", 1024, 993), demand(2048, 2048), "RESOURCE:MEMORY"},  // memory is checked first
      {instance("a", 1024, 993), demand(2048, 64), "RESOURCE:CPU"},
      {instance("a", 1024, 993), port22, "RESOURCE:PORTS"},
      {no_eni, eni, "RESOURCE:ENI"},
  };
  for (const auto& k : cases) {
    auto r = place({k.c}, k.d, 1, {}, {}, rng);
    EXPECT_TRUE(r.placed.empty()) << k.reason;
    ASSERT_EQ(r.failures.size(), 1u) << k.reason;
    EXPECT_EQ(r.failures[0].first, "a");
    EXPECT_EQ(r.failures[0].second, k.reason);
  }
  // 22/udp is free: only tcp 22 is reserved.
  EXPECT_EQ(place({instance("a", 1024, 993)}, udp22, 1, {}, {}, rng).placed.size(), 1u);
}

TEST(Placement, CapacityIsConsumedWithinOneCall) {
  auto r = place({instance("a", 1024, 993)}, demand(256, 400), 3, {}, {}, rng);
  EXPECT_EQ(r.placed, (std::vector<std::string>{"a", "a"}));
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].second, "RESOURCE:MEMORY");
  Demand port = demand(0, 10);
  port.ports = {{8080, "tcp"}};
  r = place({instance("a", 1024, 993), instance("b", 1024, 993)}, port, 3, {}, {}, rng);
  EXPECT_EQ(r.placed.size(), 2u);
  EXPECT_NE(r.placed[0], r.placed[1]);
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_EQ(r.failures[0].second, "RESOURCE:PORTS");
}

TEST(Placement, AllPlacedMeansNoFailures) {
  auto r = place({instance("a", 100, 100), instance("b", 1024, 993)}, demand(512, 512), 1, {}, {}, rng);
  EXPECT_EQ(r.placed, std::vector<std::string>{"b"});
  EXPECT_TRUE(r.failures.empty());
}

TEST(Placement, BinpackPrefersLeastRemaining) {
  std::vector<Candidate> cs = {instance("big", 4096, 8000), instance("small", 1024, 993), instance("mid", 2048, 4000)};
  auto r = place(cs, demand(128, 128), 1, {}, {{"binpack", "memory"}}, rng);
  EXPECT_EQ(r.placed, std::vector<std::string>{"small"});
  r = place(cs, demand(128, 128), 1, {}, {{"binpack", "cpu"}}, rng);
  EXPECT_EQ(r.placed, std::vector<std::string>{"small"});
}

TEST(Placement, SpreadBalancesInstancesAndAttributes) {
  std::vector<Candidate> cs = {instance("a", 4096, 8000), instance("b", 4096, 8000), instance("c", 4096, 8000)};
  auto r = place(cs, demand(1, 1), 6, {}, {{"spread", "instanceId"}}, rng);
  std::map<std::string, int> per;
  for (const auto& id : r.placed) per[id]++;
  EXPECT_EQ(per["a"], 2);
  EXPECT_EQ(per["b"], 2);
  EXPECT_EQ(per["c"], 2);

  cs[1].attributes["ecs.availability-zone"] = "us-east-1b";
  cs[2].attributes["ecs.availability-zone"] = "us-east-1b";
  r = place(cs, demand(1, 1), 2, {}, {{"spread", "attribute:ecs.availability-zone"}}, rng);
  ASSERT_EQ(r.placed.size(), 2u);
  bool one_in_a = (r.placed[0] == "a") != (r.placed[1] == "a");
  EXPECT_TRUE(one_in_a);
}

TEST(Placement, Constraints) {
  std::vector<Candidate> cs = {instance("a", 4096, 8000), instance("b", 4096, 8000)};
  cs[1].attributes["ecs.instance-type"] = "t3.small";
  auto r = place(cs, demand(1, 1), 2, {{"memberOf", "attribute:ecs.instance-type == t3.small"}}, {}, rng);
  EXPECT_EQ(r.placed, (std::vector<std::string>{"b", "b"}));
  r = place(cs, demand(1, 1), 3, {{"distinctInstance", ""}}, {}, rng);
  EXPECT_EQ(r.placed.size(), 2u);
  EXPECT_NE(r.placed[0], r.placed[1]);
  EXPECT_EQ(r.failures.size(), 2u);
}

TEST(Placement, Expressions) {
  Candidate c = instance("a", 1, 1);
  EXPECT_TRUE(*matches_expression("attribute:ecs.instance-type == t2.micro", c));
  EXPECT_FALSE(*matches_expression("attribute:ecs.instance-type != t2.micro", c));
  EXPECT_TRUE(*matches_expression("attribute:ecs.instance-type in [t2.micro, t3.small]", c));
  EXPECT_TRUE(*matches_expression("attribute:ecs.instance-type not_in [t3.small]", c));
  EXPECT_TRUE(*matches_expression("attribute:ecs.capability.task-eni exists", c));
  EXPECT_FALSE(*matches_expression("attribute:nope exists", c));
  EXPECT_TRUE(*matches_expression("attribute:nope exists or ec2InstanceId == i-a", c));
  EXPECT_FALSE(*matches_expression("attribute:nope exists or ec2InstanceId == i-a and agentConnected == false", c));
  EXPECT_TRUE(*matches_expression("runningTasksCount == 0 AND agentConnected == true", c));
  for (std::string_view bad : {"", "attribute:x", "colour == red", "attribute:x ~= 1", "attribute:x in t2"}) {
    auto r = matches_expression(bad, c);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "InvalidParameterException");
  }
  EXPECT_FALSE(validate_strategies({{"binpack", "disk"}}).ok());
  EXPECT_FALSE(validate_strategies({{"spread", "attribute:"}}).ok());
  EXPECT_OK(validate_strategies({{"spread", "attribute:ecs.availability-zone"}, {"binpack", "MEMORY"}}));
  EXPECT_FALSE(validate_constraints({{"sameInstance", ""}}).ok());
  EXPECT_FALSE(validate_constraints({{"memberOf", "nonsense"}}).ok());
}

}  // namespace
}  // namespace berth::ecs
