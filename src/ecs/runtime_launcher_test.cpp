// The ECS <-> runtime mappings: a task definition with overrides becomes the
// runtime's TaskSpec; the runtime's TaskState becomes ECS's TaskReport.
#include "ecs/runtime_launcher.h"

#include "ecs/task_definition_features.h"
#include "core/testing/expect_ok.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace berth::ecs {
namespace {

namespace json = boost::json;

LaunchRequest request() {
  LaunchRequest r;
  r.task_id = "0123456789abcdef0123456789abcdef";
  r.launch_type = "EC2";
  r.public_ip = "127.100.0.5";
  r.private_ip = "172.31.0.5";
  r.security_group_ids = {"sg-1"};
  r.task_definition = json::parse(R"({"family":"web","networkMode":"bridge","containerDefinitions":[
      {"name":"app","image":"127.0.0.1:4566/outyet:latest","cpu":256,"memory":128,"memoryReservation":64,
       "essential":true,"entryPoint":["/outyet"],"command":["-poll","5s"],
       "environment":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
       "portMappings":[{"containerPort":8080,"hostPort":0,"protocol":"tcp"}],
       "healthCheck":{"command":["CMD-SHELL","true"],"interval":10,"timeout":2,"retries":4,"startPeriod":1},
       "ulimits":[{"name":"nofile","softLimit":1024,"hardLimit":4096}],"stopTimeout":5,
       "workingDirectory":"/","user":"1000","readonlyRootFilesystem":true},
      {"name":"side","image":"busybox","memory":32,"essential":false}]})")
                          .as_object();
  r.overrides = json::parse(R"({"containerOverrides":[{"name":"app","command":["-poll","1s"],
      "environment":[{"name":"B","value":"3"},{"name":"C","value":"4"}],"memory":256},{"name":"side"}]})")
                    .as_object();
  return r;
}

TEST(RuntimeLauncher, TaskSpecFromDefinitionAndOverrides) {
  runtime::TaskSpec spec = task_spec_for(request());
  EXPECT_EQ(spec.task_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(spec.network_mode, runtime::NetworkMode::kBridge);
  EXPECT_EQ(spec.public_ip, "127.100.0.5");
  EXPECT_EQ(spec.private_ip, "172.31.0.5");
  EXPECT_EQ(spec.security_group_ids, std::vector<std::string>{"sg-1"});
  ASSERT_EQ(spec.containers.size(), 2u);
  const auto& app = spec.containers[0];
  EXPECT_EQ(app.image_reference, "127.0.0.1:4566/outyet:latest");
  EXPECT_TRUE(app.essential);
  EXPECT_EQ(*app.entry_point, std::vector<std::string>{"/outyet"});
  EXPECT_EQ(*app.command, (std::vector<std::string>{"-poll", "1s"}));  // overridden
  std::vector<std::pair<std::string, std::string>> env{{"A", "1"}, {"B", "3"}, {"C", "4"}};
  EXPECT_EQ(app.environment, env);
  EXPECT_EQ(app.memory_mib, 256);  // overridden
  EXPECT_EQ(app.memory_reservation_mib, 64);
  EXPECT_EQ(app.cpu_shares, 256);
  EXPECT_EQ(app.working_directory, "/");
  EXPECT_EQ(app.user, "1000");
  EXPECT_TRUE(app.readonly_root_filesystem);
  EXPECT_EQ(app.stop_timeout, std::chrono::seconds(5));
  ASSERT_EQ(app.ulimits.size(), 1u);
  EXPECT_EQ(app.ulimits[0].hard, 4096);
  ASSERT_EQ(app.port_mappings.size(), 1u);
  EXPECT_EQ(app.port_mappings[0].container_port, 8080);
  EXPECT_EQ(app.port_mappings[0].host_port, 0);
  ASSERT_TRUE(app.health_check.has_value());
  EXPECT_EQ(app.health_check->interval, std::chrono::seconds(10));
  EXPECT_EQ(app.health_check->retries, 4);
  EXPECT_EQ(app.health_check->start_period, std::chrono::seconds(1));
  EXPECT_FALSE(spec.containers[1].essential);
  EXPECT_FALSE(spec.containers[1].command.has_value());
  EXPECT_EQ(spec.memory_mib, 0);  // no task-level sizes
  EXPECT_EQ(spec.cpu_shares, 0);

  LaunchRequest awsvpc = request();
  awsvpc.task_definition["networkMode"] = "awsvpc";
  awsvpc.task_definition["cpu"] = "512";
  awsvpc.task_definition["memory"] = "1024";
  awsvpc.overrides["memory"] = "2048";
  runtime::TaskSpec sized = task_spec_for(awsvpc);
  EXPECT_EQ(sized.network_mode, runtime::NetworkMode::kAwsvpc);
  EXPECT_EQ(sized.cpu_shares, 512);
  EXPECT_EQ(sized.memory_mib, 2048);
}

TEST(RuntimeLauncher, ReportsFromRuntimeState) {
  runtime::TaskState s;
  s.task_id = "t1";
  s.health = runtime::HealthStatus::kHealthy;
  runtime::ContainerState c;
  c.name = "app";
  c.runtime_id = "berth-t1-app";
  c.status = runtime::ContainerStatus::kRunning;
  c.health = runtime::HealthStatus::kHealthy;
  s.containers.push_back(c);
  s.bindings.push_back({"app", "127.100.0.5", 8080, 49153, "tcp"});
  TaskReport running = report_for(s);
  EXPECT_EQ(running.last_status, "RUNNING");
  EXPECT_EQ(running.health_status, "HEALTHY");
  ASSERT_EQ(running.containers.size(), 1u);
  EXPECT_EQ(running.containers[0].last_status, "RUNNING");
  EXPECT_EQ(running.containers[0].runtime_id, "berth-t1-app");
  ASSERT_EQ(running.containers[0].network_bindings.size(), 1u);
  EXPECT_EQ(running.containers[0].network_bindings[0].host_port, 49153);
  EXPECT_EQ(running.containers[0].network_bindings[0].bind_ip, "0.0.0.0");

  s.stopped = true;
  s.stop_cause = runtime::StopCause::kEssentialContainerExited;
  s.containers[0].status = runtime::ContainerStatus::kStopped;
  s.containers[0].exit_code = 137;
  s.containers[0].reason = "OutOfMemoryError: Container killed due to memory usage";
  TaskReport stopped = report_for(s);
  EXPECT_EQ(stopped.last_status, "STOPPED");
  EXPECT_EQ(stopped.stop_code, "EssentialContainerExited");
  EXPECT_EQ(stopped.stopped_reason, "Essential container in task exited");
  EXPECT_EQ(stopped.containers[0].exit_code, 137);
  EXPECT_EQ(stopped.containers[0].last_status, "STOPPED");

  s.stop_cause = runtime::StopCause::kTaskFailedToStart;
  s.stopped_reason = "CannotPullContainerError: image not found";
  EXPECT_EQ(report_for(s).stop_code, "TaskFailedToStart");
  EXPECT_EQ(report_for(s).stopped_reason, "CannotPullContainerError: image not found");
  s.stop_cause = runtime::StopCause::kUserInitiated;
  s.stopped_reason = "";
  EXPECT_EQ(report_for(s).stopped_reason, "Task stopped by user");
}

TEST(RuntimeLauncher, FeaturesOfTheDefinitionReachTheSpec) {
  LaunchRequest r = request();
  r.task_definition = json::parse(R"({"family":"f","networkMode":"bridge",
      "volumes":[{"name":"scratch","host":{}},{"name":"host","host":{"sourcePath":"/srv"}},
                 {"name":"db","dockerVolumeConfiguration":{"scope":"shared","autoprovision":true}}],
      "containerDefinitions":[
      {"name":"db","image":"i","memory":64,"mountPoints":[{"sourceVolume":"db","containerPath":"/var/db","readOnly":true}]},
      {"name":"app","image":"i","memory":64,"volumesFrom":[{"sourceContainer":"db","readOnly":true}],
       "dependsOn":[{"containerName":"db","condition":"HEALTHY"}],"startTimeout":20,
       "linuxParameters":{"capabilities":{"add":["NET_ADMIN"],"drop":["MKNOD"]},"initProcessEnabled":true,
                          "tmpfs":[{"containerPath":"/t","size":8,"mountOptions":["noexec"]}],"sharedMemorySize":32,
                          "swappiness":10,"maxSwap":0,"devices":[{"hostPath":"/dev/fuse","permissions":["read"]}]},
       "privileged":true,"pseudoTerminal":true,"interactive":true,"dockerSecurityOptions":["no-new-privileges"],
       "systemControls":[{"namespace":"net.core.somaxconn","value":"512"}],
       "dnsServers":["10.0.0.2"],"dnsSearchDomains":["corp"],"extraHosts":[{"hostname":"h","ipAddress":"10.0.0.9"}],
       "dockerLabels":{"team":"web"},"portMappings":[{"containerPort":53,"protocol":"udp"}]}]})")
                          .as_object();
  r.overrides = {};
  auto spec = task_spec_for(r);
  ASSERT_EQ(spec.volumes.size(), 3u);
  EXPECT_EQ(spec.volumes[0].kind, runtime::Volume::Kind::kScratch);
  EXPECT_EQ(spec.volumes[1].host_path, "/srv");
  EXPECT_TRUE(spec.volumes[2].shared && spec.volumes[2].autoprovision);
  const auto& db = spec.containers[0];
  ASSERT_EQ(db.mount_points.size(), 1u);
  EXPECT_TRUE(db.mount_points[0].read_only);
  const auto& app = spec.containers[1];
  ASSERT_EQ(app.volumes_from.size(), 1u);
  EXPECT_EQ(app.volumes_from[0].source_container, "db");
  ASSERT_EQ(app.depends_on.size(), 1u);
  EXPECT_EQ(app.depends_on[0].condition, runtime::DependencyCondition::kHealthy);
  EXPECT_EQ(app.start_timeout, std::chrono::seconds(20));
  EXPECT_EQ(app.linux.capabilities_add, std::vector<std::string>{"NET_ADMIN"});
  EXPECT_EQ(app.linux.capabilities_drop, std::vector<std::string>{"MKNOD"});
  EXPECT_TRUE(app.linux.init_process && app.linux.privileged && app.linux.pseudo_terminal && app.linux.interactive);
  EXPECT_TRUE(app.linux.no_new_privileges);
  ASSERT_EQ(app.linux.tmpfs.size(), 1u);
  EXPECT_EQ(app.linux.tmpfs[0].size_mib, 8);
  EXPECT_EQ(app.linux.shared_memory_mib, 32);
  EXPECT_EQ(app.linux.swappiness, 10);
  EXPECT_EQ(app.linux.max_swap_mib, 0);
  ASSERT_EQ(app.linux.devices.size(), 1u);
  EXPECT_EQ(app.linux.devices[0].permissions, std::vector<std::string>{"read"});
  EXPECT_EQ(app.linux.sysctls.size(), 1u);
  EXPECT_EQ(app.dns_servers, std::vector<std::string>{"10.0.0.2"});
  EXPECT_EQ(app.dns_search_domains, std::vector<std::string>{"corp"});
  EXPECT_EQ(app.extra_hosts.size(), 1u);
  EXPECT_EQ(app.labels.size(), 1u);
  ASSERT_EQ(app.port_mappings.size(), 1u);
  EXPECT_EQ(app.port_mappings[0].protocol, "udp");
}

TEST(RuntimeLauncher, LinksRestartPolicyAndTaskNamespaces) {
  LaunchRequest r = request();
  r.task_definition = json::parse(R"({"family":"f","networkMode":"bridge","pidMode":"task","ipcMode":"host",
      "containerDefinitions":[
      {"name":"db","image":"i","memory":64,"disableNetworking":false},
      {"name":"app","image":"i","memory":64,"links":["db:database"],"disableNetworking":true,
       "dockerSecurityOptions":["seccomp=unconfined"],
       "restartPolicy":{"enabled":true,"ignoredExitCodes":[0,7],"restartAttemptPeriod":90}}]})")
                          .as_object();
  r.overrides = {};
  auto spec = task_spec_for(r);
  EXPECT_EQ(spec.pid_mode, "task");
  EXPECT_EQ(spec.ipc_mode, "host");
  const auto& app = spec.containers[1];
  EXPECT_EQ(app.extra_hosts, (std::vector<std::pair<std::string, std::string>>{{"db", "127.0.0.1"},
                                                                               {"database", "127.0.0.1"}}));
  ASSERT_EQ(app.depends_on.size(), 1u);  // a link starts the linked container first
  EXPECT_EQ(app.depends_on[0].container, "db");
  EXPECT_EQ(app.depends_on[0].condition, runtime::DependencyCondition::kStart);
  EXPECT_TRUE(app.disable_networking);
  EXPECT_TRUE(app.linux.seccomp_unconfined);
  ASSERT_TRUE(app.restart_policy.has_value());
  EXPECT_EQ(app.restart_policy->ignored_exit_codes, (std::vector<int>{0, 7}));
  EXPECT_EQ(app.restart_policy->attempt_period, std::chrono::seconds(90));
  EXPECT_FALSE(spec.containers[0].restart_policy.has_value());
}

TEST(RuntimeLauncher, AwslogsStreamsAreNamedAsEcsNamesThem) {
  LaunchRequest r = request();
  r.task_definition = json::parse(R"({"family":"f","containerDefinitions":[
      {"name":"app","image":"i","memory":64,"logConfiguration":{"logDriver":"awslogs","options":{
        "awslogs-group":"/ecs/f","awslogs-region":"us-east-1","awslogs-stream-prefix":"ecs","mode":"blocking"}}},
      {"name":"side","image":"i","memory":64,"logConfiguration":{"logDriver":"awslogs","options":{
        "awslogs-group":"/ecs/side","max-buffer-size":"25m"}}},
      {"name":"plain","image":"i","memory":64,"logConfiguration":{"logDriver":"json-file"}}]})")
                          .as_object();
  r.overrides = {};
  auto spec = task_spec_for(r);
  ASSERT_TRUE(spec.containers[0].awslogs.has_value());
  EXPECT_EQ(spec.containers[0].awslogs->group, "/ecs/f");
  EXPECT_EQ(spec.containers[0].awslogs->stream, "ecs/app/" + r.task_id) << "prefix/container-name/task-id";
  EXPECT_FALSE(spec.containers[0].awslogs->non_blocking);
  ASSERT_TRUE(spec.containers[1].awslogs.has_value());
  EXPECT_EQ(spec.containers[1].awslogs->stream, r.task_id + "_side") << "no prefix: the container's id";
  EXPECT_TRUE(spec.containers[1].awslogs->non_blocking) << "ECS's default mode since 2025";
  EXPECT_EQ(spec.containers[1].awslogs->max_buffer_bytes, 25u << 20);
  EXPECT_FALSE(spec.containers[2].awslogs.has_value());

  // A missing group stops the task before anything starts, in each launch type's words.
  std::vector<std::string> made;
  LogStreamPreparer missing_group = [&](const std::string& group, const std::string& stream, bool create) -> Status {
    made.push_back(group + " " + stream + (create ? " create" : ""));
    return Error::not_found("ResourceNotFoundException", "The specified log group does not exist.");
  };
  auto ec2 = prepare_log_streams(r, missing_group, spec);
  ASSERT_FALSE(ec2.ok());
  EXPECT_EQ(ec2.error().message,
            "CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to "
            "create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.");
  r.launch_type = "FARGATE";
  auto fargate = prepare_log_streams(r, missing_group, spec);
  ASSERT_FALSE(fargate.ok());
  EXPECT_EQ(fargate.error().message,
            "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
            "failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not "
            "exist. : exit status 1");
  ASSERT_FALSE(made.empty());
  EXPECT_EQ(made[0], "/ecs/f ecs/app/" + r.task_id);

  made.clear();
  LogStreamPreparer fine = [&](const std::string& group, const std::string& stream, bool) -> Status {
    made.push_back(group + " " + stream);
    return Ok{};
  };
  ASSERT_OK(prepare_log_streams(r, fine, spec));
  EXPECT_EQ(made.size(), 2u) << "one stream per awslogs container";
  EXPECT_EQ(parse_docker_size("1m"), 1u << 20);
  EXPECT_EQ(parse_docker_size("512KiB"), 512u << 10);
  EXPECT_EQ(parse_docker_size("100"), 100u);
  EXPECT_FALSE(parse_docker_size("lots").has_value());
}

// A definition the store holds oddly (or none: its row is gone) maps to a
// spec with what can be read; the runtime then refuses it. Nothing throws
// on the launcher's thread.
TEST(RuntimeLauncher, OddDefinitionsMapWithoutThrowing) {
  for (const char* td : {"{}", R"({"containerDefinitions":7})", R"({"containerDefinitions":[1,"x",null]})",
                         R"({"containerDefinitions":[{"name":"a","portMappings":[1,{"containerPort":80}],
                             "secrets":[1],"environment":[2]}]})"}) {
    LaunchRequest r = request();
    r.task_definition = json::parse(td).as_object();
    runtime::TaskSpec spec;
    EXPECT_NO_THROW(spec = task_spec_for(r)) << td;
    EXPECT_NO_THROW((void)resolve_secrets(r, SecretResolver(), spec)) << td;
    EXPECT_LE(spec.containers.size(), 1u) << td;
  }
}

TEST(RuntimeLauncher, SecretsAreReadWithTheExecutionRole) {
  LaunchRequest r = request();
  r.task_definition = json::parse(R"({"family":"f","executionRoleArn":"arn:aws:iam::1:role/exec",
      "containerDefinitions":[
      {"name":"app","image":"i","memory":64,"secrets":[{"name":"PASSWORD","valueFrom":"/db/password"},
                                                       {"name":"TOKEN","valueFrom":"arn:aws:secretsmanager:us-east-1:1:secret:t-AbCdEf:token::"}]},
      {"name":"side","image":"i","memory":64,"repositoryCredentials":{"credentialsParameter":"arn:aws:secretsmanager:us-east-1:1:secret:reg-AbCdEf"}}]})")
                          .as_object();
  r.overrides = {};
  std::vector<SecretRequest> asked;
  SecretResolver resolver = [&](const std::vector<SecretRequest>& requests) -> Result<std::vector<std::string>> {
    asked = requests;
    return std::vector<std::string>{"pw", "tok", "{\"username\":\"u\"}"};
  };
  auto spec = task_spec_for(r);
  ASSERT_OK(resolve_secrets(r, resolver, spec));
  ASSERT_EQ(asked.size(), 3u);
  EXPECT_EQ(asked[0].value_from, "/db/password");
  EXPECT_EQ(asked[0].execution_role_arn, "arn:aws:iam::1:role/exec");
  EXPECT_EQ(spec.containers[0].secrets,
            (std::vector<std::pair<std::string, std::string>>{{"PASSWORD", "pw"}, {"TOKEN", "tok"}}));
  EXPECT_TRUE(spec.containers[1].secrets.empty());  // registry credentials are not environment

  // RunTask's overrides name another role; a resolver's error is the stop reason as it is.
  r.overrides = json::parse(R"({"executionRoleArn":"arn:aws:iam::1:role/other"})").as_object();
  SecretResolver failing = [&](const std::vector<SecretRequest>& requests) -> Result<std::vector<std::string>> {
    asked = requests;
    return Error::not_found("ParameterNotFound", "ResourceInitializationError: unable to pull secrets or registry "
                                                 "auth: execution resource retrieval failed: x");
  };
  spec = task_spec_for(r);
  auto failed = resolve_secrets(r, failing, spec);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(asked[0].execution_role_arn, "arn:aws:iam::1:role/other");
  EXPECT_EQ(failed.error().message.rfind("ResourceInitializationError: unable to pull secrets", 0), 0u);
  EXPECT_FALSE(resolve_secrets(r, SecretResolver(), spec).ok());  // secrets but no stores

  // No secrets: the resolver is never asked.
  LaunchRequest plain = request();
  bool called = false;
  SecretResolver spy = [&](const std::vector<SecretRequest>&) -> Result<std::vector<std::string>> {
    called = true;
    return std::vector<std::string>{};
  };
  spec = task_spec_for(plain);
  EXPECT_OK(resolve_secrets(plain, spy, spec));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace berth::ecs
