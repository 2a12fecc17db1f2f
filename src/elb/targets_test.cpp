// targets.h over real SQLite: what ECS (and RegisterTargets /
// DeregisterTargets) write into a target group, inside the caller's transaction.
#include "elb/targets.h"

#include <gtest/gtest.h>

#include "elb/elb_store.h"
#include "core/testing/expect_ok.h"

namespace berth::elb {
namespace {

constexpr const char* kGroup = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef";

class TargetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = store::Database::open(":memory:");
    ASSERT_OK(d);
    db_ = std::make_unique<store::Database>(std::move(*d));
    ASSERT_OK(prepare_elb_store(*db_));
    TargetGroup tg;
    tg.arn = kGroup;
    tg.name = "web";
    tg.port = 8080;
    tg.vpc_id = "vpc-0123456789abcdef0";
    tg.target_type = "ip";
    tg.health_check_interval = 10;
    tg.healthy_threshold = 3;
    tg.unhealthy_threshold = 4;
    tg.attributes = default_target_group_attributes();
    tg.attributes["deregistration_delay.timeout_seconds"] = "20";
    put(Kind::kTargetGroup, tg.arn, tg);
  }

  template <class T>
  void put(Kind kind, const std::string& key, const T& value) {
    auto st = db_->transaction([&](store::Tx& tx) { return put_object(tx, kind, key, value); });
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  Status reg(std::string_view id, int64_t port, int64_t now_ms, std::string_view group = kGroup) {
    return db_->transaction([&](store::Tx& tx) { return register_target(tx, group, id, port, "us-east-1a", now_ms); });
  }
  Status dereg(std::string_view id, int64_t port, int64_t now_ms, std::string_view group = kGroup) {
    return db_->transaction([&](store::Tx& tx) { return deregister_target(tx, group, id, port, now_ms); });
  }

  std::vector<Registration> registrations() {
    auto regs = db_->read([&](store::Tx& tx) { return list_registrations(tx, kGroup); });
    EXPECT_OK(regs);
    return regs.ok() ? *regs : std::vector<Registration>{};
  }

  std::optional<TargetGroupInfo> info(std::string_view arn = kGroup) {
    auto i = db_->read([&](store::Tx& tx) { return find_target_group(tx, arn); });
    EXPECT_OK(i);
    return i.ok() ? *i : std::nullopt;
  }

  std::unique_ptr<store::Database> db_;
};

TEST_F(TargetsTest, FindTargetGroupDescribesItAndItsUse) {
  auto i = info();
  ASSERT_TRUE(i.has_value());
  EXPECT_EQ(i->arn, kGroup);
  EXPECT_EQ(i->target_type, "ip");
  EXPECT_EQ(i->vpc_id, "vpc-0123456789abcdef0");
  EXPECT_EQ(i->port, 8080);
  EXPECT_EQ(i->deregistration_delay_seconds, 20);
  EXPECT_FALSE(i->in_use);
  EXPECT_EQ(i->health_check_interval_seconds, 10);
  EXPECT_EQ(i->healthy_threshold, 3);
  EXPECT_EQ(i->unhealthy_threshold, 4);
  EXPECT_FALSE(info("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/none/0").has_value());

  // A rule forwarding to it (weighted) puts it in use; so does a listener's default action.
  Rule r;
  r.arn = "arn:rule/1";
  r.listener_arn = "arn:listener/1";
  r.priority = 3;
  Action weighted;
  weighted.type = "forward";
  weighted.groups = {{"arn:tg/other", 1}, {kGroup, 2}};
  r.actions = {weighted};
  put(Kind::kRule, r.arn, r);
  EXPECT_TRUE(info()->in_use);
  ASSERT_OK(db_->transaction([&](store::Tx& tx) { return delete_object(tx, r.arn); }));
  EXPECT_FALSE(info()->in_use);
  Listener l;
  l.arn = "arn:listener/1";
  l.load_balancer_arn = "arn:lb/1";
  Action fwd;
  fwd.type = "forward";
  fwd.target_group_arn = kGroup;
  l.default_actions = {fwd};
  put(Kind::kListener, l.arn, l);
  EXPECT_TRUE(info()->in_use);

  // Without the attribute, the default delay.
  TargetGroup bare;
  bare.arn = "arn:tg/bare";
  put(Kind::kTargetGroup, bare.arn, bare);
  EXPECT_EQ(info("arn:tg/bare")->deregistration_delay_seconds, 300);
}

TEST_F(TargetsTest, RegisterIsIdempotentAndRevivesADrainingTarget) {
  ASSERT_OK(reg("10.0.1.7", 32768, 1000));
  ASSERT_OK(reg("10.0.1.7", 32768, 2000));  // again: no change
  auto regs = registrations();
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].id, "10.0.1.7");
  EXPECT_EQ(regs[0].port, 32768);
  EXPECT_EQ(regs[0].zone, "us-east-1a");
  EXPECT_EQ(regs[0].registered_ms, 1000);
  EXPECT_EQ(regs[0].deregistered_ms, 0);

  ASSERT_OK(dereg("10.0.1.7", 32768, 3000));
  ASSERT_OK(dereg("10.0.1.7", 32768, 4000));  // again: draining keeps its start
  regs = registrations();
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].deregistered_ms, 3000);

  // Registered again while draining: registered, from now.
  ASSERT_OK(reg("10.0.1.7", 32768, 5000));
  regs = registrations();
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].deregistered_ms, 0);
  EXPECT_EQ(regs[0].registered_ms, 5000);
}

TEST_F(TargetsTest, PortZeroIsTheGroupsPortAndOtherPortsAreOtherTargets) {
  ASSERT_OK(reg("10.0.1.7", 0, 1000));
  ASSERT_OK(reg("10.0.1.7", 9000, 1000));
  auto regs = registrations();
  ASSERT_EQ(regs.size(), 2u);
  EXPECT_EQ(regs[0].port, 8080);
  EXPECT_EQ(regs[1].port, 9000);
  ASSERT_OK(dereg("10.0.1.7", 0, 2000));
  regs = registrations();
  EXPECT_EQ(regs[0].deregistered_ms, 2000);
  EXPECT_EQ(regs[1].deregistered_ms, 0);
}

TEST_F(TargetsTest, DrainingEndsAfterTheDelayAndAtOnceWithoutOne) {
  ASSERT_OK(reg("10.0.1.7", 80, 1000));
  ASSERT_OK(reg("10.0.1.8", 80, 1000));
  ASSERT_OK(dereg("10.0.1.7", 80, 2000));
  // Not registered: nothing happens.
  ASSERT_OK(dereg("10.0.1.9", 80, 2000));
  EXPECT_EQ(registrations().size(), 2u);
  // Within the 20 s delay the draining registration stays; past it, the next write drops it.
  ASSERT_OK(reg("10.0.1.8", 80, 21'999));
  EXPECT_EQ(registrations().size(), 2u);
  ASSERT_OK(reg("10.0.1.8", 80, 22'000));
  auto regs = registrations();
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].id, "10.0.1.8");

  // Delay 0: deregistering removes the registration.
  auto stored = db_->read([&](store::Tx& tx) { return get_object<TargetGroup>(tx, Kind::kTargetGroup, kGroup); });
  ASSERT_TRUE(stored.ok() && stored->has_value());
  TargetGroup tg = **stored;
  tg.attributes["deregistration_delay.timeout_seconds"] = "0";
  put(Kind::kTargetGroup, tg.arn, tg);
  EXPECT_EQ(info()->deregistration_delay_seconds, 0);
  ASSERT_OK(dereg("10.0.1.8", 80, 23'000));
  EXPECT_TRUE(registrations().empty());
}

TEST_F(TargetsTest, WritesJoinTheCallersTransaction) {
  // A failing step after the registration rolls it back with the rest.
  auto failed = db_->transaction([&](store::Tx& tx) -> Status {
    if (auto st = register_target(tx, kGroup, "10.0.1.7", 80, "", 1000); !st) return st;
    return Error::conflict("Later", "a later step of the caller failed");
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_TRUE(registrations().empty());
  // The change feed sees the registration's key on kObjectsTable (what the routing builder watches).
  std::vector<store::Change> seen;
  auto sub = db_->subscribe([&](const std::vector<store::Change>& changes) {
    seen.insert(seen.end(), changes.begin(), changes.end());
  });
  ASSERT_OK(reg("10.0.1.7", 80, 1000));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].table, kObjectsTable);
  EXPECT_EQ(seen[0].key, registration_key(kGroup, "10.0.1.7", 80));
}

TEST_F(TargetsTest, ErrorsAreClasses) {
  const char* missing = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gone/0";
  auto r = reg("10.0.1.7", 80, 1000, missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error_class, ErrorClass::kNotFound);
  EXPECT_EQ(r.error().code, "TargetGroupNotFound");
  auto d = dereg("10.0.1.7", 80, 1000, missing);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().error_class, ErrorClass::kNotFound);
  auto empty = reg("", 80, 1000);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().error_class, ErrorClass::kInvalid);
  auto port = reg("10.0.1.7", 70000, 1000);
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.error().error_class, ErrorClass::kInvalid);
  EXPECT_TRUE(registrations().empty());
}

}  // namespace
}  // namespace berth::elb
