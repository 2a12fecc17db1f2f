#include "elb/dataplane/routing.h"

#include <gtest/gtest.h>

namespace berth::elb::dp {
namespace {

MatchCondition cond(MatchCondition::Field f, std::vector<std::string> values) {
  MatchCondition c;
  c.field = f;
  c.values = std::move(values);
  return c;
}

RequestView request(std::string_view method, std::string_view path, std::string_view query = {},
                    std::string_view host = "web-1.us-east-1.elb.localhost") {
  RequestView r;
  r.method = method;
  r.path = path;
  r.query = query;
  r.host = host;
  r.source = *ec2::IpAddress::parse("127.0.0.1");
  return r;
}

TEST(GlobMatch, StarsAndQuestionMarks) {
  EXPECT_TRUE(glob_match("/api/*", "/api/users/1", false));
  EXPECT_TRUE(glob_match("/api/*", "/api/", false));
  EXPECT_FALSE(glob_match("/api/*", "/apx/", false));
  EXPECT_TRUE(glob_match("/img/?.png", "/img/a.png", false));
  EXPECT_FALSE(glob_match("/img/?.png", "/img/ab.png", false));
  EXPECT_TRUE(glob_match("*", "", false));
  EXPECT_FALSE(glob_match("/API/*", "/api/x", false));  // path-pattern is case-sensitive
  EXPECT_TRUE(glob_match("*.Example.com", "www.example.COM", true));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYbZc", false));
  EXPECT_FALSE(glob_match("a*b*c", "aXXbYYbZ", false));
}

TEST(Conditions, EachField) {
  using F = MatchCondition::Field;
  auto r = request("POST", "/api/v1", "version=2&debug=true", "API.example.com:8080");
  r.headers = {{"User-Agent", "curl/7.88.1"}, {"X-Env", "Staging"}};
  EXPECT_TRUE(condition_matches(cond(F::kPath, {"/web/*", "/api/*"}), r));
  EXPECT_FALSE(condition_matches(cond(F::kPath, {"/web/*"}), r));
  EXPECT_TRUE(condition_matches(cond(F::kHost, {"api.example.com"}), r));  // port stripped, case-insensitive
  EXPECT_FALSE(condition_matches(cond(F::kHost, {"www.example.com"}), r));
  EXPECT_TRUE(condition_matches(cond(F::kMethod, {"GET", "POST"}), r));
  EXPECT_FALSE(condition_matches(cond(F::kMethod, {"GET"}), r));
  auto header = cond(F::kHeader, {"stag*"});
  header.header_name = "x-env";
  EXPECT_TRUE(condition_matches(header, r));
  header.header_name = "x-other";
  EXPECT_FALSE(condition_matches(header, r));
  MatchCondition query;
  query.field = F::kQuery;
  query.pairs = {{"version", "2"}};
  EXPECT_TRUE(condition_matches(query, r));
  query.pairs = {{"", "true"}};
  EXPECT_TRUE(condition_matches(query, r));
  query.pairs = {{"version", "3"}};
  EXPECT_FALSE(condition_matches(query, r));
  MatchCondition source;
  source.field = F::kSourceIp;
  source.cidrs = {*ec2::Cidr::parse_v4("10.0.0.0/8")};
  EXPECT_FALSE(condition_matches(source, r));
  source.cidrs.push_back(*ec2::Cidr::parse_v4("127.0.0.0/8"));
  EXPECT_TRUE(condition_matches(source, r));
}

TEST(Rules, PriorityOrderThenDefault) {
  using F = MatchCondition::Field;
  LbRoute lb;
  RouteRule api;
  api.priority = 10;
  api.conditions = {cond(F::kPath, {"/api/*"})};
  api.action.fixed_status = 201;
  RouteRule api_post;
  api_post.priority = 5;
  api_post.conditions = {cond(F::kPath, {"/api/*"}), cond(F::kMethod, {"POST"})};
  api_post.action.fixed_status = 202;
  RouteRule def;
  def.action.fixed_status = 200;
  lb.rules = {api_post, api, def};
  EXPECT_EQ(match_rule(lb, request("POST", "/api/x"))->action.fixed_status, 202u);
  EXPECT_EQ(match_rule(lb, request("GET", "/api/x"))->action.fixed_status, 201u);
  EXPECT_EQ(match_rule(lb, request("GET", "/other"))->action.fixed_status, 200u);
}

TEST(LoadBalancers, ByHostOnASharedPort) {
  PortRoute port;
  LbRoute a, b;
  a.dns_name = "a-1.us-east-1.elb.localhost";
  b.dns_name = "b-2.us-east-1.elb.localhost";
  port.load_balancers = {a, b};
  EXPECT_EQ(pick_load_balancer(port, "B-2.us-east-1.elb.localhost:80")->dns_name, b.dns_name);
  EXPECT_EQ(pick_load_balancer(port, "a-1.us-east-1.elb.localhost")->dns_name, a.dns_name);
  EXPECT_EQ(pick_load_balancer(port, "127.0.0.1:80")->dns_name, a.dns_name);
}

GroupRoute group(std::vector<Health> healths, Algorithm algorithm = Algorithm::kRoundRobin) {
  GroupRoute g;
  g.algorithm = algorithm;
  for (size_t i = 0; i < healths.size(); ++i) {
    TargetRoute t;
    t.key = "t" + std::to_string(i);
    t.address = "127.0.0." + std::to_string(i + 1);
    t.port = 80;
    t.health = healths[i];
    g.targets.push_back(std::move(t));
  }
  return g;
}

TEST(Targets, RoundRobinOverHealthyOnly) {
  auto g = group({Health::kHealthy, Health::kUnhealthy, Health::kHealthy});
  std::vector<size_t> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(*pick_target(g, -1, 0));
  for (size_t p : picks) EXPECT_NE(p, 1u);
  EXPECT_EQ(std::count(picks.begin(), picks.end(), 0u), 3);
  EXPECT_EQ(std::count(picks.begin(), picks.end(), 2u), 3);
}

TEST(Targets, FailOpenWhenNoneHealthy) {
  auto g = group({Health::kUnhealthy, Health::kUnhealthy});
  std::set<size_t> seen;
  for (int i = 0; i < 4; ++i) seen.insert(*pick_target(g, -1, 0));
  EXPECT_EQ(seen.size(), 2u);
}

TEST(Targets, NoTargetsAndRetryExclusion) {
  auto empty = group({});
  EXPECT_FALSE(pick_target(empty, -1, 0));
  auto one = group({Health::kHealthy});
  EXPECT_FALSE(pick_target(one, 0, 0));  // the only target was refused
  auto two = group({Health::kHealthy, Health::kUnhealthy});
  EXPECT_EQ(*pick_target(two, 0, 0), 1u);  // the retry goes to the other one
}

TEST(Targets, LeastOutstandingPicksTheIdlest) {
  auto g = group({Health::kHealthy, Health::kHealthy, Health::kHealthy}, Algorithm::kLeastOutstanding);
  g.targets[0].outstanding->store(5);
  g.targets[1].outstanding->store(1);
  g.targets[2].outstanding->store(3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*pick_target(g, -1, 0), 1u);
}

TEST(Groups, WeightedChoice) {
  RouteAction a;
  a.groups = {{0, 1}, {1, 3}, {2, 0}};
  std::map<size_t, int> counts;
  for (uint64_t roll = 0; roll < 400; ++roll) ++counts[pick_group(a, roll)];
  EXPECT_EQ(counts[0], 100);
  EXPECT_EQ(counts[1], 300);
  EXPECT_EQ(counts[2], 0);
}

TEST(SlowStart, ANewlyHealthyTargetRampsLinearly) {
  using namespace std::chrono_literals;
  auto g = group({Health::kHealthy, Health::kHealthy, Health::kHealthy});
  g.slow_start_seconds = 100;
  std::chrono::steady_clock::time_point t0{1000s};
  g.targets[0].healthy_since = t0 - 500s;  // long past its ramp
  g.targets[1].healthy_since = t0 - 500s;
  g.targets[2].healthy_since = t0;  // just became healthy
  auto share = [&](std::chrono::steady_clock::time_point now) {
    int hits = 0;
    for (int i = 0; i < 4000; ++i) hits += *pick_target(g, -1, 0, now) == 2u ? 1 : 0;
    return hits / 4000.0;
  };
  EXPECT_EQ(share(t0), 0.0);                          // weight 0 at first
  EXPECT_NEAR(share(t0 + 25s), 0.25 / 2.25, 0.01);    // a quarter of a full share
  EXPECT_NEAR(share(t0 + 50s), 0.5 / 2.5, 0.01);
  EXPECT_NEAR(share(t0 + 100s), 1.0 / 3.0, 0.01);     // ramp over: plain round robin
  EXPECT_DOUBLE_EQ(slow_start_weight(g, g.targets[2], t0 + 75s), 0.75);
  // Slow start is round robin's only, and never starves a group whose targets all ramp.
  g.algorithm = Algorithm::kLeastOutstanding;
  EXPECT_DOUBLE_EQ(slow_start_weight(g, g.targets[2], t0), 1.0);
  g.algorithm = Algorithm::kRoundRobin;
  for (auto& t : g.targets) t.healthy_since = t0;
  std::set<size_t> seen;
  for (int i = 0; i < 6; ++i) seen.insert(*pick_target(g, -1, 0, t0));
  EXPECT_EQ(seen.size(), 3u);
  // Off (0 seconds): no ramp at all.
  g.slow_start_seconds = 0;
  g.targets[0].healthy_since = t0 - 500s;
  EXPECT_DOUBLE_EQ(slow_start_weight(g, g.targets[2], t0), 1.0);
}

TEST(Stickiness, CookiePinsTheTargetWhileHealthy) {
  auto g = group({Health::kHealthy, Health::kHealthy, Health::kHealthy});
  g.sticky = true;
  std::string v1 = sticky_cookie_value(g.targets[1]);
  EXPECT_EQ(v1.size(), 16u);
  EXPECT_NE(v1, sticky_cookie_value(g.targets[0]));
  EXPECT_EQ(sticky_target(g, "a=b; AWSALB=" + v1 + "; c=d", -1), 1u);
  EXPECT_EQ(sticky_target(g, "AWSALBCORS=" + v1, -1), 1u);  // the CORS twin alone also pins
  EXPECT_FALSE(sticky_target(g, "AWSALB=0000000000000000", -1));
  EXPECT_FALSE(sticky_target(g, "other=" + v1, -1));
  EXPECT_FALSE(sticky_target(g, "AWSALB=" + v1, 1));  // refused on this request: another target
  g.targets[1].health = Health::kUnhealthy;
  EXPECT_FALSE(sticky_target(g, "AWSALB=" + v1, -1));  // no longer healthy: re-balanced
  auto all_down = group({Health::kUnhealthy, Health::kUnhealthy});
  EXPECT_EQ(sticky_target(all_down, "AWSALB=" + sticky_cookie_value(all_down.targets[1]), -1), 1u);  // fail open
}

TEST(HeaderNames, OnlyLettersDigitsAndHyphensAreValid) {
  EXPECT_TRUE(valid_header_name("X-Custom-1"));
  EXPECT_FALSE(valid_header_name("X_Custom"));
  EXPECT_FALSE(valid_header_name("X.Custom"));
  EXPECT_FALSE(valid_header_name(""));
}

}  // namespace
}  // namespace berth::elb::dp
