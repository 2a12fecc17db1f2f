// ecr/oci_layout: an image of the registry as an OCI image layout, for the
// task runtime (umoci unpack), without copying layers.
//
//   OUT/oci-layout
//   OUT/index.json                    one manifest, annotated with ref_name
//   OUT/blobs/sha256/<config, layers> hard links into the blob store
//                                     (symlinks across file systems)
//   OUT/blobs/sha256/<manifest>       the manifest; a Docker schema 2
//                                     manifest is rewritten with OCI media
//                                     types (umoci reads only OCI), a few
//                                     hundred bytes, the only copy made
//
// An index (or manifest list) resolves to its linux/amd64 image.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"
#include "ecr/blob_store.h"
#include "ecr/catalog.h"

namespace berth::ecr {

struct LayoutWritten {
  std::string manifest_digest;  // the digest as written in the layout (after any rewrite)
  std::string image_digest;     // the registry's digest of the image manifest used
};

// reference: tag or digest. out_dir is created; existing files are replaced.
// Never throws: a stored manifest that does not parse (one an older berth
// accepted) is MANIFEST_INVALID.
Result<LayoutWritten> write_oci_layout(Catalog& catalog, const BlobStore& blobs, std::string_view repository,
                                       std::string_view reference, const std::filesystem::path& out_dir,
                                       std::string_view ref_name);

}  // namespace berth::ecr
