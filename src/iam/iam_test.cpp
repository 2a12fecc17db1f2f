#include <gtest/gtest.h>

#include "iam/authorize.h"
#include "iam/iam.h"
#include "core/testing/expect_ok.h"

namespace berth::iam {
namespace {

struct Fixture : ::testing::Test {
  void SetUp() override {
    auto d = store::Database::open(":memory:");
    ASSERT_OK(d);
    db = std::make_unique<store::Database>(std::move(*d));
    auto i = Iam::open(*db, clock);
    ASSERT_TRUE(i.ok()) << i.error().message;
    iam = std::move(*i);
  }
  ManualClock clock{WallTime(std::chrono::seconds(1'700'000'000))};
  std::unique_ptr<store::Database> db;
  std::unique_ptr<Iam> iam;
};

TEST_F(Fixture, BootstrapMakesAnAdministratorWithAKey) {
  EXPECT_TRUE(iam->bootstrap().created);
  EXPECT_EQ(iam->account_id().size(), 12u);
  const auto& key = iam->bootstrap().admin_key;
  EXPECT_EQ(key.access_key_id.size(), 20u);
  EXPECT_EQ(key.access_key_id.rfind("AKIA", 0), 0u);
  EXPECT_EQ(key.secret.size(), 40u);
  auto dir = iam->directory();
  const Principal* p = dir->find(key.access_key_id);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->administrator);
  EXPECT_EQ(p->caller.arn, "arn:aws:iam::" + iam->account_id() + ":user/administrator");
  EXPECT_EQ(p->secret, key.secret);
}

TEST_F(Fixture, ReopenKeepsTheAccount) {
  std::string account = iam->account_id();
  std::string key = iam->bootstrap().admin_key.access_key_id;
  iam.reset();
  auto again = Iam::open(*db, clock);
  ASSERT_OK(again);
  EXPECT_FALSE((*again)->bootstrap().created);
  EXPECT_EQ((*again)->account_id(), account);
  EXPECT_EQ((*again)->bootstrap().admin_key.access_key_id, key);
}

TEST_F(Fixture, KeysReachTheDirectoryAtOnce) {
  ASSERT_OK(iam->create_user("bob", "/"));
  auto key = iam->create_access_key("bob");
  ASSERT_OK(key);
  const Principal* p = iam->directory()->find(key->access_key_id);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->administrator);
  EXPECT_FALSE(p->read_only);
  ASSERT_OK(iam->attach_user_policy("bob", kReadOnlyAccessArn));
  EXPECT_TRUE(iam->directory()->find(key->access_key_id)->read_only);
  ASSERT_OK(iam->delete_access_key("bob", key->access_key_id));
  EXPECT_EQ(iam->directory()->find(key->access_key_id), nullptr);
}

TEST_F(Fixture, Errors) {
  ASSERT_OK(iam->create_user("bob", "/"));
  auto dup = iam->create_user("BOB", "/");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "EntityAlreadyExists");
  EXPECT_EQ(dup.error().http_status, 409);
  EXPECT_EQ(iam->get_user("nobody").error().code, "NoSuchEntity");
  ASSERT_OK(iam->create_access_key("bob"));
  ASSERT_OK(iam->create_access_key("bob"));
  auto third = iam->create_access_key("bob");
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, "LimitExceeded");
  auto del = iam->delete_user("bob");
  ASSERT_FALSE(del.ok());
  EXPECT_EQ(del.error().code, "DeleteConflict");
  EXPECT_EQ(iam->attach_user_policy("bob", "arn:aws:iam::aws:policy/PowerUserAccess").error().code, "NoSuchEntity");
  EXPECT_EQ(iam->detach_user_policy("bob", kAdministratorAccessArn).error().code, "NoSuchEntity");
}

TEST_F(Fixture, ListUsersPages) {
  for (const char* n : {"u1", "u2", "u3", "u4"}) ASSERT_OK(iam->create_user(n, "/"));
  auto first = iam->list_users("/", "", 2);
  ASSERT_OK(first);
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->items[0].name, "administrator");
  ASSERT_TRUE(first->next_marker);
  auto second = iam->list_users("/", *first->next_marker, 10);
  ASSERT_OK(second);
  EXPECT_EQ(second->items.size(), 3u);
  EXPECT_FALSE(second->next_marker);
}

TEST(Authorize, Policies) {
  Principal p;
  p.caller.arn = "arn:aws:iam::123456789012:user/x";
  auto denied = authorize(p, "ec2", "CreateSecurityGroup", false);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().error_class, ErrorClass::kDenied);
  EXPECT_EQ(denied.error().message.rfind(
                "User: arn:aws:iam::123456789012:user/x is not authorized to perform: ec2:CreateSecurityGroup", 0),
            0u);
  EXPECT_OK(authorize(p, "sts", "GetCallerIdentity", true));
  p.read_only = true;
  EXPECT_OK(authorize(p, "ec2", "DescribeSecurityGroups", true));
  EXPECT_FALSE(authorize(p, "ec2", "CreateSecurityGroup", false).ok());
  p.administrator = true;
  EXPECT_OK(authorize(p, "ec2", "CreateSecurityGroup", false));
}

}  // namespace
}  // namespace berth::iam
