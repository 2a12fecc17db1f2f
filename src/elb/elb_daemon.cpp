#include "elb/elb_daemon.h"

#include <optional>

#include "core/log.h"
#include "ec2/sg_publisher.h"
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
  void stop() override {
    if (builder_) builder_->stop();
    if (checker_) checker_->stop();
    if (data_loops_) {
      data_loops_->stop();
      data_loops_->join();
    }
    if (proxy_) proxy_->stop();  // its loops no longer run
    groups_.reset();
  }
  ~Daemon() override { stop(); }

  std::optional<api::Service> service_;
  std::unique_ptr<ec2::SecurityGroupPublisher> groups_;
  // The data plane's own event loops (one per core, as the daemon's): a
  // control-plane task blocking a shared loop on SQLite (a reconciler's
  // write transaction) would stall the load balancer's requests on it.
  // Declared before proxy_, so they outlive it.
  std::unique_ptr<net::EventLoops> data_loops_;
  std::unique_ptr<dp::Proxy> proxy_;
  std::unique_ptr<HealthChecker> checker_;
  std::unique_ptr<RoutingBuilder> builder_;
};

}  // namespace

Result<std::unique_ptr<ElbDaemon>> start_elb(store::Database& db, const Clock& clock, net::EventLoops& loops,
                                             const std::string& bind_address, const std::string& region,
                                             const std::string& account_id, dp::PrivateConnector private_connector) {
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
  d->checker_ = std::make_unique<HealthChecker>(
      loops.at(0),
      [raw] {
        if (raw->builder_) raw->builder_->rebuild();
      },
      [publisher] { return publisher->current(); }, std::move(private_connector));
  ElbOptions options;
  options.region = region;
  options.account_id = account_id;
  auto service = make_elb_service(db, clock, options, d->checker_.get());
  if (!service) return std::move(service).error();
  d->service_ = std::move(*service);
  auto* proxy = d->proxy_.get();
  d->builder_ = std::make_unique<RoutingBuilder>(
      db, [proxy](std::shared_ptr<const dp::Snapshot> s) { proxy->publish(std::move(s)); }, d->checker_.get());
  if (auto st = d->builder_->start(); !st) return std::move(st).error();
  return std::unique_ptr<ElbDaemon>(std::move(d));
}

}  // namespace berth::elb
