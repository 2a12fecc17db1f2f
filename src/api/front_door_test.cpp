// The front door over a real HttpServer: SigV4 in both forms, service choice,
// authorization, input decoding and the error shapes of each protocol.
#include "api/front_door.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "api/cbor.h"
#include "api/document.h"
#include "core/time_format.h"
#include "iam/services.h"
#include "net/test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::api {
namespace {

using net::testing::RawClient;
using net::testing::TestServer;

struct Key {
  std::string id, secret;
};

class FrontDoorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = store::Database::open(":memory:");
    ASSERT_OK(d);
    db_ = std::make_unique<store::Database>(std::move(*d));
    auto i = iam::Iam::open(*db_, clock_);
    ASSERT_OK(i);
    iam_ = std::move(*i);
    admin_ = {iam_->bootstrap().admin_key.access_key_id, iam_->bootstrap().admin_key.secret};
    door_ = std::make_unique<FrontDoor>(*iam_, clock_);
    door_->add(iam::make_sts_service(*iam_));
    door_->add(iam::make_iam_service(*iam_));
    Service ecs;
    ecs.signing_name = "ecs";
    ecs.protocol = Protocol::kJson;
    ecs.json_target_prefix = "AmazonEC2ContainerServiceV20141113";
    ecs.add("ListClusters", [](const CallContext&, const OperationInput& in) -> Result<std::string> {
      return std::string("{\"clusterArns\":[],\"n\":") + std::to_string(in.json->size()) + "}";
    });
    ecs.add("CreateCluster", [](const CallContext&, const OperationInput&) -> Result<std::string> {
      throw std::runtime_error("boom");
    });
    door_->add(std::move(ecs));
    Service ec2;
    ec2.signing_name = "ec2";
    ec2.protocol = Protocol::kEc2;
    ec2.xmlns = std::string(kEc2Xmlns);
    ec2.api_version = "2016-11-15";
    ec2.add("DescribeSecurityGroups", [](const CallContext&, const OperationInput&) -> Result<std::string> {
      return std::string("<securityGroupInfo/>");
    });
    ec2.add("CreateSecurityGroup", [](const CallContext&, const OperationInput&) -> Result<std::string> {
      return std::string("<return>true</return>");
    });
    door_->add(std::move(ec2));
    // A service offering query, JSON 1.0 and CBOR, as CloudWatch does.
    Service monitoring;
    monitoring.signing_name = "monitoring";
    monitoring.protocol = Protocol::kQuery;
    monitoring.also_speaks = {Protocol::kJson10, Protocol::kRpcV2Cbor};
    monitoring.json_target_prefix = "GraniteServiceVersion20100801";
    monitoring.xmlns = "http://monitoring.amazonaws.com/doc/2010-08-01/";
    monitoring.api_version = "2010-08-01";
    monitoring.query_compatible = true;
    monitoring.json_error_types = {{"InvalidParameterValue", "InvalidParameterValueException"}};
    monitoring.add("ListMetrics", [](const CallContext& ctx, const OperationInput& in) -> Result<std::string> {
      Doc d = Doc::structure();
      std::string seen = in.json ? std::to_string(in.json->size()) + " members" : "query";
      d.set("Seen", Doc::string(seen));
      return render_document(d, ctx.protocol);
    });
    monitoring.add("PutMetricData", [](const CallContext&, const OperationInput&) -> Result<std::string> {
      return Error::invalid("InvalidParameterValue", "The value AWS/ for parameter Namespace is invalid.");
    });
    door_->add(std::move(monitoring));
    server_ = std::make_unique<TestServer>([this](net::Request& r) { return door_->handle(r); });
  }

  std::string host() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  // A botocore-like signed POST.
  std::string signed_post(const Key& key, std::string_view service, std::string body,
                          std::string_view content_type, std::string_view target = {},
                          WallTime when = WallTime{}) {
    if (when == WallTime{}) when = clock_.now();
    std::string h = host();
    std::vector<HeaderField> headers{{"Content-Type", content_type}, {"Host", h}};
    if (!target.empty()) headers.push_back({"X-Amz-Target", target});
    SignedRequest req{"POST", "/", "", headers, body};
    SigningResult s = sign_request(req, {key.id, key.secret, {}}, "us-east-1", service, when);
    std::string out = "POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Type: " + std::string(content_type) + "\r\n";
    if (!target.empty()) out += "X-Amz-Target: " + std::string(target) + "\r\n";
    out += "X-Amz-Date: " + s.amz_date + "\r\nAuthorization: " + s.authorization +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return out;
  }

  std::string query(const Key& key, std::string_view service, std::string body, WallTime when = WallTime{}) {
    return signed_post(key, service, std::move(body), "application/x-www-form-urlencoded; charset=utf-8", {}, when);
  }
  std::string json(const Key& key, std::string_view op, std::string body) {
    return signed_post(key, "ecs", std::move(body), "application/x-amz-json-1.1",
                       "AmazonEC2ContainerServiceV20141113." + std::string(op));
  }

  // A signed POST to any path with extra headers (JSON 1.0, rpc-v2-cbor).
  std::string signed_at(const Key& key, std::string_view service, std::string path, std::string body,
                        std::vector<std::pair<std::string, std::string>> extra) {
    std::string h = host();
    std::vector<HeaderField> headers{{"Host", h}};
    for (const auto& [n, v] : extra) headers.push_back({n, v});
    SignedRequest req{"POST", path, "", headers, body};
    SigningResult s = sign_request(req, {key.id, key.secret, {}}, "us-east-1", service, clock_.now());
    std::string out = "POST " + path + " HTTP/1.1\r\nHost: " + h + "\r\n";
    for (const auto& [n, v] : extra) out += n + ": " + v + "\r\n";
    out += "X-Amz-Date: " + s.amz_date + "\r\nAuthorization: " + s.authorization +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return out;
  }

  static std::string body_of(const std::string& response) { return response.substr(response.find("\r\n\r\n") + 4); }

  std::string roundtrip(const std::string& request) {
    RawClient c(server_->port());
    EXPECT_TRUE(c.connected());
    c.send(request);
    std::string head = c.read_until("\r\n\r\n");
    auto pos = head.find("Content-Length: ");
    if (pos == std::string::npos) return head;
    size_t length = std::stoul(head.substr(pos + 16));
    size_t body_at = head.find("\r\n\r\n") + 4;
    while (head.size() < body_at + length) {
      std::string more = c.read_until("\xff\xfe", 1, 500);
      if (more.empty()) break;
      head += more;
    }
    return head;
  }

  static int status(const std::string& response) { return std::stoi(response.substr(9, 3)); }

  Key make_user(std::string_view name, std::string_view policy) {
    EXPECT_OK(iam_->create_user(name, "/"));
    if (!policy.empty()) {
      EXPECT_OK(iam_->attach_user_policy(name, policy));
    }
    auto k = iam_->create_access_key(name);
    return {k->access_key_id, k->secret};
  }

  ManualClock clock_{SystemClock::instance().now()};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<iam::Iam> iam_;
  std::unique_ptr<FrontDoor> door_;
  std::unique_ptr<TestServer> server_;
  Key admin_;
};

TEST_F(FrontDoorTest, GetCallerIdentity) {
  std::string r = roundtrip(query(admin_, "sts", "Action=GetCallerIdentity&Version=2011-06-15"));
  EXPECT_EQ(status(r), 200) << r;
  EXPECT_NE(r.find("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                   "<GetCallerIdentityResult><Arn>arn:aws:iam::" +
                   iam_->account_id() + ":user/administrator</Arn>"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("x-amzn-RequestId: "), std::string::npos);
}

TEST_F(FrontDoorTest, OperationWithoutOutputSendsMetadataOnly) {
  ASSERT_OK(iam_->create_user("temp", "/"));
  std::string r = roundtrip(query(admin_, "iam", "Action=DeleteUser&Version=2010-05-08&UserName=temp"));
  EXPECT_EQ(status(r), 200) << r;
  EXPECT_NE(r.find("<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata>"
                   "<RequestId>"),
            std::string::npos)
      << r;
  EXPECT_EQ(r.find("DeleteUserResult"), std::string::npos) << r;
}

TEST_F(FrontDoorTest, AuthFailuresPerProtocol) {
  std::string unsigned_query =
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 43\r\n\r\n"
      "Action=GetCallerIdentity&Version=2011-06-15";
  std::string r = roundtrip(unsigned_query);
  EXPECT_EQ(status(r), 403);
  EXPECT_NE(r.find("<Code>MissingAuthenticationToken</Code>"), std::string::npos) << r;

  std::string unsigned_json =
      "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonEC2ContainerServiceV20141113.ListClusters\r\n"
      "Content-Length: 2\r\n\r\n{}";
  r = roundtrip(unsigned_json);
  EXPECT_EQ(status(r), 400);
  EXPECT_NE(r.find("\"__type\":\"MissingAuthenticationTokenException\""), std::string::npos) << r;

  Key wrong{admin_.id, std::string(40, 'x')};
  r = roundtrip(query(wrong, "sts", "Action=GetCallerIdentity&Version=2011-06-15"));
  EXPECT_EQ(status(r), 403);
  EXPECT_NE(r.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos) << r;

  Key unknown{"AKIAAAAAAAAAAAAAAAAA", std::string(40, 'x')};
  r = roundtrip(query(unknown, "ec2", "Action=DescribeSecurityGroups&Version=2016-11-15"));
  EXPECT_EQ(status(r), 401);
  EXPECT_NE(r.find("<Code>AuthFailure</Code>"), std::string::npos) << r;

  r = roundtrip(query(admin_, "sts", "Action=GetCallerIdentity&Version=2011-06-15",
                      clock_.now() - std::chrono::minutes(6)));
  EXPECT_EQ(status(r), 403);
  EXPECT_NE(r.find("Signature expired: "), std::string::npos) << r;
  r = roundtrip(query(admin_, "ec2", "Action=DescribeSecurityGroups&Version=2016-11-15",
                      clock_.now() + std::chrono::minutes(6)));
  EXPECT_EQ(status(r), 400);
  EXPECT_NE(r.find("<Code>RequestExpired</Code>"), std::string::npos) << r;
}

TEST_F(FrontDoorTest, PresignedGet) {
  std::string h = host();
  std::vector<HeaderField> headers{{"Host", h}};
  SignedRequest req{"GET", "/", "Action=GetCallerIdentity&Version=2011-06-15", headers, ""};
  std::string q = presign_query(req, {admin_.id, admin_.secret, {}}, "us-east-1", "sts", clock_.now(),
                                std::chrono::seconds(60));
  std::string r = roundtrip("GET /?" + q + " HTTP/1.1\r\nHost: " + h + "\r\n\r\n");
  EXPECT_EQ(status(r), 200) << r;
  EXPECT_NE(r.find("user/administrator"), std::string::npos);
  clock_.advance(std::chrono::seconds(61));
  r = roundtrip("GET /?" + q + " HTTP/1.1\r\nHost: " + h + "\r\n\r\n");
  EXPECT_EQ(status(r), 403) << r;
  EXPECT_NE(r.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos) << r;
}

TEST_F(FrontDoorTest, Authorization) {
  Key nobody = make_user("nobody", "");
  std::string r = roundtrip(query(nobody, "ec2", "Action=CreateSecurityGroup&Version=2016-11-15"));
  EXPECT_EQ(status(r), 403);
  EXPECT_NE(r.find("<Code>UnauthorizedOperation</Code>"), std::string::npos) << r;
  EXPECT_NE(r.find("User: arn:aws:iam::" + iam_->account_id() +
                   ":user/nobody is not authorized to perform: ec2:CreateSecurityGroup"),
            std::string::npos)
      << r;
  r = roundtrip(json(nobody, "ListClusters", "{}"));
  EXPECT_EQ(status(r), 400);
  EXPECT_NE(r.find("\"__type\":\"AccessDeniedException\""), std::string::npos) << r;
  r = roundtrip(query(nobody, "iam", "Action=ListUsers&Version=2010-05-08"));
  EXPECT_EQ(status(r), 403);
  EXPECT_NE(r.find("<Code>AccessDenied</Code>"), std::string::npos) << r;
  // AWS never denies GetCallerIdentity.
  r = roundtrip(query(nobody, "sts", "Action=GetCallerIdentity&Version=2011-06-15"));
  EXPECT_EQ(status(r), 200) << r;

  Key reader = make_user("reader", iam::kReadOnlyAccessArn);
  r = roundtrip(query(reader, "ec2", "Action=DescribeSecurityGroups&Version=2016-11-15"));
  EXPECT_EQ(status(r), 200) << r;
  EXPECT_NE(r.find("<DescribeSecurityGroupsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
                   "<requestId>"),
            std::string::npos)
      << r;
  r = roundtrip(query(reader, "ec2", "Action=CreateSecurityGroup&Version=2016-11-15"));
  EXPECT_EQ(status(r), 403) << r;
}

TEST_F(FrontDoorTest, OperationsAndInputs) {
  std::string r = roundtrip(json(admin_, "ListClusters", "{\"a\":1,\"b\":2}"));
  EXPECT_EQ(status(r), 200) << r;
  EXPECT_NE(r.find("{\"clusterArns\":[],\"n\":2}"), std::string::npos) << r;
  EXPECT_NE(r.find("Content-Type: application/x-amz-json-1.1"), std::string::npos) << r;

  r = roundtrip(json(admin_, "NoSuchThing", "{}"));
  EXPECT_EQ(status(r), 400);
  EXPECT_NE(r.find("\"__type\":\"UnknownOperationException\""), std::string::npos) << r;

  r = roundtrip(json(admin_, "ListClusters", "{\"a\":"));
  EXPECT_EQ(status(r), 400);
  EXPECT_NE(r.find("\"__type\":\"SerializationException\""), std::string::npos) << r;

  r = roundtrip(json(admin_, "CreateCluster", "{}"));
  EXPECT_EQ(status(r), 500);
  EXPECT_NE(r.find("\"__type\":\"InternalFailure\""), std::string::npos) << r;

  r = roundtrip(query(admin_, "ec2", "Action=RunWizardry&Version=2016-11-15"));
  EXPECT_EQ(status(r), 400);
  EXPECT_NE(r.find("<Code>InvalidAction</Code><Message>The action RunWizardry is not valid for this web "
                   "service.</Message>"),
            std::string::npos)
      << r;
  r = roundtrip(query(admin_, "sts", "Version=2011-06-15"));
  EXPECT_EQ(status(r), 400);
  EXPECT_NE(r.find("<Code>MissingAction</Code>"), std::string::npos) << r;
  r = roundtrip(query(admin_, "sts", "Action=GetCallerIdentity&Bad=%zz"));
  EXPECT_EQ(status(r), 400);
  EXPECT_NE(r.find("<Code>MalformedQueryString</Code>"), std::string::npos) << r;
}

TEST_F(FrontDoorTest, OversizedBodyGetsA413AndTheConnectionLives) {
  RawClient c(server_->port());
  std::string body(kMaxApiBodyBytes + 1, 'a');
  std::string head =
      "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonEC2ContainerServiceV20141113.ListClusters\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n";
  c.send(head);
  c.send(body);
  std::string r = c.read_until("}");
  EXPECT_EQ(status(r), 413) << r;
  EXPECT_NE(r.find("RequestEntityTooLargeException"), std::string::npos) << r;
  c.send(json(admin_, "ListClusters", "{}"));
  std::string again = c.read_until("}");
  EXPECT_EQ(status(again), 200) << again;
}

TEST_F(FrontDoorTest, OneServiceSpeaksQueryJson10AndCbor) {
  std::string r = roundtrip(query(admin_, "monitoring", "Action=ListMetrics&Version=2010-08-01"));
  EXPECT_EQ(status(r), 200) << r;
  EXPECT_NE(r.find("<ListMetricsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><ListMetricsResult>"
                   "<Seen>query</Seen></ListMetricsResult>"),
            std::string::npos)
      << r;

  r = roundtrip(signed_at(admin_, "monitoring", "/", R"({"Namespace":"A"})",
                          {{"Content-Type", "application/x-amz-json-1.0"},
                           {"X-Amz-Target", "GraniteServiceVersion20100801.ListMetrics"}}));
  EXPECT_EQ(status(r), 200) << r;
  EXPECT_NE(r.find("Content-Type: application/x-amz-json-1.0"), std::string::npos) << r;
  EXPECT_EQ(body_of(r), R"({"Seen":"1 members"})");

  Doc in = Doc::structure();
  in.set("Namespace", Doc::string("A")).set("Period", Doc::integer(60));
  r = roundtrip(signed_at(admin_, "monitoring", "/service/GraniteServiceVersion20100801/operation/ListMetrics",
                          to_cbor(in), {{"Content-Type", "application/cbor"}, {"smithy-protocol", "rpc-v2-cbor"}}));
  EXPECT_EQ(status(r), 200) << r;
  EXPECT_NE(r.find("smithy-protocol: rpc-v2-cbor"), std::string::npos) << r;
  EXPECT_NE(r.find("Content-Type: application/cbor"), std::string::npos) << r;
  auto answer = decode_cbor(body_of(r));
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->as_object().at("Seen").as_string(), "2 members");
}

TEST_F(FrontDoorTest, ServicesKeepTheirOwnProtocols) {
  // A JSON 1.1 service asked with a JSON 1.0 content type still answers JSON 1.1.
  std::string r = roundtrip(signed_at(admin_, "ecs", "/", "{}",
                                      {{"Content-Type", "application/x-amz-json-1.0"},
                                       {"X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters"}}));
  EXPECT_EQ(status(r), 200) << r;
  EXPECT_NE(r.find("Content-Type: application/x-amz-json-1.1"), std::string::npos) << r;
  // Its errors carry no query-compatibility header.
  r = roundtrip(json(admin_, "NoSuchOperation", "{}"));
  EXPECT_EQ(status(r), 400);
  EXPECT_EQ(r.find("x-amzn-query-error"), std::string::npos) << r;
  // CBOR to a service that does not offer it: the service's own protocol answers.
  r = roundtrip(signed_at(admin_, "ecs", "/service/AmazonEC2ContainerServiceV20141113/operation/ListClusters", "",
                          {{"smithy-protocol", "rpc-v2-cbor"}}));
  EXPECT_EQ(status(r), 400) << r;
  EXPECT_NE(r.find("\"__type\":\"UnknownOperationException\""), std::string::npos) << r;
}

TEST_F(FrontDoorTest, QueryCompatibleErrorsPerProtocol) {
  std::string r = roundtrip(query(admin_, "monitoring", "Action=PutMetricData&Version=2010-08-01"));
  EXPECT_EQ(status(r), 400);
  EXPECT_NE(r.find("<Code>InvalidParameterValue</Code>"), std::string::npos) << r;
  EXPECT_EQ(r.find("x-amzn-query-error"), std::string::npos) << "query errors need no header";

  r = roundtrip(signed_at(admin_, "monitoring", "/", "{}",
                          {{"Content-Type", "application/x-amz-json-1.0"},
                           {"X-Amz-Target", "GraniteServiceVersion20100801.PutMetricData"}}));
  EXPECT_EQ(status(r), 400);
  EXPECT_NE(r.find("x-amzn-query-error: InvalidParameterValue;Sender"), std::string::npos) << r;
  EXPECT_EQ(body_of(r),
            R"({"__type":"InvalidParameterValueException","message":"The value AWS/ for parameter Namespace is invalid."})");

  r = roundtrip(signed_at(admin_, "monitoring", "/service/GraniteServiceVersion20100801/operation/PutMetricData", "",
                          {{"smithy-protocol", "rpc-v2-cbor"}}));
  EXPECT_EQ(status(r), 400);
  EXPECT_NE(r.find("x-amzn-query-error: InvalidParameterValue;Sender"), std::string::npos) << r;
  auto error = decode_cbor(body_of(r));
  ASSERT_OK(error);
  EXPECT_EQ(error->as_object().at("__type").as_string(), "InvalidParameterValueException");

  r = roundtrip(signed_at(admin_, "monitoring", "/service/GraniteServiceVersion20100801/operation/NoSuchThing", "",
                          {{"smithy-protocol", "rpc-v2-cbor"}}));
  EXPECT_EQ(status(r), 400);
  error = decode_cbor(body_of(r));
  ASSERT_OK(error);
  EXPECT_EQ(error->as_object().at("__type").as_string(), "UnknownOperationException");

  r = roundtrip(signed_at(admin_, "monitoring", "/service/GraniteServiceVersion20100801/operation/ListMetrics",
                          "\xa1\x61", {{"smithy-protocol", "rpc-v2-cbor"}}));
  EXPECT_EQ(status(r), 400) << "a truncated CBOR body";
  error = decode_cbor(body_of(r));
  ASSERT_OK(error);
  EXPECT_EQ(error->as_object().at("__type").as_string(), "SerializationException");

  std::string unsigned_cbor =
      "POST /service/GraniteServiceVersion20100801/operation/ListMetrics HTTP/1.1\r\nHost: x\r\n"
      "smithy-protocol: rpc-v2-cbor\r\nContent-Length: 0\r\n\r\n";
  r = roundtrip(unsigned_cbor);
  EXPECT_EQ(status(r), 400);
  error = decode_cbor(body_of(r));
  ASSERT_TRUE(error.ok()) << r;
  EXPECT_EQ(error->as_object().at("__type").as_string(), "MissingAuthenticationTokenException");
}

}  // namespace
}  // namespace berth::api
