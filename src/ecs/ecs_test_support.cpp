#include "ecs/ecs_test_support.h"

#include <boost/json/parse.hpp>

#include "api/json_input.h"

namespace berth::ecs::testing {

void EcsTest::SetUp() {
  auto db = store::Database::open(":memory:");
  ASSERT_TRUE(db.ok()) << db.error().message;
  db_.emplace(std::move(*db));
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

}  // namespace berth::ecs::testing
