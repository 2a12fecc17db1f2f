// Test fixture for the ECS API: a fresh :memory: store with the ec2 and
// ecs schemas, the Service, and call() on the JSON body the CLI would send.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "api/service.h"
#include "ecs/ecs.h"
#include "ec2/ec2_service.h"
#include "store/store.h"

namespace berth::ecs::testing {

inline constexpr std::string_view kAccount = "123456789012";

class EcsTest : public ::testing::Test {
 protected:
  void SetUp() override;

  Result<std::string> call(std::string_view op, std::string_view json = "{}");
  // call() that must succeed; the parsed answer.
  boost::json::object ok(std::string_view op, std::string_view json = "{}");
  // call() that must fail; "<Code>: <message>".
  std::string fails(std::string_view op, std::string_view json = "{}");

  // EC2 side: RunInstances of `image` with user data (plain text, encoded
  // here); returns the instance id. Instances turn running after 1 s.
  std::string run_instance(std::string_view type, std::string_view user_data,
                           std::string_view image = "ami-0c9a0d5a8b4e7f312");
  Status ec2_call(std::string_view op, std::string_view form);
  // Moves time on, applies EC2's timed transitions and reconciles container instances.
  void settle(std::chrono::milliseconds d = std::chrono::milliseconds(1500));

  std::optional<store::Database> db_;
  api::Service service_;
  api::Service ec2_;
  std::string last_ec2_answer_;
  Options options_{"us-east-1", std::string(kAccount)};
  WallTime now_ = WallTime(std::chrono::seconds(1'800'000'000));
  api::Caller caller_{std::string(kAccount), "administrator", "AIDAEXAMPLE",
                      "arn:aws:iam::123456789012:user/administrator", "AKIAEXAMPLE"};
};

}  // namespace berth::ecs::testing
