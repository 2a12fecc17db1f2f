#include "ecs/scheduler/scheduler.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "core/log.h"
#include "ecs/schema.h"
#include "ecs/scheduler/applier.h"
#include "ecs/services.h"

namespace berth::ecs {
namespace {

using ServiceKey = std::pair<std::string, std::string>;  // cluster, name

constexpr auto kPeriod = std::chrono::seconds(1);

// Tables whose changes can matter to every service: capacity (instances)
// and the load balancers' configuration.
bool touches_all(std::string_view table) {
  return table == kContainerInstancesTable || table == "ec2_instances" || table == "elb_objects";
}

}  // namespace

struct ServiceScheduler::Loop {
  Loop(store::Database& d, const Clock& c, Options o, LoadBalancing* lb)
      : db(d), clock(c), options(std::move(o)), load_balancing(lb), rng(std::random_device{}()) {}

  store::Database& db;
  const Clock& clock;
  Options options;
  LoadBalancing* load_balancing;
  std::mt19937 rng;
  std::map<std::string, double, std::less<>> drain_started;
  std::mutex pass_mutex;  // one pass at a time (the loop, or reconcile_all from a test)

  // The dirty set, under `mutex`.
  std::mutex mutex;
  std::condition_variable wake;
  bool stopped = false;
  bool all_dirty = true;
  std::set<ServiceKey> dirty;
  std::vector<std::string> dirty_tasks;
  std::thread thread;
  store::Subscription subscription;

  void notice(const std::vector<store::Change>& changes) {
    bool any = false;
    std::lock_guard lock(mutex);
    for (const auto& c : changes) {
      if (c.table == kServicesTable) {
        auto slash = c.key.find('/');
        dirty.insert({c.key.substr(0, slash), c.key.substr(slash + 1)});
      } else if (c.table == kTasksTable) {
        dirty_tasks.push_back(c.key);
      } else if (touches_all(c.table)) {
        all_dirty = true;
      } else {
        continue;
      }
      any = true;
    }
    if (any) wake.notify_one();
  }

  void mark_all() {
    std::lock_guard lock(mutex);
    all_dirty = true;
    wake.notify_one();
  }

  Result<std::set<ServiceKey>> services_of(const std::vector<std::string>& task_ids) {
    return db.read([&](store::Tx& tx) -> Result<std::set<ServiceKey>> {
      std::set<ServiceKey> out;
      auto stmt = tx.prepare("SELECT cluster, service FROM ecs_tasks WHERE id = ? AND service != ''");
      if (!stmt) return std::move(stmt).error();
      for (const auto& id : task_ids) {
        stmt->reset();
        stmt->bind_all(id);
        auto row = stmt->step();
        if (!row) return std::move(row).error();
        if (*row) out.insert({stmt->column_string(0), stmt->column_string(1)});
      }
      return out;
    });
  }

  Result<std::set<ServiceKey>> every_live_service() {
    return db.read([&](store::Tx& tx) -> Result<std::set<ServiceKey>> {
      auto rows = live_services(tx);
      if (!rows) return std::move(rows).error();
      std::set<ServiceKey> out;
      for (const auto& r : *rows) out.insert({r.cluster, r.name});
      return out;
    });
  }

  Status pass(const std::set<ServiceKey>& services) {
    std::lock_guard lock(pass_mutex);
    scheduler::PassContext ctx{options, load_balancing, drain_started, rng};
    Status result = Ok{};
    for (const auto& [cluster, name] : services) {
      auto s = db.transaction([&](store::Tx& tx) {
        return scheduler::reconcile_service(tx, ctx, cluster, name, clock.now());
      });
      if (!s) {
        log::warn("ecs", "service ", cluster, "/", name, ": ", s.error().message);
        result = s;
      }
    }
    return result;
  }

  void run() {
    auto last_full = std::chrono::steady_clock::now() - kPeriod;
    std::unique_lock lock(mutex);
    while (!stopped) {
      wake.wait_until(lock, last_full + kPeriod,
                      [&] { return stopped || all_dirty || !dirty.empty() || !dirty_tasks.empty(); });
      if (stopped) break;
      bool full = all_dirty || std::chrono::steady_clock::now() >= last_full + kPeriod;
      std::set<ServiceKey> services = std::exchange(dirty, {});
      std::vector<std::string> tasks = std::exchange(dirty_tasks, {});
      all_dirty = false;
      lock.unlock();
      // A pass that throws (a stored row it cannot read) is logged; the
      // loop, and the daemon, go on.
      try {
        Result<std::set<ServiceKey>> more = full ? every_live_service() : services_of(tasks);
        if (full) last_full = std::chrono::steady_clock::now();
        if (more) services.insert(more->begin(), more->end());
        else log::warn("ecs", "scheduler: ", more.error().message);
        (void)pass(services);
      } catch (const std::exception& e) {
        log::error("ecs", "scheduler pass: ", e.what());
      }
      lock.lock();
    }
  }
};

ServiceScheduler::ServiceScheduler(store::Database& db, const Clock& clock, Options options,
                                   LoadBalancing* load_balancing)
    : loop_(std::make_shared<Loop>(db, clock, std::move(options), load_balancing)) {}

ServiceScheduler::~ServiceScheduler() { stop(); }

Status ServiceScheduler::reconcile_all() {
  auto services = loop_->every_live_service();
  if (!services) return std::move(services).error();
  return loop_->pass(*services);
}

void ServiceScheduler::start() {
  std::weak_ptr<Loop> weak = loop_;
  loop_->subscription = loop_->db.subscribe([weak](const std::vector<store::Change>& changes) {
    if (auto self = weak.lock()) self->notice(changes);
  });
  if (loop_->load_balancing) {
    loop_->load_balancing->on_health_change([weak] {
      if (auto self = weak.lock()) self->mark_all();
    });
  }
  loop_->thread = std::thread([loop = loop_] { loop->run(); });
}

void ServiceScheduler::stop() {
  {
    std::lock_guard lock(loop_->mutex);
    if (loop_->stopped) return;
    loop_->stopped = true;
    loop_->wake.notify_one();
  }
  if (loop_->thread.joinable()) loop_->thread.join();
  loop_->subscription.reset();
}

}  // namespace berth::ecs
