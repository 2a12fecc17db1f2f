#include "runtime/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace berth::runtime {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxCaptured = 1u << 20;

struct Fd {
  int fd = -1;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

// Waits for `pid` until `deadline`. Returns the wait status, or -1 on
// timeout. A pidfd wakes us the moment the child exits (a task start waits
// for `runc run -d` this way: a polling interval would add up to its length
// to every start); without one (an old kernel), polling with backoff.
int wait_until(pid_t pid, Clock::time_point deadline) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  struct ClosePidfd {
    int fd;
    ~ClosePidfd() {
      if (fd >= 0) ::close(fd);
    }
  } close_pidfd{pidfd};
  auto pause = std::chrono::microseconds(200);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return 0;
    auto now = Clock::now();
    if (now >= deadline) return -1;
    if (pidfd >= 0) {
      // Rounded up: a poll of 0 ms would spin until the deadline.
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
      pollfd p{pidfd, POLLIN, 0};
      (void)::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 60'000)));
      continue;
    }
    ::usleep(static_cast<useconds_t>(pause.count()));
    if (pause < std::chrono::milliseconds(10)) pause *= 2;
  }
}

Result<ProgramResult> spawn_and_wait(const std::vector<std::string>& argv, int output_fd, int stdin_fd,
                                     std::chrono::milliseconds timeout) {
  if (argv.empty()) return Error::invalid("InvalidParameter", "empty argv");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  Fd out_r, out_w, err_r, err_w;
  bool capture = output_fd < 0;
  if (capture) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return Error::internal("pipe failed");
    out_r.fd = p[0], out_w.fd = p[1];
    if (::pipe2(p, O_CLOEXEC) != 0) return Error::internal("pipe failed");
    err_r.fd = p[0], err_w.fd = p[1];
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, capture ? out_w.fd : output_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, capture ? err_w.fd : output_fd, 2);
  // Nothing else of ours: Boost.Asio opens sockets without SOCK_CLOEXEC, and
  // runc would carry every one of them (hundreds once many tasks run).
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t all_default;
  sigemptyset(&all_default);
  sigaddset(&all_default, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &all_default);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Error::unavailable(argv[0] + ": cannot start: " + std::strerror(rc));
  out_w.reset();
  err_w.reset();

  auto deadline = Clock::now() + timeout;
  ProgramResult result;
  if (capture) {
    // Drain both pipes until both close or the time is up.
    pollfd fds[2] = {{out_r.fd, POLLIN, 0}, {err_r.fd, POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open = 2;
    char buf[8192];
    while (open > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) break;
      int n = ::poll(fds, 2, static_cast<int>(left));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
        if (got <= 0) {
          fds[i].fd = -1;
          --open;
        } else if (sinks[i]->size() < kMaxCaptured) {
          sinks[i]->append(buf, static_cast<size_t>(got));
        }
      }
    }
  }
  int status = wait_until(pid, deadline);
  if (status == -1) {
    ::kill(pid, SIGKILL);
    wait_until(pid, Clock::now() + std::chrono::seconds(5));
    return Error::unavailable(argv[0] + " " + (argv.size() > 1 ? argv[1] : "") + ": timed out after " +
                              std::to_string(timeout.count()) + " ms");
  }
  result.exit_code = exit_code_of(status);
  return result;
}

}  // namespace

int exit_code_of(int status) {
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return -1;
}

Result<ProgramResult> run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  return spawn_and_wait(argv, -1, -1, timeout);
}

Result<ProgramResult> run_program_to_fd(const std::vector<std::string>& argv, int output_fd,
                                        std::chrono::milliseconds timeout, int stdin_fd) {
  return spawn_and_wait(argv, output_fd, stdin_fd, timeout);
}

Result<int> spawn_detached(const std::vector<std::string>& argv, const std::vector<int>& extra_fds) {
  if (argv.empty()) return Error::invalid("InvalidParameter", "empty argv");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // Copies above the targets first, so that moving one fd to 3 + i never
  // overwrites another still to be moved (the log at fd 3, say).
  std::vector<int> sources;
  struct CloseAll {
    std::vector<int>& fds;
    ~CloseAll() {
      for (int fd : fds) ::close(fd);
    }
  } close_sources{sources};
  for (int fd : extra_fds) {
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3 + static_cast<int>(extra_fds.size()));
    if (copy < 0) return Error::internal("dup: " + std::string(std::strerror(errno)));
    sources.push_back(copy);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int target : {0, 1, 2}) posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_RDWR, 0);
  // dup2 clears close-on-exec on the copies; ours stay close-on-exec.
  for (size_t i = 0; i < sources.size(); ++i)
    posix_spawn_file_actions_adddup2(&actions, sources[i], static_cast<int>(3 + i));
  // Nothing else of ours: the helper outlives us, and a copy of a listening
  // socket (Asio's are not close-on-exec) would keep its port taken.
  posix_spawn_file_actions_addclosefrom_np(&actions, static_cast<int>(3 + sources.size()));
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Error::unavailable(argv[0] + ": cannot start: " + std::strerror(rc));
  return pid;
}

}  // namespace berth::runtime
