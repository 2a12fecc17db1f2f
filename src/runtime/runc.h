// runtime/runc: runc driven as a program (as containerd/go-runc does):
// option structs become argv, `runc state` / `runc list` JSON is parsed.
// Every call has a timeout. Private state under `--root`.
//
//   RuncTaskRuntime ──argv──> runc --root <data>/runtime/runc <command> ...
//                   <──JSON── state / list
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/error.h"

namespace berth::runtime {

struct RuncState {
  std::string id;
  std::string status;  // "created", "running", "paused", "stopped"
  int pid = 0;
  std::string bundle;
};

struct RunOptions {
  std::string id;
  std::string bundle;
  std::string pid_file;
  std::string console_socket{};  // a terminal (process.terminal): where runc sends its master
  int stdin_fd = -1;           // the container's stdin; -1: /dev/null
};

struct ExecOptions {
  std::string id;
  std::vector<std::string> args;
};

class Runc {
 public:
  Runc(std::string root, std::string binary = "runc") : root_(std::move(root)), binary_(std::move(binary)) {}

  // argv builders: pure, unit-tested.
  std::vector<std::string> run_argv(const RunOptions& o) const;
  std::vector<std::string> exec_argv(const ExecOptions& o) const;
  std::vector<std::string> kill_argv(const std::string& id, int signal, bool all = false) const;
  std::vector<std::string> delete_argv(const std::string& id, bool force) const;
  std::vector<std::string> state_argv(const std::string& id) const;
  std::vector<std::string> list_argv() const;

  // `runc run -d`: returns once the container runs; its stdout and stderr
  // (and runc's own messages) go to output_fd. Returns the init pid.
  Result<int> run_detached(const RunOptions& o, int output_fd) const;
  // The command's exit code (kUnavailable on timeout).
  Result<int> exec(const ExecOptions& o, std::chrono::milliseconds timeout) const;
  Status kill(const std::string& id, int signal) const;
  // kNotFound when runc does not know the id.
  Status remove(const std::string& id, bool force) const;
  Result<RuncState> state(const std::string& id) const;
  Result<std::vector<RuncState>> list() const;

  const std::string& root() const { return root_; }
  // A launcher `runc run` goes through (argv prefix), e.g. berth-reroot in a
  // chroot; the other commands run runc directly.
  void launch_runs_with(std::vector<std::string> prefix) { run_prefix_ = std::move(prefix); }

 private:
  std::string root_;
  std::string binary_;
  std::vector<std::string> run_prefix_;
};

// Parsers of runc's JSON, exposed for tests.
Result<RuncState> parse_runc_state(std::string_view json);
Result<std::vector<RuncState>> parse_runc_list(std::string_view json);

}  // namespace berth::runtime
