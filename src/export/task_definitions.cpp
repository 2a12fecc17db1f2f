// Task definitions: ECS's JSON in CloudFormation's names (camelCase to
// PascalCase, keys of maps kept), images of berth's registry rewritten to
// the account's ECR, and a task execution role where ECS needs one to pull
// from ECR or to write to CloudWatch Logs.
#include <boost/json.hpp>

#include <cctype>

#include "export/builders.h"

namespace berth::cfn {

namespace {

constexpr const char* kExecutionRole = "EcsTaskExecutionRole";

// The container definition fields CloudFormation knows (AWS::ECS::TaskDefinition.ContainerDefinition).
const std::set<std::string_view> kContainerFields{
    "command", "cpu", "dependsOn", "disableNetworking", "dnsSearchDomains", "dnsServers", "dockerLabels",
    "dockerSecurityOptions", "entryPoint", "environment", "environmentFiles", "essential", "extraHosts",
    "firelensConfiguration", "healthCheck", "hostname", "image", "interactive", "links", "linuxParameters",
    "logConfiguration", "memory", "memoryReservation", "mountPoints", "name", "portMappings", "privileged",
    "pseudoTerminal", "readonlyRootFilesystem", "repositoryCredentials", "resourceRequirements", "secrets",
    "startTimeout", "stopTimeout", "systemControls", "ulimits", "user", "volumesFrom", "workingDirectory"};

// Maps whose keys are the user's, not field names.
const std::set<std::string_view> kUserKeyed{"options", "dockerLabels"};

std::string pascal(std::string_view key) {
  std::string out(key);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

bool empty_value(const json::value& v) {
  return (v.is_array() && v.as_array().empty()) || (v.is_object() && v.as_object().empty()) || v.is_null();
}

json::value pascal_case(const json::value& v, bool keep_keys = false) {
  if (v.is_object()) {
    json::object out;
    for (const auto& kv : v.as_object()) {
      if (empty_value(kv.value())) continue;
      out[keep_keys ? std::string(kv.key()) : pascal(kv.key())] =
          pascal_case(kv.value(), !keep_keys && kUserKeyed.count(kv.key()));
    }
    return out;
  }
  if (v.is_array()) {
    json::array out;
    for (const auto& item : v.as_array()) out.push_back(pascal_case(item));
    return out;
  }
  return v;
}

// "127.0.0.1:4566/outyet-image:v2" or "<berth's account>.dkr.ecr.<region>.amazonaws.com/outyet-image:v2":
// the repository and tag, or empty for an image of another registry.
std::string berth_image(const State& state, const std::string& image) {
  auto slash = image.find('/');
  if (slash == std::string::npos) return {};
  std::string host = image.substr(0, slash);
  bool ecr = host.find(".dkr.ecr.") != std::string::npos && host.ends_with(".amazonaws.com");
  if (host != state.registry && !ecr) return {};
  std::string rest = image.substr(slash + 1);
  if (rest.find(':') == std::string::npos && rest.find('@') == std::string::npos) rest += ":latest";
  return rest;
}

bool uses_awslogs(const json::object& container) {
  return str(obj(container, "logConfiguration"), "logDriver") == "awslogs";
}

json::object container(Context& c, const std::string& family, const json::object& def, bool& needs_role) {
  json::object in;
  for (const auto& kv : def)
    if (kContainerFields.count(kv.key())) in[kv.key()] = kv.value();
  json::object out = pascal_case(in).as_object();
  std::string image = str(def, "image");
  if (std::string repo = berth_image(c.state, image); !repo.empty()) {
    out["Image"] = sub("${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/" + repo);
    needs_role = true;
    c.images.insert(repo);
    std::string name = repo.substr(0, repo.find_first_of(":@"));
    if (!c.repositories.count(name))
      c.note("not exported: repository " + name + " that task definition " + family +
             " runs from is gone from berth; create it in the account before the deploy");
  }
  if (uses_awslogs(def)) {
    needs_role = true;
    auto& options = out["LogConfiguration"].as_object()["Options"];
    if (options.is_object()) {
      auto& o = options.as_object();
      if (auto found = c.log_groups.find(str(o, "awslogs-group")); found != c.log_groups.end())
        o["awslogs-group"] = make_ref(found->second);
      if (o.contains("awslogs-region")) o["awslogs-region"] = make_ref("AWS::Region");
      o.erase("awslogs-endpoint");
    }
  }
  return out;
}

void add_execution_role(Context& c) {
  if (c.t.resources.count(kExecutionRole)) return;
  auto& role = c.add(kExecutionRole, "AWS::IAM::Role");
  role.properties["AssumeRolePolicyDocument"] = json::object{
      {"Version", "2012-10-17"},
      {"Statement", json::array{json::object{{"Effect", "Allow"},
                                             {"Principal", json::object{{"Service", "ecs-tasks.amazonaws.com"}}},
                                             {"Action", "sts:AssumeRole"}}}}};
  role.properties["ManagedPolicyArns"] = json::array{
      sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")};
}

void add_task_definition(Context& c, const json::object& td, const std::string& id) {
  std::string family = str(td, "family");
  auto& r = c.add(id, "AWS::ECS::TaskDefinition");
  auto& p = r.properties;
  p["Family"] = family;
  if (auto mode = str(td, "networkMode"); !mode.empty()) p["NetworkMode"] = mode;
  if (!arr(td, "requiresCompatibilities").empty()) p["RequiresCompatibilities"] = arr(td, "requiresCompatibilities");
  if (auto cpu = str(td, "cpu"); !cpu.empty()) p["Cpu"] = cpu;
  if (auto memory = str(td, "memory"); !memory.empty()) p["Memory"] = memory;
  for (const char* key : {"volumes", "placementConstraints"})
    if (!arr(td, key).empty()) p[pascal(key)] = pascal_case(arr(td, key));
  if (!obj(td, "runtimePlatform").empty()) p["RuntimePlatform"] = pascal_case(obj(td, "runtimePlatform"));
  bool needs_role = !str(td, "executionRoleArn").empty();
  json::array containers;
  for (const auto* def : sorted_by(arr(td, "containerDefinitions"), "name"))
    containers.push_back(container(c, family, *def, needs_role));
  p["ContainerDefinitions"] = std::move(containers);
  if (needs_role) {
    add_execution_role(c);
    p["ExecutionRoleArn"] = get_att(kExecutionRole, "Arn");
  }
  if (auto task_role = str(td, "taskRoleArn"); !task_role.empty())
    c.note("not exported: task role " + task_role + " of task definition " + family + ":" +
           std::to_string(num(td, "revision")) + " (berth's IAM roles are not the account's; set TaskRoleArn)");
}

}  // namespace

void build_task_definitions(Context& c) {
  // One resource per family; a family exported at two revisions (a service
  // runs an older one) gets the revision in its second id.
  auto defs = sorted_by(c.state.task_definitions, "family");
  std::stable_sort(defs.begin(), defs.end(), [](auto* a, auto* b) {
    return std::pair(str(*a, "family"), -num(*a, "revision")) < std::pair(str(*b, "family"), -num(*b, "revision"));
  });
  std::set<std::string> families;
  for (const auto* td : defs) {
    std::string family = str(*td, "family");
    std::string name = families.insert(family).second ? family : family + "-" + std::to_string(num(*td, "revision"));
    std::string id = c.ids.make(name, "TaskDefinition");
    c.task_definitions[str(*td, "taskDefinitionArn")] = id;
    add_task_definition(c, *td, id);
  }
  if (!c.images.empty())
    c.push_commands.push_back(
        "aws ecr get-login-password --region \"$REGION\" | podman login --username AWS --password-stdin "
        "\"$ACCOUNT.dkr.ecr.$REGION.amazonaws.com\"");
  for (const auto& image : c.images) {
    c.push_commands.push_back("podman push " + c.state.registry + "/" + image +
                              " \"$ACCOUNT.dkr.ecr.$REGION.amazonaws.com/" + image + "\"");
  }
}

}  // namespace berth::cfn
