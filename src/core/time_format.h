// The time spellings AWS uses on the wire.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace berth {

using WallTimePoint = std::chrono::system_clock::time_point;

std::string format_iso8601_millis(WallTimePoint t);  // 2026-11-25T13:38:35.123Z (query/EC2 XML)
std::string format_amz_date(WallTimePoint t);        // 20261125T133835Z (SigV4 X-Amz-Date)
std::string format_http_date(WallTimePoint t);       // Wed, 25 Nov 2026 13:38:35 GMT
double epoch_seconds(WallTimePoint t);               // 1764077915.123 (JSON 1.1 timestamps)
std::optional<WallTimePoint> parse_amz_date(std::string_view s);

}  // namespace berth
