// runtime/open_in_root: open a file of an image's root filesystem as a
// process chrooted into it would see it. The daemon runs as root and images
// are anyone's: a symlink /etc/passwd -> /etc/shadow, or /etc -> ../../..,
// must resolve inside the image, never to the host's files.
#pragma once

#include <string_view>

namespace berth::runtime {

// Opens `path` (relative to the root; a leading '/' is ignored) under the
// directory `root_fd`, with `flags` (O_CLOEXEC added). Symlinks are followed
// as in a chroot: an absolute target starts again at `root_fd`, ".." never
// climbs above it. Uses openat2(RESOLVE_IN_ROOT) (Linux 5.6+); on a kernel
// without it, resolves component by component. Returns the descriptor, or
// -1 with errno set.
int open_in_root(int root_fd, std::string_view path, int flags);

// The component-by-component resolution alone (exposed for its test; the
// kernel's openat2 is preferred: this one is open to a race with a writer
// that swaps a directory for a symlink while it runs).
int open_in_root_by_hand(int root_fd, std::string_view path, int flags);

}  // namespace berth::runtime
