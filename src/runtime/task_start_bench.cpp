// bench: start-to-RUNNING latency of RuncTaskRuntime::start (image cached:
// a prepared busybox rootfs, bridge mode, one published port, netns,
// overlay, forwarder) against `runc run --detach` of the same config alone
// (the floor), and the daemon's RSS per running task.
//
//   task_start_bench [TASKS=50] [CONCURRENT=50]
// Prints one JSON object. Needs root, runc, /bin/busybox.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/log.h"
#include "runtime/oci_config.h"
#include "runtime/runc_runtime.h"
#include "runtime/runtime_test_support.h"
#include "runtime/subprocess.h"

namespace fs = std::filesystem;
using namespace berth::runtime;
using Clock = std::chrono::steady_clock;

namespace {

struct Summary {
  double median, p90, min, max;
};

Summary summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * (ms.size() - 1) + 0.5))]; };
  return {at(0.5), at(0.9), ms.front(), ms.back()};
}

// Zombie children of this process: processes reparented to the subreaper
// that nobody reaps would pile up in a long-running daemon.
int zombie_children() {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::ifstream in(e.path() / "stat");
    std::string stat;
    if (!std::getline(in, stat)) continue;
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state;
    int ppid;
    if (rest >> state >> ppid && state == 'Z' && ppid == ::getpid()) ++n;
  }
  return n;
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 12, '\n');
  }
  return 0;
}

std::string json_of(const char* name, const Summary& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "\"%s\": {\"median_ms\": %.2f, \"p90_ms\": %.2f, \"min_ms\": %.2f, \"max_ms\": %.2f}",
                name, s.median, s.p90, s.min, s.max);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("BERTH_BENCH_TRACE")) berth::log::set_level(berth::log::Level::kDebug);
  else berth::log::set_level(berth::log::Level::kWarn);
  int tasks = argc > 1 ? std::atoi(argv[1]) : 50;
  int concurrent = argc > 2 ? std::atoi(argv[2]) : 50;
  fs::path dir = fs::temp_directory_path() / ("berth-bench-" + berth::ids::random_hex(8));
  fs::create_directories(dir);
  std::string rootfs = testing::busybox_rootfs(dir);
  std::string address = testing::private_loopback(200);
  const char* kImage = R"({"config":{"Env":["PATH=/bin"],"Cmd":["/bin/httpd","-f","-p","8080","-h","/www"]}})";

  ContainerSpec web;
  web.name = "web";
  web.image.prepared_rootfs = rootfs;
  web.image.prepared_config_json = kImage;
  web.port_mappings = {{8080, 0, "tcp"}};
  web.stop_signal = "SIGKILL";
  web.memory_mib = 64;

  // The floor: runc run --detach of the same config, rootfs used directly.
  std::vector<double> floor_ms;
  {
    fs::path bundle = dir / "floor";
    fs::create_directories(bundle);
    auto image = parse_image_config(kImage);
    auto config = make_oci_config(*image, web, {.rootfs = rootfs, .cgroups_path = "/berth/bench-floor"});
    std::ofstream(bundle / "config.json") << *config;
    Runc runc((dir / "floor-root").string());
    for (int i = 0; i < tasks; ++i) {
      std::string id = "bench-floor-" + std::to_string(i);
      auto t0 = Clock::now();
      auto pid = runc.run_detached({.id = id, .bundle = bundle.string(), .pid_file = (bundle / "pid").string()}, 2);
      floor_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (!pid) {
        std::fprintf(stderr, "runc run failed: %s\n", pid.error().message.c_str());
        return 1;
      }
      (void)runc.remove(id, true);
      (void)run_program({"true"}, std::chrono::seconds(1));
    }
  }

  std::vector<double> start_ms;
  long rss_before = 0, rss_after = 0;
  int zombies = 0;
  {
    RuncRuntimeOptions o;
    o.data_dir = dir;
    o.security_groups = [] { return berth::ec2::SecurityGroupTable::empty(); };
    RuncTaskRuntime runtime(o);
    auto one_round = [&](int count, bool keep) {
      std::vector<std::string> ids;
      for (int i = 0; i < count; ++i) {
        TaskSpec t;
        t.task_id = "b" + berth::ids::random_hex(12);
        t.containers = {web};
        t.public_ip = address;
        t.security_group_ids = {"sg-0123456789abcdef0"};
        auto t0 = Clock::now();
        auto r = runtime.start(t);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!r) {
          std::fprintf(stderr, "start failed: %s\n", r.error().message.c_str());
          std::exit(1);
        }
        if (!keep) start_ms.push_back(ms);
        ids.push_back(t.task_id);
        if (!keep) {
          (void)runtime.stop(t.task_id, "");
          while (!runtime.state(t.task_id)->stopped) std::this_thread::sleep_for(std::chrono::milliseconds(5));
          (void)runtime.forget(t.task_id);
        }
      }
      return ids;
    };
    one_round(tasks, false);
    rss_before = rss_kib();
    auto running = one_round(concurrent, true);
    rss_after = rss_kib();
    for (const auto& id : running) (void)runtime.stop(id, "");
    for (const auto& id : running)
      while (!runtime.state(id)->stopped) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    zombies = zombie_children();
  }
  fs::remove_all(dir);

  std::printf("{\"tasks\": %d, %s, %s, \"concurrent\": %d, \"rss_per_task_kib\": %.1f, \"zombie_children\": %d}\n", tasks,
              json_of("runtime_start", summarize(start_ms)).c_str(), json_of("runc_run_detach", summarize(floor_ms)).c_str(),
              concurrent, concurrent ? static_cast<double>(rss_after - rss_before) / concurrent : 0.0, zombies);
  return 0;
}
