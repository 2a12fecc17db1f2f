// The proxy over loopback: a real listener, a net::TestServer as target,
// raw clients. Runs in the sanitizer build too.
#include "elb/dataplane/proxy.h"

#include <gtest/gtest.h>

#include <atomic>
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
                             " port=" + std::string(r.header("X-Forwarded-Port"));
          if (r.has_body()) {
            auto b = co_await r.read_body();
            if (b) body += " body=" + *b;
          }
          co_return net::Response(net::http::status::ok, body);
        }),
        loops_(2),
        proxy_(loops_, ProxyOptions{}, [this] { return admit_.load() ? table(true) : table(false); }) {
    port_ = free_port();
    loops_.start();
  }
  ~ProxyTest() override {
    loops_.stop();
    loops_.join();
    proxy_.stop();
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
      g.targets.push_back(t);
    }
    snap->groups.push_back(g);
    LbRoute lb;
    lb.dns_name = "lb-1.us-east-1.elb.localhost";
    lb.security_groups = {*ec2::GroupId::parse(kGroup)};
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
  std::atomic<int> hits_{0};
  std::atomic<bool> admit_{true};
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

}  // namespace
}  // namespace berth::elb::dp
