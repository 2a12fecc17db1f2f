#include "elb/elb_daemon.h"

#include <mutex>
#include <optional>

#include "core/log.h"
#include "ec2/security_group_rules.h"
#include "ec2/sg_publisher.h"
#include "elb/dataplane/in_flight.h"
#include "elb/dataplane/proxy.h"
#include "elb/elb_service.h"
#include "elb/health/health_checker.h"
#include "elb/routing_builder.h"

namespace berth::elb {
namespace {

class Daemon final : public ElbDaemon {
 public:
  api::Service take_service() override { return std::move(*service_); }
  std::string metrics_text() const override { return proxy_ ? proxy_->metrics_text() : std::string(); }
  std::vector<dp::LbTotals> metric_totals() const override {
    return proxy_ ? proxy_->metric_totals() : std::vector<dp::LbTotals>();
  }
  std::optional<TargetHealthView> target_health(std::string_view registration_key) const override {
    return checker_ ? checker_->health(registration_key) : std::nullopt;
  }
  void set_health_listener(std::function<void()> listener) override {
    auto shared = listener ? std::make_shared<const std::function<void()>>(std::move(listener)) : nullptr;
    std::lock_guard lock(listener_mutex_);
    health_listener_ = std::move(shared);
  }
  int64_t requests_in_flight(std::string_view registration_key) const override {
    return in_flight_.in_flight(registration_key);
  }
  // The checker's on_change: snapshot first, so the listener sees routing that matches the health it reads.
  void health_changed() {
    if (builder_) builder_->rebuild();
    std::shared_ptr<const std::function<void()>> listener;
    {
      std::lock_guard lock(listener_mutex_);
      listener = health_listener_;
    }
    if (listener) (*listener)();
  }
  void stop() override {
    {
      std::lock_guard lock(listener_mutex_);
      health_listener_.reset();
    }
    if (builder_) builder_->stop();
    if (checker_) checker_->stop();
    // Joined before the builder goes: a check under way may still call health_changed().
    if (health_loop_) {
      health_loop_->stop();
      health_loop_->join();
    }
    if (data_loops_) {
      data_loops_->stop();
      data_loops_->join();
    }
    if (proxy_) proxy_->stop();  // its loops no longer run
    groups_.reset();
  }
  ~Daemon() override { stop(); }

  std::optional<api::Service> service_;
  // Declared before the builder, which holds a pointer to it.
  dp::InFlightCounters in_flight_;
  std::mutex listener_mutex_;
  std::shared_ptr<const std::function<void()>> health_listener_;
  std::unique_ptr<ec2::SecurityGroupPublisher> groups_;
  // The data plane's own event loops (one per core, as the daemon's): a
  // control-plane task blocking a shared loop on SQLite (a reconciler's
  // write transaction) would stall the load balancer's requests on it.
  // Declared before proxy_, so they outlive it.
  std::unique_ptr<net::EventLoops> data_loops_;
  // The health checks' own loop, for the same reason: a check that waits
  // behind the control plane reports a target's health late.
  std::unique_ptr<net::EventLoops> health_loop_;
  std::unique_ptr<dp::Proxy> proxy_;
  std::unique_ptr<HealthChecker> checker_;
  std::unique_ptr<RoutingBuilder> builder_;
};

}  // namespace

Result<std::unique_ptr<ElbDaemon>> start_elb(store::Database& db, const Clock& clock, net::EventLoops& loops,
                                             const std::string& bind_address, const std::string& region,
                                             const std::string& account_id, dp::PrivateConnector private_connector,
                                             bool allow_loopback_targets) {
  auto d = std::make_unique<Daemon>();
  auto groups = ec2::SecurityGroupPublisher::start(db);
  if (!groups) return std::move(groups).error();
  d->groups_ = std::move(*groups);
  dp::ProxyOptions proxy_options;
  proxy_options.bind_address = bind_address;
  proxy_options.private_connector = private_connector;
  auto* publisher = d->groups_.get();
  d->data_loops_ = std::make_unique<net::EventLoops>(loops.size());
  d->proxy_ =
      std::make_unique<dp::Proxy>(*d->data_loops_, proxy_options, [publisher] { return publisher->current(); });
  d->data_loops_->start();
  Daemon* raw = d.get();
  d->health_loop_ = std::make_unique<net::EventLoops>(1);
  d->health_loop_->start();
  d->checker_ = std::make_unique<HealthChecker>(
      d->health_loop_->at(0),
      [raw] { raw->health_changed(); },
      [publisher] { return publisher->current(); }, std::move(private_connector));
  ElbOptions options;
  options.region = region;
  options.account_id = account_id;
  // Loopback IP targets expose nothing when the load balancers listen on
  // loopback too; on any other address only by the operator's choice.
  auto bind = ec2::IpAddress::parse(bind_address);
  bool loopback_bind = bind && bind->is_v4() && (bind->v4_bits() >> 24) == 127;
  options.loopback_ip_targets = loopback_bind || allow_loopback_targets;
  auto service = make_elb_service(db, clock, options, d->checker_.get());
  if (!service) return std::move(service).error();
  d->service_ = std::move(*service);
  auto* proxy = d->proxy_.get();
  d->builder_ = std::make_unique<RoutingBuilder>(
      db, [proxy](std::shared_ptr<const dp::Snapshot> s) { proxy->publish(std::move(s)); }, d->checker_.get(),
      &d->in_flight_, options.loopback_ip_targets);
  if (auto st = d->builder_->start(); !st) return std::move(st).error();
  return std::unique_ptr<ElbDaemon>(std::move(d));
}

}  // namespace berth::elb
