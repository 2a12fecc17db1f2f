#include "runtime/open_in_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <string>
#include <vector>

namespace berth::runtime {
namespace {

// Linux's own limit on symlinks followed in one lookup (MAXSYMLINKS).
constexpr int kMaxSymlinks = 40;

void split_into(std::string_view path, std::deque<std::string>& out, bool front) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  if (front) out.insert(out.begin(), parts.begin(), parts.end());
  else out.insert(out.end(), parts.begin(), parts.end());
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out = ".";
  for (const auto& p : parts) out += "/" + p;
  return out;
}

}  // namespace

int open_in_root_by_hand(int root_fd, std::string_view path, int flags) {
  std::deque<std::string> pending;
  split_into(path, pending, false);
  std::vector<std::string> resolved;
  int links = 0;
  while (!pending.empty()) {
    std::string part = std::move(pending.front());
    pending.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (!resolved.empty()) resolved.pop_back();
      continue;
    }
    resolved.push_back(part);
    std::string here = joined(resolved);
    struct stat st {};
    if (::fstatat(root_fd, here.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return -1;
    if (!S_ISLNK(st.st_mode)) continue;
    if (++links > kMaxSymlinks) {
      errno = ELOOP;
      return -1;
    }
    char target[4096];
    ssize_t n = ::readlinkat(root_fd, here.c_str(), target, sizeof target);
    if (n < 0) return -1;
    if (static_cast<size_t>(n) == sizeof target) {
      errno = ENAMETOOLONG;
      return -1;
    }
    resolved.pop_back();
    std::string_view link(target, static_cast<size_t>(n));
    if (link.starts_with('/')) resolved.clear();
    split_into(link, pending, true);
  }
  // Every component is now a real directory or the (non-symlink) leaf.
  return ::openat(root_fd, joined(resolved).c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
}

int open_in_root(int root_fd, std::string_view path, int flags) {
  std::string relative(path);
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno == EAGAIN || errno == EINTR) continue;  // a concurrent rename; the kernel asks to retry
    if (errno == ENOSYS || errno == EPERM) break;     // no openat2 here (old kernel, or a seccomp filter)
    return -1;
  }
  return open_in_root_by_hand(root_fd, path, flags);
}

}  // namespace berth::runtime
