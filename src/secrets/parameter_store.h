// secrets/parameter_store: SSM Parameter Store's parameters, their
// versions and labels, in SQLite (module "secrets").
//
//   ssm_parameters ─┬─< ssm_parameter_versions   (one row per version; a
//   (latest version,│                              SecureString's value sealed)
//    tags)          └─< ssm_parameter_labels     (label -> version)
//
// String and StringList values are kept as written; SecureString values
// only sealed by the ValueCipher (bound to name and version). Every write
// is one transaction. Errors carry SSM's codes.
#pragma once

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

inline constexpr std::string_view kDefaultSsmKeyId = "alias/aws/ssm";
inline constexpr int64_t kMaxParameterVersions = 100;
inline constexpr size_t kMaxLabelsPerVersion = 10;

struct ParameterVersion {
  std::string name;
  std::string type;   // String, StringList, SecureString
  std::string value;  // in clear, or (a SecureString asked for without decryption) the sealed blob in base64
  int64_t version = 0;
  std::string description;
  std::string allowed_pattern;
  std::string key_id;  // SecureString only
  std::string tier = "Standard";
  std::string data_type = "text";
  WallTime modified;
  std::string modified_user;
  std::vector<std::string> labels;  // sorted
  std::string selector;             // ":3" or ":label" when asked for so
};

struct PutParameterInput {
  std::string name;
  std::string value;
  std::optional<std::string> type;
  std::optional<std::string> description;
  std::optional<std::string> allowed_pattern;
  std::optional<std::string> key_id;
  std::string tier = "Standard";
  std::string data_type = "text";
  bool overwrite = false;
  Tags tags;
  std::string user;  // the caller's ARN
};

struct LabelOutcome {
  int64_t version = 0;
  std::vector<std::string> invalid_labels;
};

class ParameterStore {
 public:
  ParameterStore(store::Database& db, const ValueCipher& cipher, std::string account_id, std::string region)
      : db_(db), cipher_(cipher), account_id_(std::move(account_id)), region_(std::move(region)) {}

  static Status migrate(store::Database& db);

  // arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>
  std::string arn(std::string_view name) const;

  // The new version. Validates name, type, pattern, size; refuses an
  // existing name without overwrite (ParameterAlreadyExists).
  Result<int64_t> put(const PutParameterInput& input, WallTime now);
  // `reference` is a name or ARN, optionally with ":<version>" or ":<label>".
  Result<ParameterVersion> get(std::string_view reference, bool decrypt);
  Result<std::vector<ParameterVersion>> history(std::string_view reference, bool decrypt);
  // The latest version of every parameter whose name starts with `prefix`,
  // by name (decrypted when asked).
  Result<std::vector<ParameterVersion>> latest_with_prefix(std::string_view prefix, bool decrypt);
  Status remove(std::string_view reference);
  Result<LabelOutcome> label(std::string_view reference, std::optional<int64_t> version,
                             const std::vector<std::string>& labels);
  // Removes those of `labels` that are on `version`; the others come back.
  Result<std::vector<std::string>> unlabel(std::string_view reference, int64_t version,
                                           const std::vector<std::string>& labels, std::vector<std::string>& removed);
  Result<Tags> tags(std::string_view name);

 private:
  store::Database& db_;
  const ValueCipher& cipher_;
  std::string account_id_;
  std::string region_;
};

}  // namespace berth::secrets
