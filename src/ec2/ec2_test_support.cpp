#include "ec2/ec2_test_support.h"

#include <vector>

#include "api/query_codec.h"

namespace berth::ec2::testing {

void Ec2Test::SetUp() {
  auto db = store::Database::open(":memory:");
  ASSERT_TRUE(db.ok()) << db.error().message;
  db_.emplace(std::move(db).value());
  options_.account_id = std::string(kAccount);
  auto service = make_ec2_service(*db_, options_);
  ASSERT_TRUE(service.ok()) << service.error().message;
  service_ = std::move(service).value();
}

Result<std::string> Ec2Test::call(std::string_view op, std::string_view form) {
  std::string body = "Action=" + std::string(op) + "&Version=2016-11-15";
  if (!form.empty()) body += "&" + std::string(form);
  auto params = api::QueryParams::parse(body);
  if (!params.ok()) return std::move(params).error();
  api::QueryView view = params->root();
  auto it = service_.operations.find(op);
  if (it == service_.operations.end()) return Error::invalid("InvalidAction", "no operation " + std::string(op));
  api::CallContext ctx{"req-1", op, "us-east-1", "127.0.0.1:4566", caller_, now_};
  api::OperationInput input;
  input.query = &view;
  return it->second.run(ctx, input);
}

std::string Ec2Test::ok(std::string_view op, std::string_view form) {
  auto r = call(op, form);
  EXPECT_TRUE(r.ok()) << op << " " << form << ": " << (r.ok() ? "" : r.error().code + ": " + r.error().message);
  if (!r.ok()) return {};
  EXPECT_TRUE(balanced(*r)) << *r;
  return *r;
}

std::string Ec2Test::fails(std::string_view op, std::string_view form) {
  auto r = call(op, form);
  EXPECT_FALSE(r.ok()) << op << " " << form << " succeeded: " << (r.ok() ? *r : "");
  if (r.ok()) return {};
  return r.error().code + ": " + r.error().message;
}

std::vector<std::string> texts(std::string_view xml, std::string_view tag) {
  std::vector<std::string> out;
  std::string open = "<" + std::string(tag) + ">";
  std::string close = "</" + std::string(tag) + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    size_t start = pos + open.size();
    size_t end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    out.emplace_back(xml.substr(start, end - start));
    pos = end + close.size();
  }
  return out;
}

std::string text(std::string_view xml, std::string_view tag) {
  auto all = texts(xml, tag);
  return all.empty() ? std::string() : all.front();
}

bool balanced(std::string_view xml) {
  std::vector<std::string> stack;
  size_t pos = 0;
  while ((pos = xml.find('<', pos)) != std::string_view::npos) {
    size_t end = xml.find('>', pos);
    if (end == std::string_view::npos) return false;
    std::string_view tag = xml.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    if (tag.empty() || tag.front() == '?') continue;
    if (tag.back() == '/') continue;
    if (tag.front() == '/') {
      if (stack.empty() || stack.back() != tag.substr(1)) return false;
      stack.pop_back();
    } else {
      stack.emplace_back(tag.substr(0, tag.find(' ')));
    }
  }
  return stack.empty();
}

std::string form_escape(std::string_view value) { return api::uri_encode(value, false); }

}  // namespace berth::ec2::testing
