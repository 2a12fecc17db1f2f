// berth-reroot: makes `runc run` work when berth itself runs in a plain
// chroot (a debootstrap'ed root, as a fresh-machine test uses).
//
// `runc exec` (health checks) joins the container's mount namespace with
// setns(2), which sets the joiner's root to the namespace's top mount. runc
// run pivots the container's rootfs into the place of its own root; under a
// chroot that is the chroot's directory, not the namespace's top, so a later
// exec lands in the host's root instead of the container's, and a health
// check such as `test -f /tmp/ok` looks at the host. Starting runc in a mount
// namespace of its own whose top *is* the chroot's root puts the container's
// rootfs where setns finds it. On a normal machine or in a real container the
// root already is the namespace's top and berth runs runc directly.
//
//   berth-reroot check          exit 0: "/" is the mount namespace's root;
//                               1: it is not (a chroot); 2: cannot tell
//   berth-reroot run PROG ARG.. runs PROG in a new mount namespace (a slave
//                               of this one) whose root is this chroot's
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

// setns into the namespace we are in moves our root to its top mount, as
// runc exec's does. The caller's root is compared through an fd opened first.
int enter_namespace_top() {
  int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (ns < 0) return -1;
  int rc = setns(ns, CLONE_NEWNS);
  close(ns);
  return rc;
}

int check() {
  struct stat ours{}, top{};
  if (stat("/", &ours) != 0 || enter_namespace_top() != 0 || stat("/", &top) != 0) {
    std::perror("berth-reroot check");
    return 2;
  }
  return ours.st_dev == top.st_dev && ours.st_ino == top.st_ino ? 0 : 1;
}

int fail(const char* what) {
  std::fprintf(stderr, "berth-reroot: %s: %s\n", what, std::strerror(errno));
  return 125;
}

int run(char** argv) {
  if (unshare(CLONE_NEWNS) != 0) return fail("unshare");
  // Opened in the new namespace: a mount of the old one is not ours to move.
  int chroot_dir = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
  if (chroot_dir < 0) return fail("open /");
  if (enter_namespace_top() != 0) return fail("setns");
  // Nothing mounted here leaks out; mounts outside still reach in. pivot_root
  // refuses shared parents, so this covers the whole tree, not only the chroot.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) return fail("make / a slave");
  if (fchdir(chroot_dir) != 0) return fail("fchdir");
  // pivot_root(".", "."): the chroot becomes the top; the old top, stacked
  // on it, is detached (pivot_root(2)'s own recipe). Needs the chroot's
  // directory to be a mount point, which runc requires anyway.
  if (syscall(SYS_pivot_root, ".", ".") != 0) return fail("pivot_root");
  if (umount2(".", MNT_DETACH) != 0) return fail("detach the old root");
  if (chdir("/") != 0) return fail("chdir /");
  execvp(argv[0], argv);
  return fail(argv[0]);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "check") == 0) return check();
  if (argc >= 3 && std::strcmp(argv[1], "run") == 0) return run(argv + 2);
  std::fprintf(stderr, "usage: berth-reroot check | berth-reroot run PROGRAM [ARG...]\n");
  return 2;
}
