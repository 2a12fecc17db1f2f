#include "elb/elb_store.h"

#include <boost/json.hpp>

#include "store/migrations.h"

namespace berth::elb {
namespace json = boost::json;

namespace {

constexpr store::Migration kMigrations[] = {
    {1, "create elb_objects",
     "CREATE TABLE elb_objects (key TEXT PRIMARY KEY, kind TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL);"
     "CREATE INDEX elb_objects_kind ON elb_objects(kind, seq);"},
};

Status put_text(store::Tx& tx, Kind kind, const std::string& key, const std::string& body) {
  return tx.run(
      "INSERT INTO elb_objects(key, kind, seq, body) VALUES(?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM elb_objects), ?3) "
      "ON CONFLICT(key) DO UPDATE SET body = excluded.body",
      key, std::string(kind_name(kind)), body);
}

template <class T>
Result<T> decode(std::string_view text) {
  try {
    return json::value_to<T>(json::parse(text));
  } catch (const std::exception& e) {
    return Error::internal(std::string("corrupt elb row: ") + e.what());
  }
}

}  // namespace

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::kLoadBalancer: return "lb";
    case Kind::kTargetGroup: return "tg";
    case Kind::kListener: return "listener";
    case Kind::kRule: return "rule";
    case Kind::kRegistration: return "target";
  }
  return "?";
}

Status prepare_elb_store(store::Database& db) { return store::apply_migrations(db, "elb", kMigrations); }

template <class T>
Status put_object(store::Tx& tx, Kind kind, const std::string& key, const T& value) {
  auto st = put_text(tx, kind, key, json::serialize(json::value_from(value)));
  if (!st) return st;
  tx.record_change(kObjectsTable, key, store::ChangeKind::kPut);
  return Ok{};
}

Status delete_object(store::Tx& tx, const std::string& key) {
  auto st = tx.run("DELETE FROM elb_objects WHERE key = ?1", key);
  if (!st) return st;
  tx.record_change(kObjectsTable, key, store::ChangeKind::kDelete);
  return Ok{};
}

template <class T>
Result<std::optional<T>> get_object(store::Tx& tx, Kind kind, const std::string& key) {
  auto stmt = tx.prepare("SELECT body FROM elb_objects WHERE key = ?1 AND kind = ?2");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(key, std::string(kind_name(kind)));
  auto row = stmt->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<T>();
  auto value = decode<T>(stmt->column_text(0));
  if (!value) return std::move(value).error();
  return std::optional<T>(std::move(*value));
}

template <class T>
Result<std::vector<T>> list_objects(store::Tx& tx, Kind kind) {
  auto stmt = tx.prepare("SELECT body FROM elb_objects WHERE kind = ?1 ORDER BY seq");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(std::string(kind_name(kind)));
  std::vector<T> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    auto value = decode<T>(stmt->column_text(0));
    if (!value) return std::move(value).error();
    out.push_back(std::move(*value));
  }
  return out;
}

#define BERTH_ELB_INSTANTIATE(T, K)                                                         \
  template Status put_object<T>(store::Tx&, Kind, const std::string&, const T&);            \
  template Result<std::optional<T>> get_object<T>(store::Tx&, Kind, const std::string&); \
  template Result<std::vector<T>> list_objects<T>(store::Tx&, Kind);
BERTH_ELB_INSTANTIATE(LoadBalancer, kLoadBalancer)
BERTH_ELB_INSTANTIATE(TargetGroup, kTargetGroup)
BERTH_ELB_INSTANTIATE(Listener, kListener)
BERTH_ELB_INSTANTIATE(Rule, kRule)
BERTH_ELB_INSTANTIATE(Registration, kRegistration)
#undef BERTH_ELB_INSTANTIATE

Result<Config> load_config(store::Tx& tx) {
  Config c;
  auto lbs = list_objects<LoadBalancer>(tx, Kind::kLoadBalancer);
  if (!lbs) return std::move(lbs).error();
  auto tgs = list_objects<TargetGroup>(tx, Kind::kTargetGroup);
  if (!tgs) return std::move(tgs).error();
  auto listeners = list_objects<Listener>(tx, Kind::kListener);
  if (!listeners) return std::move(listeners).error();
  auto rules = list_objects<Rule>(tx, Kind::kRule);
  if (!rules) return std::move(rules).error();
  auto regs = list_objects<Registration>(tx, Kind::kRegistration);
  if (!regs) return std::move(regs).error();
  c.load_balancers = std::move(*lbs);
  c.target_groups = std::move(*tgs);
  c.listeners = std::move(*listeners);
  c.rules = std::move(*rules);
  c.registrations = std::move(*regs);
  return c;
}

Result<std::vector<Registration>> list_registrations(store::Tx& tx, const std::string& tg_arn) {
  // A key range, so the primary key's index finds them: '}' follows '|'.
  auto stmt = tx.prepare("SELECT body FROM elb_objects WHERE key >= ?1 AND key < ?2 AND kind = ?3 ORDER BY seq");
  if (!stmt) return std::move(stmt).error();
  stmt->bind_all(tg_arn + "|", tg_arn + "}", std::string(kind_name(Kind::kRegistration)));
  std::vector<Registration> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    auto value = decode<Registration>(stmt->column_text(0));
    if (!value) return std::move(value).error();
    if (value->target_group_arn == tg_arn) out.push_back(std::move(*value));
  }
  return out;
}

std::string registration_key(const std::string& tg_arn, const std::string& id, int64_t port) {
  return tg_arn + "|" + id + "|" + std::to_string(port);
}

std::string arn_tail(const std::string& arn) {
  auto slash = arn.rfind('/');
  return slash == std::string::npos ? arn : arn.substr(slash + 1);
}

}  // namespace berth::elb
