// CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair. The private
// key is generated here, returned once and never stored (reference §5.3).
#include <algorithm>

#include "core/ids.h"
#include "ec2/api_support.h"
#include "ec2/key_crypto.h"

namespace berth::ec2 {
namespace {

struct KeyRecord {
  std::string key_pair_id;
  std::string key_name;
  std::string key_type;
  std::string fingerprint;
  std::string public_key;
  int64_t create_time = 0;
};

Result<std::vector<KeyRecord>> list_keys(store::Tx& tx) {
  auto stmt = tx.prepare(
      "SELECT key_pair_id, key_name, key_type, fingerprint, public_key, create_time FROM ec2_key_pairs ORDER BY rowid");
  if (!stmt) return std::move(stmt).error();
  std::vector<KeyRecord> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back({stmt->column_string(0), stmt->column_string(1), stmt->column_string(2), stmt->column_string(3),
                   stmt->column_string(4), stmt->column_int64(5)});
  }
  return out;
}

Error key_not_found(std::string_view name) {
  return Error::not_found("InvalidKeyPair.NotFound", "The key pair '" + std::string(name) + "' does not exist");
}

Status validate_key_name(std::string_view name) {
  if (name.size() > 255) return invalid_parameter_value("Key name exceeds the maximum length of 255 characters");
  for (unsigned char c : name)
    if (c < 0x20 || c > 0x7e)
      return invalid_parameter_value("Value (" + std::string(name) +
                                     ") for parameter keyName is invalid. Character sets beyond ASCII are not supported.");
  return Ok{};
}

// Inserts the key; InvalidKeyPair.Duplicate when the name is taken.
Result<std::string> store_key(const Context& ctx, WallTime now, const std::string& name, const std::string& type,
                              const std::string& fingerprint, const std::string& public_key, const Tags& tags) {
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto stmt = tx.prepare("SELECT 1 FROM ec2_key_pairs WHERE key_name = ?");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(name);
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (*row) return Error::already_exists("InvalidKeyPair.Duplicate", "The keypair '" + name + "' already exists.");
    std::string id = ids::prefixed("key-");
    auto st = tx.run("INSERT INTO ec2_key_pairs(key_pair_id, key_name, key_type, fingerprint, public_key, create_time) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     id, name, type, fingerprint, public_key, to_millis(now));
    if (!st) return std::move(st).error();
    if (auto tst = put_tags(tx, id, tags); !tst) return std::move(tst).error();
    tx.record_change("ec2_key_pairs", id, store::ChangeKind::kPut);
    return id;
  });
}

Result<std::string> create_key_pair(const Context& ctx, const api::CallContext& call, const api::QueryView& q) {
  auto name = required(q, "KeyName");
  if (!name) return std::move(name).error();
  if (auto st = validate_key_name(*name); !st) return std::move(st).error();
  std::string type = optional_string(q, "KeyType");
  if (type.empty()) type = "rsa";
  if (type != "rsa" && type != "ed25519")
    return invalid_parameter_value("Value (" + type + ") for parameter keyType is invalid. Valid values: rsa, ed25519");
  std::string format = optional_string(q, "KeyFormat");
  if (!format.empty() && format != "pem") {
    if (format == "ppk") return invalid_parameter_value("The key format ppk is not supported by berth; use pem.");
    return invalid_parameter_value("Value (" + format + ") for parameter keyFormat is invalid. Valid values: pem, ppk");
  }
  auto tags = parse_tag_specifications(q, "key-pair");
  if (!tags) return std::move(tags).error();
  if (auto dry = dry_run_check(q)) return *dry;
  auto key = generate_key(type);
  if (!key) return std::move(key).error();
  auto id = store_key(ctx, call.now, *name, type, key->fingerprint, key->public_key_openssh, *tags);
  if (!id) return std::move(id).error();
  std::string out;
  api::XmlWriter w(out);
  w.leaf("keyName", *name).leaf("keyFingerprint", key->fingerprint).leaf("keyMaterial", key->private_key_pem)
      .leaf("keyPairId", *id);
  write_tag_set(w, *tags);
  return out;
}

Result<std::string> import_key_pair(const Context& ctx, const api::CallContext& call, const api::QueryView& q) {
  auto name = required(q, "KeyName");
  if (!name) return std::move(name).error();
  if (auto st = validate_key_name(*name); !st) return std::move(st).error();
  auto material = required(q, "PublicKeyMaterial");
  if (!material) return std::move(material).error();
  auto tags = parse_tag_specifications(q, "key-pair");
  if (!tags) return std::move(tags).error();
  // A blob member: the SDKs send the key file base64-encoded.
  auto decoded = base64_decode(*material);
  if (!decoded)
    return Error::invalid("InvalidKey.Format", "Key is not in valid OpenSSH public key format");
  auto key = import_public_key(*decoded);
  if (!key) return std::move(key).error();
  if (auto dry = dry_run_check(q)) return *dry;
  auto id = store_key(ctx, call.now, *name, key->key_type, key->fingerprint, key->public_key_openssh, *tags);
  if (!id) return std::move(id).error();
  std::string out;
  api::XmlWriter w(out);
  w.leaf("keyFingerprint", key->fingerprint).leaf("keyName", *name).leaf("keyPairId", *id);
  write_tag_set(w, *tags);
  return out;
}

Result<std::string> describe_key_pairs(const Context& ctx, const api::QueryView& q) {
  auto names = string_list(q, "KeyName");
  if (!names) return std::move(names).error();
  auto key_ids = string_list(q, "KeyPairId");
  if (!key_ids) return std::move(key_ids).error();
  auto filters = parse_filters(q);
  if (!filters) return std::move(filters).error();
  auto include_public = optional_bool(q, "IncludePublicKey", false);
  if (!include_public) return std::move(include_public).error();
  return ctx.db.read([&](store::Tx& tx) -> Result<std::string> {
    auto keys = list_keys(tx);
    if (!keys) return std::move(keys).error();
    for (const auto& n : *names)
      if (std::none_of(keys->begin(), keys->end(), [&](const KeyRecord& k) { return k.key_name == n; }))
        return key_not_found(n);
    for (const auto& id : *key_ids)
      if (std::none_of(keys->begin(), keys->end(), [&](const KeyRecord& k) { return k.key_pair_id == id; }))
        return key_not_found(id);
    std::string out;
    api::XmlWriter w(out);
    w.open("keySet");
    for (const auto& k : *keys) {
      bool named = std::find(names->begin(), names->end(), k.key_name) != names->end();
      bool by_id = std::find(key_ids->begin(), key_ids->end(), k.key_pair_id) != key_ids->end();
      if ((!names->empty() || !key_ids->empty()) && !named && !by_id) continue;
      auto tags = load_tags(tx, k.key_pair_id);
      if (!tags) return std::move(tags).error();
      bool keep = true;
      for (const auto& f : *filters) {
        if (auto t = match_tag_filter(f, *tags)) keep = keep && *t;
        else if (f.name == "key-name") keep = keep && any_value_matches(f, k.key_name);
        else if (f.name == "key-pair-id") keep = keep && any_value_matches(f, k.key_pair_id);
        else if (f.name == "fingerprint") keep = keep && any_value_matches(f, k.fingerprint);
        else if (f.name == "key-type") keep = keep && any_value_matches(f, k.key_type);
        else return unknown_filter(f.name);
      }
      if (!keep) continue;
      w.open("item")
          .leaf("keyPairId", k.key_pair_id)
          .leaf("keyType", k.key_type)
          .leaf("keyName", k.key_name)
          .leaf("keyFingerprint", k.fingerprint)
          .leaf_time("createTime", from_millis(k.create_time));
      if (*include_public) w.leaf("publicKey", k.public_key + " " + k.key_name);
      write_tag_set(w, *tags);
      w.close("item");
    }
    w.close("keySet");
    return out;
  });
}

Result<std::string> delete_key_pair(const Context& ctx, const api::QueryView& q) {
  std::string name = optional_string(q, "KeyName");
  std::string id = optional_string(q, "KeyPairId");
  if (name.empty() && id.empty()) return missing_parameter("KeyName");
  if (auto dry = dry_run_check(q)) return *dry;
  return ctx.db.transaction([&](store::Tx& tx) -> Result<std::string> {
    auto stmt = tx.prepare(id.empty() ? "SELECT key_pair_id FROM ec2_key_pairs WHERE key_name = ?"
                                      : "SELECT key_pair_id FROM ec2_key_pairs WHERE key_pair_id = ?");
    if (!stmt) return std::move(stmt).error();
    stmt->bind_all(id.empty() ? name : id);
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    std::string out;
    api::XmlWriter w(out);
    // EC2 answers true for a key that does not exist (DeleteKeyPair is idempotent).
    w.leaf("return", "true");
    if (!*row) return out;
    std::string found = stmt->column_string(0);
    auto st = tx.run("DELETE FROM ec2_key_pairs WHERE key_pair_id = ?", found);
    if (!st) return std::move(st).error();
    if (auto tst = delete_tags(tx, found); !tst) return std::move(tst).error();
    tx.record_change("ec2_key_pairs", found, store::ChangeKind::kDelete);
    w.leaf("keyPairId", found);
    return out;
  });
}

}  // namespace

// True when a key pair of that name exists (RunInstances' KeyName check).
Result<bool> key_pair_exists(store::Tx& tx, std::string_view name) {
  auto stmt = tx.prepare("SELECT 1 FROM ec2_key_pairs WHERE key_name = ?");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(name);
  return stmt->step();
}

void add_key_pair_operations(api::Service& service, const ContextPtr& ctx) {
  service.add("CreateKeyPair", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return create_key_pair(*ctx, call, query_of(in));
  });
  service.add("ImportKeyPair", [ctx](const api::CallContext& call, const api::OperationInput& in) {
    return import_key_pair(*ctx, call, query_of(in));
  });
  service.add("DescribeKeyPairs", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return describe_key_pairs(*ctx, query_of(in));
  });
  service.add("DeleteKeyPair", [ctx](const api::CallContext&, const api::OperationInput& in) {
    return delete_key_pair(*ctx, query_of(in));
  });
}

}  // namespace berth::ec2
