// A stand-in daemon for the SIGKILL adoption test: starts one busybox httpd
// task (bridge, dynamic port) with RuncTaskRuntime, prints its host port,
// and waits to be killed.
//   runtime_test_helper DATA_DIR ROOTFS PUBLIC_IP TASK_ID
#include <unistd.h>

#include <cstdio>

#include "runtime/runc_runtime.h"

using namespace berth::runtime;

int main(int argc, char** argv) {
  if (argc != 5) return 2;
  RuncRuntimeOptions o;
  o.data_dir = argv[1];
  o.security_groups = [] { return berth::ec2::SecurityGroupTable::empty(); };
  RuncTaskRuntime runtime(o);
  ContainerSpec web;
  web.name = "web";
  web.image.prepared_rootfs = argv[2];
  web.image.prepared_config_json = R"({"config":{"Env":["PATH=/bin"]}})";
  web.command = std::vector<std::string>{"/bin/httpd", "-f", "-p", "8080", "-h", "/www"};
  web.port_mappings = {{8080, 0, "tcp"}};
  web.stop_timeout = std::chrono::seconds(1);
  TaskSpec task;
  task.task_id = argv[4];
  task.containers = {web};
  task.public_ip = argv[3];
  task.security_group_ids = {"sg-0123456789abcdef0"};
  auto started = runtime.start(task);
  if (!started) {
    std::fprintf(stderr, "%s\n", started.error().message.c_str());
    return 1;
  }
  std::printf("%u\n", started->bindings.at(0).host_port);
  std::fflush(stdout);
  for (;;) ::pause();
}
