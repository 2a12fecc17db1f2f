// iam/directory: the read model the front door authenticates against.
//
//   SQLite (iam_* tables) --change feed--> rebuild --> shared_ptr<const Directory>
//                                                          (atomic swap)
//   front door: directory() -> find(access key) -> secret, caller, policies
//
// A Directory is immutable once published; a request holds its shared_ptr
// for its whole life, so a concurrent CreateAccessKey never changes what a
// request in flight sees, and no SQLite call sits on the request path.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "api/service.h"
#include "iam/identity.h"

namespace berth::iam {

struct Principal {
  api::Caller caller;
  std::string secret;
  bool administrator = false;  // AdministratorAccess attached
  bool read_only = false;      // ReadOnlyAccess attached
};

class Directory {
 public:
  std::string account_id;
  std::map<std::string, Principal, std::less<>> by_access_key;  // active keys only

  const Principal* find(std::string_view access_key_id) const {
    auto it = by_access_key.find(access_key_id);
    return it == by_access_key.end() ? nullptr : &it->second;
  }
};

}  // namespace berth::iam
