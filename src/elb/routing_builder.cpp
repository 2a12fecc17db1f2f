#include "elb/routing_builder.h"

#include <algorithm>

#include "core/log.h"
#include "ec2/instances.h"
#include "ec2/network_store.h"
#include "elb/api_support.h"
#include "elb/elb_store.h"

namespace berth::elb {
namespace {

dp::MatchCondition compile_condition(const Condition& c) {
  using F = dp::MatchCondition::Field;
  dp::MatchCondition m;
  m.values = c.values;
  if (c.field == "path-pattern") m.field = F::kPath;
  else if (c.field == "host-header") m.field = F::kHost;
  else if (c.field == "http-header") m.field = F::kHeader;
  else if (c.field == "http-request-method") m.field = F::kMethod;
  else if (c.field == "query-string") m.field = F::kQuery;
  else if (c.field == "source-ip") m.field = F::kSourceIp;
  m.header_name = c.header_name;
  for (const auto& p : c.pairs) m.pairs.emplace_back(p.key, p.value);
  if (m.field == F::kSourceIp)
    for (const auto& v : c.values) {
      auto cidr = v.find(':') == std::string::npos ? ec2::Cidr::parse_v4(v) : ec2::Cidr::parse_v6(v);
      if (cidr) m.cidrs.push_back(*cidr);
    }
  return m;
}

dp::RouteAction compile_action(const std::vector<Action>& actions, const std::map<std::string, size_t>& group_index) {
  dp::RouteAction out;
  if (actions.empty()) return out;
  const Action& a = actions.back();  // the terminal action
  if (a.type == "fixed-response") {
    out.type = dp::RouteAction::Type::kFixedResponse;
    out.fixed_status = static_cast<unsigned>(std::stoul(a.fixed_status));
    out.fixed_content_type = a.fixed_content_type;
    out.fixed_body = a.fixed_body;
  } else if (a.type == "redirect") {
    out.type = dp::RouteAction::Type::kRedirect;
    out.redirect_status = a.redirect_status == "HTTP_302" ? 302 : 301;
    out.redirect_protocol = a.redirect_protocol;
    out.redirect_port = a.redirect_port;
    out.redirect_host = a.redirect_host;
    out.redirect_path = a.redirect_path;
    out.redirect_query = a.redirect_query;
  } else {
    out.type = dp::RouteAction::Type::kForward;
    auto add = [&](const std::string& arn, int64_t weight) {
      auto it = group_index.find(arn);
      if (it != group_index.end() && weight > 0) out.groups.emplace_back(it->second, static_cast<uint32_t>(weight));
    };
    if (a.groups.empty()) add(a.target_group_arn, 1);
    for (const auto& g : a.groups) add(g.target_group_arn, g.weight);
  }
  return out;
}

std::string attribute(const std::map<std::string, std::string>& attrs, const std::string& key, std::string fallback) {
  auto it = attrs.find(key);
  return it == attrs.end() ? fallback : it->second;
}

// On this host (127.0.0.0/8): dialled directly, no private route applies.
bool on_host(const std::string& ip) {
  auto a = ec2::IpAddress::parse(ip);
  return !a || !a->is_v4() || (a->v4_bits() >> 24) == 127;
}

std::string target_address(const Registration& r, const TargetGroup& tg, const AddressBook& addresses,
                           bool loopback_ip_targets) {
  if (tg.target_type == "ip") return loopback_ip_targets || !on_host(r.id) ? r.id : std::string();
  auto it = addresses.find(r.id);
  return it == addresses.end() ? std::string() : it->second.address;
}

// The address the data plane and the health checker try first through the
// private connector (private_route.h), from the load balancer's address with
// its groups, so the target's own groups decide: an instance's VPC address;
// an IP target's address unless it is on the host (an awsvpc task's ENI
// address is published there by the runtime). Empty: the target's address is
// dialled directly; also the fallback when nothing is published there.
std::string private_address_of(const Registration& r, const TargetGroup& tg, const AddressBook& addresses) {
  if (tg.target_type == "ip") return on_host(r.id) ? std::string() : r.id;
  auto it = addresses.find(r.id);
  return it == addresses.end() ? std::string() : it->second.private_address;
}

std::vector<std::string> target_groups_of(const Registration& r, const TargetGroup& tg, const AddressBook& addresses) {
  if (tg.target_type == "ip") return {};
  auto it = addresses.find(r.id);
  return it == addresses.end() ? std::vector<std::string>() : it->second.groups;
}

// The load balancer's node in its first subnet: the subnet's highest usable
// address (instances take the lowest free ones). berth runs one node; only
// its address's place in the VPC matters, to ingress rules by CIDR.
std::string node_address(const std::string& cidr) {
  auto slash = cidr.find('/');
  if (slash == std::string::npos) return {};
  auto base = ec2::IpAddress::parse(cidr.substr(0, slash));
  int bits = std::stoi(cidr.substr(slash + 1));
  if (!base || !base->is_v4() || bits > 28) return {};
  uint32_t network = base->v4_bits() & (bits == 0 ? 0u : ~0u << (32 - bits));
  uint32_t last = network | (bits == 0 ? ~0u : ~(~0u << (32 - bits)));
  return ec2::IpAddress::v4(last - 1).to_string();
}

}  // namespace

std::shared_ptr<const dp::Snapshot> build_snapshot(const Config& config, const HealthMap& health,
                                                   const AddressBook& addresses, const HealthySince& since,
                                                   const LbAddresses& lb_addresses, dp::InFlightCounters* in_flight) {
  auto snap = std::make_shared<dp::Snapshot>();
  std::map<std::string, size_t> group_index;
  for (const auto& tg : config.target_groups) {
    dp::GroupRoute g;
    g.arn = tg.arn;
    std::string algo = attribute(tg.attributes, "load_balancing.algorithm.type", "round_robin");
    g.algorithm = algo == "least_outstanding_requests" ? dp::Algorithm::kLeastOutstanding
                  : algo == "weighted_random"          ? dp::Algorithm::kWeightedRandom
                                                       : dp::Algorithm::kRoundRobin;
    g.slow_start_seconds = static_cast<uint32_t>(std::stoul(attribute(tg.attributes, "slow_start.duration_seconds", "0")));
    g.sticky = attribute(tg.attributes, "stickiness.enabled", "false") == "true" &&
               attribute(tg.attributes, "stickiness.type", "lb_cookie") == "lb_cookie";
    g.sticky_seconds =
        static_cast<uint32_t>(std::stoul(attribute(tg.attributes, "stickiness.lb_cookie.duration_seconds", "86400")));
    for (const auto& r : config.registrations) {
      if (r.target_group_arn != tg.arn || r.deregistered_ms != 0) continue;
      std::string address = target_address(r, tg, addresses, config.loopback_ip_targets);
      if (address.empty()) continue;
      dp::TargetRoute t;
      t.key = registration_key(r.target_group_arn, r.id, r.port);
      t.address = address;
      t.port = static_cast<uint16_t>(r.port);
      for (const auto& g : target_groups_of(r, tg, addresses))
        if (auto id = ec2::GroupId::parse(g)) t.groups.push_back(*id);
      t.private_address = private_address_of(r, tg, addresses);
      auto h = health.find(t.key);
      t.health = h == health.end() ? dp::Health::kInitial : h->second;
      if (auto s = since.find(t.key); s != since.end()) t.healthy_since = s->second;
      if (in_flight) t.outstanding = in_flight->counter(t.key);
      g.targets.push_back(std::move(t));
    }
    group_index.emplace(tg.arn, snap->groups.size());
    snap->groups.push_back(std::move(g));
  }
  for (const auto& l : config.listeners) {
    auto lb = std::find_if(config.load_balancers.begin(), config.load_balancers.end(),
                           [&](const LoadBalancer& x) { return x.arn == l.load_balancer_arn; });
    if (lb == config.load_balancers.end()) continue;
    dp::LbRoute route;
    route.arn = lb->arn;
    route.dns_name = lb->dns_name;
    for (auto& c : route.dns_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& g : lb->security_groups)
      if (auto id = ec2::GroupId::parse(g)) route.security_groups.push_back(*id);
    route.idle_timeout_seconds = static_cast<uint32_t>(std::stoul(attribute(lb->attributes, "idle_timeout.timeout_seconds", "60")));
    route.drop_invalid_header_fields =
        attribute(lb->attributes, "routing.http.drop_invalid_header_fields.enabled", "false") == "true";
    if (auto a = lb_addresses.find(lb->arn); a != lb_addresses.end())
      route.private_address = ec2::IpAddress::parse(a->second).value_or(ec2::IpAddress());
    std::vector<const Rule*> rules;
    for (const auto& r : config.rules)
      if (r.listener_arn == l.arn) rules.push_back(&r);
    std::sort(rules.begin(), rules.end(), [](const Rule* a, const Rule* b) { return a->priority < b->priority; });
    for (const auto* r : rules) {
      dp::RouteRule rr;
      rr.priority = r->priority;
      for (const auto& c : r->conditions) rr.conditions.push_back(compile_condition(c));
      rr.action = compile_action(r->actions, group_index);
      route.rules.push_back(std::move(rr));
    }
    dp::RouteRule def;
    def.action = compile_action(l.default_actions, group_index);
    route.rules.push_back(std::move(def));
    auto& port = snap->ports[static_cast<uint16_t>(l.port)];
    port.port = static_cast<uint16_t>(l.port);
    port.load_balancers.push_back(std::move(route));
  }
  return snap;
}

std::vector<ProbeSpec> probe_specs(const Config& config, const AddressBook& addresses,
                                   const LbAddresses& lb_addresses) {
  std::vector<ProbeSpec> out;
  for (const auto& tg : config.target_groups) {
    bool used = false;
    auto uses = [&](const std::vector<Action>& actions) {
      for (const auto& a : actions) {
        if (a.target_group_arn == tg.arn) used = true;
        for (const auto& g : a.groups)
          if (g.target_group_arn == tg.arn) used = true;
      }
    };
    for (const auto& l : config.listeners) uses(l.default_actions);
    for (const auto& r : config.rules) uses(r.actions);
    if (!used) continue;
    for (const auto& r : config.registrations) {
      if (r.target_group_arn != tg.arn || r.deregistered_ms != 0) continue;
      ProbeSpec s;
      s.key = registration_key(r.target_group_arn, r.id, r.port);
      s.address = target_address(r, tg, addresses, config.loopback_ip_targets);
      if (s.address.empty()) continue;
      s.port = static_cast<uint16_t>(tg.health_check_port == "traffic-port" ? r.port : std::stoll(tg.health_check_port));
      s.path = tg.health_check_path;
      s.matcher = tg.matcher;
      s.interval = std::chrono::seconds(tg.health_check_interval);
      s.timeout = std::chrono::seconds(tg.health_check_timeout);
      s.healthy_threshold = static_cast<int>(tg.healthy_threshold);
      s.unhealthy_threshold = static_cast<int>(tg.unhealthy_threshold);
      s.target_groups = target_groups_of(r, tg, addresses);
      s.private_address = private_address_of(r, tg, addresses);
      if (!s.target_groups.empty() || !s.private_address.empty())
        for (const auto& lb_arn : load_balancers_of_group(config, tg.arn))
          for (const auto& lb : config.load_balancers)
            if (lb.arn == lb_arn) {
              s.source_groups.insert(s.source_groups.end(), lb.security_groups.begin(), lb.security_groups.end());
              if (auto a = lb_addresses.find(lb.arn); a != lb_addresses.end() && s.source_address.empty())
                s.source_address = a->second;
            }
      out.push_back(std::move(s));
    }
  }
  return out;
}

RoutingBuilder::RoutingBuilder(store::Database& db, Publish publish, HealthChecker* checker,
                               dp::InFlightCounters* in_flight, bool loopback_ip_targets)
    : db_(db),
      publish_(std::move(publish)),
      checker_(checker),
      in_flight_(in_flight),
      loopback_ip_targets_(loopback_ip_targets) {}

Status RoutingBuilder::start() {
  if (auto st = reload(); !st) return st;
  subscription_ = db_.subscribe([this](const std::vector<store::Change>& changes) {
    bool relevant = std::any_of(changes.begin(), changes.end(), [](const store::Change& c) {
      return c.table == kObjectsTable || c.table == ec2::kInstancesTable;
    });
    if (!relevant) return;
    if (auto st = reload(); !st) log::error("elb", "reloading routing: ", st.error().message);
  });
  return Ok{};
}

Status RoutingBuilder::reload() {
  struct Loaded {
    Config config;
    AddressBook addresses;
    LbAddresses lb_addresses;
  };
  auto loaded = db_.read([](store::Tx& tx) -> Result<Loaded> {
    auto config = load_config(tx);
    if (!config) return std::move(config).error();
    Loaded out{std::move(*config), {}, {}};
    for (const auto& lb : out.config.load_balancers)
      if (!lb.zones.empty())
        if (auto subnet = ec2::get_subnet(tx, lb.zones.front().subnet_id))
          if (auto address = node_address(subnet->cidr); !address.empty()) out.lb_addresses.emplace(lb.arn, address);
    for (const auto& tg : out.config.target_groups) {
      if (tg.target_type != "instance") continue;
      for (const auto& r : out.config.registrations) {
        if (r.target_group_arn != tg.arn || out.addresses.count(r.id)) continue;
        auto instance = ec2::find_instance(tx, r.id);
        if (!instance) return std::move(instance).error();
        if (!*instance || (*instance)->state != ec2::InstanceState::kRunning) continue;
        // The host plays the internet: an instance's ports answer on its public (loopback) address.
        const auto& i = **instance;
        out.addresses.emplace(r.id, InstanceEndpoint{i.public_ip.empty() ? i.private_ip : i.public_ip,
                                                     i.security_group_ids, i.private_ip});
      }
    }
    return out;
  });
  if (!loaded) return std::move(loaded).error();
  std::vector<ProbeSpec> specs;
  {
    std::lock_guard lock(mutex_);
    config_ = std::move(loaded->config);
    config_.loopback_ip_targets = loopback_ip_targets_;
    addresses_ = std::move(loaded->addresses);
    lb_addresses_ = std::move(loaded->lb_addresses);
    specs = probe_specs(config_, addresses_, lb_addresses_);
  }
  if (checker_) checker_->update(std::move(specs));
  rebuild();
  return Ok{};
}

void RoutingBuilder::rebuild() {
  // Health changes (loop 0) and store changes (API threads) both rebuild;
  // building and publishing under one lock keeps an older snapshot from
  // being published after a newer one.
  std::lock_guard lock(mutex_);
  HealthMap health = checker_ ? checker_->healths() : HealthMap{};
  HealthySince since = checker_ ? checker_->healthy_since() : HealthySince{};
  publish_(build_snapshot(config_, health, addresses_, since, lb_addresses_, in_flight_));
  // Counters only snapshots older than the one just published held, and no
  // request holds any more, are done with.
  if (in_flight_) in_flight_->prune();
}

void RoutingBuilder::stop() { subscription_.reset(); }

}  // namespace berth::elb
