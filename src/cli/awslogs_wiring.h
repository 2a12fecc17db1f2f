// cli/awslogs_wiring: CloudWatch Logs behind the task runtime's awslogs
// driver: the runtime's LogDestination and ECS's LogStreamPreparer over
// logs::LogStore (events and the shipper's cursor in one transaction).
#pragma once

#if BERTH_HAVE_LOGS && BERTH_HAVE_ECS_RUNTIME

#include <memory>

#include "ecs/runtime_launcher.h"
#include "logs/log_store.h"
#include "runtime/log_shipper.h"

namespace berth::cli {

std::shared_ptr<runtime::LogDestination> awslogs_destination(std::shared_ptr<logs::LogStore> store);
ecs::LogStreamPreparer awslogs_stream_preparer(std::shared_ptr<logs::LogStore> store);

}  // namespace berth::cli

#endif
