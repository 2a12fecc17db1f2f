// ecr/upload_sessions: blob uploads in progress (POST .../blobs/uploads/ to
// the final PUT), kept in memory with their temp file and running hash.
//
//   start() ─► id ─► acquire(id) ─ PATCH bytes ─► release() ... acquire ─► PUT ─► finish (erase)
//                       └── sweep(): sessions idle past the TTL are dropped and their temp file deleted
//
// A session is used by one request at a time (acquire marks it busy), so
// its hash and file offset always agree; after an interrupted PATCH it
// holds exactly the bytes that reached the disk, which the client learns
// from GET (Range: 0-N) and resumes from.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "ecr/blob_store.h"

namespace berth::ecr {

struct UploadSession {
  std::string id;
  std::string repository;
  BlobStore::Writer writer;
  WallTime touched;
  bool busy = false;
};

class UploadSessions {
 public:
  UploadSessions(const BlobStore& blobs, const Clock& clock, std::chrono::seconds ttl)
      : blobs_(blobs), clock_(clock), ttl_(ttl) {}

  Result<std::string> start(std::string_view repository);
  // Errors: "BLOB_UPLOAD_UNKNOWN" (kNotFound) for an unknown id or another
  // repository, "BLOB_UPLOAD_INVALID" (kConflict) while another request uses it.
  Result<std::shared_ptr<UploadSession>> acquire(std::string_view id, std::string_view repository);
  void release(const std::shared_ptr<UploadSession>& session);
  // Drops the session (and its temp file, unless already committed).
  void erase(std::string_view id);
  // Drops idle sessions past the TTL; returns how many.
  size_t sweep();
  size_t size() const;

 private:
  const BlobStore& blobs_;
  const Clock& clock_;
  std::chrono::seconds ttl_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<UploadSession>, std::less<>> sessions_;
};

}  // namespace berth::ecr
