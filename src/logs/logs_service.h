// logs/logs_service: the CloudWatch Logs API (JSON 1.1, signing name "logs",
// target prefix "Logs_20140328", 2014-03-28) as an api::Service.
//
//   front door ─► Operation(CallContext, json) ─► LogStore ─► JSON body
//
// Paging tokens are opaque to callers, as AWS's are:
//   GetLogEvents     "f/<position>/s" forward, "b/<position>/s" backward; a
//                    page with nothing new gives back the token it was asked with
//   FilterLogEvents  the position of the last event looked at
//   Describe*        the last name (and sort key) listed, hex-encoded
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/service.h"
#include "logs/log_store.h"

namespace berth::logs {

// Each operation keeps the store alive.
api::Service make_logs_service(std::shared_ptr<LogStore> store);

// The tokens, exposed for the unit tests.
std::string position_token(Position p);  // 38 digits: timestamp then id
std::optional<Position> parse_position_token(std::string_view token);

}  // namespace berth::logs
