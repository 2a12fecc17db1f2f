#include "runtime/task_record.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace berth::runtime {
namespace {

namespace json = boost::json;

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t num(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_int64() ? v->as_int64() : 0;
}

}  // namespace

int namespace_holder(const TaskRecord& task) {
  // An essential one first: when the holder exits, the kernel kills the
  // namespace's other processes, and an essential exit ends the task anyway.
  int any = 0;
  for (const auto& c : task.containers) {
    if (c.state.status != ContainerStatus::kRunning || c.pid <= 0) continue;
    if (c.spec.essential) return c.pid;
    if (!any) any = c.pid;
  }
  return any;
}

std::string task_record_json(const TaskRecord& task) {
  json::array containers;
  for (const auto& c : task.containers) {
    json::object o{{"name", c.spec.name},
                   {"runcId", c.runc_id},
                   {"pid", c.pid},
                   {"essential", c.spec.essential},
                   {"stopSignal", c.stop_signal},
                   {"stopTimeout", c.stop_timeout.count()}};
    // For the stop order after adoption (dependents first); conditions no longer matter then.
    json::array depends_on;
    for (const auto& d : c.spec.depends_on) depends_on.emplace_back(d.container);
    if (!depends_on.empty()) o["dependsOn"] = std::move(depends_on);
    if (c.spec.awslogs)
      o["awslogs"] = json::object{{"group", c.spec.awslogs->group},
                                  {"stream", c.spec.awslogs->stream},
                                  {"nonBlocking", c.spec.awslogs->non_blocking},
                                  {"maxBufferBytes", c.spec.awslogs->max_buffer_bytes}};
    if (c.spec.health_check) {
      const auto& h = *c.spec.health_check;
      o["healthCheck"] = json::object{{"command", strings(h.command)},
                                      {"interval", h.interval.count()},
                                      {"timeout", h.timeout.count()},
                                      {"retries", h.retries},
                                      {"startPeriod", h.start_period.count()}};
    }
    containers.push_back(o);
  }
  json::array bindings;
  for (const auto& b : task.bindings)
    bindings.push_back(json::object{{"containerName", b.container_name},
                                    {"bindIP", b.bind_ip},
                                    {"containerPort", b.container_port},
                                    {"hostPort", b.host_port},
                                    {"protocol", b.protocol}});
  json::array listening;
  for (const auto& l : task.listening)
    listening.push_back(json::object{
        {"ip", l.ip}, {"hostPort", l.host_port}, {"containerPort", l.container_port}, {"protocol", l.protocol}});
  json::object root{{"taskId", task.spec.task_id},
                    {"networkMode", static_cast<int>(task.spec.network_mode)},
                    {"publicIp", task.spec.public_ip},
                    {"privateIp", task.spec.private_ip},
                    {"securityGroupIds", strings(task.spec.security_group_ids)},
                    {"netns", task.netns},
                    {"containers", containers},
                    {"bindings", bindings},
                    {"listening", listening}};
  return json::serialize(root);
}

Result<std::unique_ptr<TaskRecord>> parse_task_record(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return Error::invalid("InvalidTaskRecord", "task.json is not a JSON object");
  const auto& root = v.as_object();
  auto task = std::make_unique<TaskRecord>();
  task->spec.task_id = str(root, "taskId");
  task->spec.network_mode = static_cast<NetworkMode>(num(root, "networkMode"));
  task->spec.public_ip = str(root, "publicIp");
  task->spec.private_ip = str(root, "privateIp");
  task->netns = str(root, "netns");
  if (auto* g = root.if_contains("securityGroupIds"); g && g->is_array())
    for (const auto& s : g->as_array())
      if (s.is_string()) task->spec.security_group_ids.emplace_back(s.as_string());
  if (auto* cs = root.if_contains("containers"); cs && cs->is_array()) {
    for (const auto& e : cs->as_array()) {
      if (!e.is_object()) continue;
      const auto& o = e.as_object();
      ContainerRecord c;
      c.spec.name = str(o, "name");
      c.runc_id = str(o, "runcId");
      c.pid = static_cast<int>(num(o, "pid"));
      c.spec.essential = o.contains("essential") && o.at("essential").is_bool() && o.at("essential").as_bool();
      c.stop_signal = static_cast<int>(num(o, "stopSignal"));
      c.stop_timeout = std::chrono::seconds(num(o, "stopTimeout"));
      if (auto* deps = o.if_contains("dependsOn"); deps && deps->is_array())
        for (const auto& d : deps->as_array())
          if (d.is_string()) c.spec.depends_on.push_back({std::string(d.as_string()), DependencyCondition::kStart});
      if (auto* a = o.if_contains("awslogs"); a && a->is_object()) {
        const auto& ao = a->as_object();
        AwsLogsConfig logs{.group = str(ao, "group"), .stream = str(ao, "stream")};
        logs.non_blocking = ao.contains("nonBlocking") && ao.at("nonBlocking").is_bool() && ao.at("nonBlocking").as_bool();
        if (num(ao, "maxBufferBytes") > 0) logs.max_buffer_bytes = static_cast<uint64_t>(num(ao, "maxBufferBytes"));
        if (!logs.group.empty() && !logs.stream.empty()) c.spec.awslogs = std::move(logs);
      }
      if (auto* h = o.if_contains("healthCheck"); h && h->is_object()) {
        const auto& ho = h->as_object();
        HealthCheck hc;
        hc.command.clear();
        if (auto* cmd = ho.if_contains("command"); cmd && cmd->is_array())
          for (const auto& s : cmd->as_array())
            if (s.is_string()) hc.command.emplace_back(s.as_string());
        hc.interval = std::chrono::seconds(num(ho, "interval"));
        hc.timeout = std::chrono::seconds(num(ho, "timeout"));
        hc.retries = static_cast<int>(num(ho, "retries"));
        hc.start_period = std::chrono::seconds(num(ho, "startPeriod"));
        c.spec.health_check = hc;
      }
      c.state.name = c.spec.name;
      c.state.runtime_id = c.runc_id;
      c.state.pid = c.pid;
      if (c.runc_id.empty()) return Error::invalid("InvalidTaskRecord", "container without runcId");
      task->containers.push_back(std::move(c));
    }
  }
  if (auto* bs = root.if_contains("bindings"); bs && bs->is_array())
    for (const auto& e : bs->as_array()) {
      if (!e.is_object()) continue;
      const auto& o = e.as_object();
      task->bindings.push_back({str(o, "containerName"), str(o, "bindIP"),
                                static_cast<uint16_t>(num(o, "containerPort")),
                                static_cast<uint16_t>(num(o, "hostPort")), str(o, "protocol")});
    }
  if (auto* ls = root.if_contains("listening"); ls && ls->is_array())
    for (const auto& e : ls->as_array()) {
      if (!e.is_object()) continue;
      const auto& o = e.as_object();
      std::string protocol = str(o, "protocol");
      task->listening.push_back({str(o, "ip"), static_cast<uint16_t>(num(o, "hostPort")),
                                 static_cast<uint16_t>(num(o, "containerPort")), protocol.empty() ? "tcp" : protocol});
    }
  if (task->spec.task_id.empty() || task->netns.empty())
    return Error::invalid("InvalidTaskRecord", "task.json without taskId or netns");
  for (const auto& c : task->containers) task->spec.containers.push_back(c.spec);
  return task;
}

}  // namespace berth::runtime
