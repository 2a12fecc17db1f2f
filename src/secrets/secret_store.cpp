#include "secrets/secret_store.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "secrets/store_rows.h"
#include "store/migrations.h"

namespace berth::secrets {
namespace {

using store::Tx;
using rows::as_blob;
using rows::each_row;
using rows::from_blob;
using rows::from_ms;
using rows::tags_from_json;
using rows::tags_to_json;
using rows::to_ms;

constexpr std::array kMigrations = {
    store::Migration{1, "create secrets manager tables", R"sql(
CREATE TABLE sm_secrets (
  arn TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT,
  kms_key_id TEXT,
  tags TEXT NOT NULL DEFAULT '[]',
  created_ms INTEGER NOT NULL,
  last_changed_ms INTEGER NOT NULL,
  deleted_ms INTEGER,
  deletion_ms INTEGER
);
CREATE TABLE sm_secret_versions (
  arn TEXT NOT NULL REFERENCES sm_secrets(arn) ON DELETE CASCADE,
  version_id TEXT NOT NULL,
  value BLOB NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (arn, version_id)
);
CREATE TABLE sm_version_stages (
  arn TEXT NOT NULL,
  stage TEXT NOT NULL,
  version_id TEXT NOT NULL,
  PRIMARY KEY (arn, stage),
  FOREIGN KEY (arn, version_id) REFERENCES sm_secret_versions(arn, version_id) ON DELETE CASCADE
);
)sql"},
};

constexpr std::string_view kSecretColumns =
    "SELECT arn, name, description, kms_key_id, tags, created_ms, last_changed_ms, deleted_ms, deletion_ms "
    "FROM sm_secrets";

// AWS's texts, as quoted in public reports: not found (Uniswap/uniswapx-service#126), marked for deletion
// (the brief's reference), exists (ibm-mas/cli#1408), scheduled name (redpanda-data/console#1835).
Error not_found() { return Error::not_found("ResourceNotFoundException", "Secrets Manager can't find the specified secret."); }

Error marked_for_deletion() {
  return Error::invalid("InvalidRequestException",
                        "You can't perform this operation on the secret because it was marked for deletion.");
}

// Unverified wording.
Error version_exists() {
  return Error::already_exists("ResourceExistsException",
                               "You can't modify an existing version, you can only create a new version.");
}

std::string sealing_context(std::string_view arn, std::string_view version_id) {
  return "secretsmanager\n" + std::string(arn) + "\n" + std::string(version_id);
}

// The sealed plaintext says which kind of value it is: 's' string, 'b' binary.
std::string kind_and_value(const SecretValueInput& v) { return v.string ? "s" + *v.string : "b" + *v.binary; }

SecretRecord record_from(const store::Statement& s) {
  SecretRecord r;
  r.arn = s.column_string(0);
  r.name = s.column_string(1);
  r.description = s.column_string_opt(2);
  r.kms_key_id = s.column_string_opt(3);
  r.tags = tags_from_json(s.column_text(4));
  r.created = from_ms(s.column_int64(5));
  r.last_changed = from_ms(s.column_int64(6));
  if (auto d = s.column_int64_opt(7)) r.deleted = from_ms(*d);
  if (auto d = s.column_int64_opt(8)) r.deletion_date = from_ms(*d);
  return r;
}

Status load_stages(Tx& tx, SecretRecord& r) {
  r.version_stages.clear();
  return each_row(
      tx, "SELECT version_id, stage FROM sm_version_stages WHERE arn = ? ORDER BY stage",
      [&](const store::Statement& st) { r.version_stages[st.column_string(0)].push_back(st.column_string(1)); },
      r.arn);
}

// The secret `secret_id` names, whose deletion date (if any) is still ahead.
Result<std::optional<SecretRecord>> find(Tx& tx, std::string_view secret_id, WallTime now) {
  std::optional<SecretRecord> out;
  auto take = [&](const store::Statement& st) { out = record_from(st); };
  const std::string live = " AND (deletion_ms IS NULL OR deletion_ms > ?)";
  Status s = Ok{};
  if (secret_id.rfind("arn:", 0) == 0) {
    s = each_row(tx, std::string(kSecretColumns) + " WHERE arn = ?" + live, take, secret_id, to_ms(now));
    size_t at = secret_id.find(":secret:");
    // A partial ARN: the secret's ARN without its random suffix.
    if (s && !out && at != std::string_view::npos)
      s = each_row(tx, std::string(kSecretColumns) + " WHERE name = ? AND substr(arn, 1, ?) = ?" + live, take,
                   secret_id.substr(at + 8), static_cast<int64_t>(secret_id.size() + 1), std::string(secret_id) + "-",
                   to_ms(now));
  } else {
    s = each_row(tx, std::string(kSecretColumns) + " WHERE name = ?" + live, take, secret_id, to_ms(now));
  }
  if (!s) return std::move(s).error();
  if (out) {
    if (auto st = load_stages(tx, *out); !st) return std::move(st).error();
  }
  return out;
}

Result<SecretRecord> find_required(Tx& tx, std::string_view secret_id, WallTime now) {
  auto found = find(tx, secret_id, now);
  if (!found) return std::move(found).error();
  if (!*found) return not_found();
  return std::move(**found);
}

Result<SecretRecord> find_writable(Tx& tx, std::string_view secret_id, WallTime now) {
  auto r = find_required(tx, secret_id, now);
  if (r && r->deleted) return marked_for_deletion();
  return r;
}

Status purge_expired(Tx& tx, WallTime now) {
  return tx.run("DELETE FROM sm_secrets WHERE deletion_ms IS NOT NULL AND deletion_ms <= ?", to_ms(now));
}

class VersionWriter {
 public:
  VersionWriter(Tx& tx, const ValueCipher& cipher) : tx_(tx), cipher_(cipher) {}

  // The existing version's value, or nullopt.
  Result<std::optional<std::string>> existing(std::string_view arn, std::string_view version_id) {
    std::optional<std::string> sealed;
    auto s = each_row(
        tx_, "SELECT value FROM sm_secret_versions WHERE arn = ? AND version_id = ?",
        [&](const store::Statement& st) { sealed = from_blob(st.column_blob(0)); }, arn, version_id);
    if (!s) return std::move(s).error();
    if (!sealed) return std::optional<std::string>();
    auto opened = cipher_.open_sealed(*sealed, sealing_context(arn, version_id));
    if (!opened) return std::move(opened).error();
    return std::optional<std::string>(std::move(*opened));
  }

  // Writes the version (or finds the same one again: a retried request)
  // and moves `stages` onto it. False when the version already existed.
  Result<bool> write(std::string_view arn, std::string_view version_id, const SecretValueInput& value,
                     const std::vector<std::string>& stages, WallTime now) {
    auto old = existing(arn, version_id);
    if (!old) return std::move(old).error();
    std::string plain = kind_and_value(value);
    if (*old) {
      if (**old != plain) return version_exists();
      return false;
    }
    auto sealed = cipher_.seal(plain, sealing_context(arn, version_id));
    if (!sealed) return std::move(sealed).error();
    if (auto s = tx_.run("INSERT INTO sm_secret_versions (arn, version_id, value, created_ms) VALUES (?, ?, ?, ?)",
                         arn, version_id, as_blob(*sealed), to_ms(now));
        !s)
      return std::move(s).error();
    for (const auto& stage : stages)
      if (auto s = move_stage(arn, stage, version_id); !s) return std::move(s).error();
    if (auto s = tx_.run("UPDATE sm_secrets SET last_changed_ms = ? WHERE arn = ?", to_ms(now), arn); !s)
      return std::move(s).error();
    return true;
  }

 private:
  Status move_stage(std::string_view arn, std::string_view stage, std::string_view version_id) {
    std::optional<std::string> holder;
    auto s = each_row(
        tx_, "SELECT version_id FROM sm_version_stages WHERE arn = ? AND stage = ?",
        [&](const store::Statement& st) { holder = st.column_string(0); }, arn, stage);
    if (!s) return s;
    if (holder == version_id) return Ok{};
    if (stage == kCurrent && holder) {
      s = tx_.run("INSERT OR REPLACE INTO sm_version_stages (arn, stage, version_id) VALUES (?, ?, ?)", arn, kPrevious,
                  *holder);
      if (!s) return s;
    }
    return tx_.run("INSERT OR REPLACE INTO sm_version_stages (arn, stage, version_id) VALUES (?, ?, ?)", arn, stage,
                   version_id);
  }

  Tx& tx_;
  const ValueCipher& cipher_;
};

std::string random_suffix() {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char raw[6];
  RAND_bytes(raw, sizeof raw);
  std::string out;
  for (unsigned char c : raw) out += kChars[c % 62];
  return out;
}

VersionWritten written(const SecretRecord& r, std::optional<std::string> version_id,
                       std::vector<std::string> stages = {}) {
  return VersionWritten{r.arn, r.name, std::move(version_id), std::move(stages)};
}

}  // namespace

Status SecretStore::migrate(store::Database& db) { return store::apply_migrations(db, "secrets-sm", kMigrations); }

std::string SecretStore::new_arn(std::string_view name) const {
  return "arn:aws:secretsmanager:" + region_ + ":" + account_id_ + ":secret:" + std::string(name) + "-" +
         random_suffix();
}

Result<VersionWritten> SecretStore::create(const CreateSecretInput& in, WallTime now) {
  return db_.transaction([&](Tx& tx) -> Result<VersionWritten> {
    if (auto s = purge_expired(tx, now); !s) return std::move(s).error();
    auto existing = find(tx, in.name, now);
    if (!existing) return std::move(existing).error();
    if (*existing) {
      if ((*existing)->deleted)
        return Error::invalid("InvalidRequestException",
                              "You can't create this secret because a secret with this name is already scheduled for "
                              "deletion.");
      // A retried CreateSecret (same token, same value) is answered again.
      VersionWriter writer(tx, cipher_);
      auto same = writer.existing((*existing)->arn, in.client_request_token);
      if (!same) return std::move(same).error();
      if (*same && !in.value.empty()) {
        if (**same != kind_and_value(in.value)) return version_exists();
        return written(**existing, in.client_request_token);
      }
      return Error::already_exists("ResourceExistsException",
                                   "The operation failed because the secret " + in.name + " already exists.");
    }
    SecretRecord r;
    r.arn = new_arn(in.name);
    r.name = in.name;
    auto s = tx.run(
        "INSERT INTO sm_secrets (arn, name, description, kms_key_id, tags, created_ms, last_changed_ms) VALUES (?, ?, "
        "?, ?, ?, ?, ?)",
        r.arn, r.name, in.description, in.kms_key_id, tags_to_json(in.tags), to_ms(now), to_ms(now));
    if (!s) return std::move(s).error();
    tx.record_change("sm_secrets", r.arn, store::ChangeKind::kPut);
    if (in.value.empty()) return written(r, std::nullopt);
    VersionWriter writer(tx, cipher_);
    auto w = writer.write(r.arn, in.client_request_token, in.value, {std::string(kCurrent)}, now);
    if (!w) return std::move(w).error();
    return written(r, in.client_request_token, {std::string(kCurrent)});
  });
}

Result<SecretRecord> SecretStore::describe(std::string_view secret_id, WallTime now) {
  return db_.read([&](Tx& tx) { return find_required(tx, secret_id, now); });
}

Result<SecretValue> SecretStore::get_value(std::string_view secret_id, std::optional<std::string_view> version_id,
                                           std::optional<std::string_view> stage, WallTime now) {
  return db_.read([&](Tx& tx) -> Result<SecretValue> {
    auto r = find_writable(tx, secret_id, now);
    if (!r) return std::move(r).error();
    std::string chosen;
    auto has_stage = [&](const std::string& version, std::string_view s) {
      auto it = r->version_stages.find(version);
      return it != r->version_stages.end() && std::find(it->second.begin(), it->second.end(), s) != it->second.end();
    };
    if (version_id) {
      chosen = std::string(*version_id);
    } else {
      std::string_view wanted = stage.value_or(kCurrent);
      for (const auto& [version, stages] : r->version_stages)
        if (has_stage(version, wanted)) chosen = version;
      if (chosen.empty())
        return Error::not_found("ResourceNotFoundException",
                                "Secrets Manager can't find the specified secret value for staging label: " +
                                    std::string(wanted));
    }
    std::optional<std::string> sealed;
    SecretValue out;
    auto s = each_row(
        tx, "SELECT value, created_ms FROM sm_secret_versions WHERE arn = ? AND version_id = ?",
        [&](const store::Statement& st) {
          sealed = from_blob(st.column_blob(0));
          out.created = from_ms(st.column_int64(1));
        },
        r->arn, chosen);
    if (!s) return std::move(s).error();
    if (!sealed)
      return Error::not_found("ResourceNotFoundException",
                              "Secrets Manager can't find the specified secret value for VersionId: " + chosen);
    if (version_id && stage && !has_stage(chosen, *stage))
      return Error::not_found("ResourceNotFoundException",
                              "Secrets Manager can't find the specified secret value for staging label: " +
                                  std::string(*stage));
    auto plain = cipher_.open_sealed(*sealed, sealing_context(r->arn, chosen));
    if (!plain) return std::move(plain).error();
    out.arn = r->arn;
    out.name = r->name;
    out.version_id = chosen;
    if (auto it = r->version_stages.find(chosen); it != r->version_stages.end()) out.stages = it->second;
    if (!plain->empty() && (*plain)[0] == 's')
      out.string = plain->substr(1);
    else
      out.binary = plain->substr(1);
    return out;
  });
}

Result<VersionWritten> SecretStore::put_value(std::string_view secret_id, std::string_view token,
                                              const SecretValueInput& value,
                                              std::optional<std::vector<std::string>> stages, WallTime now) {
  std::vector<std::string> to_move = stages.value_or(std::vector<std::string>{std::string(kCurrent)});
  return db_.transaction([&](Tx& tx) -> Result<VersionWritten> {
    auto r = find_writable(tx, secret_id, now);
    if (!r) return std::move(r).error();
    VersionWriter writer(tx, cipher_);
    auto w = writer.write(r->arn, token, value, to_move, now);
    if (!w) return std::move(w).error();
    tx.record_change("sm_secrets", r->arn, store::ChangeKind::kPut);
    if (auto s = load_stages(tx, *r); !s) return std::move(s).error();
    return written(*r, std::string(token), r->version_stages[std::string(token)]);
  });
}

Result<VersionWritten> SecretStore::update(std::string_view secret_id, std::optional<std::string> description,
                                           std::optional<std::string> kms_key_id, std::string_view token,
                                           const SecretValueInput& value, WallTime now) {
  return db_.transaction([&](Tx& tx) -> Result<VersionWritten> {
    auto r = find_writable(tx, secret_id, now);
    if (!r) return std::move(r).error();
    if (description || kms_key_id) {
      auto s = tx.run(
          "UPDATE sm_secrets SET description = coalesce(?, description), kms_key_id = coalesce(?, kms_key_id), "
          "last_changed_ms = ? WHERE arn = ?",
          description, kms_key_id, to_ms(now), r->arn);
      if (!s) return std::move(s).error();
    }
    tx.record_change("sm_secrets", r->arn, store::ChangeKind::kPut);
    if (value.empty()) return written(*r, std::nullopt);
    VersionWriter writer(tx, cipher_);
    auto w = writer.write(r->arn, token, value, {std::string(kCurrent)}, now);
    if (!w) return std::move(w).error();
    return written(*r, std::string(token));
  });
}

Result<SecretRecord> SecretStore::schedule_deletion(std::string_view secret_id, int64_t window_days, bool force,
                                                    WallTime now) {
  return db_.transaction([&](Tx& tx) -> Result<SecretRecord> {
    if (auto s = purge_expired(tx, now); !s) return std::move(s).error();
    auto r = find_required(tx, secret_id, now);
    if (!r) return std::move(r).error();
    if (force) {
      if (auto s = tx.run("DELETE FROM sm_secrets WHERE arn = ?", r->arn); !s) return std::move(s).error();
      r->deleted = now;
      r->deletion_date = now;
    } else {
      if (r->deleted) return marked_for_deletion();
      r->deleted = now;
      r->deletion_date = now + std::chrono::hours(24 * window_days);
      auto s = tx.run("UPDATE sm_secrets SET deleted_ms = ?, deletion_ms = ? WHERE arn = ?", to_ms(*r->deleted),
                      to_ms(*r->deletion_date), r->arn);
      if (!s) return std::move(s).error();
    }
    tx.record_change("sm_secrets", r->arn, force ? store::ChangeKind::kDelete : store::ChangeKind::kPut);
    return std::move(*r);
  });
}

Result<SecretRecord> SecretStore::restore(std::string_view secret_id, WallTime now) {
  return db_.transaction([&](Tx& tx) -> Result<SecretRecord> {
    auto r = find_required(tx, secret_id, now);
    if (!r) return std::move(r).error();
    // Restoring a secret that is not scheduled for deletion changes nothing (unverified: AWS may refuse).
    if (!r->deleted) return std::move(*r);
    auto s = tx.run("UPDATE sm_secrets SET deleted_ms = NULL, deletion_ms = NULL WHERE arn = ?", r->arn);
    if (!s) return std::move(s).error();
    r->deleted.reset();
    r->deletion_date.reset();
    tx.record_change("sm_secrets", r->arn, store::ChangeKind::kPut);
    return std::move(*r);
  });
}

Result<std::vector<SecretRecord>> SecretStore::list(bool include_planned_deletion, WallTime now) {
  return db_.read([&](Tx& tx) -> Result<std::vector<SecretRecord>> {
    std::vector<SecretRecord> out;
    auto s = each_row(
        tx, std::string(kSecretColumns) + " WHERE deletion_ms IS NULL OR (? AND deletion_ms > ?) ORDER BY created_ms, name",
        [&](const store::Statement& st) { out.push_back(record_from(st)); }, include_planned_deletion, to_ms(now));
    if (!s) return std::move(s).error();
    for (auto& r : out)
      if (auto st = load_stages(tx, r); !st) return std::move(st).error();
    return out;
  });
}

Result<std::pair<SecretRecord, std::vector<SecretStore::VersionEntry>>> SecretStore::versions(
    std::string_view secret_id, WallTime now) {
  return db_.read([&](Tx& tx) -> Result<std::pair<SecretRecord, std::vector<VersionEntry>>> {
    auto r = find_required(tx, secret_id, now);
    if (!r) return std::move(r).error();
    std::vector<VersionEntry> out;
    auto s = each_row(
        tx, "SELECT version_id, created_ms FROM sm_secret_versions WHERE arn = ? ORDER BY created_ms, version_id",
        [&](const store::Statement& st) {
          VersionEntry v{st.column_string(0), {}, from_ms(st.column_int64(1))};
          if (auto it = r->version_stages.find(v.version_id); it != r->version_stages.end()) v.stages = it->second;
          out.push_back(std::move(v));
        },
        r->arn);
    if (!s) return std::move(s).error();
    return std::make_pair(std::move(*r), std::move(out));
  });
}

Status SecretStore::tag(std::string_view secret_id, const Tags& tags, WallTime now) {
  return db_.transaction([&](Tx& tx) -> Status {
    auto r = find_writable(tx, secret_id, now);
    if (!r) return std::move(r).error();
    Tags merged = r->tags;
    for (const auto& [k, v] : tags) {
      auto it = std::find_if(merged.begin(), merged.end(), [&](const auto& t) { return t.first == k; });
      if (it != merged.end())
        it->second = v;
      else
        merged.emplace_back(k, v);
    }
    return tx.run("UPDATE sm_secrets SET tags = ? WHERE arn = ?", tags_to_json(merged), r->arn);
  });
}

Status SecretStore::untag(std::string_view secret_id, const std::vector<std::string>& keys, WallTime now) {
  return db_.transaction([&](Tx& tx) -> Status {
    auto r = find_writable(tx, secret_id, now);
    if (!r) return std::move(r).error();
    Tags kept;
    for (const auto& t : r->tags)
      if (std::find(keys.begin(), keys.end(), t.first) == keys.end()) kept.push_back(t);
    return tx.run("UPDATE sm_secrets SET tags = ? WHERE arn = ?", tags_to_json(kept), r->arn);
  });
}

}  // namespace berth::secrets
