// Test fixture for the EC2 API: a fresh :memory: store, the Service, and a
// call() that runs an operation on the exact form body the aws CLI sends.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "api/service.h"
#include "ec2/ec2_service.h"
#include "store/store.h"

namespace berth::ec2::testing {

inline constexpr std::string_view kAccount = "123456789012";

class Ec2Test : public ::testing::Test {
 protected:
  void SetUp() override;

  // Runs Action=<op>&Version=2016-11-15&<form> through the Service.
  Result<std::string> call(std::string_view op, std::string_view form = "");
  // call() that must succeed; returns the XML.
  std::string ok(std::string_view op, std::string_view form = "");
  // call() that must fail; returns "<Code>: <message>".
  std::string fails(std::string_view op, std::string_view form = "");

  void advance(std::chrono::milliseconds d) { now_ += d; }

  std::optional<store::Database> db_;
  api::Service service_;
  Ec2Options options_;
  WallTime now_ = WallTime(std::chrono::seconds(1'800'000'000));
  api::Caller caller_{std::string(kAccount), "administrator", "AIDAEXAMPLE",
                      "arn:aws:iam::123456789012:user/administrator", "AKIAEXAMPLE"};
};

// Every text of <tag>...</tag> in document order (tags are not nested in themselves).
std::vector<std::string> texts(std::string_view xml, std::string_view tag);
// The first text of <tag>, "" when absent.
std::string text(std::string_view xml, std::string_view tag);
// The XML is well formed and parses as botocore would (checked by counting tags).
bool balanced(std::string_view xml);
// Form-encodes a value (for key material, JSON-like values).
std::string form_escape(std::string_view value);

}  // namespace berth::ec2::testing
