#include "core/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace berth {
namespace {

Error failed(std::string_view step, const std::string& path, int err) {
  return Error::internal("cannot " + std::string(step) + " " + path + ": " + std::strerror(err));
}

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

enum class Sync { kNow, kLater };

Status write_file(const std::string& path, std::string_view content, mode_t mode, IfExists if_exists, Sync sync) {
  // Unique per process and call: two writers of one file never share a temp.
  static std::atomic<uint64_t> counter{0};
  std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return failed("create", tmp, errno);
  auto give_up = [&](std::string_view step, int err) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return failed(step, step == "rename to" || step == "link to" ? path : tmp, err);
  };
  if (::fchmod(fd, mode) != 0) return give_up("chmod", errno);  // the umask may have narrowed it
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return give_up("write", errno);
    if (n == 0) return give_up("write", EIO);
    done += static_cast<size_t>(n);
  }
  if (sync == Sync::kNow && ::fsync(fd) != 0) return give_up("fsync", errno);
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0) return give_up("close", errno);
  if (if_exists == IfExists::kReplace) {
    if (::rename(tmp.c_str(), path.c_str()) != 0) return give_up("rename to", errno);
  } else {
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      if (err == EEXIST) return Error::already_exists("AlreadyExists", path + " exists");
      return failed("link to", path, err);
    }
    ::unlink(tmp.c_str());
  }
  // The rename is durable once the directory entry is.
  return sync == Sync::kNow ? sync_directory(directory_of(path)) : Status(Ok{});
}

}  // namespace

Status write_file_durably(const std::string& path, std::string_view content, mode_t mode, IfExists if_exists) {
  return write_file(path, content, mode, if_exists, Sync::kNow);
}

Status write_file_atomically(const std::string& path, std::string_view content, mode_t mode) {
  return write_file(path, content, mode, IfExists::kReplace, Sync::kLater);
}

Status sync_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failed("open", path, errno);
  int synced = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (synced != 0) return failed("fsync", path, err);
  return sync_directory(directory_of(path));
}

Status sync_directory(const std::string& dir) {
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return failed("open directory", dir, errno);
  int synced = ::fsync(dir_fd);
  int err = errno;
  ::close(dir_fd);
  if (synced != 0) return failed("fsync directory", dir, err);
  return Ok{};
}

}  // namespace berth
