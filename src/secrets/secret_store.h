// secrets/secret_store: Secrets Manager's secrets, their versions and
// staging labels, in SQLite (module "secrets").
//
//   sm_secrets ─┬─< sm_secret_versions   (version id -> value, sealed)
//               └─< sm_version_stages    (AWSCURRENT, AWSPREVIOUS, ... -> version id)
//
// Values are only ever stored sealed by the ValueCipher, bound to the
// secret's ARN and the version id. A secret scheduled for deletion stays
// (DescribeSecret shows DeletedDate; RestoreSecret brings it back) until
// its deletion date, after which it counts as gone and is purged by the
// next write that meets it. Errors carry Secrets Manager's codes and texts.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "secrets/json_members.h"
#include "secrets/value_cipher.h"
#include "store/store.h"

namespace berth::secrets {

inline constexpr std::string_view kCurrent = "AWSCURRENT";
inline constexpr std::string_view kPrevious = "AWSPREVIOUS";

struct SecretRecord {
  std::string arn;
  std::string name;
  std::optional<std::string> description;
  std::optional<std::string> kms_key_id;  // absent: the AWS managed key aws/secretsmanager
  Tags tags;
  WallTime created;
  WallTime last_changed;
  std::optional<WallTime> deleted;        // when DeleteSecret was called
  std::optional<WallTime> deletion_date;  // when it goes for good
  // Version ids that carry at least one stage, with their stages.
  std::map<std::string, std::vector<std::string>> version_stages;
};

// A value as given: exactly one of string or binary.
struct SecretValueInput {
  std::optional<std::string> string;
  std::optional<std::string> binary;  // raw bytes
  bool empty() const { return !string && !binary; }
};

struct SecretValue {
  std::string arn;
  std::string name;
  std::string version_id;
  std::vector<std::string> stages;
  std::optional<std::string> string;
  std::optional<std::string> binary;
  WallTime created;
};

struct CreateSecretInput {
  std::string name;
  std::string client_request_token;
  std::optional<std::string> description;
  std::optional<std::string> kms_key_id;
  SecretValueInput value;
  Tags tags;
};

struct VersionWritten {
  std::string arn;
  std::string name;
  std::optional<std::string> version_id;  // absent when no value was written
  std::vector<std::string> stages;
};

class SecretStore {
 public:
  SecretStore(store::Database& db, const ValueCipher& cipher, std::string account_id, std::string region)
      : db_(db), cipher_(cipher), account_id_(std::move(account_id)), region_(std::move(region)) {}

  static Status migrate(store::Database& db);

  // `secret_id` everywhere: a name, an ARN, or a partial ARN (without the
  // "-AbCdEf" suffix).
  Result<VersionWritten> create(const CreateSecretInput& in, WallTime now);
  Result<SecretRecord> describe(std::string_view secret_id, WallTime now);
  // Neither given: AWSCURRENT.
  Result<SecretValue> get_value(std::string_view secret_id, std::optional<std::string_view> version_id,
                                std::optional<std::string_view> stage, WallTime now);
  // stages defaults to {AWSCURRENT}; moving AWSCURRENT leaves AWSPREVIOUS on the version that had it.
  Result<VersionWritten> put_value(std::string_view secret_id, std::string_view token, const SecretValueInput& value,
                                   std::optional<std::vector<std::string>> stages, WallTime now);
  // Metadata, and a new AWSCURRENT version when a value is given.
  Result<VersionWritten> update(std::string_view secret_id, std::optional<std::string> description,
                                std::optional<std::string> kms_key_id, std::string_view token,
                                const SecretValueInput& value, WallTime now);
  // window_days in [7, 30] (checked by the caller), or force: gone at once.
  Result<SecretRecord> schedule_deletion(std::string_view secret_id, int64_t window_days, bool force, WallTime now);
  Result<SecretRecord> restore(std::string_view secret_id, WallTime now);
  // Every secret, by creation; scheduled ones only when asked.
  Result<std::vector<SecretRecord>> list(bool include_planned_deletion, WallTime now);
  struct VersionEntry {
    std::string version_id;
    std::vector<std::string> stages;  // empty: deprecated
    WallTime created;
  };
  // Every version of the secret, oldest first, with the secret's ARN and name.
  Result<std::pair<SecretRecord, std::vector<VersionEntry>>> versions(std::string_view secret_id, WallTime now);
  Status tag(std::string_view secret_id, const Tags& tags, WallTime now);
  Status untag(std::string_view secret_id, const std::vector<std::string>& keys, WallTime now);

  std::string new_arn(std::string_view name) const;

 private:
  store::Database& db_;
  const ValueCipher& cipher_;
  std::string account_id_;
  std::string region_;
};

}  // namespace berth::secrets
