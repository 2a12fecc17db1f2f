// berth-console: keeps a container's terminal or stdin open for the life of
// the container, outside the daemon (so a daemon restart does not hang up
// on it), in the role of containerd's shim for Docker's Tty and OpenStdin
// (a definition's pseudoTerminal and interactive). Static, like berth-init;
// the daemon starts it in a session of its own.
//
//   berth-console tty    fd 3: a listening unix socket that runc's
//                        --console-socket sends the pty master to; fd 4:
//                        the container's log. Copies the terminal's output
//                        to the log until the container is gone.
//   berth-console hold   fd 3: the write end of the container's stdin pipe.
//                        Holds it (stdin stays open, never written) until
//                        the container closes the read end.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

// The fd runc sends with SCM_RIGHTS over the console socket.
int receive_master(int listening) {
  int conn = accept(listening, nullptr, nullptr);
  if (conn < 0) return -1;
  char name[4096];
  iovec iov{name, sizeof name};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  int master = -1;
  if (recvmsg(conn, &msg, 0) > 0)
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) std::memcpy(&master, CMSG_DATA(c), sizeof master);
  close(conn);
  return master;
}

int copy_terminal() {
  int master = receive_master(3);
  close(3);
  if (master < 0) return 1;
  char buf[16384];
  for (;;) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;  // EIO: every process holding the terminal has exited
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(4, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) break;  // the log is gone: keep draining so the container never blocks
      off += w;
    }
  }
}

int hold_stdin() {
  pollfd p{3, 0, 0};  // POLLERR comes when the last reader closes
  for (;;) {
    int n = poll(&p, 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL))) return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Only the fds berth meant to give (3, and 4 for tty) stay open.
  close_range(argc == 2 && std::strcmp(argv[1], "tty") == 0 ? 5 : 4, ~0U, 0);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  if (argc == 2 && std::strcmp(argv[1], "tty") == 0) return copy_terminal();
  if (argc == 2 && std::strcmp(argv[1], "hold") == 0) return hold_stdin();
  std::fprintf(stderr, "usage: berth-console tty|hold (fds 3 and 4 set by berth)\n");
  return 2;
}
