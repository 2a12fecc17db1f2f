// core/durable_file: write a small state file so that a crash or a power cut
// leaves either the old file or the whole new one, never a torn or empty
// one, and so that a failure is reported, not ignored.
//
//   temp file beside it ─ write all ─ fsync ─ close ─ rename (or link) ─ fsync dir
//
// Every berth state file outside SQLite (task.json, the credentials and
// endpoint files, the registry token secret, the secrets key) goes through it.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "core/error.h"

namespace berth {

enum class IfExists {
  kReplace,  // rename over it (atomic)
  kKeep,     // never replace: AlreadyExists if the file is there (link, not rename)
};

// Writes `content` to `path` durably (see above) with permissions `mode`.
// The error (class kInternal, code "InternalFailure"; kAlreadyExists
// "AlreadyExists" under kKeep) names the step, the file and errno's text.
// No temp file is left behind on failure.
Status write_file_durably(const std::string& path, std::string_view content, mode_t mode = 0600,
                          IfExists if_exists = IfExists::kReplace);

// The same in two steps, for a writer with other work to do meanwhile:
// write_file_atomically replaces the file at once (temp file, rename: a
// killed process leaves the old file or the whole new one, and readers
// see either), and sync_file later makes it survive a power cut (fsync of
// the file, then of its directory). Until sync_file returns, a power cut
// may leave the old file, none, or (on some filesystems) a torn one.
Status write_file_atomically(const std::string& path, std::string_view content, mode_t mode = 0600);
Status sync_file(const std::string& path);

// fsync of a directory: makes the entries created or renamed in it durable
// (a new subdirectory, for instance, before a file in it is relied on).
Status sync_directory(const std::string& dir);

}  // namespace berth
