// elb/elb_store: the ELBv2 configuration in SQLite. Every object (load
// balancer, target group, listener, rule, registration) is one row of
// elb_objects: its key, its kind, a creation sequence and its JSON body.
// Writes record a change on kObjectsTable, which the snapshot builder
// watches.
//
//   handler ─Tx─> put_object / delete_object ──> elb_objects ──change feed──> RoutingBuilder
//                                                     └─ load_config(tx) ─> Config
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "elb/model.h"
#include "store/store.h"

namespace berth::elb {

inline constexpr std::string_view kObjectsTable = "elb_objects";

enum class Kind { kLoadBalancer, kTargetGroup, kListener, kRule, kRegistration };
std::string_view kind_name(Kind kind);

Status prepare_elb_store(store::Database& db);

// Insert or replace; keeps the creation order of an existing row.
template <class T>
Status put_object(store::Tx& tx, Kind kind, const std::string& key, const T& value);
Status delete_object(store::Tx& tx, const std::string& key);

template <class T>
Result<std::optional<T>> get_object(store::Tx& tx, Kind kind, const std::string& key);
template <class T>
Result<std::vector<T>> list_objects(store::Tx& tx, Kind kind);

Result<Config> load_config(store::Tx& tx);

// The registrations of one target group (keys "<tg arn>|..."), in creation order.
Result<std::vector<Registration>> list_registrations(store::Tx& tx, const std::string& tg_arn);

}  // namespace berth::elb
