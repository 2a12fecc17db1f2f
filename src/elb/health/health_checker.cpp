#include "elb/health/health_checker.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <unistd.h>

#include <mutex>

#include "core/log.h"

namespace berth::elb {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::vector<ec2::GroupId> to_ids(const std::vector<std::string>& in) {
  std::vector<ec2::GroupId> out;
  for (const auto& g : in)
    if (auto id = ec2::GroupId::parse(g)) out.push_back(*id);
  return out;
}

// Instance targets on their public address: the load balancer's groups must
// reach the target's (flow_allowed); a refused flow is a probe that times out.
bool flow_allowed(const ProbeSpec& spec, const ec2::SecurityGroupTable* table) {
  if (spec.target_groups.empty() || !table) return true;
  // Named: Connection holds spans over them.
  auto source = to_ids(spec.source_groups);
  auto target = to_ids(spec.target_groups);
  ec2::Connection c;
  c.source_groups = source;
  c.destination = ec2::IpAddress::parse(spec.address).value_or(ec2::IpAddress());
  c.destination_groups = target;
  c.port = spec.port;
  return ec2::flow_allowed(c, *table);
}

// A dropped connection answers nothing: the probe times out, as on AWS.
asio::awaitable<ProbeResult> time_out(asio::io_context& io, std::chrono::milliseconds timeout) {
  asio::steady_timer timer(io, timeout);
  co_await timer.async_wait(kUseTuple);
  co_return ProbeResult{ProbeOutcome::kTimeout, 0};
}

}  // namespace

asio::awaitable<ProbeResult> probe_once(asio::io_context& io, ProbeSpec spec, const dp::PrivateConnector& connector,
                                        std::shared_ptr<const ec2::SecurityGroupTable> groups) {
  boost::system::error_code ec;
  beast::tcp_stream stream(io);
  tcp::endpoint endpoint;
  std::string host = spec.address;
  bool routed = false;
  if (!spec.private_address.empty() && connector) {
    auto source_groups = to_ids(spec.source_groups);
    auto route = connector(spec.private_address, spec.port,
                           ec2::IpAddress::parse(spec.source_address).value_or(ec2::IpAddress()), source_groups);
    if (route.status == dp::PrivateRoute::Status::kDenied) {
      ProbeResult dropped = co_await time_out(io, spec.timeout);
      co_return dropped;
    }
    if (route.status == dp::PrivateRoute::Status::kOpened) {
      stream.socket().assign(tcp::v4(), route.fd, ec);
      if (ec) {
        ::close(route.fd);
        co_return ProbeResult{ProbeOutcome::kFailed, 0};
      }
      endpoint = tcp::endpoint(asio::ip::address_v4::loopback(), route.port);
      host = spec.private_address;
      routed = true;
    }
  }
  if (!routed) {
    if (!flow_allowed(spec, groups.get())) {
      ProbeResult dropped = co_await time_out(io, spec.timeout);
      co_return dropped;
    }
    auto address = asio::ip::make_address(spec.address, ec);
    // As the data plane: only this host's addresses are dialled directly.
    if (ec || !address.is_loopback()) co_return ProbeResult{ProbeOutcome::kFailed, 0};
    endpoint = tcp::endpoint(address, spec.port);
  }
  stream.expires_after(spec.timeout);
  auto [cec] = co_await stream.async_connect(endpoint, kUseTuple);
  if (cec == beast::error::timeout) co_return ProbeResult{ProbeOutcome::kTimeout, 0};
  if (cec) co_return ProbeResult{ProbeOutcome::kFailed, 0};
  std::string request = "GET " + spec.path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(spec.port) +
                        "\r\nUser-Agent: ELB-HealthChecker/2.0\r\nAccept-Encoding: gzip, compressed\r\n"
                        "Connection: close\r\n\r\n";
  auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(request), kUseTuple);
  if (wec == beast::error::timeout) co_return ProbeResult{ProbeOutcome::kTimeout, 0};
  if (wec) co_return ProbeResult{ProbeOutcome::kFailed, 0};
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  auto [rec, rn] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
  if (rec == beast::error::timeout) co_return ProbeResult{ProbeOutcome::kTimeout, 0};
  if (rec) co_return ProbeResult{ProbeOutcome::kFailed, 0};
  stream.socket().close(ec);
  unsigned status = parser.get().result_int();
  if (matcher_accepts(spec.matcher, status)) co_return ProbeResult{ProbeOutcome::kPass, status};
  co_return ProbeResult{ProbeOutcome::kCodeMismatch, status};
}

struct HealthChecker::State {
  asio::io_context* io = nullptr;
  mutable std::mutex mutex;
  struct Entry {
    ProbeSpec spec;
    HealthState health;
    uint64_t session = 0;
    std::chrono::steady_clock::time_point healthy_since{};
  };
  std::map<std::string, Entry, std::less<>> entries;
  uint64_t next_session = 1;
  std::function<void()> on_change;
  HealthChecker::Groups groups;
  dp::PrivateConnector connector;
  bool stopped = false;
};

namespace {

// "unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [500])"
std::string describe(const HealthState& h) {
  return h.reason().empty() ? h.state() : h.state() + " (" + h.reason() + ": " + h.description() + ")";
}

// A registration key ("<target group arn>|<id>|<port>") as a log line names
// it: "targetgroup/blue/0123456789abcdef 10.0.0.5:8080".
std::string readable(std::string_view key) {
  auto bar = key.find('|');
  if (bar == std::string_view::npos) return std::string(key);
  std::string_view arn = key.substr(0, bar), target = key.substr(bar + 1);
  if (auto colon = arn.rfind(':'); colon != std::string_view::npos) arn = arn.substr(colon + 1);
  std::string out = std::string(arn) + " " + std::string(target);
  if (auto port = out.rfind('|'); port != std::string::npos) out[port] = ':';
  return out;
}

asio::awaitable<void> run_session(std::shared_ptr<HealthChecker::State> st, std::string key, uint64_t session) {
  asio::steady_timer timer(*st->io);
  for (;;) {
    ProbeSpec spec;
    {
      std::lock_guard lock(st->mutex);
      auto it = st->entries.find(key);
      if (st->stopped || it == st->entries.end() || it->second.session != session) co_return;
      spec = it->second.spec;
      it->second.health.checking();
    }
    auto started = std::chrono::steady_clock::now();
    ProbeResult result{ProbeOutcome::kTimeout, 0};
    // A named table: GCC 12 mishandles a conditional's temporary inside a co_await expression.
    std::shared_ptr<const ec2::SecurityGroupTable> table;
    if (st->groups) table = st->groups();
    result = co_await probe_once(*st->io, spec, st->connector, std::move(table));
    std::function<void()> notify;
    std::string before, after;
    {
      std::lock_guard lock(st->mutex);
      auto it = st->entries.find(key);
      if (st->stopped || it == st->entries.end() || it->second.session != session) co_return;
      bool was_healthy = it->second.health.health() == dp::Health::kHealthy;
      before = it->second.health.state();
      if (it->second.health.record(result)) {
        notify = st->on_change;
        after = describe(it->second.health);
      }
      if (!was_healthy && it->second.health.health() == dp::Health::kHealthy) {
        // Slow start ramps a target in beside others already serving; the
        // first healthy target of its group takes its full share at once.
        std::string_view group = std::string_view(key).substr(0, key.find('|') + 1);
        bool others = false;
        for (const auto& [other_key, e] : st->entries)
          others = others || (other_key != key && other_key.starts_with(group) &&
                              e.health.health() == dp::Health::kHealthy);
        it->second.healthy_since = others ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      }
    }
    if (notify) notify();  // routing first, then the log line
    if (!after.empty()) log::info("elb", "health of ", readable(key), ": ", before, " -> ", after);
    timer.expires_at(started + spec.interval);
    co_await timer.async_wait(kUseTuple);
  }
}

}  // namespace

HealthChecker::HealthChecker(asio::io_context& io, std::function<void()> on_change, Groups groups,
                             dp::PrivateConnector connector)
    : state_(std::make_shared<State>()) {
  state_->io = &io;
  state_->connector = std::move(connector);
  state_->groups = std::move(groups);
  state_->on_change = std::move(on_change);
}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::update(std::vector<ProbeSpec> specs) {
  std::vector<std::pair<std::string, uint64_t>> start;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopped) return;
    std::map<std::string, ProbeSpec, std::less<>> wanted;
    for (auto& s : specs) wanted.emplace(s.key, std::move(s));
    for (auto it = state_->entries.begin(); it != state_->entries.end();) {
      if (!wanted.count(it->first)) it = state_->entries.erase(it);
      else ++it;
    }
    for (auto& [key, spec] : wanted) {
      auto it = state_->entries.find(key);
      if (it == state_->entries.end()) {
        uint64_t session = state_->next_session++;
        state_->entries.emplace(key, State::Entry{spec, HealthState(spec.healthy_threshold, spec.unhealthy_threshold), session});
        start.emplace_back(key, session);
      } else if (!(it->second.spec == spec)) {
        bool target_moved = it->second.spec.address != spec.address || it->second.spec.port != spec.port;
        it->second.health.set_thresholds(spec.healthy_threshold, spec.unhealthy_threshold);
        it->second.spec = spec;
        if (target_moved) {
          // A different endpoint: start over from initial.
          it->second.health = HealthState(spec.healthy_threshold, spec.unhealthy_threshold);
          it->second.session = state_->next_session++;
          start.emplace_back(key, it->second.session);
        }
      }
    }
  }
  for (auto& [key, session] : start)
    asio::co_spawn(*state_->io, run_session(state_, key, session), asio::detached);
}

std::optional<TargetHealthView> HealthChecker::health(std::string_view key) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->entries.find(key);
  if (it == state_->entries.end()) return std::nullopt;
  const auto& h = it->second.health;
  return TargetHealthView{h.state(), h.reason(), h.description()};
}

std::map<std::string, dp::Health, std::less<>> HealthChecker::healths() const {
  std::lock_guard lock(state_->mutex);
  std::map<std::string, dp::Health, std::less<>> out;
  for (const auto& [key, e] : state_->entries) out.emplace(key, e.health.health());
  return out;
}

std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> HealthChecker::healthy_since() const {
  std::lock_guard lock(state_->mutex);
  std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> out;
  for (const auto& [key, e] : state_->entries)
    if (e.health.health() == dp::Health::kHealthy) out.emplace(key, e.healthy_since);
  return out;
}

void HealthChecker::stop() {
  std::lock_guard lock(state_->mutex);
  state_->stopped = true;
  state_->on_change = nullptr;
}

}  // namespace berth::elb
