// iam: berth's account, IAM users, access keys and attached managed
// policies, kept in the store, plus the in-memory Directory the front door
// authenticates and authorizes against.
//
//   IAM API (iam_service.cpp) ──► Iam (one store transaction per write)
//                                   │ change feed (iam_* tables)
//                                   ▼
//   front door ◄── directory() ── Directory snapshot (rebuilt, swapped)
//
// On first start Iam::open creates the 12-digit account and the bootstrap
// user `administrator` with AdministratorAccess and one access key.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "iam/directory.h"
#include "iam/identity.h"
#include "store/store.h"

namespace berth::iam {

template <class T>
struct Page {
  std::vector<T> items;
  std::optional<std::string> next_marker;  // set when truncated
};

struct Bootstrap {
  bool created = false;  // true on the very first start
  AccessKey admin_key;   // the administrator's first key (secret included)
};

class Iam {
 public:
  // Applies the iam migrations, creates the account and the bootstrap
  // administrator if missing, loads the Directory and watches the feed.
  static Result<std::unique_ptr<Iam>> open(store::Database& db, const Clock& clock);
  ~Iam();
  Iam(const Iam&) = delete;
  Iam& operator=(const Iam&) = delete;

  const std::string& account_id() const { return account_id_; }
  // The administrator key made on first start (also kept while it exists).
  const Bootstrap& bootstrap() const { return bootstrap_; }
  // The current read model; never null.
  std::shared_ptr<const Directory> directory() const { return directory_.load(std::memory_order_acquire); }

  Result<User> create_user(std::string_view name, std::string_view path);
  Result<User> get_user(std::string_view name);
  Result<Page<User>> list_users(std::string_view path_prefix, std::string_view marker, size_t max_items);
  Status delete_user(std::string_view name);

  Result<AccessKey> create_access_key(std::string_view user_name);
  Result<Page<AccessKey>> list_access_keys(std::string_view user_name, std::string_view marker, size_t max_items);
  Status delete_access_key(std::string_view user_name, std::string_view access_key_id);

  Status attach_user_policy(std::string_view user_name, std::string_view policy_arn);
  Status detach_user_policy(std::string_view user_name, std::string_view policy_arn);
  Result<Page<ManagedPolicy>> list_attached_user_policies(std::string_view user_name, std::string_view marker,
                                                          size_t max_items);

 private:
  Iam(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Status load_or_create_account();
  Status reload_directory();

  store::Database& db_;
  const Clock& clock_;
  std::string account_id_;
  Bootstrap bootstrap_;
  std::atomic<std::shared_ptr<const Directory>> directory_;
  store::Subscription subscription_;
};

// IAM's own errors (model codes and statuses, AWS's messages).
Error no_such_user(std::string_view name);

}  // namespace berth::iam
