// runtime/subprocess: the one way the runtime runs programs (runc, umoci).
// argv only (no shell), a timeout on every wait, output captured through
// pipes (bounded), the child killed and reaped when the time is up.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/error.h"

namespace berth::runtime {

struct ProgramResult {
  int exit_code = 0;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

// kUnavailable when the program could not start or ran past `timeout`
// (it is then SIGKILLed and reaped).
Result<ProgramResult> run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// Same, with the child's stdout and stderr going to `output_fd` (not
// captured) and its stdin from `stdin_fd` (-1: /dev/null): for `runc run
// -d`, whose container inherits them.
Result<ProgramResult> run_program_to_fd(const std::vector<std::string>& argv, int output_fd,
                                        std::chrono::milliseconds timeout, int stdin_fd = -1);

// Starts a long-lived helper in a session of its own and does not wait:
// stdio on /dev/null, extra_fds[i] as its fd 3 + i. Returns its pid (the
// caller reaps it).
Result<int> spawn_detached(const std::vector<std::string>& argv, const std::vector<int>& extra_fds);

// 128 + signal for a signalled status, else the exit status.
int exit_code_of(int wait_status);

}  // namespace berth::runtime
