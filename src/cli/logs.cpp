#include "cli/logs.h"

#include <cstdio>

#include "cli/data_dir.h"

#if BERTH_HAVE_ECS_RUNTIME

#include <boost/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "cli/api_client.h"
#include "runtime/logs.h"

namespace berth::cli {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::string task_id_of(const std::string& task) { return task.substr(task.rfind('/') + 1); }

// The tasks of every service named `service` (in `cluster`, or in every
// cluster); nullopt when no cluster has such a service.
Result<std::optional<std::vector<std::string>>> service_tasks(ApiClient& api, const std::string& cluster,
                                                              const std::string& service) {
  std::vector<std::string> clusters;
  if (!cluster.empty()) {
    clusters.push_back(cluster);
  } else {
    auto all = api.ecs("ListClusters", json::object{});
    if (!all) return std::move(all).error();
    for (const auto& arn : all->at("clusterArns").as_array()) clusters.emplace_back(arn.as_string());
  }
  bool found = false;
  std::vector<std::string> tasks;
  for (const auto& c : clusters) {
    auto described = api.ecs("DescribeServices", {{"cluster", c}, {"services", {service}}});
    if (!described) {
      if (described.error().error_class == ErrorClass::kNotFound) continue;
      return std::move(described).error();
    }
    if (described->at("services").as_array().empty()) continue;
    found = true;
    auto listed = api.ecs("ListTasks", {{"cluster", c}, {"serviceName", service}});
    if (!listed) return std::move(listed).error();
    for (const auto& arn : listed->at("taskArns").as_array()) tasks.push_back(task_id_of(std::string(arn.as_string())));
  }
  if (!found) return std::optional<std::vector<std::string>>();
  return std::optional(tasks);
}

// One container's output on its way to stdout: raw for a single task,
// whole lines behind "<task>/<container> | " for a service.
class Printer {
 public:
  explicit Printer(std::string prefix) : prefix_(std::move(prefix)) {}
  void print(std::string_view text) {
    if (prefix_.empty()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      return;
    }
    pending_ += text;
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1)
      std::printf("%s | %.*s\n", prefix_.c_str(), static_cast<int>(nl - start), pending_.data() + start);
    pending_.erase(0, start);
  }

 private:
  std::string prefix_;
  std::string pending_;
};

struct Followed {
  runtime::LogFollower follower;
  Printer printer;
};

class LogsCommand {
 public:
  LogsCommand(const Options& options, std::string dir) : options_(options), dir_(std::move(dir)) {}

  int run() {
    std::string task = task_id_of(options_.target);
    if (auto logs = runtime::read_logs(dir_, task); logs) return show_task(task, *logs);
    auto api = ApiClient::for_data_dir(dir_);
    if (!api) return fail("no logs of a task " + task + " in " + dir_ + ", and no daemon to ask for a service");
    api_ = std::move(*api);
    auto tasks = service_tasks(*api_, options_.cluster, options_.target);
    if (!tasks) return fail(tasks.error().message);
    if (!*tasks) return fail("no task or service named " + options_.target + " (data dir " + dir_ + ")");
    service_ = true;
    add_tasks(**tasks, /*from_start=*/true);
    for (auto& [key, f] : followed_) f->printer.print(f->follower.read_new());
    std::fflush(stdout);
    return options_.follow ? follow() : 0;
  }

 private:
  int fail(const std::string& message) {
    std::fprintf(stderr, "berth logs: %s\n", message.c_str());
    return 1;
  }

  int show_task(const std::string& task, const std::vector<runtime::ContainerLog>& logs) {
    bool several = options_.container.empty() && logs.size() > 1;
    bool found = false;
    for (const auto& log : logs) {
      if (!options_.container.empty() && log.container != options_.container) continue;
      found = true;
      if (several && !options_.follow) std::printf("==> %s <==\n", log.container.c_str());
      if (several && options_.follow) {
        Printer(task.substr(0, 8) + "/" + log.container).print(log.text);
      } else {
        std::fwrite(log.text.data(), 1, log.text.size(), stdout);
      }
      if (options_.follow)
        followed_[task + "/" + log.container] = std::make_unique<Followed>(
            Followed{runtime::LogFollower(dir_, task, log.container, false),
                     Printer(several ? task.substr(0, 8) + "/" + log.container : "")});
    }
    if (!found) {
      std::string names;
      for (const auto& log : logs) names += (names.empty() ? "" : ", ") + log.container;
      return fail("task " + task + " has no container " + options_.container + " (it has " + names + ")");
    }
    std::fflush(stdout);
    return options_.follow ? follow() : 0;
  }

  void add_tasks(const std::vector<std::string>& tasks, bool from_start) {
    for (const auto& task : tasks) {
      if (!seen_.insert(task).second) continue;
      auto containers = runtime::log_containers(dir_, task);
      if (containers.empty()) {
        seen_.erase(task);  // not started yet: its logs come later
        continue;
      }
      for (const auto& container : containers) {
        if (!options_.container.empty() && container != options_.container) continue;
        followed_[task + "/" + container] = std::make_unique<Followed>(
            Followed{runtime::LogFollower(dir_, task, container, from_start),
                     Printer(task.substr(0, 8) + "/" + container)});
      }
    }
  }

  // Until interrupted: what the containers write, every 250 ms; a
  // service's new tasks every 2 s.
  int follow() {
    auto next_refresh = std::chrono::steady_clock::now() + 2s;
    for (;;) {
      std::this_thread::sleep_for(250ms);
      if (service_ && std::chrono::steady_clock::now() >= next_refresh) {
        if (auto tasks = service_tasks(*api_, options_.cluster, options_.target); tasks && *tasks)
          add_tasks(**tasks, /*from_start=*/true);
        next_refresh = std::chrono::steady_clock::now() + 2s;
      }
      for (auto& [key, f] : followed_) f->printer.print(f->follower.read_new());
      std::fflush(stdout);
    }
  }

  const Options& options_;
  std::string dir_;
  std::unique_ptr<ApiClient> api_;
  bool service_ = false;
  std::set<std::string> seen_;
  std::map<std::string, std::unique_ptr<Followed>> followed_;
};

}  // namespace

int run_logs(const Options& options) {
  return LogsCommand(options, data_dir_or_default(options.data_dir)).run();
}

}  // namespace berth::cli

#else

namespace berth::cli {

int run_logs(const Options&) {
  std::fputs("berth logs: this build has no task runtime\n", stderr);
  return 1;
}

}  // namespace berth::cli

#endif
