// cli/data_dir: the files of one daemon's data directory.
//
//   DATA_DIR/state.db (+ -wal, -shm)  SQLite, all API state
//   DATA_DIR/endpoint                 "http://ADDR:PORT\n", written once listening
//   DATA_DIR/credentials              the bootstrap administrator's key (mode 0600)
//   DATA_DIR/access.log               one line per HTTP request
//
// The daemon runs with umask 077, so everything it creates is private.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace berth::cli {

struct BootstrapCredentials {
  std::string access_key_id;
  std::string secret_access_key;
};

// ~/.local/share/berth ($HOME unset: the passwd entry's home).
std::string default_data_dir();
// `given` (--data-dir), or the default when it is empty.
std::string data_dir_or_default(const std::string& given);
// Creates the directory (and parents) with mode 0700 if missing; returns its absolute path.
Result<std::string> prepare_data_dir(std::string_view dir);

// Writes `content` to dir/name atomically (temp file + rename), mode 0600.
Status write_private_file(const std::string& dir, std::string_view name, std::string_view content);
Result<std::string> read_file(const std::string& path);

Status write_credentials(const std::string& dir, const BootstrapCredentials& credentials);
Result<BootstrapCredentials> read_credentials(const std::string& dir);
Status write_endpoint(const std::string& dir, std::string_view endpoint);
Result<std::string> read_endpoint(const std::string& dir);

}  // namespace berth::cli
