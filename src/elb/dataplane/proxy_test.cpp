// The proxy over loopback: a real listener, a net::TestServer as target,
// raw clients. Runs in the sanitizer build too.
#include "elb/dataplane/proxy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "net/test_support.h"

namespace berth::elb::dp {
namespace {

using net::testing::RawClient;
using net::testing::TestServer;

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

const char* kGroup = "sg-0123456789abcdef0";

std::shared_ptr<const ec2::SecurityGroupTable> table(bool admit) {
  ec2::SecurityGroup g;
  g.id = *ec2::GroupId::parse(kGroup);
  if (admit) {
    auto rule = ec2::make_rule(ec2::RuleDirection::kIngress, "tcp", 1, 65535, *ec2::Cidr::parse_v4("127.0.0.0/8"));
    g.ingress.push_back(*rule);
  }
  auto egress = ec2::make_rule(ec2::RuleDirection::kEgress, "-1", {}, {}, *ec2::Cidr::parse_v4("0.0.0.0/0"));
  g.egress.push_back(*egress);
  std::vector<ec2::SecurityGroup> groups{g};
  return ec2::SecurityGroupTable::build(groups);
}

class ProxyTest : public ::testing::Test {
 protected:
  ProxyTest()
      : backend_([this](net::Request& r) -> net::Task<net::Response> {
          hits_.fetch_add(1);
          std::string body = "backend saw " + std::string(r.target()) + " xff=" + std::string(r.header("X-Forwarded-For")) +
                             " port=" + std::string(r.header("X-Forwarded-Port")) + " bad=" + std::string(r.header("X_Bad"));
          if (r.has_body()) {
            r.set_body_limit(64 << 20);
            auto b = co_await r.read_body();
            if (b && b->size() > 1000) body += " body-bytes=" + std::to_string(b->size());
            else if (b) body += " body=" + *b;
          }
          if (r.path() == "/big") body.append(3 << 20, 'x');
          co_return net::Response(net::http::status::ok, body);
        }),
        loops_(2),
        proxy_(loops_, options(), [this] { return admit_.load() ? table(true) : table(false); }) {
    port_ = free_port();
    loops_.start();
  }
  ~ProxyTest() override {
    loops_.stop();
    loops_.join();
    proxy_.stop();
  }

  ProxyOptions options() {
    ProxyOptions o;
    o.private_connector = [this](const std::string& ip, uint16_t port, const ec2::IpAddress& source,
                                 std::span<const ec2::GroupId> groups) {
      std::lock_guard lock(route_mutex_);
      route_source_ = source.to_string();
      route_groups_ = groups.empty() ? "" : groups.front().to_string();
      return route_ ? route_(ip, port) : PrivateRoute{};
    };
    return o;
  }

  // One load balancer on port_: /fixed answers itself, the rest forwards to `targets`.
  void publish(std::vector<uint16_t> target_ports) {
    auto snap = std::make_shared<Snapshot>();
    GroupRoute g;
    g.arn = "tg";
    for (uint16_t p : target_ports) {
      TargetRoute t;
      t.key = "t" + std::to_string(p);
      t.address = "127.0.0.1";
      t.port = p;
      t.health = Health::kHealthy;
      t.private_address = private_address_;
      g.targets.push_back(t);
    }
    g.sticky = sticky_;
    snap->groups.push_back(g);
    LbRoute lb;
    lb.dns_name = "lb-1.us-east-1.elb.localhost";
    lb.security_groups = {*ec2::GroupId::parse(kGroup)};
    lb.drop_invalid_header_fields = drop_invalid_;
    lb.private_address = *ec2::IpAddress::parse("10.0.1.254");
    RouteRule fixed;
    fixed.priority = 1;
    MatchCondition c;
    c.values = {"/fixed"};
    fixed.conditions = {c};
    fixed.action.type = RouteAction::Type::kFixedResponse;
    fixed.action.fixed_status = 404;
    fixed.action.fixed_content_type = "text/plain";
    fixed.action.fixed_body = "nothing here";
    RouteRule def;
    def.action.groups = {{0, 1}};
    lb.rules = {fixed, def};
    snap->ports[port_].port = port_;
    snap->ports[port_].load_balancers.push_back(lb);
    proxy_.publish(snap);
    for (int i = 0; i < 100 && !RawClient(port_).connected(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  std::string get(std::string_view path, std::string_view extra = "") {
    RawClient c(port_);
    c.send("GET " + std::string(path) + " HTTP/1.1\r\nHost: lb-1.us-east-1.elb.localhost\r\n" + std::string(extra) +
           "Connection: close\r\n\r\n");
    return c.read_until("\r\n\r\n", 1, 5000) + c.read_until("\x01", 1, 300);
  }

  TestServer backend_;
  bool drop_invalid_ = false;
  bool sticky_ = false;
  std::string private_address_;
  std::mutex route_mutex_;
  std::function<PrivateRoute(const std::string&, uint16_t)> route_;
  std::string route_source_, route_groups_;
  std::atomic<int> hits_{0};
  std::atomic<bool> admit_{true};
  std::atomic<bool> admit_route_{false};
  net::EventLoops loops_;
  Proxy proxy_;
  uint16_t port_ = 0;
};

TEST_F(ProxyTest, ForwardsWithForwardedHeadersAndKeepAlive) {
  publish({backend_.port()});
  std::string r = get("/a?b=1", "X-Forwarded-For: 10.1.2.3\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("backend saw /a?b=1 xff=10.1.2.3, 127.0.0.1 port=" + std::to_string(port_)), std::string::npos) << r;
  // Two requests and a body on one client connection.
  RawClient c(port_);
  std::string req = "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
  c.send(req + req);
  std::string both = c.read_until("body=hello", 2, 5000);
  EXPECT_EQ(RawClient::occurrences(both, "HTTP/1.1 200 OK"), 2) << both;
}

TEST_F(ProxyTest, CloseDelimitedTargetBodyGetsALength) {
  // A raw HTTP/1.0-style target: no Content-Length, the body ends at close.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread target([fd] {
    int c = ::accept(fd, nullptr, nullptr);
    char buf[4096];
    (void)::recv(c, buf, sizeof buf, 0);
    std::string_view answer = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close";
    (void)::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
    ::close(c);
  });
  publish({ntohs(addr.sin_port)});
  RawClient c(port_);
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = c.read_until("until close", 1, 5000);
  target.join();
  ::close(fd);
  EXPECT_NE(r.find("Content-Length: 11\r\n"), std::string::npos) << r;
  EXPECT_FALSE(c.wait_closed(200));  // the client connection stays open
}

TEST_F(ProxyTest, FixedResponseAndNoTarget) {
  publish({});
  std::string fixed = get("/fixed");
  EXPECT_EQ(fixed.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << fixed;
  EXPECT_NE(fixed.find("Server: awselb/2.0"), std::string::npos);
  EXPECT_NE(fixed.find("nothing here"), std::string::npos);
  std::string none = get("/");
  EXPECT_EQ(none.rfind("HTTP/1.1 503 Service Temporarily Unavailable\r\n", 0), 0u) << none;
  EXPECT_NE(none.find("Content-Length: 162"), std::string::npos);
}

TEST_F(ProxyTest, RefusedTargetIsRetriedElsewhere) {
  publish({free_port(), backend_.port()});  // the first port has no listener
  for (int i = 0; i < 6; ++i) {
    std::string r = get("/");
    EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  }
  EXPECT_EQ(hits_.load(), 6);
  publish({free_port()});
  std::string r = get("/");
  EXPECT_EQ(r.rfind("HTTP/1.1 502 Bad Gateway\r\n", 0), 0u) << r;
}

TEST_F(ProxyTest, SecurityGroupDropClosesWithoutAnswer) {
  admit_ = false;
  publish({backend_.port()});
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(c.wait_closed(3000));
  EXPECT_EQ(c.read_until("HTTP", 1, 100), "");
  EXPECT_EQ(hits_.load(), 0);
  admit_ = true;
  EXPECT_EQ(get("/").rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

TEST_F(ProxyTest, ListenerClosesWhenItsPortLeavesTheSnapshot) {
  publish({backend_.port()});
  ASSERT_EQ(proxy_.listening_ports(), std::vector<uint16_t>{port_});
  proxy_.publish(std::make_shared<Snapshot>());
  EXPECT_TRUE(proxy_.listening_ports().empty());
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) {
    refused = !RawClient(port_).connected();
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(refused);
}

TEST_F(ProxyTest, DropInvalidHeaderFieldsHonoured) {
  publish({backend_.port()});
  // Off (the default): a header whose name has an underscore reaches the target.
  EXPECT_NE(get("/", "X_Bad: yes\r\n").find(" bad=yes"), std::string::npos);
  drop_invalid_ = true;
  publish({backend_.port()});
  std::string r = get("/", "X_Bad: yes\r\nX-Good: 1\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find(" bad="), std::string::npos) << r;
  EXPECT_EQ(r.find("bad=yes"), std::string::npos) << r;  // dropped, the request still served
}

TEST_F(ProxyTest, StreamsLargeBodiesBothWays) {
  publish({backend_.port()});
  // A 5 MB request body with a length, then a chunked one, on one connection.
  RawClient c(port_);
  std::string big(5 << 20, 'b');
  c.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n");
  c.send(big);
  std::string r = c.read_until("body-bytes=5242880", 1, 10000);
  EXPECT_NE(r.find("body-bytes=5242880"), std::string::npos) << r.substr(0, 300);
  c.send("POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  r = c.read_until("body=hello world", 1, 5000);
  EXPECT_NE(r.find("body=hello world"), std::string::npos) << r;
  // A 3 MB response streams back whole.
  c.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
  r = c.read_until("\x01", 1, 3000);
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  auto body = r.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  auto length = r.find("Content-Length: ");
  ASSERT_NE(length, std::string::npos) << r.substr(0, body);
  EXPECT_EQ(r.size() - body - 4, std::stoul(r.substr(length + 16)));
  EXPECT_GT(r.size(), size_t{3} << 20);
}

TEST_F(ProxyTest, ExpectContinueIsAnsweredByTheLoadBalancer) {
  publish({backend_.port()});
  RawClient c(port_);
  c.send("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  std::string interim = c.read_until("\r\n\r\n", 1, 2000);
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  c.send("hello");
  std::string r = c.read_until("body=hello", 1, 5000);
  EXPECT_NE(r.find("HTTP/1.1 200 OK"), std::string::npos) << r;
}

TEST_F(ProxyTest, StickinessPinsTheClientToItsTarget) {
  std::atomic<int> second_hits{0};
  TestServer second([&](net::Request&) -> net::Task<net::Response> {
    second_hits.fetch_add(1);
    co_return net::Response(net::http::status::ok, "second");
  });
  sticky_ = true;
  publish({backend_.port(), second.port()});
  std::string first = get("/");
  auto at = first.find("Set-Cookie: AWSALB=");
  ASSERT_NE(at, std::string::npos) << first;
  std::string value = first.substr(at + 19, 16);
  EXPECT_NE(first.find("Set-Cookie: AWSALBCORS=" + value + "; Expires="), std::string::npos) << first;
  EXPECT_NE(first.find("; Path=/; SameSite=None"), std::string::npos) << first;
  bool on_second = first.find("second") != std::string::npos;
  int before_first = hits_.load(), before_second = second_hits.load();
  for (int i = 0; i < 6; ++i) EXPECT_NE(get("/", "Cookie: theme=dark; AWSALB=" + value + "\r\n").find("AWSALB=" + value), std::string::npos);
  EXPECT_EQ(on_second ? second_hits.load() - before_second : hits_.load() - before_first, 6);
  EXPECT_EQ(on_second ? hits_.load() - before_first : second_hits.load() - before_second, 0);
  // Without the cookie, round robin again.
  before_first = hits_.load();
  before_second = second_hits.load();
  for (int i = 0; i < 4; ++i) get("/");
  EXPECT_EQ(hits_.load() - before_first, 2);
  EXPECT_EQ(second_hits.load() - before_second, 2);
}

TEST_F(ProxyTest, PrivateTargetsGoThroughTheConnector) {
  private_address_ = "10.0.1.7";
  uint16_t dead = free_port();  // the target's public address refuses
  {
    std::lock_guard lock(route_mutex_);
    route_ = [this](const std::string& ip, uint16_t) {
      if (ip != "10.0.1.7") return PrivateRoute{};
      if (!admit_route_) return PrivateRoute{PrivateRoute::Status::kDenied};
      // A plain socket here; the runtime gives one inside the task's namespace.
      return PrivateRoute{PrivateRoute::Status::kOpened, ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0),
                          backend_.port()};
    };
  }
  publish({dead});
  // Dropped by the task's groups: a connect timeout on AWS, so 504.
  std::string r = get("/");
  EXPECT_EQ(r.rfind("HTTP/1.1 504", 0), 0u) << r;
  EXPECT_EQ(hits_.load(), 0);
  admit_route_ = true;
  r = get("/p");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("backend saw /p"), std::string::npos);
  {
    std::lock_guard lock(route_mutex_);
    EXPECT_EQ(route_source_, "10.0.1.254");  // the load balancer's own address and groups
    EXPECT_EQ(route_groups_, kGroup);
    // Nothing published at the private address: the public address is used.
    route_ = [](const std::string&, uint16_t) { return PrivateRoute{}; };
  }
  private_address_ = "10.0.1.8";
  publish({backend_.port()});
  EXPECT_EQ(get("/").rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

}  // namespace
}  // namespace berth::elb::dp
