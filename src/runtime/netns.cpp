#include "runtime/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace berth::runtime {
namespace {

constexpr const char* kNetnsDir = "/run/netns";

Status bring_lo_up() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Error::internal(std::string("socket: ") + std::strerror(errno));
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  int rc = ::ioctl(s, SIOCGIFFLAGS, &req);
  if (rc == 0) {
    req.ifr_flags |= IFF_UP;
    rc = ::ioctl(s, SIOCSIFFLAGS, &req);
  }
  int err = errno;
  ::close(s);
  if (rc != 0) return Error::internal(std::string("lo up: ") + std::strerror(err));
  return Ok{};
}

}  // namespace

std::string netns_path(const std::string& name) { return std::string(kNetnsDir) + "/" + name; }

bool netns_exists(const std::string& name) {
  struct stat st{};
  return ::stat(netns_path(name).c_str(), &st) == 0;
}

Status create_netns(const std::string& name) {
  ::mkdir("/run", 0755);
  ::mkdir(kNetnsDir, 0755);
  std::string path = netns_path(name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) {
    if (errno == EEXIST) return Error::already_exists("NetnsExists", path + " exists");
    return Error::internal("create " + path + ": " + std::strerror(errno));
  }
  ::close(fd);
  // unshare() moves only the calling thread: do it on a thread of its own
  // that ends afterwards, so no daemon thread changes namespace.
  Status result = Ok{};
  std::thread worker([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      result = Error::internal(std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno));
      return;
    }
    std::string self = "/proc/self/task/" + std::to_string(::gettid()) + "/ns/net";
    if (::mount(self.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      result = Error::internal("bind " + path + ": " + std::strerror(errno));
      return;
    }
    result = bring_lo_up();
  });
  worker.join();
  if (!result) {
    ::umount2(path.c_str(), MNT_DETACH);
    ::unlink(path.c_str());
  }
  return result;
}

Status delete_netns(const std::string& name) {
  std::string path = netns_path(name);
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return Error::internal("umount " + path + ": " + std::strerror(errno));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Error::internal("unlink " + path + ": " + std::strerror(errno));
  return Ok{};
}

int open_netns(const std::string& name) { return ::open(netns_path(name).c_str(), O_RDONLY | O_CLOEXEC); }

int socket_in_netns(int netns_fd, int domain, int type) {
  static thread_local int home = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0 || ::setns(netns_fd, CLONE_NEWNET) != 0) return -1;
  int s = ::socket(domain, type | SOCK_CLOEXEC, 0);
  int err = errno;
  // Coming back cannot fail for a namespace we were in; if it did, this
  // thread would open every later socket in the wrong place.
  if (::setns(home, CLONE_NEWNET) != 0) std::abort();
  errno = err;
  return s;
}

}  // namespace berth::runtime
