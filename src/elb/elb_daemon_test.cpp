// The load balancer inside a daemon, as ECS sees it: targets written through
// targets.h in store transactions (real SQLite), a listener on loopback, and
// what ElbDaemon tells about each target (health, requests in flight).
#include "elb/elb_daemon.h"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <thread>

#include "ec2/schema.h"
#include "ec2/security_group_rules.h"
#include "ec2/sg_store.h"
#include "elb/elb_store.h"
#include "elb/targets.h"
#include "api/query_codec.h"
#include "net/test_support.h"
#include "core/testing/expect_ok.h"

namespace berth::elb {
namespace {

using net::testing::RawClient;
using net::testing::TestServer;

constexpr const char* kLbGroup = "sg-0123456789abcdef0";
constexpr const char* kTg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef";
constexpr const char* kLb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef";
constexpr const char* kDns = "web-1.us-east-1.elb.localhost";

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

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds within = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class ElbDaemonTest : public ::testing::Test {
 protected:
  ElbDaemonTest()
      : backend_([this](net::Request& r) -> net::Task<net::Response> {
          if (r.path() == "/slow") {
            slow_arrived_ = true;
            // Held until the test lets it answer.
            boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
            while (!release_.load()) {
              timer.expires_after(std::chrono::milliseconds(5));
              co_await timer.async_wait(boost::asio::use_awaitable);
            }
            co_return net::Response(net::http::status::ok, "slow answer");
          }
          co_return net::Response(net::http::status::ok, "ok");
        }),
        loops_(2) {}

  void SetUp() override {
    auto d = store::Database::open(":memory:");
    ASSERT_OK(d);
    db_ = std::make_unique<store::Database>(std::move(*d));
    ASSERT_OK(ec2::apply_ec2_migrations(*db_));
    ASSERT_OK(prepare_elb_store(*db_));
    // The load balancer's group admits this machine.
    auto rule = ec2::make_rule(ec2::RuleDirection::kIngress, "tcp", 1, 65535, *ec2::Cidr::parse_v4("127.0.0.0/8"));
    ASSERT_OK(rule);
    auto st = db_->transaction([&](store::Tx& tx) -> Status {
      if (auto s = ec2::insert_group(tx, {kLbGroup, "alb", "alb", "vpc-0123456789abcdef0", "123456789012"}); !s)
        return s;
      return ec2::insert_rule(tx, kLbGroup, *rule);
    });
    ASSERT_TRUE(st.ok()) << st.error().message;
    loops_.start();
    auto elb = start_elb(*db_, clock_, loops_, "127.0.0.1", "us-east-1", "123456789012");
    ASSERT_TRUE(elb.ok()) << elb.error().message;
    elb_ = std::move(*elb);
    elb_->set_health_listener([this] { health_calls_.fetch_add(1); });
    configure();
  }

  void TearDown() override {
    release_ = true;
    if (elb_) elb_->stop();
    loops_.stop();
    loops_.join();
    elb_.reset();
  }

  // One load balancer on port_ forwarding to kTg (ip targets, checks every second, 2 to turn healthy).
  void configure() {
    port_ = free_port();
    LoadBalancer lb;
    lb.arn = kLb;
    lb.name = "web";
    lb.dns_name = kDns;
    lb.security_groups = {kLbGroup};
    lb.attributes = default_load_balancer_attributes();
    TargetGroup tg;
    tg.arn = kTg;
    tg.name = "web";
    tg.port = backend_.port();
    tg.target_type = "ip";
    tg.health_check_interval = 1;
    tg.health_check_timeout = 1;
    tg.healthy_threshold = 2;
    tg.attributes = default_target_group_attributes();
    Listener l;
    l.arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/1";
    l.load_balancer_arn = kLb;
    l.port = port_;
    Action fwd;
    fwd.type = "forward";
    fwd.target_group_arn = kTg;
    l.default_actions = {fwd};
    auto st = db_->transaction([&](store::Tx& tx) -> Status {
      if (auto s = put_object(tx, Kind::kLoadBalancer, lb.arn, lb); !s) return s;
      if (auto s = put_object(tx, Kind::kTargetGroup, tg.arn, tg); !s) return s;
      return put_object(tx, Kind::kListener, l.arn, l);
    });
    ASSERT_TRUE(st.ok()) << st.error().message;
    ASSERT_TRUE(eventually([&] { return RawClient(port_).connected(); }));
  }

  Status reg(int64_t now_ms) {
    return db_->transaction(
        [&](store::Tx& tx) { return register_target(tx, kTg, "127.0.0.1", backend_.port(), "", now_ms); });
  }
  Status dereg(int64_t now_ms) {
    return db_->transaction([&](store::Tx& tx) { return deregister_target(tx, kTg, "127.0.0.1", backend_.port(), now_ms); });
  }
  std::string key() const { return registration_key(kTg, "127.0.0.1", backend_.port()); }

  static std::string request(std::string_view path) {
    return "GET " + std::string(path) + " HTTP/1.1\r\nHost: " + kDns + "\r\nConnection: close\r\n\r\n";
  }

  TestServer backend_;
  std::atomic<bool> release_{false};
  std::atomic<bool> slow_arrived_{false};  // a /slow request reached the backend
  ManualClock clock_{WallTime(std::chrono::seconds(1'800'000'000))};
  net::EventLoops loops_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<ElbDaemon> elb_;
  std::atomic<int> health_calls_{0};
  uint16_t port_ = 0;
};

// RegisterTargets of one IP target through a daemon bound on `bind` (no
// listener is made, so nothing listens on it).
Result<std::string> register_ip_target(const std::string& bind, bool allow_loopback, const std::string& ip) {
  auto d = store::Database::open(":memory:");
  if (!d) return std::move(d).error();
  store::Database db = std::move(*d);
  if (auto s = ec2::apply_ec2_migrations(db); !s) return std::move(s).error();
  if (auto s = prepare_elb_store(db); !s) return std::move(s).error();
  TargetGroup tg;
  tg.arn = kTg;
  tg.name = "web";
  tg.port = 80;
  tg.target_type = "ip";
  tg.vpc_id = "vpc-0123456789abcdef0";
  tg.attributes = default_target_group_attributes();
  if (auto s = db.transaction([&](store::Tx& tx) { return put_object(tx, Kind::kTargetGroup, tg.arn, tg); }); !s)
    return std::move(s).error();
  ManualClock clock{WallTime(std::chrono::seconds(1'800'000'000))};
  net::EventLoops loops(1);
  loops.start();
  auto elb = start_elb(db, clock, loops, bind, "us-east-1", "123456789012", {}, allow_loopback);
  if (!elb) return std::move(elb).error();
  api::Service service = (*elb)->take_service();
  auto params = api::QueryParams::parse("Action=RegisterTargets&Version=2015-12-01&TargetGroupArn=" +
                                        std::string(kTg) + "&Targets.member.1.Id=" + ip);
  if (!params) return std::move(params).error();
  api::QueryView query = params->root();
  api::Caller caller{"123456789012", "administrator", "AIDA", "arn:aws:iam::123456789012:user/administrator", "AKIA"};
  api::CallContext ctx{"req", "RegisterTargets", "us-east-1", "localhost", caller, clock.now(), api::Protocol::kQuery};
  auto out = service.operations.at("RegisterTargets").run(ctx, api::OperationInput{nullptr, &query});
  (*elb)->stop();
  loops.stop();
  loops.join();
  return out;
}

TEST(LoopbackIpTargets, RefusedWhenTheLoadBalancersListenBeyondThisMachine) {
  // 192.0.2.1 (TEST-NET-1) stands for a non-loopback --bind: a target on
  // 127.0.0.0/8 would let anyone who reaches the listener reach services that
  // listen on loopback only. AWS never takes 127/8 either.
  auto refused = register_ip_target("192.0.2.1", false, "127.0.0.1");
  ASSERT_FALSE(refused.ok()) << "a loopback IP target was registered behind a non-loopback bind";
  EXPECT_EQ(refused.error().code, "InvalidTarget");
  EXPECT_NE(refused.error().message.find("127.0.0.1"), std::string::npos) << refused.error().message;
  auto vpc = register_ip_target("192.0.2.1", false, "10.0.1.7");
  EXPECT_TRUE(vpc.ok()) << vpc.error().message;
  // On a loopback bind, or by the operator's choice, they are taken.
  auto on_loopback = register_ip_target("127.0.0.1", false, "127.0.0.1");
  EXPECT_TRUE(on_loopback.ok()) << on_loopback.error().message;
  auto opted_in = register_ip_target("192.0.2.1", true, "127.0.0.1");
  EXPECT_TRUE(opted_in.ok()) << opted_in.error().message;
}

TEST_F(ElbDaemonTest, InFlightCountSurvivesTheTargetLeavingTheSnapshot) {
  ASSERT_OK(reg(1000));
  EXPECT_EQ(elb_->requests_in_flight(key()), 0);
  // Served while the target is still initial (fail open: no target is healthy).
  {
    RawClient c(port_);
    c.send(request("/"));
    EXPECT_EQ(c.read_until("\r\n\r\n", 1, 5000).rfind("HTTP/1.1 200 OK", 0), 0u);
  }
  RawClient slow(port_);
  ASSERT_TRUE(slow.send(request("/slow")));
  ASSERT_TRUE(eventually([&] { return elb_->requests_in_flight(key()) == 1; }));
  // In the target's hands (not only picked, still connecting) before it leaves the snapshot.
  ASSERT_TRUE(eventually([&] { return slow_arrived_.load(); }));

  // Deregistered: draining, out of the routing snapshot, so new requests find no target...
  ASSERT_OK(dereg(2000));
  ASSERT_TRUE(eventually([&] {
    RawClient c(port_);
    c.send(request("/"));
    return c.read_until("\r\n\r\n", 1, 5000).rfind("HTTP/1.1 503", 0) == 0;
  }));
  // ...but the request it has in hand is still counted.
  EXPECT_EQ(elb_->requests_in_flight(key()), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(elb_->requests_in_flight(key()), 1);

  release_ = true;
  std::string answer = slow.read_until("slow answer", 1, 5000);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK", 0), 0u) << answer;
  EXPECT_TRUE(eventually([&] { return elb_->requests_in_flight(key()) == 0; }));
  EXPECT_EQ(elb_->requests_in_flight("arn:no-such-group|10.0.0.1|80"), 0);
}

TEST_F(ElbDaemonTest, ReRegisteredTargetKeepsCountingItsOldRequests) {
  ASSERT_OK(reg(1000));
  RawClient slow(port_);
  ASSERT_TRUE(slow.send(request("/slow")));
  ASSERT_TRUE(eventually([&] { return elb_->requests_in_flight(key()) == 1; }));
  ASSERT_TRUE(eventually([&] { return slow_arrived_.load(); }));
  // Out of the snapshot and back in: the new snapshot shares the old request's count.
  ASSERT_OK(dereg(2000));
  ASSERT_OK(reg(3000));
  EXPECT_EQ(elb_->requests_in_flight(key()), 1);
  RawClient second(port_);
  ASSERT_TRUE(second.send(request("/slow")));
  EXPECT_TRUE(eventually([&] { return elb_->requests_in_flight(key()) == 2; }));
  release_ = true;
  EXPECT_NE(slow.read_until("slow answer", 1, 5000).find("slow answer"), std::string::npos);
  EXPECT_NE(second.read_until("slow answer", 1, 5000).find("slow answer"), std::string::npos);
  EXPECT_TRUE(eventually([&] { return elb_->requests_in_flight(key()) == 0; }));
}

TEST_F(ElbDaemonTest, HealthReachesTheListenerAndTheView) {
  EXPECT_FALSE(elb_->target_health(key()).has_value());  // no session before it is registered
  ASSERT_OK(reg(1000));
  ASSERT_TRUE(eventually([&] {
    auto h = elb_->target_health(key());
    return h && h->state == "healthy";
  }, std::chrono::seconds(10)));
  // The listener is called after the routing rebuild that follows the change, a moment after the view has it.
  EXPECT_TRUE(eventually([&] { return health_calls_.load() >= 1; })) << health_calls_.load();
  auto h = elb_->target_health(key());
  EXPECT_EQ(h->reason, "");
  // Draining: the checker drops its session.
  ASSERT_OK(dereg(2000));
  EXPECT_TRUE(eventually([&] { return !elb_->target_health(key()).has_value(); }));
}

}  // namespace
}  // namespace berth::elb
