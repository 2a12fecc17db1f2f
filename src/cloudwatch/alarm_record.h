// cloudwatch/alarm_record: an AlarmDefinition as the JSON text kept in the
// shared store's cloudwatch_alarms.definition column.
#pragma once

#include <string>

#include "cloudwatch/types.h"
#include "core/error.h"

namespace berth::cloudwatch {

std::string definition_to_json(const AlarmDefinition& def);
Result<AlarmDefinition> definition_from_json(std::string_view text);

}  // namespace berth::cloudwatch
