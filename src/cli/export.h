// cli/export: `berth export cloudformation`, berth's state read through the
// public API (cli/api_client.h) into an export::State, turned into a
// template by src/export, written as JSON or YAML to stdout or -o FILE.
// What could not be exported and the image push commands go to stderr.
//
//   ApiClient ─► collect_export_state() ─► cfn::export_state() ─► write_json/yaml
#pragma once

#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/options.h"
#include "core/error.h"
#include "export/state.h"

namespace berth::cli {

// `cluster`: only that cluster with its services and the task definitions
// they run ("" = every cluster and every family's latest revision). `notes`
// gets what could not be read (a service berth was built without).
Result<cfn::State> collect_export_state(ApiClient& api, const std::string& cluster, std::vector<std::string>& notes);

// `berth export cloudformation ...`: the exit code.
int run_export(const Options& options);

}  // namespace berth::cli
