#include "elb/dataplane/routing.h"

#include <algorithm>
#include <cctype>

namespace berth::elb::dp {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// "host:port" -> "host"; "[v6]:port" -> "[v6]".
std::string_view strip_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  auto colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool query_matches(const MatchCondition& c, std::string_view query) {
  // Any pair of the condition matching any key=value of the query.
  for (const auto& [key_glob, value_glob] : c.pairs) {
    std::string_view rest = query;
    while (!rest.empty()) {
      auto amp = rest.find('&');
      auto piece = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      auto eq = piece.find('=');
      auto key = piece.substr(0, eq);
      auto value = eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
      if ((key_glob.empty() || glob_match(key_glob, key, true)) && glob_match(value_glob, value, true)) return true;
    }
  }
  return false;
}

}  // namespace

bool glob_match(std::string_view p, std::string_view t, bool ci) {
  // Iterative wildcard matching with one backtrack point: linear in practice.
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  auto eq = [&](char a, char b) { return ci ? lower(a) == lower(b) : a == b; };
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], t[ti])))) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool condition_matches(const MatchCondition& c, const RequestView& r) {
  using F = MatchCondition::Field;
  switch (c.field) {
    case F::kPath:
      return std::any_of(c.values.begin(), c.values.end(), [&](const std::string& v) { return glob_match(v, r.path, false); });
    case F::kHost: {
      auto host = strip_port(r.host);
      return std::any_of(c.values.begin(), c.values.end(), [&](const std::string& v) { return glob_match(v, host, true); });
    }
    case F::kHeader:
      for (const auto& [name, value] : r.headers)
        if (iequals(name, c.header_name))
          for (const auto& v : c.values)
            if (glob_match(v, value, true)) return true;
      return false;
    case F::kMethod:
      return std::find(c.values.begin(), c.values.end(), r.method) != c.values.end();
    case F::kQuery:
      return query_matches(c, r.query);
    case F::kSourceIp:
      return std::any_of(c.cidrs.begin(), c.cidrs.end(), [&](const ec2::Cidr& cidr) { return cidr.contains(r.source); });
  }
  return false;
}

const RouteRule* match_rule(const LbRoute& lb, const RequestView& r) {
  for (const auto& rule : lb.rules) {
    bool all = std::all_of(rule.conditions.begin(), rule.conditions.end(),
                           [&](const MatchCondition& c) { return condition_matches(c, r); });
    if (all) return &rule;
  }
  return nullptr;
}

const LbRoute* pick_load_balancer(const PortRoute& port, std::string_view host) {
  if (port.load_balancers.empty()) return nullptr;
  auto name = strip_port(host);
  for (const auto& lb : port.load_balancers)
    if (iequals(lb.dns_name, name)) return &lb;
  return &port.load_balancers.front();
}

size_t pick_group(const RouteAction& action, uint64_t roll) {
  if (action.groups.size() == 1) return action.groups[0].first;
  uint64_t total = 0;
  for (const auto& g : action.groups) total += g.second;
  if (total == 0) return action.groups.front().first;
  uint64_t at = roll % total;
  for (const auto& g : action.groups) {
    if (at < g.second) return g.first;
    at -= g.second;
  }
  return action.groups.back().first;
}

std::optional<size_t> pick_target(const GroupRoute& group, long exclude, uint64_t roll) {
  const auto& ts = group.targets;
  if (ts.empty()) return std::nullopt;
  bool any_healthy = std::any_of(ts.begin(), ts.end(), [](const TargetRoute& t) { return t.health == Health::kHealthy; });
  // Initial targets receive no traffic while another is healthy; with none
  // healthy, every registered target is a candidate (fail open).
  auto eligible = [&](size_t i) {
    return static_cast<long>(i) != exclude && (!any_healthy || ts[i].health == Health::kHealthy);
  };
  size_t n = ts.size();
  if (group.algorithm == Algorithm::kLeastOutstanding) {
    std::optional<size_t> best;
    int32_t best_load = 0;
    size_t start = group.next->fetch_add(1, std::memory_order_relaxed);
    for (size_t k = 0; k < n; ++k) {
      size_t i = (start + k) % n;
      if (!eligible(i)) continue;
      int32_t load = ts[i].outstanding->load(std::memory_order_relaxed);
      if (!best || load < best_load) {
        best = i;
        best_load = load;
      }
    }
    if (best) return best;
  } else {
    // The k-th eligible target, so skipped ones do not double their neighbour's share.
    size_t eligible_count = 0;
    for (size_t i = 0; i < n; ++i) eligible_count += eligible(i) ? 1 : 0;
    if (eligible_count > 0) {
      size_t k = (group.algorithm == Algorithm::kWeightedRandom ? static_cast<size_t>(roll)
                                                                : group.next->fetch_add(1, std::memory_order_relaxed)) %
                 eligible_count;
      for (size_t i = 0; i < n; ++i)
        if (eligible(i) && k-- == 0) return i;
    }
  }
  // Only the excluded target is eligible: with a retry that means no other target.
  if (exclude >= 0) {
    for (size_t i = 0; i < n; ++i)
      if (static_cast<long>(i) != exclude) return i;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace berth::elb::dp
