#include "elb/dataplane/metrics.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace berth::elb::dp {

void ResponseTimeCells::observe(std::chrono::nanoseconds elapsed) {
  double seconds = std::chrono::duration<double>(elapsed).count();
  size_t i = 0;
  while (i < kResponseTimeBuckets.size() && seconds > kResponseTimeBuckets[i]) ++i;
  buckets[i].add();
  sum_ns.add(elapsed.count());
  count.add();
}

void TargetCells::answered(unsigned status, std::chrono::nanoseconds elapsed) {
  if (status >= 200 && status < 600) target_codes[status / 100 - 2].add();
  response_time.observe(elapsed);
}

void LoadBalancerCells::elb_answered(unsigned status) {
  if (status >= 300 && status < 600) elb_codes[status / 100 - 3].add();
}

CountedConnection& CountedConnection::operator=(CountedConnection&& o) noexcept {
  if (this != &o) {
    if (lb_) lb_->active_connections.add(-1);
    lb_ = std::exchange(o.lb_, nullptr);
  }
  return *this;
}

CountedConnection::~CountedConnection() {
  if (lb_) lb_->active_connections.add(-1);
}

void CountedConnection::elb_response(unsigned status) {
  if (lb_) lb_->elb_answered(status);
}

LoadBalancerCells& LoopMetrics::lb(std::string_view arn) {
  if (last_lb_ && last_lb_key_ == arn) return *last_lb_;
  auto it = lbs_.find(arn);
  if (it == lbs_.end()) {
    std::lock_guard lock(insert_mutex_);
    it = lbs_.try_emplace(std::string(arn)).first;
  }
  last_lb_key_ = it->first;  // node keys do not move on rehash
  last_lb_ = &it->second;
  return it->second;
}

TargetCells& LoopMetrics::group(LoadBalancerCells& lb, std::string_view arn) {
  if (lb.last_group && lb.last_group_key == arn) return *lb.last_group;
  auto it = lb.groups.find(arn);
  if (it == lb.groups.end()) {
    std::lock_guard lock(insert_mutex_);
    it = lb.groups.try_emplace(std::string(arn)).first;
  }
  lb.last_group_key = it->first;
  lb.last_group = &it->second;
  return it->second;
}

CountedConnection LoopMetrics::connection_opened(std::string_view lb_arn) {
  LoadBalancerCells& cells = lb(lb_arn);
  cells.new_connections.add();
  cells.active_connections.add();
  return CountedConnection(&cells);
}

void LoopMetrics::elb_response(std::string_view lb_arn, unsigned status) { lb(lb_arn).elb_answered(status); }

void LoopMetrics::fixed_response(std::string_view lb_arn, unsigned status) {
  LoadBalancerCells& cells = lb(lb_arn);
  cells.fixed_responses.add();
  cells.elb_answered(status);
}

void LoopMetrics::redirect(std::string_view lb_arn, unsigned status) {
  LoadBalancerCells& cells = lb(lb_arn);
  cells.redirects.add();
  cells.elb_answered(status);
}

void LoopMetrics::forwarded(std::string_view lb_arn, std::string_view tg_arn, unsigned alb_status,
                            unsigned target_status, std::chrono::nanoseconds elapsed) {
  LoadBalancerCells& cells = lb(lb_arn);
  TargetCells& tg = group(cells, tg_arn);
  if (alb_status) {
    cells.elb_answered(alb_status);
    if (alb_status == 503) return;  // no target to choose: not a RequestCount request (as CloudWatch counts)
  }
  cells.all.requests.add();
  tg.requests.add();
  if (alb_status) return;
  cells.all.answered(target_status, elapsed);
  tg.answered(target_status, elapsed);
}

Metrics::Metrics(size_t loops) {
  loops_.reserve(loops);
  for (size_t i = 0; i < loops; ++i) loops_.push_back(std::make_unique<LoopMetrics>());
}

std::string_view load_balancer_dimension(std::string_view arn) {
  auto at = arn.find(":loadbalancer/");
  return at == std::string_view::npos ? arn : arn.substr(at + 14);
}

std::string_view target_group_dimension(std::string_view arn) {
  auto at = arn.find(":targetgroup/");
  return at == std::string_view::npos ? arn : arn.substr(at + 1);
}

void TargetTotals::add(const TargetCells& c) {
  requests += c.requests.value();
  for (size_t i = 0; i < codes.size(); ++i) codes[i] += c.target_codes[i].value();
  for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += c.response_time.buckets[i].value();
  sum_ns += c.response_time.sum_ns.value();
  count += c.response_time.count.value();
}

GroupTotals& LbTotals::group(std::string_view group_arn) {
  for (auto& g : groups)
    if (g.arn == group_arn) return g;
  groups.push_back(GroupTotals{std::string(group_arn), {}, 0, 0});
  return groups.back();
}

namespace {

void escape_label(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

std::string lb_labels(std::string_view lb_arn) {
  std::string out = "load_balancer=\"";
  escape_label(out, load_balancer_dimension(lb_arn));
  out += '"';
  return out;
}

std::string group_labels(std::string_view lb_arn, std::string_view tg_arn) {
  std::string out = lb_labels(lb_arn) + ",target_group=\"";
  escape_label(out, target_group_dimension(tg_arn));
  out += '"';
  return out;
}

void number(std::string& out, double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void write_family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void write_sample(std::string& out, std::string_view name, std::string_view labels, int64_t value,
            std::string_view extra_label = {}) {
  out.append(name).append("{").append(labels);
  if (!extra_label.empty()) out.append(",").append(extra_label);
  out.append("} ").append(std::to_string(value)).append("\n");
}

void write_histogram(std::string& out, std::string_view name, std::string_view labels, const TargetTotals& t) {
  std::string bucket_name = std::string(name) + "_bucket";
  int64_t cumulative = 0;
  for (size_t i = 0; i < kResponseTimeBuckets.size(); ++i) {
    cumulative += t.buckets[i];
    std::string le = "le=\"";
    number(le, kResponseTimeBuckets[i]);
    le += '"';
    write_sample(out, bucket_name, labels, cumulative, le);
  }
  cumulative += t.buckets.back();
  write_sample(out, bucket_name, labels, cumulative, "le=\"+Inf\"");
  out.append(name).append("_sum{").append(labels).append("} ");
  number(out, static_cast<double>(t.sum_ns) / 1e9);
  out.append("\n");
  write_sample(out, std::string(name) + "_count", labels, t.count);
}

}  // namespace

std::vector<LbTotals> Metrics::totals(const Snapshot& snapshot) const {
  // The load balancers and target groups the routes name, with health.
  std::vector<LbTotals> lbs;
  std::map<std::string, size_t, std::less<>> index;
  for (const auto& [port, route] : snapshot.ports) {
    for (const LbRoute& lb : route.load_balancers) {
      auto [it, fresh] = index.try_emplace(lb.arn, lbs.size());
      if (fresh) lbs.push_back(LbTotals{lb.arn, {}, {}, 0, 0, 0, 0, {}});
      LbTotals& totals = lbs[it->second];
      for (const RouteRule& rule : lb.rules) {
        if (rule.action.type != RouteAction::Type::kForward) continue;
        for (const auto& [group_index, weight] : rule.action.groups) {
          if (group_index >= snapshot.groups.size()) continue;
          const GroupRoute& g = snapshot.groups[group_index];
          bool seen = std::any_of(totals.groups.begin(), totals.groups.end(),
                                  [&](const GroupTotals& t) { return t.arn == g.arn; });
          if (seen) continue;
          GroupTotals& gt = totals.group(g.arn);
          for (const TargetRoute& target : g.targets) {
            if (target.health == Health::kHealthy) ++gt.healthy;
            if (target.health == Health::kUnhealthy) ++gt.unhealthy;
          }
        }
      }
    }
  }
  for (const auto& loop : loops_) {
    loop->visit([&](std::string_view arn, const LoadBalancerCells& cells) {
      auto it = index.find(arn);
      if (it == index.end()) return;  // deleted, or no listener any more
      LbTotals& t = lbs[it->second];
      t.all.add(cells.all);
      for (size_t i = 0; i < t.elb_codes.size(); ++i) t.elb_codes[i] += cells.elb_codes[i].value();
      t.fixed += cells.fixed_responses.value();
      t.redirects += cells.redirects.value();
      t.new_connections += cells.new_connections.value();
      t.active += cells.active_connections.value();
      for (const auto& [group_arn, group_cells] : cells.groups) t.group(group_arn).totals.add(group_cells);
    });
  }
  return lbs;
}

std::string Metrics::render(const Snapshot& snapshot) const {
  std::vector<LbTotals> lbs = totals(snapshot);

  std::string out;
  out.reserve(1024 + lbs.size() * 4096);
  auto per_lb = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    write_family(out, name, type, help);
    for (const auto& lb : lbs) write_sample(out, name, lb_labels(lb.arn), value(lb));
  };
  auto per_group = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    write_family(out, name, type, help);
    for (const auto& lb : lbs)
      for (const auto& g : lb.groups) write_sample(out, name, group_labels(lb.arn, g.arn), value(g));
  };

  write_family(out, "berth_alb_request_count_total", "counter",
         "RequestCount: requests for which the load balancer chose a target (by load balancer, and by load "
         "balancer and target group).");
  for (const auto& lb : lbs) {
    write_sample(out, "berth_alb_request_count_total", lb_labels(lb.arn), lb.all.requests);
    for (const auto& g : lb.groups)
      write_sample(out, "berth_alb_request_count_total", group_labels(lb.arn, g.arn), g.totals.requests);
  }
  static constexpr std::array<std::string_view, 3> kElbNames = {"berth_alb_httpcode_elb_3xx_count_total",
                                                               "berth_alb_httpcode_elb_4xx_count_total",
                                                               "berth_alb_httpcode_elb_5xx_count_total"};
  static constexpr std::array<std::string_view, 3> kElbHelp = {
      "HTTPCode_ELB_3XX_Count: 3XX answers made by the load balancer (redirect actions).",
      "HTTPCode_ELB_4XX_Count: 4XX answers made by the load balancer (malformed requests, fixed responses).",
      "HTTPCode_ELB_5XX_Count: 5XX answers made by the load balancer (502, 503, 504, fixed responses)."};
  for (size_t i = 0; i < kElbNames.size(); ++i)
    per_lb(kElbNames[i], "counter", kElbHelp[i], [i](const LbTotals& lb) { return lb.elb_codes[i]; });
  static constexpr std::array<std::string_view, 4> kTargetNames = {
      "berth_alb_httpcode_target_2xx_count_total", "berth_alb_httpcode_target_3xx_count_total",
      "berth_alb_httpcode_target_4xx_count_total", "berth_alb_httpcode_target_5xx_count_total"};
  for (size_t i = 0; i < kTargetNames.size(); ++i) {
    std::string help = "HTTPCode_Target_" + std::to_string(i + 2) + "XX_Count: " + std::to_string(i + 2) +
                       "XX answers from targets (by load balancer, and by load balancer and target group).";
    write_family(out, kTargetNames[i], "counter", help);
    for (const auto& lb : lbs) {
      write_sample(out, kTargetNames[i], lb_labels(lb.arn), lb.all.codes[i]);
      for (const auto& g : lb.groups) write_sample(out, kTargetNames[i], group_labels(lb.arn, g.arn), g.totals.codes[i]);
    }
  }
  per_lb("berth_alb_http_fixed_response_count_total", "counter",
         "HTTP_Fixed_Response_Count: fixed-response actions answered.", [](const LbTotals& lb) { return lb.fixed; });
  per_lb("berth_alb_http_redirect_count_total", "counter", "HTTP_Redirect_Count: redirect actions answered.",
         [](const LbTotals& lb) { return lb.redirects; });

  write_family(out, "berth_alb_target_response_time_seconds", "histogram",
         "TargetResponseTime: seconds from sending a request to a target until its response.");
  for (const auto& lb : lbs) {
    write_histogram(out, "berth_alb_target_response_time_seconds", lb_labels(lb.arn), lb.all);
    for (const auto& g : lb.groups)
      write_histogram(out, "berth_alb_target_response_time_seconds", group_labels(lb.arn, g.arn), g.totals);
  }

  per_group("berth_alb_healthy_host_count", "gauge", "HealthyHostCount: targets the health checks find healthy.",
            [](const GroupTotals& g) { return g.healthy; });
  per_group("berth_alb_unhealthy_host_count", "gauge",
            "UnHealthyHostCount: targets the health checks find unhealthy.",
            [](const GroupTotals& g) { return g.unhealthy; });
  per_lb("berth_alb_active_connection_count", "gauge",
         "ActiveConnectionCount: client connections open to the load balancer.",
         [](const LbTotals& lb) { return lb.active; });
  per_lb("berth_alb_new_connection_count_total", "counter",
         "NewConnectionCount: client connections the load balancer accepted.",
         [](const LbTotals& lb) { return lb.new_connections; });
  return out;
}

}  // namespace berth::elb::dp
