#include "ecr/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/ids.h"

namespace berth::ecr {
namespace fs = std::filesystem;
namespace {

Error io_error(std::string_view what, const fs::path& path, int err) {
  std::string message = std::string(what) + " " + path.string() + ": " + std::strerror(err);
  // A full or read-only data directory is the machine's state, not a bug:
  // the client may retry once there is room (503 UNAVAILABLE on the wire).
  if (err == ENOSPC || err == EDQUOT || err == EROFS)
    return Error::unavailable("berth cannot write its data directory: " + message);
  return Error::internal(std::move(message));
}

Status fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return io_error("fsync", dir, err);
  return Ok{};
}

}  // namespace

Result<BlobStore> BlobStore::open(const fs::path& root) {
  std::error_code ec;
  fs::create_directories(root / "blobs" / "sha256", ec);
  if (ec) return Error::internal("create " + (root / "blobs").string() + ": " + ec.message());
  fs::path tmp = root / "blobs" / "tmp";
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return Error::internal("create " + tmp.string() + ": " + ec.message());
  return BlobStore(root);
}

fs::path BlobStore::path_of(std::string_view digest) const {
  std::string_view hex = digest_hex(digest);
  return root_ / "blobs" / "sha256" / std::string(hex.substr(0, 2)) / std::string(hex);
}

std::optional<uint64_t> BlobStore::size_of(std::string_view digest) const {
  if (!is_sha256_digest(digest)) return std::nullopt;
  struct stat st;
  if (::stat(path_of(digest).c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

Result<BlobStore::OpenBlob> BlobStore::open_read(std::string_view digest) const {
  if (!is_sha256_digest(digest)) return Error::not_found("BLOB_UNKNOWN", "blob unknown to registry");
  fs::path p = path_of(digest);
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Error::not_found("BLOB_UNKNOWN", "blob unknown to registry");
    return io_error("open", p, errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return io_error("stat", p, err);
  }
  return OpenBlob{fd, static_cast<uint64_t>(st.st_size)};
}

Result<std::string> BlobStore::read_all(std::string_view digest, uint64_t max_bytes) const {
  auto blob = open_read(digest);
  if (!blob) return std::move(blob).error();
  int fd = blob->fd;
  if (blob->size > max_bytes) {
    ::close(fd);
    return Error::invalid("SIZE_INVALID", "blob larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string out(blob->size, '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(got));
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got != out.size()) return Error::internal("short read of blob " + std::string(digest));
  return out;
}

Status BlobStore::remove(std::string_view digest) {
  if (!is_sha256_digest(digest)) return Error::not_found("BLOB_UNKNOWN", "blob unknown to registry");
  fs::path p = path_of(digest);
  if (::unlink(p.c_str()) != 0) {
    if (errno == ENOENT) return Error::not_found("BLOB_UNKNOWN", "blob unknown to registry");
    return io_error("unlink", p, errno);
  }
  return Ok{};
}

Result<BlobStore::Writer> BlobStore::begin_write() const {
  Writer w;
  w.store_ = this;
  w.temp_ = root_ / "blobs" / "tmp" / ids::random_hex(24);
  w.fd_ = ::open(w.temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (w.fd_ < 0) return io_error("create", w.temp_, errno);
  return w;
}

Result<std::string> BlobStore::put(std::string_view bytes) const {
  auto w = begin_write();
  if (!w) return std::move(w).error();
  if (auto s = w->append(bytes.data(), bytes.size()); !s) return std::move(s).error();
  return w->commit({});
}

BlobStore::Writer::Writer(Writer&& other) noexcept
    : store_(other.store_),
      fd_(std::exchange(other.fd_, -1)),
      temp_(std::move(other.temp_)),
      hash_(std::move(other.hash_)),
      size_(other.size_) {}

BlobStore::Writer& BlobStore::Writer::operator=(Writer&& other) noexcept {
  if (this != &other) {
    abort();
    store_ = other.store_;
    fd_ = std::exchange(other.fd_, -1);
    temp_ = std::move(other.temp_);
    hash_ = std::move(other.hash_);
    size_ = other.size_;
  }
  return *this;
}

BlobStore::Writer::~Writer() { abort(); }

void BlobStore::Writer::abort() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlink(temp_.c_str());
}

Status BlobStore::Writer::append(const char* data, size_t size) {
  if (fd_ < 0) return Error::internal("blob writer is closed");
  hash_.update(data, size);
  while (size > 0) {
    ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      abort();  // the hash already covers bytes the file lacks: unusable
      return io_error("write", temp_, err);
    }
    data += n;
    size -= static_cast<size_t>(n);
    size_ += static_cast<uint64_t>(n);
  }
  return Ok{};
}

Result<std::string> BlobStore::Writer::commit(std::string_view expected) {
  if (fd_ < 0) return Error::internal("blob writer is closed");
  std::string digest = hash_.finish();
  if (!expected.empty() && digest != expected) {
    abort();
    return Error::invalid("DIGEST_INVALID", "provided digest did not match uploaded content");
  }
  if (::fsync(fd_) != 0) {
    int err = errno;
    abort();
    return io_error("fsync", temp_, err);
  }
  ::close(fd_);
  fd_ = -1;
  fs::path dest = store_->path_of(digest);
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (::rename(temp_.c_str(), dest.c_str()) != 0) {
    int err = errno;
    ::unlink(temp_.c_str());
    return io_error("rename", dest, err);
  }
  if (auto s = fsync_dir(dest.parent_path()); !s) return std::move(s).error();
  return digest;
}

}  // namespace berth::ecr
