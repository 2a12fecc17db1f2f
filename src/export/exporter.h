// export/exporter: berth's state as a CloudFormation template that deploys
// unchanged to an AWS account (docs/export.md says what goes and what not).
//
//   State ─► network ─► registry ─► log groups ─► clusters ─► load balancing
//         ─► task definitions ─► services ─► scaling ─► Template + notes
//
// Each family has one builder (builders.h); they share the Context: the
// template being built and the maps from berth's ids and ARNs to logical
// ids, so a reference is a Ref/GetAtt and never a berth id.
#pragma once

#include <string>
#include <vector>

#include "export/state.h"
#include "export/template.h"

namespace berth::cfn {

struct Export {
  Template resources;
  // What could not be exported, one sentence each ("not exported: ...").
  std::vector<std::string> notes;
  // The commands that copy the images the task definitions name from berth
  // to the account's ECR (ACCOUNT and REGION are shell variables to set).
  std::vector<std::string> push_commands;
};

Export export_state(const State& state, const std::string& stack_name);

}  // namespace berth::cfn
