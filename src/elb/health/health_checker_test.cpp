// The health checker against a real server on loopback, with short
// intervals (the API's 5 s minimum does not apply below the API).
#include "elb/health/health_checker.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <sys/socket.h>

#include <atomic>
#include <thread>

#include "ec2/connection_policy.h"
#include "net/test_support.h"

namespace berth::elb {
namespace {

using net::testing::TestServer;

class CheckerTest : public ::testing::Test {
 protected:
  CheckerTest()
      : server_([this](net::Request& r) -> net::Task<net::Response> {
          seen_agent_ = std::string(r.header("User-Agent"));
          seen_path_ = std::string(r.path());
          if (hang_) {  // answers long after the probe's timeout (a hanging target)
            boost::asio::steady_timer wait(co_await boost::asio::this_coro::executor, std::chrono::milliseconds(600));
            co_await wait.async_wait(boost::asio::use_awaitable);
          }
          co_return net::Response(static_cast<net::http::status>(status_.load()), "ok");
        }),
        loops_(1),
        checker_(
            loops_.at(0), [this] { changes_.fetch_add(1); }, {},
            [this](const std::string& ip, uint16_t port, const ec2::IpAddress& source,
                   std::span<const ec2::GroupId> groups) { return route(ip, port, source, groups); }) {
    loops_.start();
  }
  ~CheckerTest() override {
    checker_.stop();
    loops_.stop();
    loops_.join();
  }

  ProbeSpec spec(uint16_t port) {
    ProbeSpec s;
    s.key = "tg|127.0.0.1|" + std::to_string(port);
    s.address = "127.0.0.1";
    s.port = port;
    s.path = "/health";
    s.interval = std::chrono::milliseconds(50);
    s.timeout = std::chrono::milliseconds(200);
    s.healthy_threshold = 2;
    s.unhealthy_threshold = 2;
    return s;
  }

  TargetHealthView wait_for(const std::string& key, std::string_view state) {
    for (int i = 0; i < 300; ++i) {
      auto h = checker_.health(key);
      if (h && h->state == state) return *h;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto h = checker_.health(key);
    ADD_FAILURE() << "never " << state << ", last " << (h ? h->state + " " + h->reason : "none");
    return h.value_or(TargetHealthView{});
  }

  // The private connector under test: the task's groups admit only
  // `admitted_group_`, and "10.0.1.7" is where server_'s port is published.
  dp::PrivateRoute route(const std::string& ip, uint16_t port, const ec2::IpAddress& source,
                         std::span<const ec2::GroupId> groups) {
    routes_asked_.fetch_add(1);
    seen_source_ = source.to_string();
    if (ip != "10.0.1.7") return {};
    bool admitted = false;
    for (const auto& g : groups) admitted = admitted || g.to_string() == admitted_group_.load();
    if (!admitted) return {dp::PrivateRoute::Status::kDenied};
    return {dp::PrivateRoute::Status::kOpened, ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), port == 9999 ? server_.port() : port};
  }

  TestServer server_;
  std::atomic<int> routes_asked_{0};
  std::atomic<const char*> admitted_group_{""};
  std::string seen_source_;
  std::atomic<int> status_{200};
  std::atomic<bool> hang_{false};
  std::string seen_agent_;
  std::string seen_path_;
  std::atomic<int> changes_{0};
  net::EventLoops loops_;
  HealthChecker checker_;
};

TEST_F(CheckerTest, HealthyThenCodeMismatchThenTimeoutThenFailed) {
  auto s = spec(server_.port());
  checker_.update({s});
  wait_for(s.key, "healthy");
  EXPECT_EQ(seen_agent_, "ELB-HealthChecker/2.0");
  EXPECT_EQ(seen_path_, "/health");
  EXPECT_EQ(checker_.healths().at(s.key), dp::Health::kHealthy);
  // The move to healthy is published (on_change runs just after the state is set).
  for (int i = 0; i < 100 && changes_.load() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE(changes_.load(), 1);
  status_ = 503;
  auto h = wait_for(s.key, "unhealthy");
  EXPECT_EQ(h.reason, "Target.ResponseCodeMismatch");
  EXPECT_EQ(h.description, "Health checks failed with these codes: [503]");
  status_ = 200;
  wait_for(s.key, "healthy");
  hang_ = true;
  h = wait_for(s.key, "unhealthy");
  EXPECT_EQ(h.reason, "Target.Timeout");
}

TEST_F(CheckerTest, RefusedConnectionsFailAndRemovedTargetsAreForgotten) {
  uint16_t dead = 0;
  {
    TestServer gone([](net::Request&) -> net::Task<net::Response> { co_return net::Response(net::http::status::ok, ""); });
    dead = gone.port();
  }
  auto s = spec(dead);
  checker_.update({s});
  auto h = wait_for(s.key, "unhealthy");
  EXPECT_EQ(h.reason, "Target.FailedHealthChecks");
  EXPECT_EQ(h.description, "Health checks failed");
  checker_.update({});
  EXPECT_FALSE(checker_.health(s.key));
}

TEST_F(CheckerTest, PrivateTargetsThroughTheConnectorTimeOutUntilTheirGroupsAdmitTheLoadBalancer) {
  auto s = spec(9999);  // only the private route leads to server_
  s.key = "tg|i-1|9999";
  s.address = "127.0.0.1";
  s.private_address = "10.0.1.7";
  s.source_address = "10.0.1.254";
  s.source_groups = {"sg-0aaaaaaaaaaaaaaa1"};
  s.target_groups = {"sg-0bbbbbbbbbbbbbbb2"};
  checker_.update({s});
  // Dropped by the target's groups: the checks time out.
  auto h = wait_for(s.key, "unhealthy");
  EXPECT_EQ(h.reason, "Target.Timeout");
  EXPECT_EQ(seen_source_, "10.0.1.254");
  // The task's group admits the load balancer's: healthy, through the route.
  admitted_group_ = "sg-0aaaaaaaaaaaaaaa1";
  wait_for(s.key, "healthy");
  EXPECT_EQ(seen_agent_, "ELB-HealthChecker/2.0");
  EXPECT_GT(checker_.healthy_since().count(s.key), 0u);
}

TEST_F(CheckerTest, APublicInstanceTargetWhoseGroupsDropTheCheckTimesOutAfterTheTimeout) {
  auto s = spec(server_.port());
  s.key = "tg|i-1|" + std::to_string(server_.port());
  s.source_groups = {"sg-0aaaaaaaaaaaaaaa1"};
  s.target_groups = {"sg-0bbbbbbbbbbbbbbb2"};  // in no table: nothing admits the load balancer
  auto started = std::chrono::steady_clock::now();
  auto result = boost::asio::co_spawn(loops_.at(0), probe_once(loops_.at(0), s, {}, ec2::SecurityGroupTable::empty()),
                                      boost::asio::use_future)
                    .get();
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(result.outcome, ProbeOutcome::kTimeout);
  // A dropped check is not answered: it ends when its timeout does, as on AWS.
  EXPECT_GE(waited, s.timeout);
  EXPECT_EQ(seen_path_, "") << "the dropped check reached the target";
}

}  // namespace
}  // namespace berth::elb
