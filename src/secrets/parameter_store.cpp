#include "secrets/parameter_store.h"

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/regex.hpp>

#include "secrets/parameter_names.h"
#include "secrets/store_rows.h"
#include "store/migrations.h"

namespace berth::secrets {
namespace {

using store::Tx;
using rows::as_blob;
using rows::each_row;
using rows::from_blob;
using rows::tags_from_json;
using rows::tags_to_json;
using rows::to_ms;

constexpr std::array kMigrations = {
    store::Migration{1, "create ssm parameter tables", R"sql(
CREATE TABLE ssm_parameters (
  name TEXT PRIMARY KEY,
  latest_version INTEGER NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE ssm_parameter_versions (
  name TEXT NOT NULL REFERENCES ssm_parameters(name) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  type TEXT NOT NULL,
  value BLOB NOT NULL,
  description TEXT NOT NULL,
  allowed_pattern TEXT NOT NULL,
  key_id TEXT NOT NULL,
  tier TEXT NOT NULL,
  data_type TEXT NOT NULL,
  modified_ms INTEGER NOT NULL,
  modified_user TEXT NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE TABLE ssm_parameter_labels (
  name TEXT NOT NULL,
  label TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (name, label),
  FOREIGN KEY (name, version) REFERENCES ssm_parameter_versions(name, version) ON DELETE CASCADE
);
)sql"},
};

constexpr std::string_view kVersionColumns =
    "SELECT name, version, type, value, description, allowed_pattern, key_id, tier, data_type, modified_ms, "
    "modified_user FROM ssm_parameter_versions";

constexpr size_t kStandardValueBytes = 4096;
constexpr size_t kAdvancedValueBytes = 8192;

// Where a SecureString value may be opened: this name, this version.
std::string sealing_context(std::string_view name, int64_t version) {
  return "ssm-parameter\n" + std::string(name) + "\n" + std::to_string(version);
}

// SSM answers a missing parameter with no message ("An error occurred
// (ParameterNotFound) when calling the GetParameter operation: ",
// awslabs/aws-simple-cicd#10).
Error parameter_not_found() { return Error::not_found("ParameterNotFound", ""); }

Error version_not_found(std::string_view name, std::string_view version) {
  return Error::not_found("ParameterVersionNotFound", "Systems Manager could not find version " +
                                                          std::string(version) + " of " + std::string(name) +
                                                          ". Verify the version and try again.");
}

Error validation(std::string message) { return Error::invalid("ValidationException", std::move(message)); }

// ParameterVersionNotFound unless the parameter has that version.
Status check_version_exists(Tx& tx, const std::string& name, int64_t version) {
  bool exists = false;
  auto s = each_row(
      tx, "SELECT 1 FROM ssm_parameter_versions WHERE name = ? AND version = ?",
      [&](const store::Statement&) -> Status {
        exists = true;
        return Ok{};
      },
      name, version);
  if (!s) return s;
  if (!exists) return version_not_found(name, std::to_string(version));
  return Ok{};
}

Result<std::optional<int64_t>> latest_version(Tx& tx, std::string_view name) {
  std::optional<int64_t> out;
  auto s = each_row(
      tx, "SELECT latest_version FROM ssm_parameters WHERE name = ?",
      [&](const store::Statement& st) -> Status {
        out = st.column_int64(0);
        return Ok{};
      },
      name);
  if (!s) return std::move(s).error();
  return out;
}

// A reference without its selector: "name:sel" -> ("name", "sel").
struct Reference {
  std::string_view name;
  std::string_view selector;
  bool arn = false;
};

// An ARN of another region or account names nothing here.
Reference split_reference(std::string_view reference, std::string_view own_arn_prefix) {
  Reference r;
  std::string_view rest = reference;
  if (reference.rfind("arn:", 0) == 0) {
    r.arn = true;
    rest = reference.rfind(own_arn_prefix, 0) == 0 ? parameter_arn_resource(reference) : std::string_view();
  }
  size_t colon = rest.find(':');
  r.name = rest.substr(0, colon);
  if (colon != std::string_view::npos) r.selector = rest.substr(colon + 1);
  return r;
}

// The stored name a reference means. An ARN drops a hierarchy's leading
// slash ("parameter/a/b" is "/a/b"); a one-level ARN names "a" or "/a".
Result<std::optional<std::string>> resolve_name(Tx& tx, const Reference& ref) {
  if (ref.name.empty()) return std::optional<std::string>();
  std::vector<std::string> candidates;
  if (!ref.arn) {
    candidates.emplace_back(ref.name);
  } else if (ref.name.find('/') != std::string_view::npos) {
    candidates.push_back("/" + std::string(ref.name));
  } else {
    candidates.emplace_back(ref.name);
    candidates.push_back("/" + std::string(ref.name));
  }
  for (const auto& name : candidates) {
    auto latest = latest_version(tx, name);
    if (!latest) return std::move(latest).error();
    if (*latest) return std::optional<std::string>(name);
  }
  return std::optional<std::string>();
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

class VersionReader {
 public:
  VersionReader(Tx& tx, const ValueCipher& cipher, bool decrypt) : tx_(tx), cipher_(cipher), decrypt_(decrypt) {}

  Result<ParameterVersion> from_row(const store::Statement& s) {
    ParameterVersion p;
    p.name = s.column_string(0);
    p.version = s.column_int64(1);
    p.type = s.column_string(2);
    std::string stored = from_blob(s.column_blob(3));
    p.description = s.column_string(4);
    p.allowed_pattern = s.column_string(5);
    p.key_id = s.column_string(6);
    p.tier = s.column_string(7);
    p.data_type = s.column_string(8);
    p.modified = WallTime(std::chrono::milliseconds(s.column_int64(9)));
    p.modified_user = s.column_string(10);
    if (p.type != "SecureString") {
      p.value = std::move(stored);
    } else if (!decrypt_) {
      // As AWS answers without WithDecryption: the ciphertext, base64.
      p.value = base64_encode(stored);
    } else {
      auto opened = cipher_.open_sealed(stored, sealing_context(p.name, p.version));
      if (!opened) return std::move(opened).error();
      p.value = std::move(*opened);
    }
    auto s2 = each_row(
        tx_, "SELECT label FROM ssm_parameter_labels WHERE name = ? AND version = ? ORDER BY label",
        [&](const store::Statement& st) -> Status {
          p.labels.push_back(st.column_string(0));
          return Ok{};
        },
        p.name, p.version);
    if (!s2) return std::move(s2).error();
    return p;
  }

  // Rows of `sql` (selecting kVersionColumns) as versions.
  template <class... Args>
  Result<std::vector<ParameterVersion>> all(std::string_view sql, const Args&... args) {
    std::vector<ParameterVersion> out;
    auto s = each_row(
        tx_, sql,
        [&](const store::Statement& st) -> Status {
          auto p = from_row(st);
          if (!p) return std::move(p).error();
          out.push_back(std::move(*p));
          return Ok{};
        },
        args...);
    if (!s) return std::move(s).error();
    return out;
  }

 private:
  Tx& tx_;
  const ValueCipher& cipher_;
  bool decrypt_;
};

Status check_put_input(const PutParameterInput& in, std::string& tier) {
  if (auto s = check_parameter_name(in.name); !s) return s;
  if (in.type && *in.type != "String" && *in.type != "StringList" && *in.type != "SecureString")
    return validation("1 validation error detected: Value '" + *in.type +
                      "' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, "
                      "StringList, String]");
  if (in.tier != "Standard" && in.tier != "Advanced" && in.tier != "Intelligent-Tiering")
    return validation("1 validation error detected: Value '" + in.tier +
                      "' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Advanced, "
                      "Intelligent-Tiering, Standard]");
  tier = in.tier == "Intelligent-Tiering" ? (in.value.size() > kStandardValueBytes ? "Advanced" : "Standard") : in.tier;
  if (in.value.empty())
    return validation(
        "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater "
        "than or equal to 1");
  // Wording as AWS's (unverified).
  if (tier == "Standard" && in.value.size() > kStandardValueBytes)
    return validation(
        "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter "
        "value, upgrade the parameter to use the advanced-parameter tier. For more information, see "
        "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html");
  if (in.value.size() > kAdvancedValueBytes)
    return validation(
        "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less "
        "than or equal to 8192");
  if (in.data_type != "text" && in.data_type != "aws:ec2:image" && in.data_type != "aws:ssm:integration")
    return validation("The following data type is not supported: " + in.data_type +
                      " (Data type names are all lowercase.)");
  if (in.overwrite && !in.tags.empty())
    return validation(
        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove "
        "overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or "
        "RemoveTagsFromResource.");
  return Ok{};
}

Status check_allowed_pattern(std::string_view pattern, std::string_view value) {
  if (pattern.empty()) return Ok{};
  // Boost.Regex: its matcher is not recursive and gives up on patterns
  // too costly to match (std::regex could overflow the stack on a caller's pattern).
  try {
    boost::regex re(std::string(pattern), boost::regex::ECMAScript);
    if (boost::regex_match(std::string(value), re)) return Ok{};
  } catch (const std::runtime_error&) {
    return Error::invalid("InvalidAllowedPatternException", "The allowed pattern " + std::string(pattern) +
                                                                " is not valid.");  // unverified wording
  }
  return Error::invalid("ParameterPatternMismatchException",
                        "Parameter value, cannot be validated against allowedPattern: " + std::string(pattern));
}

// Drops the oldest version to make room, unless a label holds it.
Status make_room(Tx& tx, std::string_view name) {
  int64_t count = 0, oldest = 0;
  auto s = each_row(
      tx, "SELECT count(*), min(version) FROM ssm_parameter_versions WHERE name = ?",
      [&](const store::Statement& st) -> Status {
        count = st.column_int64(0);
        oldest = st.column_int64(1);
        return Ok{};
      },
      name);
  if (!s) return s;
  if (count < kMaxParameterVersions) return Ok{};
  int64_t labels = 0;
  s = each_row(
      tx, "SELECT count(*) FROM ssm_parameter_labels WHERE name = ? AND version = ?",
      [&](const store::Statement& st) -> Status {
        labels = st.column_int64(0);
        return Ok{};
      },
      name, oldest);
  if (!s) return s;
  if (labels > 0)
    return Error::conflict("ParameterMaxVersionLimitExceeded",
                           "You attempted to create a new version of " + std::string(name) +
                               " by calling the PutParameter API with the overwrite flag. Version " +
                               std::to_string(oldest) +
                               ", the oldest version, can't be deleted because it has a label associated with it. "
                               "Move the label to another version of the parameter, and try creating a new version "
                               "again.");
  return tx.run("DELETE FROM ssm_parameter_versions WHERE name = ? AND version = ?", name, oldest);
}

}  // namespace

Status ParameterStore::migrate(store::Database& db) { return store::apply_migrations(db, "secrets-ssm", kMigrations); }

std::string ParameterStore::arn(std::string_view name) const {
  std::string_view resource = !name.empty() && name[0] == '/' ? name.substr(1) : name;
  return "arn:aws:ssm:" + region_ + ":" + account_id_ + ":parameter/" + std::string(resource);
}

Result<int64_t> ParameterStore::put(const PutParameterInput& in, WallTime now) {
  std::string tier;
  if (auto s = check_put_input(in, tier); !s) return std::move(s).error();
  return db_.transaction([&](Tx& tx) -> Result<int64_t> {
    auto latest = latest_version(tx, in.name);
    if (!latest) return std::move(latest).error();
    std::optional<ParameterVersion> previous;
    if (*latest) {
      if (!in.overwrite)
        return Error::already_exists(
            "ParameterAlreadyExists",
            "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.");
      VersionReader reader(tx, cipher_, false);
      auto rows = reader.all(std::string(kVersionColumns) + " WHERE name = ? AND version = ?", in.name, **latest);
      if (!rows) return std::move(rows).error();
      if (!rows->empty()) previous = std::move(rows->front());
    } else if (!in.type) {
      return validation("A parameter type is required when you create a parameter.");  // unverified wording
    }
    // What the caller leaves out is kept from the version before.
    if (!in.type && !previous) return Error::internal("parameter " + in.name + " has no latest version");
    std::string type = in.type ? *in.type : previous->type;
    std::string description = in.description ? *in.description : previous ? previous->description : "";
    std::string pattern = in.allowed_pattern ? *in.allowed_pattern : previous ? previous->allowed_pattern : "";
    std::string key_id;
    if (type == "SecureString")
      key_id = in.key_id ? *in.key_id : previous && !previous->key_id.empty() ? previous->key_id
                                                                              : std::string(kDefaultSsmKeyId);
    if (auto s = check_allowed_pattern(pattern, in.value); !s) return std::move(s).error();
    int64_t version = latest->value_or(0) + 1;
    std::string stored = in.value;
    if (type == "SecureString") {
      auto sealed = cipher_.seal(in.value, sealing_context(in.name, version));
      if (!sealed) return std::move(sealed).error();
      stored = std::move(*sealed);
    }
    Status s = Ok{};
    if (*latest) {
      s = make_room(tx, in.name);
      if (s) s = tx.run("UPDATE ssm_parameters SET latest_version = ? WHERE name = ?", version, in.name);
    } else {
      s = tx.run("INSERT INTO ssm_parameters (name, latest_version, tags) VALUES (?, ?, ?)", in.name, version,
                 tags_to_json(in.tags));
    }
    if (!s) return std::move(s).error();
    s = tx.run(
        "INSERT INTO ssm_parameter_versions (name, version, type, value, description, allowed_pattern, key_id, tier, "
        "data_type, modified_ms, modified_user) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        in.name, version, type, as_blob(stored), description, pattern, key_id, tier, in.data_type, to_ms(now),
        in.user);
    if (!s) return std::move(s).error();
    tx.record_change("ssm_parameters", in.name, store::ChangeKind::kPut);
    return version;
  });
}

Result<ParameterVersion> ParameterStore::get(std::string_view reference, bool decrypt) {
  Reference ref = split_reference(reference, arn(""));
  return db_.read([&](Tx& tx) -> Result<ParameterVersion> {
    auto name = resolve_name(tx, ref);
    if (!name) return std::move(name).error();
    if (!*name) return parameter_not_found();
    VersionReader reader(tx, cipher_, decrypt);
    Result<std::vector<ParameterVersion>> rows = std::vector<ParameterVersion>{};
    if (ref.selector.empty()) {
      rows = reader.all(std::string(kVersionColumns) +
                            " WHERE name = ? AND version = (SELECT latest_version FROM ssm_parameters WHERE name = ?)",
                        **name, **name);
    } else if (all_digits(ref.selector)) {
      rows = reader.all(std::string(kVersionColumns) + " WHERE name = ? AND version = ?", **name,
                        std::stoll(std::string(ref.selector.substr(0, 18))));
    } else {
      rows = reader.all(std::string(kVersionColumns) +
                            " WHERE name = ? AND version = (SELECT version FROM ssm_parameter_labels WHERE name = ? "
                            "AND label = ?)",
                        **name, **name, ref.selector);
    }
    if (!rows) return std::move(rows).error();
    if (rows->empty()) return version_not_found(**name, ref.selector);
    ParameterVersion p = std::move(rows->front());
    if (!ref.selector.empty()) p.selector = ":" + std::string(ref.selector);
    return p;
  });
}

Result<std::vector<ParameterVersion>> ParameterStore::history(std::string_view reference, bool decrypt) {
  Reference ref = split_reference(reference, arn(""));
  return db_.read([&](Tx& tx) -> Result<std::vector<ParameterVersion>> {
    auto name = resolve_name(tx, ref);
    if (!name) return std::move(name).error();
    if (!*name || !ref.selector.empty()) return parameter_not_found();
    VersionReader reader(tx, cipher_, decrypt);
    return reader.all(std::string(kVersionColumns) + " WHERE name = ? ORDER BY version", **name);
  });
}

Result<std::vector<ParameterVersion>> ParameterStore::latest_with_prefix(std::string_view prefix, bool decrypt) {
  return db_.read([&](Tx& tx) -> Result<std::vector<ParameterVersion>> {
    VersionReader reader(tx, cipher_, decrypt);
    return reader.all(
        "SELECT v.name, v.version, v.type, v.value, v.description, v.allowed_pattern, v.key_id, v.tier, v.data_type, "
        "v.modified_ms, v.modified_user FROM ssm_parameters p JOIN ssm_parameter_versions v ON v.name = p.name AND "
        "v.version = p.latest_version WHERE substr(p.name, 1, length(?)) = ? ORDER BY p.name",
        prefix, prefix);
  });
}

Status ParameterStore::remove(std::string_view reference) {
  Reference ref = split_reference(reference, arn(""));
  return db_.transaction([&](Tx& tx) -> Status {
    auto name = resolve_name(tx, ref);
    if (!name) return std::move(name).error();
    if (!*name || !ref.selector.empty()) return parameter_not_found();
    if (auto s = tx.run("DELETE FROM ssm_parameter_labels WHERE name = ?", **name); !s) return s;
    if (auto s = tx.run("DELETE FROM ssm_parameters WHERE name = ?", **name); !s) return s;
    tx.record_change("ssm_parameters", **name, store::ChangeKind::kDelete);
    return Ok{};
  });
}

Result<LabelOutcome> ParameterStore::label(std::string_view reference, std::optional<int64_t> version,
                                           const std::vector<std::string>& labels) {
  Reference ref = split_reference(reference, arn(""));
  return db_.transaction([&](Tx& tx) -> Result<LabelOutcome> {
    auto name = resolve_name(tx, ref);
    if (!name) return std::move(name).error();
    if (!*name || !ref.selector.empty()) return parameter_not_found();
    LabelOutcome out;
    auto latest = latest_version(tx, **name);
    if (!latest) return std::move(latest).error();
    out.version = version.value_or(**latest);
    std::vector<std::string> current;
    if (auto exists = check_version_exists(tx, **name, out.version); !exists) return std::move(exists).error();
    auto s = each_row(
        tx, "SELECT label FROM ssm_parameter_labels WHERE name = ? AND version = ?",
        [&](const store::Statement& st) -> Status {
          current.push_back(st.column_string(0));
          return Ok{};
        },
        **name, out.version);
    if (!s) return std::move(s).error();
    std::vector<std::string> valid;
    for (const auto& label : labels) {
      if (!valid_label(label)) {
        out.invalid_labels.push_back(label);
      } else if (std::find(current.begin(), current.end(), label) == current.end() &&
                 std::find(valid.begin(), valid.end(), label) == valid.end()) {
        valid.push_back(label);
      }
    }
    if (current.size() + valid.size() > kMaxLabelsPerVersion)
      return Error::conflict("ParameterVersionLabelLimitExceeded",
                             "A parameter version can have maximum 10 labels.Move one or more labels to another "
                             "version and try again.");
    // A label names one version: labelling another version moves it.
    for (const auto& label : valid) {
      s = tx.run("INSERT OR REPLACE INTO ssm_parameter_labels (name, label, version) VALUES (?, ?, ?)", **name, label,
                 out.version);
      if (!s) return std::move(s).error();
    }
    tx.record_change("ssm_parameters", **name, store::ChangeKind::kPut);
    return out;
  });
}

Result<std::vector<std::string>> ParameterStore::unlabel(std::string_view reference, int64_t version,
                                                         const std::vector<std::string>& labels,
                                                         std::vector<std::string>& removed) {
  Reference ref = split_reference(reference, arn(""));
  return db_.transaction([&](Tx& tx) -> Result<std::vector<std::string>> {
    auto name = resolve_name(tx, ref);
    if (!name) return std::move(name).error();
    if (!*name || !ref.selector.empty()) return parameter_not_found();
    if (auto exists = check_version_exists(tx, **name, version); !exists) return std::move(exists).error();
    std::vector<std::string> invalid;
    for (const auto& label : labels) {
      auto s = tx.run("DELETE FROM ssm_parameter_labels WHERE name = ? AND label = ? AND version = ?", **name, label,
                      version);
      if (!s) return std::move(s).error();
      (tx.rows_changed() > 0 ? removed : invalid).push_back(label);
    }
    tx.record_change("ssm_parameters", **name, store::ChangeKind::kPut);
    return invalid;
  });
}

Result<Tags> ParameterStore::tags(std::string_view name) {
  return db_.read([&](Tx& tx) -> Result<Tags> {
    Tags out;
    bool found = false;
    auto s = each_row(
        tx, "SELECT tags FROM ssm_parameters WHERE name = ?",
        [&](const store::Statement& st) -> Status {
          found = true;
          out = tags_from_json(st.column_text(0));
          return Ok{};
        },
        name);
    if (!s) return std::move(s).error();
    if (!found) return parameter_not_found();
    return out;
  });
}

}  // namespace berth::secrets
