// Go's time.ParseDuration syntax ("300ms", "1.5h", "2h45m"), used by flags
// that mirror Go programs (outyet's -poll).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace berth {

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

}  // namespace berth
