#include <gtest/gtest.h>

#include "iam/iam.h"
#include "core/testing/expect_ok.h"

namespace berth::iam {
namespace {

constexpr std::string_view kTrust =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
    R"("Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
constexpr std::string_view kExecutionPolicy = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
constexpr std::string_view kInstancePolicy = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role";
constexpr std::string_view kProtected =
    "Cannot perform the operation on the protected role 'AWSServiceRoleForECS' - this role is only modifiable by AWS";

struct Roles : ::testing::Test {
  void SetUp() override {
    auto d = store::Database::open(":memory:");
    ASSERT_OK(d);
    db = std::make_unique<store::Database>(std::move(*d));
    open();
  }
  void open() {
    iam.reset();
    auto i = Iam::open(*db, clock);
    ASSERT_TRUE(i.ok()) << i.error().message;
    iam = std::move(*i);
  }
  RoleSpec spec(std::string name, std::string path = "/") {
    RoleSpec s;
    s.name = std::move(name);
    s.path = std::move(path);
    s.assume_role_policy = std::string(kTrust);
    return s;
  }
  ManualClock clock{WallTime(std::chrono::seconds(1'700'000'000))};
  std::unique_ptr<store::Database> db;
  std::unique_ptr<Iam> iam;
};

void expect_error(const Status& s, std::string_view code, int status, std::string_view message) {
  ASSERT_FALSE(s.ok()) << "expected " << code;
  EXPECT_EQ(s.error().code, code);
  EXPECT_EQ(s.error().http_status, status);
  EXPECT_EQ(s.error().message, message);
}

template <class T>
Status status_of(const Result<T>& r) {
  if (r.ok()) return Ok{};
  return r.error();
}

TEST_F(Roles, EcsServiceLinkedRoleExistsFromTheStart) {
  auto role = iam->get_role("AWSServiceRoleForECS");
  ASSERT_TRUE(role.ok()) << role.error().message;
  EXPECT_EQ(role->path, "/aws-service-role/ecs.amazonaws.com/");
  EXPECT_EQ(role_arn(iam->account_id(), *role),
            "arn:aws:iam::" + iam->account_id() + ":role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS");
  EXPECT_EQ(role->role_id.size(), 21u);
  EXPECT_EQ(role->role_id.rfind("AROA", 0), 0u);
  EXPECT_EQ(role->description, "Role to enable Amazon ECS to manage your cluster.");
  EXPECT_EQ(role->max_session_duration, 3600);
  EXPECT_EQ(role->linked_service, "ecs.amazonaws.com");
  EXPECT_EQ(role->created, clock.now());
  EXPECT_EQ(role->assume_role_policy,
            R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
            R"("Principal":{"Service":"ecs.amazonaws.com"},"Action":"sts:AssumeRole"}]})");
  auto policies = iam->list_attached_role_policies("AWSServiceRoleForECS", "/", "", 100);
  ASSERT_OK(policies);
  ASSERT_EQ(policies->items.size(), 1u);
  EXPECT_EQ(policies->items[0]->arn, "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy");
  EXPECT_EQ(policies->items[0]->name(), "AmazonECSServiceRolePolicy");
  EXPECT_EQ(policies->items[0]->path(), "/aws-service-role/");
  // names ignore case, as on AWS
  EXPECT_OK(iam->get_role("awsserviceroleforecs"));
}

TEST_F(Roles, ServiceLinkedRoleIsOnlyModifiableByAws) {
  expect_error(iam->delete_role("AWSServiceRoleForECS"), "UnmodifiableEntity", 400, kProtected);
  expect_error(iam->attach_role_policy("AWSServiceRoleForECS", kExecutionPolicy), "UnmodifiableEntity", 400,
               kProtected);
  expect_error(iam->detach_role_policy("AWSServiceRoleForECS",
                                       "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy"),
               "UnmodifiableEntity", 400, kProtected);
  ASSERT_OK(iam->create_instance_profile("p", "/", {}));
  expect_error(iam->add_role_to_instance_profile("p", "AWSServiceRoleForECS"), "UnmodifiableEntity", 400, kProtected);
  expect_error(status_of(iam->create_service_linked_role("ecs.amazonaws.com", std::nullopt)), "InvalidInput", 400,
               "Service role name AWSServiceRoleForECS has been taken in this account, please try a different "
               "suffix.");
  expect_error(status_of(iam->create_service_linked_role("ecs.amazonaws.com", "x")), "InvalidInput", 400,
               "Custom suffix is not allowed for ecs.amazonaws.com");
  auto unknown = iam->create_service_linked_role("nothing.amazonaws.com", std::nullopt);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "InvalidInput");
  // still there, unchanged
  EXPECT_OK(iam->get_role("AWSServiceRoleForECS"));
}

TEST_F(Roles, ReopenKeepsTheServiceLinkedRoleAndAnOlderDataDirGetsIt) {
  std::string id = iam->get_role("AWSServiceRoleForECS")->role_id;
  clock.advance(std::chrono::hours(5));
  open();
  EXPECT_EQ(iam->get_role("AWSServiceRoleForECS")->role_id, id);
  // a data dir from before roles: the account exists, the role does not
  ASSERT_OK(db->exec("DELETE FROM iam_role_policies; DELETE FROM iam_roles"));
  open();
  auto role = iam->get_role("AWSServiceRoleForECS");
  ASSERT_OK(role);
  EXPECT_NE(role->role_id, id);
  EXPECT_EQ(role->created, WallTime(std::chrono::seconds(1'700'000'000)));  // the account's creation
  EXPECT_EQ(iam->list_attached_role_policies("AWSServiceRoleForECS", "/", "", 100)->items.size(), 1u);
}

TEST_F(Roles, WorkshopRoleLifecycle) {
  RoleSpec s = spec("ecsTaskExecutionRole");
  s.description = "lets ECS pull images";
  s.tags = {{"team", "web"}};
  auto created = iam->create_role(s);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->role_id.rfind("AROA", 0), 0u);
  expect_error(status_of(iam->create_role(spec("ECSTASKEXECUTIONROLE"))), "EntityAlreadyExists", 409,
               "Role with name ECSTASKEXECUTIONROLE already exists.");
  auto got = iam->get_role("ecsTaskExecutionRole");
  ASSERT_OK(got);
  EXPECT_EQ(got->assume_role_policy, kTrust);
  EXPECT_EQ(got->description, "lets ECS pull images");
  ASSERT_EQ(got->tags.size(), 1u);
  EXPECT_EQ(got->tags[0].key, "team");
  EXPECT_EQ(got->role_id, created->role_id);

  ASSERT_OK(iam->attach_role_policy("ecsTaskExecutionRole", kExecutionPolicy));
  ASSERT_OK(iam->attach_role_policy("ecsTaskExecutionRole", kExecutionPolicy));  // twice is fine
  ASSERT_OK(iam->attach_role_policy("ecsTaskExecutionRole", kInstancePolicy));
  auto first = iam->list_attached_role_policies("ecsTaskExecutionRole", "/", "", 1);
  ASSERT_OK(first);
  ASSERT_EQ(first->items.size(), 1u);
  ASSERT_TRUE(first->next_marker);
  auto rest = iam->list_attached_role_policies("ecsTaskExecutionRole", "/", *first->next_marker, 10);
  ASSERT_EQ(rest->items.size(), 1u);
  EXPECT_FALSE(rest->next_marker);
  EXPECT_NE(first->items[0], rest->items[0]);
  EXPECT_EQ(iam->list_attached_role_policies("ecsTaskExecutionRole", "/service-role/", "", 10)->items.size(), 2u);
  EXPECT_EQ(iam->list_attached_role_policies("ecsTaskExecutionRole", "/other/", "", 10)->items.size(), 0u);

  expect_error(iam->delete_role("ecsTaskExecutionRole"), "DeleteConflict", 409,
               "Cannot delete entity, must detach all policies first.");
  ASSERT_OK(iam->detach_role_policy("ecsTaskExecutionRole", kExecutionPolicy));
  expect_error(iam->detach_role_policy("ecsTaskExecutionRole", kExecutionPolicy), "NoSuchEntity", 404,
               "Policy " + std::string(kExecutionPolicy) + " was not found.");
  ASSERT_OK(iam->detach_role_policy("ecsTaskExecutionRole", kInstancePolicy));
  ASSERT_OK(iam->delete_role("ecsTaskExecutionRole"));
  expect_error(status_of(iam->get_role("ecsTaskExecutionRole")), "NoSuchEntity", 404,
               "The role with name ecsTaskExecutionRole cannot be found.");
  expect_error(iam->delete_role("ecsTaskExecutionRole"), "NoSuchEntity", 404,
               "The role with name ecsTaskExecutionRole cannot be found.");
}

TEST_F(Roles, CreateAndAttachRefusals) {
  RoleSpec bad = spec("r");
  bad.assume_role_policy = "{\"Version\":";
  expect_error(status_of(iam->create_role(bad)), "MalformedPolicyDocument", 400, "This policy contains invalid Json");
  bad.assume_role_policy = "[]";
  expect_error(status_of(iam->create_role(bad)), "MalformedPolicyDocument", 400, "This policy contains invalid Json");
  expect_error(status_of(iam->create_role(spec("r", "/aws-service-role/ecs.amazonaws.com/"))), "InvalidInput", 400,
               "Path prefix '/aws-service-role/' can only be used for AWS Service linked Roles");
  EXPECT_EQ(iam->get_role("r").error().code, "NoSuchEntity");  // nothing half-written

  ASSERT_OK(iam->create_role(spec("r")));
  expect_error(iam->attach_role_policy("r", "arn:aws:iam::aws:policy/NoSuchPolicy"), "NoSuchEntity", 404,
               "Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable.");
  expect_error(iam->attach_role_policy("r", "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy"),
               "PolicyNotAttachable", 400, "Cannot attach a Service Role Policy to a Customer Role.");
  expect_error(iam->attach_role_policy("ghost", kExecutionPolicy), "NoSuchEntity", 404,
               "The role with name ghost cannot be found.");
  expect_error(status_of(iam->list_attached_role_policies("ghost", "/", "", 10)), "NoSuchEntity", 404,
               "The role with name ghost cannot be found.");
  const char* policies[] = {"AdministratorAccess",
                            "ReadOnlyAccess",
                            "PowerUserAccess",
                            "IAMFullAccess",
                            "AmazonEC2FullAccess",
                            "AmazonECS_FullAccess",
                            "AmazonS3FullAccess",
                            "CloudWatchLogsFullAccess",
                            "ElasticLoadBalancingFullAccess",
                            "AmazonEC2ContainerRegistryReadOnly"};
  for (const char* p : policies)
    ASSERT_TRUE(iam->attach_role_policy("r", std::string("arn:aws:iam::aws:policy/") + p).ok()) << p;
  expect_error(iam->attach_role_policy("r", kExecutionPolicy), "LimitExceeded", 409,
               "Cannot exceed quota for PoliciesPerRole: 10");
  ASSERT_OK(iam->attach_role_policy("r", "arn:aws:iam::aws:policy/AdministratorAccess"));  // already there
}

TEST_F(Roles, ListRolesPagesAndFiltersByPath) {
  for (const char* n : {"b", "a", "c"}) ASSERT_OK(iam->create_role(spec(n, "/app/")));
  ASSERT_OK(iam->create_role(spec("d")));
  auto all = iam->list_roles("/", "", 100);
  ASSERT_OK(all);
  std::vector<std::string> names;
  for (const auto& r : all->items) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "AWSServiceRoleForECS", "b", "c", "d"}));
  auto app = iam->list_roles("/app/", "", 2);
  ASSERT_EQ(app->items.size(), 2u);
  ASSERT_TRUE(app->next_marker);
  auto app2 = iam->list_roles("/app/", *app->next_marker, 2);
  ASSERT_EQ(app2->items.size(), 1u);
  EXPECT_EQ(app2->items[0].name, "c");
  EXPECT_FALSE(app2->next_marker);
  auto slr = iam->list_roles("/aws-service-role/", "", 100);
  ASSERT_EQ(slr->items.size(), 1u);
  EXPECT_EQ(slr->items[0].name, "AWSServiceRoleForECS");
}

TEST_F(Roles, InstanceProfiles) {
  ASSERT_OK(iam->create_role(spec("ecsInstanceRole")));
  ASSERT_OK(iam->create_role(spec("other")));
  auto profile = iam->create_instance_profile("ecsInstanceRole", "/", {{"k", "v"}});
  ASSERT_OK(profile);
  EXPECT_EQ(profile->instance_profile_id.rfind("AIPA", 0), 0u);
  EXPECT_EQ(profile->instance_profile_id.size(), 21u);
  EXPECT_EQ(instance_profile_arn(iam->account_id(), *profile),
            "arn:aws:iam::" + iam->account_id() + ":instance-profile/ecsInstanceRole");
  expect_error(status_of(iam->create_instance_profile("ECSINSTANCEROLE", "/", {})), "EntityAlreadyExists", 409,
               "Instance Profile ECSINSTANCEROLE already exists.");
  expect_error(status_of(iam->get_instance_profile("ghost")), "NoSuchEntity", 404,
               "Instance Profile ghost cannot be found.");
  expect_error(iam->add_role_to_instance_profile("ecsInstanceRole", "ghost"), "NoSuchEntity", 404,
               "The role with name ghost cannot be found.");
  ASSERT_OK(iam->add_role_to_instance_profile("ecsInstanceRole", "ecsInstanceRole"));
  expect_error(iam->add_role_to_instance_profile("ecsInstanceRole", "ecsInstanceRole"), "LimitExceeded", 409,
               "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1");
  expect_error(iam->add_role_to_instance_profile("ecsInstanceRole", "other"), "LimitExceeded", 409,
               "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1");
  auto got = iam->get_instance_profile("ecsinstancerole");
  ASSERT_OK(got);
  ASSERT_TRUE(got->role);
  EXPECT_EQ(got->role->name, "ecsInstanceRole");
  ASSERT_EQ(got->tags.size(), 1u);
  auto for_role = iam->list_instance_profiles_for_role("ecsInstanceRole", "", 10);
  ASSERT_EQ(for_role->items.size(), 1u);
  EXPECT_EQ(iam->list_instance_profiles_for_role("other", "", 10)->items.size(), 0u);
  EXPECT_EQ(iam->list_instance_profiles("/", "", 10)->items.size(), 1u);

  expect_error(iam->delete_role("ecsInstanceRole"), "DeleteConflict", 409,
               "Cannot delete entity, must remove roles from instance profile first.");
  expect_error(iam->delete_instance_profile("ecsInstanceRole"), "DeleteConflict", 409,
               "Cannot delete entity, must remove roles from instance profile first.");
  expect_error(iam->remove_role_from_instance_profile("ecsInstanceRole", "other"), "NoSuchEntity", 404,
               "The role with name other cannot be found.");
  ASSERT_OK(iam->remove_role_from_instance_profile("ecsInstanceRole", "ecsInstanceRole"));
  EXPECT_FALSE(iam->get_instance_profile("ecsInstanceRole")->role);
  ASSERT_OK(iam->delete_instance_profile("ecsInstanceRole"));
  ASSERT_OK(iam->delete_role("ecsInstanceRole"));
  expect_error(iam->delete_instance_profile("ecsInstanceRole"), "NoSuchEntity", 404,
               "Instance Profile ecsInstanceRole cannot be found.");
}

TEST_F(Roles, RoleWritesLeaveTheDirectoryAlone) {
  auto before = iam->directory();
  ASSERT_OK(iam->create_role(spec("r")));
  ASSERT_OK(iam->attach_role_policy("r", kExecutionPolicy));
  ASSERT_OK(iam->create_instance_profile("p", "/", {}));
  EXPECT_EQ(iam->directory(), before);
  ASSERT_OK(iam->create_user("u", "/"));
  EXPECT_NE(iam->directory(), before);
}

}  // namespace
}  // namespace berth::iam
