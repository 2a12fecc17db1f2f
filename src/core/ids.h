// Random identifiers as AWS spells them: hex ids ("sg-0a1b..."), UUIDs
// (request ids, ECS task ids), access keys, and 12-digit account ids.
#pragma once

#include <string>
#include <string_view>

namespace berth::ids {

std::string random_hex(size_t chars);                // lowercase hex, from OpenSSL's CSPRNG
std::string random_alnum_upper(size_t chars);        // A-Z2-7, as in access key ids
std::string random_base64ish(size_t chars);          // A-Za-z0-9+/, as in secret keys
std::string uuid4();                                 // 8-4-4-4-12 lowercase
std::string account_id();                            // 12 digits, no leading zero
std::string prefixed(std::string_view prefix, size_t hex_chars = 17);  // "sg-" + 17 hex

}  // namespace berth::ids
