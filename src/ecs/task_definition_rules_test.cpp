// Every invalid class of RegisterTaskDefinition input gets its ClientException
// text (table-driven), and valid input gets AWS's defaults.
#include "ecs/task_definition_rules.h"
#include "core/testing/expect_ok.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace berth::ecs {
namespace {

namespace json = boost::json;

Result<ValidatedTaskDefinition> validate(std::string_view text) {
  return validate_task_definition(json::parse(text).as_object());
}

struct Case {
  const char* what;
  const char* request;
  const char* error;  // "Code: message"
};

const Case kInvalid[] = {
    {"family with a dot", R"({"family":"a.b","containerDefinitions":[{"name":"c","image":"i","memory":64}]})",
     "ClientException: Family contains invalid characters."},
    {"family too long",
     R"({"family":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","containerDefinitions":[{"name":"c","image":"i","memory":64}]})",
     "ClientException: Family contains invalid characters."},
    {"no containers", R"({"family":"f","containerDefinitions":[]})", "ClientException: Container list cannot be empty."},
    {"bad network mode", R"({"family":"f","networkMode":"nat","containerDefinitions":[{"name":"c","image":"i","memory":64}]})",
     "ClientException: Invalid networkMode 'nat'. Valid values are bridge, host, awsvpc and none."},
    {"bad compatibility", R"({"family":"f","requiresCompatibilities":["LAMBDA"],"containerDefinitions":[{"name":"c","image":"i","memory":64}]})",
     "ClientException: Invalid requiresCompatibilities value 'LAMBDA'."},
    {"container name with space", R"({"family":"f","containerDefinitions":[{"name":"a b","image":"i","memory":64}]})",
     "ClientException: Container.name contains invalid characters."},
    {"container without name", R"({"family":"f","containerDefinitions":[{"image":"i","memory":64}]})",
     "ClientException: Container.name should not be null or empty."},
    {"container without image", R"({"family":"f","containerDefinitions":[{"name":"c","memory":64}]})",
     "ClientException: Container.image should not be null or empty."},
    {"duplicate container names",
     R"({"family":"f","containerDefinitions":[{"name":"c","image":"i","memory":64},{"name":"c","image":"i","memory":64}]})",
     "ClientException: Duplicate container name 'c' in the task definition."},
    {"no memory anywhere", R"({"family":"f","containerDefinitions":[{"name":"web","image":"i"}]})",
     "ClientException: Invalid setting for container 'web'. At least one of 'memory' or 'memoryReservation' must be specified."},
    {"memory zero", R"({"family":"f","containerDefinitions":[{"name":"web","image":"i","memory":0}]})",
     "ClientException: Invalid 'memory' setting for container 'web'."},
    {"memory below 6 MiB", R"({"family":"f","containerDefinitions":[{"name":"web","image":"i","memory":5}]})",
     "ClientException: Invalid 'memory' setting for container 'web'. The minimum allowed value is 6 MiB."},
    {"reservation below 6 MiB", R"({"family":"f","containerDefinitions":[{"name":"web","image":"i","memoryReservation":4}]})",
     "ClientException: Invalid 'memoryReservation' setting for container 'web'. The minimum allowed value is 6 MiB."},
    {"reservation above memory",
     R"({"family":"f","containerDefinitions":[{"name":"web","image":"i","memory":64,"memoryReservation":128}]})",
     "ClientException: Invalid 'memoryReservation' setting for container 'web'. The value for 'memoryReservation' must be less than or equal to 'memory'."},
    {"container memory above task memory",
     R"({"family":"f","memory":"512","containerDefinitions":[{"name":"web","image":"i","memory":1024}]})",
     "ClientException: The 'memory' setting for container 'web' is greater than for the task."},
    {"container cpu above task cpu",
     R"({"family":"f","cpu":"256","memory":"512","containerDefinitions":[{"name":"web","image":"i","cpu":512}]})",
     "ClientException: The 'cpu' setting for container 'web' is greater than for the task."},
    {"no essential container",
     R"({"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"essential":false}]})",
     "ClientException: A task definition must have at least one essential container."},
    {"awsvpc host port differs",
     R"({"family":"f","networkMode":"awsvpc","containerDefinitions":[{"name":"a","image":"i","memory":64,"portMappings":[{"containerPort":80,"hostPort":8080}]}]})",
     "ClientException: When networkMode=awsvpc, the host ports and container ports in port mappings must match."},
    {"host host port differs",
     R"({"family":"f","networkMode":"host","containerDefinitions":[{"name":"a","image":"i","memory":64,"portMappings":[{"containerPort":80,"hostPort":81}]}]})",
     "ClientException: When networkMode=host, the host ports and container ports in port mappings must match."},
    {"none with port mappings",
     R"({"family":"f","networkMode":"none","containerDefinitions":[{"name":"a","image":"i","memory":64,"portMappings":[{"containerPort":80}]}]})",
     "ClientException: Port mappings are not valid when networkMode=none."},
    {"container port out of range",
     R"({"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"portMappings":[{"containerPort":70000}]}]})",
     "ClientException: Invalid 'containerPort' setting for container 'a'."},
    {"bad protocol",
     R"({"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"portMappings":[{"containerPort":80,"protocol":"sctp"}]}]})",
     "ClientException: Invalid 'protocol' setting for container 'a'."},
    {"health check interval too small",
     R"({"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"healthCheck":{"command":["CMD","true"],"interval":4}}]})",
     "ClientException: Invalid 'healthCheck' setting for container 'a'. The 'interval' must be between 5 and 300."},
    {"health check interval too big",
     R"({"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"healthCheck":{"command":["CMD","true"],"interval":301}}]})",
     "ClientException: Invalid 'healthCheck' setting for container 'a'. The 'interval' must be between 5 and 300."},
    {"health check timeout",
     R"({"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"healthCheck":{"command":["CMD","true"],"timeout":61}}]})",
     "ClientException: Invalid 'healthCheck' setting for container 'a'. The 'timeout' must be between 2 and 60."},
    {"health check retries",
     R"({"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"healthCheck":{"command":["CMD","true"],"retries":0}}]})",
     "ClientException: Invalid 'healthCheck' setting for container 'a'. The 'retries' must be between 1 and 10."},
    {"health check start period",
     R"({"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"healthCheck":{"command":["CMD","true"],"startPeriod":301}}]})",
     "ClientException: Invalid 'healthCheck' setting for container 'a'. The 'startPeriod' must be between 0 and 300."},
    {"health check command",
     R"({"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"healthCheck":{"command":["curl","x"]}}]})",
     "ClientException: Invalid 'healthCheck' setting for container 'a'. The command must start with CMD or CMD-SHELL."},
    {"fargate bridge",
     R"({"family":"f","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512","containerDefinitions":[{"name":"a","image":"i"}]})",
     "ClientException: Fargate only supports network mode \u2018awsvpc\u2019."},
    {"fargate without cpu",
     R"({"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","memory":"512","containerDefinitions":[{"name":"a","image":"i"}]})",
     "ClientException: Fargate requires that 'cpu' be defined at the task level."},
    {"fargate without memory",
     R"({"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","containerDefinitions":[{"name":"a","image":"i"}]})",
     "ClientException: Fargate requires that 'memory' be defined at the task level."},
    {"fargate bad pair",
     R"({"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"4096","containerDefinitions":[{"name":"a","image":"i"}]})",
     "ClientException: No Fargate configuration exists for given values."},
    {"placement constraint of another type",
     R"({"family":"f","placementConstraints":[{"type":"distinctInstance"}],"containerDefinitions":[{"name":"a","image":"i","memory":64}]})",
     "ClientException: Invalid placement constraint: task definitions only support memberOf constraints with an expression."},
    {"placement constraint not an object",
     R"({"family":"f","placementConstraints":[5],"containerDefinitions":[{"name":"a","image":"i","memory":64}]})",
     "ClientException: Invalid placementConstraints."},
    {"command not a list", R"({"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"command":"run"}]})",
     "ClientException: Invalid 'command' setting for container 'a'."},
    {"environment entry not an object",
     R"({"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"environment":["A=1"]}]})",
     "ClientException: Invalid 'environment' setting for container 'a'."},
    {"stop timeout above 120", R"({"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"stopTimeout":121}]})",
     "ClientException: Invalid 'stopTimeout' setting for container 'a'."},
    {"ulimit without name",
     R"({"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"ulimits":[{"softLimit":1,"hardLimit":2}]}]})",
     "ClientException: Invalid 'ulimits' setting for container 'a'."},
    {"task cpu unparsable", R"({"family":"f","cpu":"lots","containerDefinitions":[{"name":"a","image":"i","memory":64}]})",
     "ClientException: Invalid 'cpu' setting for task."},
    {"task cpu too small", R"({"family":"f","cpu":"64","containerDefinitions":[{"name":"a","image":"i","memory":64}]})",
     "ClientException: Invalid 'cpu' setting for task. The value must be between 128 and 196608 CPU units."},
    {"task memory unparsable", R"({"family":"f","memory":"1TBish","containerDefinitions":[{"name":"a","image":"i","memory":64}]})",
     "ClientException: Invalid 'memory' setting for task."},
    // Features that tie containers to volumes, to each other and to the launch type.
    {"mount of an undeclared volume",
     R"({"family":"f","containerDefinitions":[{"name":"c","image":"i","memory":64,"mountPoints":[{"sourceVolume":"data","containerPath":"/d"}]}]})",
     "ClientException: Unknown volume 'data'."},
    {"dependsOn an unknown container",
     R"({"family":"f","containerDefinitions":[{"name":"c","image":"i","memory":64,"dependsOn":[{"containerName":"db","condition":"START"}]}]})",
     "ClientException: Cannot depend on container + 'db' because it does not exist"},
    {"SUCCESS on an essential container",
     R"({"family":"f","containerDefinitions":[{"name":"init","image":"i","memory":64},{"name":"c","image":"i","memory":64,"dependsOn":[{"containerName":"init","condition":"SUCCESS"}]}]})",
     "ClientException: A dependency container with SUCCESS or COMPLETE condition cannot be an essential container"},
    {"HEALTHY on a container without a health check",
     R"({"family":"f","containerDefinitions":[{"name":"db","image":"i","memory":64},{"name":"c","image":"i","memory":64,"dependsOn":[{"containerName":"db","condition":"HEALTHY"}]}]})",
     "ClientException: A dependency container with HEALTHY condition must have health check configured"},
    {"secrets without an execution role",
     R"({"family":"f","containerDefinitions":[{"name":"c","image":"i","memory":64,"secrets":[{"name":"A","valueFrom":"/a"}]}]})",
     "ClientException: When you are specifying container secrets, you must also specify a value for 'executionRoleArn'."},
    {"awslogs without a group",
     R"({"family":"f","containerDefinitions":[{"name":"c","image":"i","memory":64,"logConfiguration":{"logDriver":"awslogs","options":{"awslogs-region":"us-east-1"}}}]})",
     "ClientException: Log driver awslogs option 'awslogs-group' should not be null or empty."},
    {"FARGATE awslogs without an execution role",
     R"({"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512","containerDefinitions":[{"name":"c","image":"i","logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"/ecs/f","awslogs-stream-prefix":"ecs"}}}]})",
     "ClientException: Fargate requires task definition to have execution role ARN to support log driver awslogs."},
    {"FARGATE awslogs without a stream prefix",
     R"({"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512","executionRoleArn":"arn:aws:iam::1:role/e","containerDefinitions":[{"name":"c","image":"i","logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"/ecs/f"}}}]})",
     "ClientException: Fargate requires log configuration options to include awslogs-stream-prefix to support log driver awslogs."},
    {"awslogs with an unknown mode",
     R"({"family":"f","containerDefinitions":[{"name":"c","image":"i","memory":64,"logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"g","mode":"lazy"}}}]})",
     "ClientException: Log driver awslogs option 'mode' must be blocking or non-blocking."},
    {"an unknown log driver",
     R"({"family":"f","containerDefinitions":[{"name":"c","image":"i","memory":64,"logConfiguration":{"logDriver":"papyrus"}}]})",
     "ClientException: Invalid log driver 'papyrus'."},
    {"links in awsvpc",
     R"({"family":"f","networkMode":"awsvpc","containerDefinitions":[{"name":"c","image":"i","memory":64,"links":["d"]}]})",
     "ClientException: Links are not supported when networkMode=awsvpc."},
    {"hostname in awsvpc",
     R"({"family":"f","networkMode":"awsvpc","containerDefinitions":[{"name":"c","image":"i","memory":64,"hostname":"h"}]})",
     "ClientException: hostname is not supported on container when networkMode=awsvpc."},
    {"FARGATE with a host sourcePath",
     R"({"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512","volumes":[{"name":"v","host":{"sourcePath":"/srv"}}],"containerDefinitions":[{"name":"c","image":"i"}]})",
     "ClientException: Fargate compatible task definitions do not support sourcePath"},
    {"FARGATE with sharedMemorySize",
     R"({"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512","containerDefinitions":[{"name":"c","image":"i","linuxParameters":{"sharedMemorySize":64}}]})",
     "ClientException: Fargate compatible task definitions do not support sharedMemorySize"},
    {"unknown capability",
     R"({"family":"f","containerDefinitions":[{"name":"c","image":"i","memory":64,"linuxParameters":{"capabilities":{"add":["FLY"]}}}]})",
     "ClientException: Invalid 'capabilities' setting for container 'c'."},
    {"EFS volume",
     R"({"family":"f","volumes":[{"name":"v","efsVolumeConfiguration":{"fileSystemId":"fs-1"}}],"containerDefinitions":[{"name":"c","image":"i","memory":64}]})",
     "ClientException: Volume 'v' uses efsVolumeConfiguration: berth has no Amazon EFS file systems."},
    {"environmentFiles (no S3 here)",
     R"({"family":"f","containerDefinitions":[{"name":"c","image":"i","memory":64,"environmentFiles":[{"value":"arn:aws:s3:::b/x.env","type":"s3"}]}]})",
     "ClientException: Container 'c' uses environmentFiles: berth has no Amazon S3 to read them from. Put the variables in 'environment' or 'secrets'."},
    {"restart attempt period below 60",
     R"({"family":"f","containerDefinitions":[{"name":"c","image":"i","memory":64,"restartPolicy":{"enabled":true,"restartAttemptPeriod":10}}]})",
     "ClientException: Invalid 'restartPolicy' setting for container 'c'."},
    {"link to an unknown container",
     R"({"family":"f","containerDefinitions":[{"name":"c","image":"i","memory":64,"links":["db:database"]}]})",
     "ClientException: Invalid 'links' setting for container 'c'. Container 'db' does not exist."},
    {"FARGATE with ipcMode",
     R"({"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512","ipcMode":"task","containerDefinitions":[{"name":"c","image":"i"}]})",
     "ClientException: Tasks using the Fargate launch type do not support ipcMode."},
    {"FARGATE with pidMode host",
     R"({"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512","pidMode":"host","containerDefinitions":[{"name":"c","image":"i"}]})",
     "ClientException: Tasks using the Fargate launch type do not support pidMode 'host'. The supported value for pidMode is 'task'."},
    {"a container port range",
     R"({"family":"f","containerDefinitions":[{"name":"c","image":"i","memory":64,"portMappings":[{"containerPortRange":"8000-8010"}]}]})",
     "ClientException: Container 'c' maps a containerPortRange: berth publishes single ports. List each port in portMappings."},
    {"autoprovision of a task volume",
     R"({"family":"f","volumes":[{"name":"v","dockerVolumeConfiguration":{"scope":"task","autoprovision":true}}],"containerDefinitions":[{"name":"c","image":"i","memory":64}]})",
     "ClientException: Autoprovision can only be set to true when scope is shared."},
};

class InvalidTaskDefinition : public ::testing::TestWithParam<Case> {};

TEST_P(InvalidTaskDefinition, GetsAwsClientException) {
  auto r = validate(GetParam().request);
  ASSERT_FALSE(r.ok()) << GetParam().what;
  EXPECT_EQ(r.error().code + ": " + r.error().message, GetParam().error) << GetParam().what;
  EXPECT_EQ(r.error().error_class, ErrorClass::kInvalid);
}

INSTANTIATE_TEST_SUITE_P(Rules, InvalidTaskDefinition, ::testing::ValuesIn(kInvalid));

TEST(TaskDefinitionRules, FillsAwsDefaults) {
  auto r = validate(R"({"family":"web","containerDefinitions":[{"name":"app","image":"outyet","memory":128,
      "portMappings":[{"containerPort":8080}],
      "healthCheck":{"command":["CMD-SHELL","true"]}}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& doc = r->doc;
  EXPECT_EQ(doc.at("networkMode").as_string(), "bridge");
  EXPECT_EQ(doc.at("compatibilities").as_array().size(), 1u);
  EXPECT_FALSE(doc.contains("cpu"));
  const auto& c = doc.at("containerDefinitions").as_array()[0].as_object();
  EXPECT_EQ(c.at("cpu").as_int64(), 0);
  EXPECT_TRUE(c.at("essential").as_bool());
  EXPECT_TRUE(c.at("environment").as_array().empty());
  const auto& pm = c.at("portMappings").as_array()[0].as_object();
  EXPECT_EQ(pm.at("hostPort").as_int64(), 0);  // dynamic in bridge mode
  EXPECT_EQ(pm.at("protocol").as_string(), "tcp");
  const auto& hc = c.at("healthCheck").as_object();
  EXPECT_EQ(hc.at("interval").as_int64(), 30);
  EXPECT_EQ(hc.at("timeout").as_int64(), 5);
  EXPECT_EQ(hc.at("retries").as_int64(), 3);
  EXPECT_FALSE(hc.contains("startPeriod"));
}

TEST(TaskDefinitionRules, AwsvpcFillsHostPortAndFargateCompatibility) {
  auto r = validate(R"({"family":"web","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],
      "cpu":"0.5 vCPU","memory":"1 GB","containerDefinitions":[{"name":"app","image":"outyet",
      "portMappings":[{"containerPort":8080}]}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->doc.at("cpu").as_string(), "512");
  EXPECT_EQ(r->doc.at("memory").as_string(), "1024");
  const auto& pm = r->doc.at("containerDefinitions").as_array()[0].as_object().at("portMappings").as_array()[0];
  EXPECT_EQ(pm.as_object().at("hostPort").as_int64(), 8080);
  EXPECT_EQ(r->doc.at("compatibilities").as_array().size(), 2u);
}

TEST(TaskDefinitionRules, TaskSizeSpellings) {
  EXPECT_EQ(parse_task_cpu("1024"), 1024);
  EXPECT_EQ(parse_task_cpu("1 vCPU"), 1024);
  EXPECT_EQ(parse_task_cpu("2vcpu"), 2048);
  EXPECT_EQ(parse_task_cpu("0.25 vCPU"), 256);
  EXPECT_EQ(parse_task_cpu("one"), std::nullopt);
  EXPECT_EQ(parse_task_memory("512"), 512);
  EXPECT_EQ(parse_task_memory("1GB"), 1024);
  EXPECT_EQ(parse_task_memory("2 GB"), 2048);
  EXPECT_EQ(parse_task_memory("0.5GB"), 512);
  EXPECT_EQ(parse_task_memory("GB"), std::nullopt);
}

TEST(TaskDefinitionRules, FargatePairs) {
  EXPECT_TRUE(fargate_pair_valid(256, 512));
  EXPECT_TRUE(fargate_pair_valid(256, 2048));
  EXPECT_FALSE(fargate_pair_valid(256, 3072));
  EXPECT_TRUE(fargate_pair_valid(512, 4096));
  EXPECT_FALSE(fargate_pair_valid(512, 5120));
  EXPECT_TRUE(fargate_pair_valid(4096, 30720));
  EXPECT_TRUE(fargate_pair_valid(8192, 20480));
  EXPECT_FALSE(fargate_pair_valid(8192, 17408));
  EXPECT_TRUE(fargate_pair_valid(16384, 122880));
  EXPECT_FALSE(fargate_pair_valid(128, 512));
}

TEST(TaskDefinitionRules, ReservationOfATask) {
  auto bridge = validate(R"({"family":"f","containerDefinitions":[
      {"name":"a","image":"i","cpu":128,"memory":256,"memoryReservation":128,"portMappings":[{"containerPort":80,"hostPort":8080},{"containerPort":81}]},
      {"name":"b","image":"i","cpu":64,"memory":64}]})");
  ASSERT_OK(bridge);
  Reservation r = reservation_of(bridge->doc);
  EXPECT_EQ(r.cpu, 192);
  EXPECT_EQ(r.memory, 192);  // memoryReservation of a, memory of b
  ASSERT_EQ(r.ports.size(), 1u);
  EXPECT_EQ(r.ports[0].port, 8080);

  auto sized = validate(R"({"family":"f","cpu":"1 vCPU","memory":"1GB","networkMode":"host",
      "containerDefinitions":[{"name":"a","image":"i","portMappings":[{"containerPort":80}]}]})");
  ASSERT_OK(sized);
  r = reservation_of(sized->doc);
  EXPECT_EQ(r.cpu, 1024);
  EXPECT_EQ(r.memory, 1024);
  ASSERT_EQ(r.ports.size(), 1u);
  EXPECT_EQ(r.ports[0].port, 80);
}

}  // namespace
}  // namespace berth::ecs

namespace berth::ecs {
namespace {

TEST(TaskDefinitionRules, EveryRuntimeFeatureRegisters) {
  auto r = validate(R"({"family":"full","executionRoleArn":"arn:aws:iam::123456789012:role/exec",
    "volumes":[{"name":"scratch","host":{}},{"name":"host","host":{"sourcePath":"/srv/data"}},
               {"name":"cache","dockerVolumeConfiguration":{"scope":"shared","autoprovision":true,"driver":"local"}}],
    "containerDefinitions":[
      {"name":"init","image":"i","memory":32,"essential":false,"mountPoints":[{"sourceVolume":"scratch","containerPath":"/s"}]},
      {"name":"db","image":"i","memory":64,"healthCheck":{"command":["CMD-SHELL","true"]}},
      {"name":"app","image":"i","memory":64,"volumesFrom":[{"sourceContainer":"init","readOnly":true}],
       "dependsOn":[{"containerName":"init","condition":"SUCCESS"},{"containerName":"db","condition":"HEALTHY"}],
       "startTimeout":30,"privileged":false,"pseudoTerminal":false,
       "linuxParameters":{"capabilities":{"add":["NET_ADMIN"],"drop":["MKNOD"]},"initProcessEnabled":true,
                          "tmpfs":[{"containerPath":"/tmp","size":64,"mountOptions":["noexec"]}],"sharedMemorySize":128},
       "systemControls":[{"namespace":"net.core.somaxconn","value":"1024"}],
       "extraHosts":[{"hostname":"db.local","ipAddress":"10.0.0.9"}],
       "secrets":[{"name":"PASSWORD","valueFrom":"/app/password"}],
       "portMappings":[{"containerPort":53,"protocol":"udp"}]}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
}

}  // namespace
}  // namespace berth::ecs
