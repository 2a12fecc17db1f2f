// runtime/image_cache: unpacked root filesystems, one per manifest digest,
// shared read-only by every task of that image (each task mounts its own
// overlay on top), so the second task of an image starts without unpacking.
//
//   <data>/runtime/images/<hex>/rootfs             umoci unpack of the layout
//   <data>/runtime/images/<hex>/image-config.json  the image config blob
//   <data>/runtime/images/<hex>.tmp-*               an unpack in progress
#pragma once

#include <filesystem>
#include <mutex>
#include <string>

#include "core/error.h"
#include "runtime/oci_config.h"
#include "runtime/runtime.h"

namespace berth::runtime {

struct CachedImage {
  std::string rootfs;
  ImageConfig config;
};

class ImageCache {
 public:
  ImageCache(std::filesystem::path dir, std::string umoci = "umoci") : dir_(std::move(dir)), umoci_(std::move(umoci)) {}

  // kNotFound "CannotPullContainerError: ..." when the layout or its
  // manifest is not there; kInternal when unpacking fails.
  Result<CachedImage> ensure(const ImageSource& source);
  bool cached(const std::string& manifest_digest) const;

 private:
  Result<CachedImage> unpack(const ImageSource& source);

  std::filesystem::path dir_;
  std::string umoci_;
  std::mutex mutex_;  // one unpack at a time; a hit takes it only briefly
};

}  // namespace berth::runtime
