// The console's server side: one-time sign-in tokens (issued through the
// front door to administrators only, redeemed once within 10 minutes) and
// the embedded asset table.
#include "console/console.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "api/front_door.h"
#include "api/sigv4.h"
#include "console/static_files.h"
#include "iam/services.h"
#include "core/testing/expect_ok.h"

namespace berth::console {
namespace {

namespace json = boost::json;

struct Key {
  std::string id, secret;
};

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = store::Database::open(":memory:");
    ASSERT_OK(d);
    db_ = std::make_unique<store::Database>(std::move(*d));
    auto i = iam::Iam::open(*db_, clock_);
    ASSERT_TRUE(i.ok()) << i.error().message;
    iam_ = std::move(*i);
    admin_ = {iam_->bootstrap().admin_key.access_key_id, iam_->bootstrap().admin_key.secret};
    console_ = std::make_unique<Console>(*iam_, clock_);
    door_ = std::make_unique<api::FrontDoor>(*iam_, clock_);
    door_->add(console_->service());
  }

  Key make_user(std::string_view name, std::string_view policy) {
    EXPECT_OK(iam_->create_user(name, "/"));
    if (!policy.empty()) {
      EXPECT_OK(iam_->attach_user_policy(name, policy));
    }
    auto k = iam_->create_access_key(name);
    return {k->access_key_id, k->secret};
  }

  // CreateConsoleSignInToken as `berth console-url` sends it.
  net::Response create_token(const Key& key) {
    std::string body = "{}";
    std::vector<api::HeaderField> headers{{"Host", "127.0.0.1:4566"},
                                          {"Content-Type", "application/x-amz-json-1.1"},
                                          {"X-Amz-Target", "BerthConsole.CreateConsoleSignInToken"}};
    api::SigningResult s = api::sign_request({"POST", "/", "", headers, body}, {key.id, key.secret, {}}, "us-east-1",
                                             "berth", clock_.now());
    headers.push_back({"X-Amz-Date", s.amz_date});
    headers.push_back({"Authorization", s.authorization});
    return door_->answer({"POST", "/", "", headers, body});
  }

  std::string token_for(const Key& key) {
    net::Response r = create_token(key);
    EXPECT_EQ(r.status, boost::beast::http::status::ok) << r.body;
    return std::string(json::parse(r.body).at("token").as_string());
  }

  static json::object body_of(const net::Response& r) { return json::parse(r.body).as_object(); }

  ManualClock clock_{SystemClock::instance().now()};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<iam::Iam> iam_;
  std::unique_ptr<Console> console_;
  std::unique_ptr<api::FrontDoor> door_;
  Key admin_;
};

TEST_F(ConsoleTest, ALinkSignsInOnceAsTheUserWhoAskedForIt) {
  std::string token = token_for(admin_);
  EXPECT_EQ(token.size(), 64u);
  net::Response first = console_->redeem(R"({"token":")" + token + R"("})");
  ASSERT_EQ(first.status, boost::beast::http::status::ok) << first.body;
  json::object keys = body_of(first);
  EXPECT_EQ(keys.at("AccessKeyId").as_string(), admin_.id);
  EXPECT_EQ(keys.at("SecretAccessKey").as_string(), admin_.secret);
  EXPECT_EQ(first.headers["Cache-Control"], "no-store") << "a secret must not be cached";

  net::Response again = console_->redeem(R"({"token":")" + token + R"("})");
  EXPECT_EQ(again.status, boost::beast::http::status::forbidden) << "a link signs in once";
  EXPECT_EQ(body_of(again).at("__type").as_string(), "InvalidSignInToken");
}

TEST_F(ConsoleTest, ALinkExpiresAfterTenMinutes) {
  std::string late = token_for(admin_);
  std::string in_time = token_for(admin_);
  clock_.set(clock_.now() + std::chrono::minutes(9) + std::chrono::seconds(59));
  EXPECT_EQ(console_->redeem(R"({"token":")" + in_time + R"("})").status, boost::beast::http::status::ok);
  clock_.set(clock_.now() + std::chrono::seconds(1));
  EXPECT_EQ(console_->redeem(R"({"token":")" + late + R"("})").status, boost::beast::http::status::forbidden)
      << "ten minutes after issue the link is void";
}

TEST_F(ConsoleTest, UnknownAndMalformedTokensAreRefused) {
  EXPECT_EQ(console_->redeem(R"({"token":")" + std::string(64, 'a') + R"("})").status,
            boost::beast::http::status::forbidden);
  EXPECT_EQ(console_->redeem("not json").status, boost::beast::http::status::bad_request);
  EXPECT_EQ(console_->redeem(R"({"token":7})").status, boost::beast::http::status::bad_request);
}

TEST_F(ConsoleTest, OnlyAnAdministratorMayAskForALink) {
  Key reader = make_user("reader", iam::kReadOnlyAccessArn);
  net::Response r = create_token(reader);
  EXPECT_EQ(r.status, boost::beast::http::status::bad_request) << r.body;
  EXPECT_EQ(body_of(r).at("__type").as_string(), "AccessDeniedException") << r.body;
  EXPECT_NE(r.body.find("is not authorized to perform: berth:CreateConsoleSignInToken"), std::string::npos) << r.body;
}

TEST_F(ConsoleTest, ALinkDiesWithItsAccessKey) {
  Key ops = make_user("ops", iam::kAdministratorAccessArn);
  std::string token = token_for(ops);
  ASSERT_OK(iam_->delete_access_key("ops", ops.id));
  EXPECT_EQ(console_->redeem(R"({"token":")" + token + R"("})").status, boost::beast::http::status::forbidden);
}

TEST_F(ConsoleTest, TheBundleIsEmbeddedAndNothingElse) {
  const Asset* index = find_asset("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_NE(index->body.find("app.js"), std::string_view::npos);
  ASSERT_NE(find_asset("app.js"), nullptr);
  EXPECT_EQ(find_asset("app.js")->content_type, "text/javascript; charset=utf-8");
  ASSERT_NE(find_asset("app.css"), nullptr);
  EXPECT_EQ(find_asset("../index.html"), nullptr);
  EXPECT_EQ(find_asset("/etc/passwd"), nullptr);
  EXPECT_EQ(index->etag.front(), '"');
}

}  // namespace
}  // namespace berth::console
