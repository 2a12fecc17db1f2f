// runtime/netns: a task's network namespace, named like `ip netns` does
// (a bind mount at /run/netns/berth-<task>), with loopback up; and sockets
// opened inside it (a socket keeps the namespace it was created in).
//
//   /run/netns/berth-<task> ──path──> config.json linux.namespaces[network]
//                           ──fd────> socket_in_netns(): forwarder upstreams
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"

namespace berth::runtime {

std::string netns_path(const std::string& name);  // /run/netns/<name>

// Creates the named namespace with lo up; kAlreadyExists if it is there.
Status create_netns(const std::string& name);

// Network namespaces made ahead of need. The kernel takes milliseconds to
// build one (1 to 9, median 2, on a loaded 2-core VM; naming a spare takes
// 0.3 to 0.5), so a task start takes a ready one and only names it (a bind
// mount), and a thread of the pool makes the next. A spare is only an open fd of the
// pool's: nothing of it outlives the daemon.
class NetnsPool {
 public:
  explicit NetnsPool(size_t spares = 1);
  ~NetnsPool();
  NetnsPool(const NetnsPool&) = delete;
  NetnsPool& operator=(const NetnsPool&) = delete;

  // create_netns(name), from a spare when one is ready.
  Status create(const std::string& name);
  // Spares ready now.
  size_t ready();

 private:
  void refill(std::stop_token stop);
  // Holds fd as a spare, or closes it when the pool is already full.
  void keep_spare(int fd);

  const size_t target_;
  std::mutex mutex_;
  std::condition_variable_any wanted_;
  std::vector<int> spares_;  // namespace fds, lo up
  std::jthread refiller_;    // last: starts after the members it uses
};
// Unmounts and removes it; Ok if it is not there.
Status delete_netns(const std::string& name);
bool netns_exists(const std::string& name);

// An open fd of the namespace (O_CLOEXEC), or -1.
int open_netns(const std::string& name);
// A socket(domain, type, 0) created inside the namespace `netns_fd`; the
// calling thread enters it and comes back (network namespaces may be
// switched per thread). -1 with errno on failure.
int socket_in_netns(int netns_fd, int domain, int type);

}  // namespace berth::runtime
