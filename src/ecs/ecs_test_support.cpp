#include "ecs/ecs_test_support.h"

#include <boost/json/parse.hpp>

#include "api/json_input.h"
#include "api/query_codec.h"
#include "ec2/instances.h"
#include "ec2/key_crypto.h"
#include "ecs/container_instances.h"

namespace berth::ecs::testing {

void EcsTest::SetUp() {
  auto db = store::Database::open(":memory:");
  ASSERT_TRUE(db.ok()) << db.error().message;
  db_.emplace(std::move(*db));
  ec2::Ec2Options ec2_options;
  ec2_options.account_id = std::string(kAccount);
  auto ec2 = ec2::make_ec2_service(*db_, ec2_options);
  ASSERT_TRUE(ec2.ok()) << ec2.error().message;
  ec2_ = std::move(*ec2);
  auto service = make_ecs_service(*db_, options_);
  ASSERT_TRUE(service.ok()) << service.error().message;
  service_ = std::move(*service);
}

Result<std::string> EcsTest::call(std::string_view op, std::string_view json) {
  auto it = service_.operations.find(op);
  if (it == service_.operations.end()) return Error::internal("no operation " + std::string(op));
  auto body = api::parse_json_body(json);
  if (!body) return std::move(body).error();
  api::OperationInput in;
  in.json = &*body;
  api::CallContext ctx{"req-1", op, "us-east-1", "127.0.0.1:4566", caller_, now_};
  return it->second.run(ctx, in);
}

boost::json::object EcsTest::ok(std::string_view op, std::string_view json) {
  auto r = call(op, json);
  if (!r.ok()) {
    ADD_FAILURE() << op << " failed: " << r.error().code << ": " << r.error().message;
    return {};
  }
  return boost::json::parse(*r).as_object();
}

std::string EcsTest::fails(std::string_view op, std::string_view json) {
  auto r = call(op, json);
  if (r.ok()) {
    ADD_FAILURE() << op << " succeeded: " << *r;
    return "";
  }
  return r.error().code + ": " + r.error().message;
}

Status EcsTest::ec2_call(std::string_view op, std::string_view form) {
  std::string body = "Action=" + std::string(op) + "&Version=2016-11-15&" + std::string(form);
  auto params = api::QueryParams::parse(body);
  if (!params.ok()) return std::move(params).error();
  api::QueryView view = params->root();
  api::OperationInput input;
  input.query = &view;
  api::CallContext ctx{"req-1", op, "us-east-1", "127.0.0.1:4566", caller_, now_};
  auto r = ec2_.operations.at(std::string(op)).run(ctx, input);
  if (!r) return std::move(r).error();
  last_ec2_answer_ = *r;
  return Ok{};
}

std::string EcsTest::run_instance(std::string_view type, std::string_view user_data, std::string_view image) {
  std::string form = "ImageId=" + std::string(image) + "&InstanceType=" + std::string(type) + "&MinCount=1&MaxCount=1";
  if (!user_data.empty()) {
    std::string encoded;
    for (char c : ec2::base64_encode(user_data)) {
      if (c == '+') encoded += "%2B";
      else if (c == '/') encoded += "%2F";
      else if (c == '=') encoded += "%3D";
      else encoded += c;
    }
    form += "&UserData=" + encoded;
  }
  auto s = ec2_call("RunInstances", form);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  auto pos = last_ec2_answer_.find("<instanceId>");
  if (pos == std::string::npos) return "";
  return last_ec2_answer_.substr(pos + 12, last_ec2_answer_.find("</instanceId>", pos) - pos - 12);
}

void EcsTest::settle(std::chrono::milliseconds d) {
  now_ += d;
  ASSERT_TRUE(ec2::advance_instance_states(*db_, now_, ec2::InstanceTimings{}).ok());
  InstanceReconciler reconciler(*db_, SystemClock::instance(), options_);
  auto s = reconciler.reconcile(now_);
  ASSERT_TRUE(s.ok()) << s.error().message;
}

}  // namespace berth::ecs::testing
