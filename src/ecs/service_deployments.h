// ecs/service_deployments: the service deployment history that
// ListServiceDeployments and DescribeServiceDeployments show (the current
// console's Deployments tab). Each deployment a service starts gets a
// record that outlives the deployment's place in the service doc:
//
//   begin_deployment (CreateService, UpdateService, rollback) ──> IN_PROGRESS
//      completed ──> SUCCESSFUL        superseded ──> STOPPED
//      circuit breaker ──> STOPPED, or ROLLBACK_IN_PROGRESS ──> ROLLBACK_SUCCESSFUL
//
// Its target revision's ARN is service-revision/<cluster>/<service>/<the
// deployment id's 19 digits>; counts come from the tasks at read time.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

#include "core/error.h"
#include "ecs/common.h"
#include "ecs/services.h"
#include "store/store.h"

namespace berth::ecs {

inline constexpr std::string_view kServiceDeploymentsTable = "ecs_service_deployments";

// start_deployment (services.h) on row.doc, recorded: the PRIMARY it
// replaces, if still IN_PROGRESS, is STOPPED. `rollback_of`: the failed
// deployment this one rolls back (its record turns ROLLBACK_IN_PROGRESS).
// Returns the new deployment's id.
Result<std::string> begin_deployment(store::Tx& tx, const Options& options, ServiceRow& row, double now,
                                     std::string_view rollback_of = "");
// The deployment's record moves to `status` (SUCCESSFUL, STOPPED) with
// `reason`; a completed rollback also completes the record it rolled back.
Status end_deployment(store::Tx& tx, std::string_view deployment_id, std::string_view status,
                      std::string_view reason, double now);

void add_service_deployment_operations(api::Service& service, const std::shared_ptr<Context>& ctx);

}  // namespace berth::ecs
