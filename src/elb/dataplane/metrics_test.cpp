// Metrics: per-loop cells summed at scrape time, the exposition text, and
// the proxy's hooks over loopback (a real listener and target).
#include "elb/dataplane/metrics.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <thread>

#include "elb/dataplane/proxy.h"
#include "net/test_support.h"

namespace berth::elb::dp {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kLb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef";
constexpr std::string_view kLb2 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/api/fedcba9876543210";
constexpr std::string_view kTg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1111111111111111";
constexpr std::string_view kTg2 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2222222222222222";
const std::string kLbLabels = "load_balancer=\"app/web/0123456789abcdef\"";
const std::string kTgLabels = kLbLabels + ",target_group=\"targetgroup/blue/1111111111111111\"";
const std::string kTg2Labels = kLbLabels + ",target_group=\"targetgroup/green/2222222222222222\"";

// The value of one series (name{labels}), or -1 when it is absent.
double value(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

std::string s(std::string_view name, const std::string& labels) { return std::string(name) + "{" + labels + "}"; }

// A snapshot with load balancer kLb on port 80: default rule -> kTg, a
// path rule -> kTg2, and kLb2 on port 81 without forward actions.
Snapshot snapshot(std::vector<Health> blue, std::vector<Health> green) {
  Snapshot snap;
  GroupRoute b, g;
  b.arn = std::string(kTg);
  g.arn = std::string(kTg2);
  auto target = [](uint16_t port, Health h) {
    TargetRoute t;
    t.key = "t" + std::to_string(port);
    t.address = "127.0.0.1";
    t.port = port;
    t.health = h;
    return t;
  };
  for (auto h : blue) b.targets.push_back(target(1, h));
  for (auto h : green) g.targets.push_back(target(2, h));
  snap.groups = {b, g};
  LbRoute lb;
  lb.arn = std::string(kLb);
  RouteRule path;
  path.priority = 1;
  path.action.groups = {{1, 1}};
  RouteRule def;
  def.action.groups = {{0, 1}};
  lb.rules = {path, def};
  snap.ports[80].load_balancers.push_back(lb);
  snap.ports[8080].load_balancers.push_back(lb);  // a second listener: one set of series
  LbRoute other;
  other.arn = std::string(kLb2);
  RouteRule fixed;
  fixed.action.type = RouteAction::Type::kFixedResponse;
  other.rules = {fixed};
  snap.ports[81].load_balancers.push_back(other);
  return snap;
}

TEST(MetricsTest, DimensionsAreCloudWatchs) {
  EXPECT_EQ(load_balancer_dimension(kLb), "app/web/0123456789abcdef");
  EXPECT_EQ(target_group_dimension(kTg), "targetgroup/blue/1111111111111111");
  EXPECT_EQ(load_balancer_dimension("not-an-arn"), "not-an-arn");
}

TEST(MetricsTest, CountsFromEveryLoopAreSummed) {
  Metrics m(3);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < 3; ++i) {
    threads.emplace_back([&m, i] {
      LoopMetrics& loop = m.loop(i);
      for (int n = 0; n < 1000; ++n) loop.forwarded(kLb, n % 2 ? kTg : kTg2, 0, 200, 2ms);
    });
  }
  // Scrapes while the loops count: every scrape sees a value between 0 and the total.
  for (int i = 0; i < 20; ++i) {
    double v = value(m.render(snapshot({}, {})), s("berth_alb_request_count_total", kLbLabels));
    EXPECT_GE(v, 0);
    EXPECT_LE(v, 3000);
  }
  for (auto& t : threads) t.join();
  std::string text = m.render(snapshot({}, {}));
  EXPECT_EQ(value(text, s("berth_alb_request_count_total", kLbLabels)), 3000);
  EXPECT_EQ(value(text, s("berth_alb_request_count_total", kTgLabels)), 1500);
  EXPECT_EQ(value(text, s("berth_alb_request_count_total", kTg2Labels)), 1500);
  EXPECT_EQ(value(text, s("berth_alb_httpcode_target_2xx_count_total", kLbLabels)), 3000);
  EXPECT_EQ(value(text, s("berth_alb_target_response_time_seconds_count", kTgLabels)), 1500);
}

TEST(MetricsTest, ResponseClassesAndWhatIsARequest) {
  Metrics m(2);
  LoopMetrics& a = m.loop(0);
  LoopMetrics& b = m.loop(1);
  a.forwarded(kLb, kTg, 0, 200, 1ms);
  a.forwarded(kLb, kTg, 0, 301, 1ms);
  b.forwarded(kLb, kTg, 0, 404, 1ms);
  b.forwarded(kLb, kTg, 0, 500, 1ms);
  b.forwarded(kLb, kTg, 0, 503, 1ms);  // a target's 503 is the target's
  a.forwarded(kLb, kTg2, 503, 0, 0ns);  // no target: the load balancer's 503, not a request to a target
  a.forwarded(kLb, kTg2, 502, 0, 0ns);  // a target was chosen and refused: counted, 5XX of the load balancer
  b.forwarded(kLb, kTg2, 504, 0, 0ns);
  a.elb_response(kLb, 400);
  a.elb_response(kLb, 463);
  b.fixed_response(kLb, 404);
  b.fixed_response(kLb, 200);
  a.redirect(kLb, 301);
  std::string text = m.render(snapshot({}, {}));
  EXPECT_EQ(value(text, s("berth_alb_request_count_total", kLbLabels)), 7);
  EXPECT_EQ(value(text, s("berth_alb_request_count_total", kTgLabels)), 5);
  EXPECT_EQ(value(text, s("berth_alb_request_count_total", kTg2Labels)), 2);
  EXPECT_EQ(value(text, s("berth_alb_httpcode_target_2xx_count_total", kTgLabels)), 1);
  EXPECT_EQ(value(text, s("berth_alb_httpcode_target_3xx_count_total", kTgLabels)), 1);
  EXPECT_EQ(value(text, s("berth_alb_httpcode_target_4xx_count_total", kTgLabels)), 1);
  EXPECT_EQ(value(text, s("berth_alb_httpcode_target_5xx_count_total", kTgLabels)), 2);
  EXPECT_EQ(value(text, s("berth_alb_httpcode_target_5xx_count_total", kTg2Labels)), 0);
  EXPECT_EQ(value(text, s("berth_alb_httpcode_elb_5xx_count_total", kLbLabels)), 3);
  EXPECT_EQ(value(text, s("berth_alb_httpcode_elb_4xx_count_total", kLbLabels)), 3);  // 400, 463, fixed 404
  EXPECT_EQ(value(text, s("berth_alb_httpcode_elb_3xx_count_total", kLbLabels)), 1);
  EXPECT_EQ(value(text, s("berth_alb_http_fixed_response_count_total", kLbLabels)), 2);
  EXPECT_EQ(value(text, s("berth_alb_http_redirect_count_total", kLbLabels)), 1);
  // Only target answers have a response time.
  EXPECT_EQ(value(text, s("berth_alb_target_response_time_seconds_count", kLbLabels)), 5);
  EXPECT_EQ(value(text, s("berth_alb_target_response_time_seconds_count", kTg2Labels)), 0);
}

TEST(MetricsTest, ResponseTimeHistogramIsCumulative) {
  Metrics m(1);
  for (std::chrono::nanoseconds d : {std::chrono::nanoseconds(500us), std::chrono::nanoseconds(3ms),
                                     std::chrono::nanoseconds(3ms), std::chrono::nanoseconds(200ms),
                                     std::chrono::nanoseconds(70s)})
    m.loop(0).forwarded(kLb, kTg, 0, 200, d);
  std::string text = m.render(snapshot({}, {}));
  auto bucket = [&](std::string le) {
    return value(text, s("berth_alb_target_response_time_seconds_bucket", kTgLabels + ",le=\"" + le + "\""));
  };
  EXPECT_EQ(bucket("0.001"), 1);
  EXPECT_EQ(bucket("0.0025"), 1);
  EXPECT_EQ(bucket("0.005"), 3);
  EXPECT_EQ(bucket("0.1"), 3);
  EXPECT_EQ(bucket("0.25"), 4);
  EXPECT_EQ(bucket("60"), 4);
  EXPECT_EQ(bucket("+Inf"), 5);
  EXPECT_NEAR(value(text, s("berth_alb_target_response_time_seconds_sum", kTgLabels)), 70.2065, 1e-9);
  EXPECT_EQ(value(text, s("berth_alb_target_response_time_seconds_count", kTgLabels)), 5);
}

TEST(MetricsTest, ConnectionsOpenAndClose) {
  Metrics m(2);
  {
    auto c1 = m.loop(0).connection_opened(kLb);
    auto c2 = m.loop(1).connection_opened(kLb);
    CountedConnection c3;
    c3 = m.loop(1).connection_opened(kLb);
    CountedConnection moved(std::move(c1));
    c2.elb_response(400);
    std::string text = m.render(snapshot({}, {}));
    EXPECT_EQ(value(text, s("berth_alb_active_connection_count", kLbLabels)), 3);
    EXPECT_EQ(value(text, s("berth_alb_new_connection_count_total", kLbLabels)), 3);
    EXPECT_EQ(value(text, s("berth_alb_httpcode_elb_4xx_count_total", kLbLabels)), 1);
    c3 = CountedConnection();  // closing by assignment
    EXPECT_EQ(value(m.render(snapshot({}, {})), s("berth_alb_active_connection_count", kLbLabels)), 2);
  }
  std::string text = m.render(snapshot({}, {}));
  EXPECT_EQ(value(text, s("berth_alb_active_connection_count", kLbLabels)), 0);
  EXPECT_EQ(value(text, s("berth_alb_new_connection_count_total", kLbLabels)), 3);
}

TEST(MetricsTest, HealthGaugesFollowTheSnapshot) {
  Metrics m(1);
  using H = Health;
  std::string text = m.render(snapshot({H::kHealthy, H::kHealthy, H::kUnhealthy, H::kInitial}, {H::kUnhealthy}));
  EXPECT_EQ(value(text, s("berth_alb_healthy_host_count", kTgLabels)), 2);
  EXPECT_EQ(value(text, s("berth_alb_unhealthy_host_count", kTgLabels)), 1);
  EXPECT_EQ(value(text, s("berth_alb_healthy_host_count", kTg2Labels)), 0);
  EXPECT_EQ(value(text, s("berth_alb_unhealthy_host_count", kTg2Labels)), 1);
  text = m.render(snapshot({H::kUnhealthy}, {H::kHealthy, H::kHealthy}));
  EXPECT_EQ(value(text, s("berth_alb_healthy_host_count", kTgLabels)), 0);
  EXPECT_EQ(value(text, s("berth_alb_healthy_host_count", kTg2Labels)), 2);
}

TEST(MetricsTest, LoadBalancersOfTheSnapshotOnly) {
  Metrics m(1);
  std::string text = m.render(snapshot({}, {}));
  // Known but quiet: zeros, so a counter exists before its first event.
  const std::string other = "load_balancer=\"app/api/fedcba9876543210\"";
  EXPECT_EQ(value(text, s("berth_alb_request_count_total", other)), 0);
  EXPECT_EQ(value(text, s("berth_alb_request_count_total", kTgLabels)), 0);
  // A load balancer that left the snapshot (deleted) is no longer shown.
  m.loop(0).forwarded(kLb, kTg, 0, 200, 1ms);
  Snapshot without = snapshot({}, {});
  without.ports.erase(80);
  without.ports.erase(8080);
  text = m.render(without);
  EXPECT_EQ(value(text, s("berth_alb_request_count_total", kLbLabels)), -1);
  EXPECT_EQ(value(text, s("berth_alb_request_count_total", other)), 0);
}

// The text exposition format: HELP and TYPE once per family before its
// samples, families contiguous, sample names of the family, numbers.
TEST(MetricsTest, ExpositionFormat) {
  Metrics m(2);
  m.loop(0).forwarded(kLb, kTg, 0, 200, 1ms);
  auto c = m.loop(1).connection_opened(kLb);
  std::string text = m.render(snapshot({Health::kHealthy}, {}));
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::istringstream in(text);
  std::string line, family, type;
  std::set<std::string> families;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(families.insert(family).second) << "family twice: " << family;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream t(line.substr(7));
      std::string name;
      t >> name >> type;
      EXPECT_EQ(name, family);
      EXPECT_TRUE(type == "counter" || type == "gauge" || type == "histogram") << line;
      if (type == "counter") {
        EXPECT_TRUE(name.ends_with("_total")) << name;
      }
      continue;
    }
    ++samples;
    std::string name = line.substr(0, line.find('{'));
    if (type == "histogram")
      EXPECT_TRUE(name == family + "_bucket" || name == family + "_sum" || name == family + "_count") << line;
    else
      EXPECT_EQ(name, family) << line;
    auto close = line.rfind("} ");
    ASSERT_NE(close, std::string::npos) << line;
    size_t used = 0;
    std::stod(line.substr(close + 2), &used);
    EXPECT_EQ(used, line.size() - close - 2) << line;
  }
  EXPECT_EQ(families.size(), 15u);
  EXPECT_GT(samples, 50);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Metrics m(1);
  Snapshot snap;
  LbRoute lb;
  lb.arn = "odd\"na\\me\nx";
  snap.ports[80].load_balancers.push_back(lb);
  m.loop(0).elb_response(lb.arn, 503);
  std::string text = m.render(snap);
  EXPECT_EQ(value(text, "berth_alb_httpcode_elb_5xx_count_total{load_balancer=\"odd\\\"na\\\\me\\nx\"}"), 1) << text;
}

// One group admitting 127.0.0.0/8 on every TCP port.
std::shared_ptr<const ec2::SecurityGroupTable> open_group(const ec2::GroupId& id) {
  ec2::SecurityGroup g;
  g.id = id;
  g.ingress.push_back(*ec2::make_rule(ec2::RuleDirection::kIngress, "tcp", 1, 65535, *ec2::Cidr::parse_v4("127.0.0.0/8")));
  g.egress.push_back(*ec2::make_rule(ec2::RuleDirection::kEgress, "-1", {}, {}, *ec2::Cidr::parse_v4("0.0.0.0/0")));
  std::vector<ec2::SecurityGroup> groups{g};
  return ec2::SecurityGroupTable::build(groups);
}

// The proxy's hooks: traffic through a real listener moves the numbers.
TEST(MetricsTest, ProxyCountsWhatItServes) {
  using net::testing::RawClient;
  net::testing::TestServer backend([](net::Request& r) -> net::Task<net::Response> {
    co_return net::Response(r.target() == "/fail" ? net::http::status::internal_server_error : net::http::status::ok,
                            "x");
  });
  net::EventLoops loops(2);
  auto group = *ec2::GroupId::parse("sg-0123456789abcdef0");
  auto table = open_group(group);
  Proxy proxy(loops, ProxyOptions{}, [table] { return table; });
  loops.start();
  uint16_t port = 0;
  {
    net::testing::TestServer probe([](net::Request&) -> net::Task<net::Response> { co_return net::Response(); });
    port = probe.port();  // a port free a moment ago
  }
  auto snap = std::make_shared<Snapshot>(snapshot({Health::kHealthy}, {}));
  snap->groups[0].targets[0].port = backend.port();
  snap->groups[1].targets.clear();
  snap->ports.clear();
  LbRoute lb;
  lb.arn = std::string(kLb);
  lb.security_groups = {group};
  RouteRule none;  // /none -> the group without targets
  none.priority = 1;
  MatchCondition c;
  c.values = {"/none"};
  none.conditions = {c};
  none.action.groups = {{1, 1}};
  RouteRule def;
  def.action.groups = {{0, 1}};
  lb.rules = {none, def};
  snap->ports[port].port = port;
  snap->ports[port].load_balancers.push_back(lb);
  proxy.publish(snap);
  for (int i = 0; i < 100 && !RawClient(port).connected(); ++i) std::this_thread::sleep_for(10ms);
  // The wait's connection counts too, once its loop has accepted it.
  double opened = 0;
  for (int i = 0; i < 200 && opened < 1; ++i) {
    std::this_thread::sleep_for(10ms);
    opened = value(proxy.metrics_text(), s("berth_alb_new_connection_count_total", kLbLabels));
  }
  ASSERT_EQ(opened, 1);

  auto get = [&](RawClient& client, std::string path) {
    client.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    return client.read_until("\r\n\r\n", 1, 5000);
  };
  {
    RawClient keep(port);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(get(keep, "/").rfind("HTTP/1.1 200", 0), 0u);
    EXPECT_EQ(get(keep, "/fail").rfind("HTTP/1.1 500", 0), 0u);
    EXPECT_EQ(get(keep, "/none").rfind("HTTP/1.1 503", 0), 0u);
    RawClient bad(port);
    bad.send("GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n");
    EXPECT_EQ(bad.read_until("\r\n\r\n", 1, 5000).rfind("HTTP/1.1 400", 0), 0u);
    // `keep` stays open; the others were closed by the proxy or the client.
    std::string text;
    for (int i = 0; i < 200; ++i) {
      text = proxy.metrics_text();
      if (value(text, s("berth_alb_active_connection_count", kLbLabels)) == 1) break;
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(value(text, s("berth_alb_active_connection_count", kLbLabels)), 1) << text;
  }
  std::string text;
  for (int i = 0; i < 100; ++i) {  // the closes reach the loops
    text = proxy.metrics_text();
    if (value(text, s("berth_alb_active_connection_count", kLbLabels)) == 0) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(value(text, s("berth_alb_active_connection_count", kLbLabels)), 0) << text;
  EXPECT_EQ(value(text, s("berth_alb_new_connection_count_total", kLbLabels)), opened + 2);
  EXPECT_EQ(value(text, s("berth_alb_request_count_total", kLbLabels)), 6);
  EXPECT_EQ(value(text, s("berth_alb_request_count_total", kTgLabels)), 6);
  EXPECT_EQ(value(text, s("berth_alb_httpcode_target_2xx_count_total", kTgLabels)), 5);
  EXPECT_EQ(value(text, s("berth_alb_httpcode_target_5xx_count_total", kTgLabels)), 1);
  EXPECT_EQ(value(text, s("berth_alb_httpcode_elb_5xx_count_total", kLbLabels)), 1);
  EXPECT_EQ(value(text, s("berth_alb_httpcode_elb_4xx_count_total", kLbLabels)), 1);
  EXPECT_EQ(value(text, s("berth_alb_target_response_time_seconds_count", kTgLabels)), 6);
  EXPECT_EQ(value(text, s("berth_alb_healthy_host_count", kTgLabels)), 1);
  loops.stop();
  loops.join();
  proxy.stop();
}

}  // namespace
}  // namespace berth::elb::dp
