#include "ecr/upload_sessions.h"

#include <vector>

#include "core/ids.h"

namespace berth::ecr {

Result<std::string> UploadSessions::start(std::string_view repository) {
  auto writer = blobs_.begin_write();
  if (!writer) return std::move(writer).error();
  auto session = std::make_shared<UploadSession>();
  session->id = ids::uuid4();
  session->repository = repository;
  session->writer = std::move(*writer);
  session->touched = clock_.now();
  std::lock_guard lock(mutex_);
  sessions_.emplace(session->id, session);
  return session->id;
}

Result<std::shared_ptr<UploadSession>> UploadSessions::acquire(std::string_view id, std::string_view repository) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second->repository != repository) {
    return Error::not_found("BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
  }
  if (it->second->busy) return Error::conflict("BLOB_UPLOAD_INVALID", "blob upload is in use by another request");
  it->second->busy = true;
  return it->second;
}

void UploadSessions::release(const std::shared_ptr<UploadSession>& session) {
  std::lock_guard lock(mutex_);
  session->busy = false;
  session->touched = clock_.now();
}

void UploadSessions::erase(std::string_view id) {
  std::shared_ptr<UploadSession> dropped;
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    dropped = std::move(it->second);
    sessions_.erase(it);
  }
  // The temp file goes when the last holder lets go (the writer's destructor).
}

size_t UploadSessions::sweep() {
  std::vector<std::shared_ptr<UploadSession>> dropped;
  WallTime now = clock_.now();
  {
    std::lock_guard lock(mutex_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (!it->second->busy && now - it->second->touched > ttl_) {
        dropped.push_back(std::move(it->second));
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }
  return dropped.size();
}

size_t UploadSessions::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

}  // namespace berth::ecr
