// ECR repositories and CloudWatch Logs groups: plain resources under their
// berth names, kept when the stack is deleted (they hold images and logs). The repositories' URIs are outputs; the images themselves
// are pushed separately (Export::push_commands).
#include <boost/json.hpp>

#include "export/builders.h"

namespace berth::cfn {

void build_repositories(Context& c) {
  for (const auto* repo : sorted_by(c.state.repositories, "repositoryName")) {
    std::string name = str(*repo, "repositoryName");
    std::string id = c.ids.make(name, "Repository");
    c.repositories[name] = id;
    auto& r = c.add(id, "AWS::ECR::Repository");
    r.deletion_policy = "Retain";
    r.properties["RepositoryName"] = name;
    if (auto mutability = str(*repo, "imageTagMutability"); !mutability.empty())
      r.properties["ImageTagMutability"] = mutability;
    if (flag(obj(*repo, "imageScanningConfiguration"), "scanOnPush"))
      r.properties["ImageScanningConfiguration"] = json::object{{"ScanOnPush", true}};
    c.t.outputs[id + "Uri"] = {{"Description", "push the " + name + " images here"},
                               {"Value", get_att(id, "RepositoryUri")}};
  }
}

void build_log_groups(Context& c) {
  for (const auto* group : sorted_by(c.state.log_groups, "logGroupName")) {
    std::string name = str(*group, "logGroupName");
    std::string id = c.ids.make(name, "LogGroup");
    c.log_groups[name] = id;
    auto& r = c.add(id, "AWS::Logs::LogGroup");
    r.deletion_policy = "Retain";
    r.properties["LogGroupName"] = name;
    if (int64_t days = num(*group, "retentionInDays"); days > 0) r.properties["RetentionInDays"] = days;
  }
}

}  // namespace berth::cfn
