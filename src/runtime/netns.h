// runtime/netns: a task's network namespace, named like `ip netns` does
// (a bind mount at /run/netns/berth-<task>), with loopback up; and sockets
// opened inside it (a socket keeps the namespace it was created in).
//
//   /run/netns/berth-<task> ──path──> config.json linux.namespaces[network]
//                           ──fd────> socket_in_netns(): forwarder upstreams
#pragma once

#include <string>

#include "core/error.h"

namespace berth::runtime {

std::string netns_path(const std::string& name);  // /run/netns/<name>

// Creates the named namespace with lo up; kAlreadyExists if it is there.
Status create_netns(const std::string& name);
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
