// UTF-8 as the wire formats want it: well-formed (no overlong forms, no
// surrogates, nothing past U+10FFFF). Bytes from outside (headers, logs)
// pass through to_valid_utf8 before they reach JSON, CBOR or a log event.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace berth::utf8 {

// The length of the well-formed sequence at the start of `s`, or 0 when it
// does not start with one (a stray byte, or a sequence cut short).
size_t sequence_length(std::string_view s);

bool is_valid(std::string_view s);

// `s` with each byte that starts no well-formed sequence replaced by
// U+FFFD, as Docker's and AWS's JSON encoders do.
std::string to_valid(std::string_view s);

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace berth::utf8
