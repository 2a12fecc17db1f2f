// berth-init: PID 1 of a container whose definition sets
// linuxParameters.initProcessEnabled, in the role of Docker's --init (tini):
// it runs the container's command as its child, passes on the signals it
// gets, reaps every orphan the kernel hands it (zombies would otherwise
// pile up under an application that never waits), and exits with the
// child's status. Linked statically: it runs inside any image.
//
//   berth-init -- program [args...]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  int first = 1;
  if (first < argc && std::strcmp(argv[first], "--") == 0) ++first;
  if (first >= argc) {
    std::fprintf(stderr, "berth-init: usage: berth-init -- program [args...]\n");
    return 2;
  }
  // Every signal waits for sigwaitinfo; the child gets the default mask back.
  sigset_t all, previous;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &previous);

  pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "berth-init: fork: %s\n", std::strerror(errno));
    return 1;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &previous, nullptr);
    // Its own process group, so a terminal's signals reach the program as they would without us.
    setpgid(0, 0);
    execvp(argv[first], argv + first);
    std::fprintf(stderr, "berth-init: exec %s: %s\n", argv[first], std::strerror(errno));
    _exit(127);
  }

  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != child) continue;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
  }
}
