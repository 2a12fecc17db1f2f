// ecr/blob_store: content-addressed blobs on disk, shared by every
// repository (layers, configs and manifests alike).
//
//   ROOT/blobs/sha256/ab/abcdef...   one file per digest, never modified
//   ROOT/blobs/tmp/<random>          a blob being written (hashed as it streams)
//
//   Writer: append() ──► write(2) + SHA-256 update ──► commit(expected)
//           commit: fsync ─► compare digest ─► rename into place ─► fsync dir
//
// A blob file exists under its digest only once its bytes were hashed,
// found equal to the digest and fsynced, so a crash leaves at most a stray
// temp file (cleared on open), never a blob whose bytes don't match its
// name. Two identical uploads racing both rename the same bytes onto the
// same name; rename is atomic, so readers see one or the other, both right.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "ecr/digest.h"

namespace berth::ecr {

class BlobStore {
 public:
  // Creates ROOT/blobs/{sha256,tmp} if needed and removes leftovers in tmp.
  static Result<BlobStore> open(const std::filesystem::path& root);

  std::filesystem::path path_of(std::string_view digest) const;
  // Size of a stored blob; nullopt if absent (or digest malformed).
  std::optional<uint64_t> size_of(std::string_view digest) const;

  struct OpenBlob {
    int fd = -1;  // the caller owns it
    uint64_t size = 0;
  };
  // Errors: kNotFound if absent.
  Result<OpenBlob> open_read(std::string_view digest) const;
  Result<std::string> read_all(std::string_view digest, uint64_t max_bytes) const;
  // Idempotent; kNotFound if absent.
  Status remove(std::string_view digest);

  // A blob being written. Movable, not copyable; destroying an uncommitted
  // writer deletes its temp file.
  class Writer {
   public:
    Writer() = default;
    Writer(Writer&& other) noexcept;
    Writer& operator=(Writer&& other) noexcept;
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    ~Writer();

    Status append(const char* data, size_t size);
    uint64_t size() const { return size_; }
    bool active() const { return fd_ >= 0; }
    // Verifies against expected ("sha256:..."; empty: accept any) and moves
    // the bytes into the store. Errors: "DIGEST_INVALID" (kInvalid) on a
    // mismatch; the temp file is gone either way. Returns the digest.
    Result<std::string> commit(std::string_view expected);
    void abort();

   private:
    friend class BlobStore;
    const BlobStore* store_ = nullptr;
    int fd_ = -1;
    std::filesystem::path temp_;
    Sha256 hash_;
    uint64_t size_ = 0;
  };

  Result<Writer> begin_write() const;
  // Whole-buffer convenience (manifests): returns the digest.
  Result<std::string> put(std::string_view bytes) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  explicit BlobStore(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

}  // namespace berth::ecr
