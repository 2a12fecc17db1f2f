// One line per service module. A module whose target is not built (its
// BERTH_HAVE_* is 0 or undefined) is simply left out, so the daemon builds
// with any subset of modules. The owners of ec2 and ecr put their own line
// (and include) inside their guard.
#include "cli/services.h"

#include "iam/services.h"

#if BERTH_HAVE_EC2_API
#include "core/log.h"
#include "ec2/ec2_service.h"
#endif

#if BERTH_HAVE_ECR
#include "core/log.h"
#include "ecr/daemon_wiring.h"
#endif

#if BERTH_HAVE_ELB
#include "core/log.h"
#include "elb/elb_daemon.h"
#endif

#if BERTH_HAVE_ECS
#include "core/log.h"
#include "ecs/ecs.h"
#endif

#if BERTH_HAVE_SECRETS
#include "core/log.h"
#include "secrets/daemon_wiring.h"
#endif

#if BERTH_HAVE_LOGS
#include "core/log.h"
#include "logs/daemon_wiring.h"
#include "logs/logs_service.h"
#endif

#if BERTH_HAVE_CLOUDWATCH
#include "cloudwatch/daemon_wiring.h"
#include "core/log.h"
#if BERTH_HAVE_ELB && BERTH_HAVE_ECS && BERTH_HAVE_ECS_RUNTIME
#include "cli/metric_publisher.h"
#endif
#endif

#if BERTH_HAVE_AUTOSCALING
#include <cstdlib>

#include "autoscaling/daemon_wiring.h"
#include "cli/scaling_wiring.h"
#include "core/log.h"
#endif

#if BERTH_HAVE_ELB && BERTH_HAVE_ECS
#include "cli/load_balancing_wiring.h"
#endif

#if BERTH_HAVE_CONSOLE
#include "console/console.h"
#endif
#if BERTH_HAVE_ECS_RUNTIME && BERTH_HAVE_ECR && BERTH_HAVE_EC2_API
#define BERTH_WIRE_TASK_RUNTIME 1
#include <cstdlib>
#include <string_view>

#include "cli/task_runtime_wiring.h"
#if BERTH_HAVE_LOGS
#include "cli/awslogs_wiring.h"
#endif
#endif

namespace berth::cli {

Status register_services(ServiceRegistry& services, DaemonContext& ctx) {
  // A module that cannot start stops the daemon's start (see services.h).
  auto cannot_start = [](std::string_view module, const Error& e) {
    return Error::unavailable("cannot start " + std::string(module) + ": " + e.message);
  };
  services.add(iam::make_iam_service(ctx.iam));
  services.add(iam::make_sts_service(ctx.iam));
#if BERTH_HAVE_CONSOLE
  {
    auto console = std::make_shared<console::Console>(ctx.iam, ctx.clock);
    services.add(console->service());
    services.set_console([console](net::Request& r) { return console->handle(r); });
  }
#endif
#if BERTH_HAVE_ECR
  std::shared_ptr<ecr::Ecr> ecr_shared;  // the registry; the task runtime pulls from it too
#endif
#if BERTH_WIRE_TASK_RUNTIME
  std::shared_ptr<TaskRuntimeWiring> task_runtime;  // ELB may use task_runtime->runtime() (open_private_route)
#endif
#if BERTH_HAVE_EC2_API
  ec2::Ec2Options ec2_options;
  ec2_options.region = ctx.region;
  ec2_options.account_id = ctx.account_id;
  if (auto ec2 = ec2::make_ec2_service(ctx.db, ec2_options)) {
    services.add(std::move(*ec2));
  } else {
    return cannot_start("ec2", ec2.error());
  }
#endif
#if BERTH_HAVE_ECR
  if (auto ecr = ecr::open_for_daemon(ctx.db, ctx.iam, ctx.clock, ctx.data_dir + "/ecr", ctx.account_id, ctx.region)) {
    std::shared_ptr<ecr::Ecr> shared = std::move(*ecr);
    ecr_shared = shared;
    services.add(shared->service());
    services.set_registry([shared](net::Request& r) { return shared->registry().handle(r); });
  } else {
    return cannot_start("ecr", ecr.error());
  }
#endif
#if BERTH_HAVE_SECRETS
  // SSM Parameter Store and Secrets Manager; secret_reader resolves a task's
  // secrets (container definitions' secrets[].valueFrom) for ECS.
  std::shared_ptr<secrets::SecretReader> secret_reader;
  if (auto opened = secrets::open_for_daemon(ctx.db, ctx.iam, ctx.clock, ctx.data_dir + "/secrets", ctx.account_id,
                                             ctx.region)) {
    services.add((*opened)->ssm_service());
    services.add((*opened)->secretsmanager_service());
    secret_reader = (*opened)->reader();
  } else {
    return cannot_start("secrets (ssm, secretsmanager)", opened.error());
  }
#endif
#if BERTH_HAVE_LOGS
  // CloudWatch Logs, in its own database file (DATA/logs/logs.db); log_store
  // is what the task runtime's awslogs driver writes to.
  std::shared_ptr<logs::LogStore> log_store;
  if (auto opened = logs::open_for_daemon(ctx.data_dir + "/logs", ctx.clock, ctx.account_id, ctx.region)) {
    log_store = std::move(*opened);
    services.add(logs::make_logs_service(log_store));
  } else {
    return cannot_start("logs", opened.error());
  }
#endif
#if BERTH_HAVE_CLOUDWATCH
  // CloudWatch metrics and alarms. Publishers (load balancer, ECS) put their
  // datapoints and Application Auto Scaling its alarms through this object,
  // in process; BERTH_TIME_SCALE speeds alarm periods up for tests.
  std::shared_ptr<cloudwatch::CloudWatch> cloudwatch;
  if (auto opened = cloudwatch::open_for_daemon(ctx.db, ctx.clock, ctx.data_dir + "/cloudwatch", ctx.account_id,
                                                ctx.region)) {
    cloudwatch = std::move(*opened);
    services.add(cloudwatch->service());
    services.on_stop([cloudwatch] { cloudwatch->stop(); });
  } else {
    return cannot_start("cloudwatch", opened.error());
  }
#endif
#if BERTH_WIRE_TASK_RUNTIME
  // The host agent: runs the tasks ECS places. Its stop hook is added
  // before ELB's and ECS's, so it runs after them (hooks run in reverse).
  // BERTH_TASK_RUNTIME=none leaves it out: tasks are placed and stay
  // PENDING (API and placement tests, machines without runc or root).
  const char* runtime_mode = std::getenv("BERTH_TASK_RUNTIME");
  if (runtime_mode && std::string_view(runtime_mode) == "none") {
    log::info("berth", "task runtime: off (BERTH_TASK_RUNTIME=none); tasks stay PENDING");
  } else if (ecr_shared) {
    ecs::SecretResolver resolve_secrets;
#if BERTH_HAVE_SECRETS
    if (secret_reader)
      resolve_secrets = [secret_reader](const std::vector<ecs::SecretRequest>& requests) {
        std::vector<secrets::SecretReader::Request> asked;
        for (const auto& r : requests) asked.push_back({r.value_from, r.execution_role_arn});
        return secret_reader->read(asked);
      };
#endif
    TaskRuntimeHooks hooks;
    hooks.secrets = std::move(resolve_secrets);
#if BERTH_HAVE_LOGS
    if (log_store) {
      hooks.log_destination = awslogs_destination(log_store);
      hooks.log_streams = awslogs_stream_preparer(log_store);
    }
#endif
    if (auto wiring = TaskRuntimeWiring::start(ctx, ecr_shared, std::move(hooks))) {
      task_runtime = std::move(*wiring);
      services.on_stop([task_runtime] { task_runtime->stop(); });
    } else {
      return cannot_start("the task runtime", wiring.error());
    }
  }
#endif
#if BERTH_HAVE_ELB
  std::shared_ptr<elb::ElbDaemon> elb_daemon;  // the ECS scheduler registers service tasks in its target groups
  // Instance targets on their private addresses, and IP targets on an awsvpc
  // task's ENI: through the task's route into its network namespace, decided
  // by the task's security groups against the load balancer's address and
  // groups.
  elb::dp::PrivateConnector private_connector;
#if BERTH_WIRE_TASK_RUNTIME
  if (task_runtime)
    private_connector = [task_runtime](const std::string& ip, uint16_t port, const ec2::IpAddress& source,
                                       std::span<const ec2::GroupId> source_groups) {
      using Status = elb::dp::PrivateRoute::Status;
      auto route = task_runtime->runtime().open_private_route(ip, port, source, source_groups);
      if (route) return elb::dp::PrivateRoute{Status::kOpened, route->fd, route->container_port};
      if (route.error().error_class == ErrorClass::kDenied) return elb::dp::PrivateRoute{Status::kDenied};
      return elb::dp::PrivateRoute{Status::kNoRoute};
    };
#endif
  if (auto elb = elb::start_elb(ctx.db, ctx.clock, ctx.loops, ctx.bind_address, ctx.region, ctx.account_id,
                                private_connector, ctx.allow_loopback_targets)) {
    std::shared_ptr<elb::ElbDaemon> shared = std::move(*elb);
    elb_daemon = shared;
    services.add(shared->take_service());
    services.on_stop([shared] { shared->stop(); });
    services.add_metrics([shared] { return shared->metrics_text(); });
  } else {
    return cannot_start("elasticloadbalancing", elb.error());
  }
#endif
#if BERTH_HAVE_ECS
  // Without a task runtime, tasks are placed and recorded but stay PENDING.
  ecs::TaskLauncher* launcher = nullptr;
#if BERTH_WIRE_TASK_RUNTIME
  if (task_runtime) launcher = task_runtime->launcher();
#endif
  // Its stop hook runs before the load balancer's (hooks run in reverse), so
  // the scheduler never reaches a stopped load balancer.
  std::shared_ptr<ecs::LoadBalancing> load_balancing;
#if BERTH_HAVE_ELB
  if (elb_daemon) load_balancing = make_load_balancing(elb_daemon);
#endif
  if (auto ecs = ecs::EcsDaemon::start(ctx.db, ctx.clock, ctx.loops.at(0), ecs::Options{ctx.region, ctx.account_id},
                                       launcher, load_balancing.get())) {
    std::shared_ptr<ecs::EcsDaemon> shared = std::move(*ecs);
    services.add(shared->take_service());
    services.on_stop([shared, load_balancing] { shared->stop(); });
  } else {
    return cannot_start("ecs", ecs.error());
  }
#endif
#if BERTH_HAVE_CLOUDWATCH && BERTH_HAVE_ELB && BERTH_HAVE_ECS && BERTH_HAVE_ECS_RUNTIME
  // What AWS publishes on the user's behalf: AWS/ApplicationELB from the
  // data plane's counters, AWS/ECS from the tasks' cgroups. Stopped before
  // ECS and the load balancer (hooks run in reverse), CloudWatch after.
  if (cloudwatch) {
    MetricPublisher::Sources sources;
    if (elb_daemon) sources.load_balancers = [elb_daemon] { return elb_daemon->metric_totals(); };
    store::Database* db = &ctx.db;
    sources.tasks = [db] { return ecs::running_task_reservations(*db); };
    sources.capacity = [db] { return ecs::registered_capacity(*db); };
#if BERTH_WIRE_TASK_RUNTIME
    if (task_runtime)
      sources.usage = [task_runtime](const std::string& task_id) { return task_runtime->runtime().usage(task_id); };
#endif
    auto publisher = std::make_shared<MetricPublisher>(std::move(sources), cloudwatch, ctx.clock,
                                                       MetricPublisher::interval_for(cloudwatch->options().time_scale));
    services.on_stop([publisher] { publisher->stop(); });
  }
#endif
#if BERTH_HAVE_AUTOSCALING
  // Application Auto Scaling of ECS services: ECS through its store
  // functions (ecs::set_service_desired_count), target tracking alarms kept
  // and evaluated by CloudWatch (without it such policies are refused:
  // "CloudWatch is not available"). BERTH_TIME_SCALE divides cooldowns, so
  // tests see scaling in seconds.
  {
    autoscaling::AutoScalingOptions options;
    options.region = ctx.region;
    options.account_id = ctx.account_id;
    if (const char* scale = std::getenv("BERTH_TIME_SCALE")) {
      double v = std::atof(scale);
      if (v > 0) options.time_scale = v;
    }
    std::unique_ptr<autoscaling::AlarmPort> alarms;
#if BERTH_HAVE_CLOUDWATCH
    if (cloudwatch) alarms = cloudwatch_alarm_port(cloudwatch);
#endif
    if (auto as = autoscaling::AutoScalingDaemon::start(ctx.db, ctx.clock, options, std::move(alarms))) {
      std::shared_ptr<autoscaling::AutoScalingDaemon> shared = std::move(*as);
#if BERTH_HAVE_CLOUDWATCH
      if (cloudwatch) route_scaling_actions(*cloudwatch, shared);
#endif
      services.add(shared->service());
      services.on_stop([shared] { shared->stop(); });
    } else {
      return cannot_start("application-autoscaling", as.error());
    }
  }
#endif
  return Ok{};
}

}  // namespace berth::cli
