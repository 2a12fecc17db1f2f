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
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/log.h"

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

namespace {

// A new namespace with lo up, as an open fd. unshare() moves only the
// calling thread: it runs on a thread of its own that ends afterwards, so
// no daemon thread changes namespace; the fd keeps the namespace alive.
Result<int> make_netns() {
  Result<int> result = Error::internal("no namespace");
  std::thread worker([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      result = Error::internal(std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno));
      return;
    }
    int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      result = Error::internal(std::string("open /proc/thread-self/ns/net: ") + std::strerror(errno));
      return;
    }
    if (auto up = bring_lo_up(); !up) {
      ::close(fd);
      result = std::move(up).error();
      return;
    }
    result = fd;
  });
  worker.join();
  return result;
}

// Gives the namespace `fd` its name: a bind mount at /run/netns/<name>.
Status name_netns(int fd, const std::string& name) {
  ::mkdir("/run", 0755);
  ::mkdir(kNetnsDir, 0755);
  std::string path = netns_path(name);
  int file = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (file < 0) {
    if (errno == EEXIST) return Error::already_exists("NetnsExists", path + " exists");
    return Error::internal("create " + path + ": " + std::strerror(errno));
  }
  ::close(file);
  std::string source = "/proc/self/fd/" + std::to_string(fd);
  if (::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    Error e = Error::internal("bind " + path + ": " + std::strerror(errno));
    ::unlink(path.c_str());
    return e;
  }
  return Ok{};
}

}  // namespace

Status create_netns(const std::string& name) {
  // Refused before the kernel builds a namespace for nothing.
  if (netns_exists(name)) return Error::already_exists("NetnsExists", netns_path(name) + " exists");
  auto fd = make_netns();
  if (!fd) return std::move(fd).error();
  Status named = name_netns(*fd, name);
  ::close(*fd);
  return named;
}

NetnsPool::NetnsPool(size_t spares) : target_(spares), refiller_([this](std::stop_token stop) { refill(stop); }) {}

NetnsPool::~NetnsPool() {
  refiller_.request_stop();
  wanted_.notify_all();
  if (refiller_.joinable()) refiller_.join();
  for (int fd : spares_) ::close(fd);
}

Status NetnsPool::create(const std::string& name) {
  int spare = -1;
  {
    std::lock_guard lock(mutex_);
    if (!spares_.empty()) {
      spare = spares_.back();
      spares_.pop_back();
    }
  }
  if (spare < 0) return create_netns(name);
  wanted_.notify_one();
  Status named = name_netns(spare, name);
  if (named) {
    ::close(spare);
    return named;
  }
  // Not used: a spare is fungible, so it goes back, unless the refiller
  // has meanwhile made up for it.
  keep_spare(spare);
  if (named.error().error_class == ErrorClass::kAlreadyExists) return named;
  return create_netns(name);
}

size_t NetnsPool::ready() {
  std::lock_guard lock(mutex_);
  return spares_.size();
}

void NetnsPool::refill(std::stop_token stop) {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (!wanted_.wait(lock, stop, [this] { return spares_.size() < target_; })) return;
    }
    auto fd = make_netns();
    if (!fd) {
      // No spares for now (no CAP_SYS_ADMIN, say): starts make their own
      // and say why they fail.
      log::debug("runtime", "netns pool: ", fd.error().message);
      std::unique_lock lock(mutex_);
      (void)wanted_.wait_for(lock, stop, std::chrono::seconds(5), [] { return false; });
      if (stop.stop_requested()) return;
      continue;
    }
    keep_spare(*fd);
  }
}

void NetnsPool::keep_spare(int fd) {
  {
    std::lock_guard lock(mutex_);
    if (spares_.size() < target_) {
      spares_.push_back(fd);
      return;
    }
  }
  ::close(fd);  // the namespace goes with its last reference
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
