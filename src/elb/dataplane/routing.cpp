#include "elb/dataplane/routing.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace berth::elb::dp {
namespace {

// ASCII only, inline: host names, header names and globs compare per request
// (std::tolower is a locale-aware libc call per character).
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c; }

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

double slow_start_weight(const GroupRoute& group, const TargetRoute& target, std::chrono::steady_clock::time_point now) {
  if (group.slow_start_seconds == 0 || group.algorithm != Algorithm::kRoundRobin || target.health != Health::kHealthy)
    return 1.0;
  auto ramp = std::chrono::duration<double>(std::chrono::seconds(group.slow_start_seconds));
  auto elapsed = std::chrono::duration<double>(now - target.healthy_since);
  if (elapsed >= ramp) return 1.0;
  if (elapsed.count() <= 0) return 0.0;
  return elapsed / ramp;
}

std::optional<size_t> pick_target(const GroupRoute& group, long exclude, uint64_t roll,
                                  std::chrono::steady_clock::time_point now) {
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
    bool ramping = false, settled = false;
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!eligible(i)) continue;
      ++eligible_count;
      if (group.slow_start_seconds > 0) {
        double w = slow_start_weight(group, ts[i], now);
        total += w;
        (w < 1.0 ? ramping : settled) = true;
      }
    }
    if (eligible_count > 0 && ramping && settled) {
      // Slow start: round robin by weight. The counter walks the unit
      // interval by the golden ratio, so over any run of picks each target's
      // share is its weight's (deterministic, no per-target state).
      uint32_t position = group.next->fetch_add(1, std::memory_order_relaxed);
      double x = std::fmod(position * 0.6180339887498949, 1.0) * total;
      std::optional<size_t> last;
      for (size_t i = 0; i < n; ++i) {
        if (!eligible(i)) continue;
        double w = slow_start_weight(group, ts[i], now);
        if (w <= 0) continue;
        last = i;
        if (x < w) return i;
        x -= w;
      }
      if (last) return last;
    } else if (eligible_count > 0) {
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

std::string sticky_cookie_value(const TargetRoute& target) {
  // FNV-1a of the registration key: opaque to clients, stable across restarts.
  uint64_t h = 14695981039346656037ull;
  for (char c : target.key) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = kHex[h & 15];
  return out;
}

namespace {

// The value of cookie `name` in a Cookie header ("a=1; b=2").
std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    auto piece = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    auto eq = piece.find('=');
    if (eq != std::string_view::npos && piece.substr(0, eq) == name) return piece.substr(eq + 1);
  }
  return {};
}

}  // namespace

std::optional<size_t> sticky_target(const GroupRoute& group, std::string_view cookie_header, long exclude) {
  std::string_view value = cookie_value(cookie_header, "AWSALB");
  if (value.empty()) value = cookie_value(cookie_header, "AWSALBCORS");
  if (value.empty()) return std::nullopt;
  const auto& ts = group.targets;
  bool any_healthy = std::any_of(ts.begin(), ts.end(), [](const TargetRoute& t) { return t.health == Health::kHealthy; });
  for (size_t i = 0; i < ts.size(); ++i) {
    if (static_cast<long>(i) == exclude || (any_healthy && ts[i].health != Health::kHealthy)) continue;
    if (sticky_cookie_value(ts[i]) == value) return i;
  }
  return std::nullopt;
}

bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
}

}  // namespace berth::elb::dp
