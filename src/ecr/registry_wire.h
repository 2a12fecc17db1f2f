// ecr/registry_wire: small pieces of the registry's HTTP dialect shared by
// the registry_*.cpp files: error bodies, query parameters, ranges, paths.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "net/http_server.h"

namespace berth::ecr::wire {

inline constexpr std::string_view kApiVersionHeader = "Docker-Distribution-API-Version";
inline constexpr std::string_view kApiVersion = "registry/2.0";

// {"errors":[{"code":code,"message":message,"detail":detail}]}; detail is
// written as a JSON string when not empty.
net::Response error(net::http::status status, std::string_view code, std::string_view message,
                    std::string_view detail = {});
// A response with no body and the version header.
net::Response empty(net::http::status status);

// The registry status for a catalog/blob/session error code.
net::Response from_error(const Error& e, std::string_view detail = {});
// A blob upload's body could not be taken: the client's fault
// (BLOB_UPLOAD_INVALID, 400) unless the data directory is (UNAVAILABLE, 503).
net::Response upload_failed(const Error& e);

// The percent-decoded value of key in an URL query; nullopt if absent.
std::optional<std::string> query_param(std::string_view query, std::string_view key);
std::string percent_encode(std::string_view s);

struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
};
// "a-b" or "bytes=a-b" (with "a-" meaning to the end); nullopt if malformed.
std::optional<ByteRange> parse_range(std::string_view text, uint64_t size_if_open);
// "0-N" for the bytes held so far ("0-0" for none), as docker expects.
std::string upload_range(uint64_t size);

std::string upload_location(std::string_view name, std::string_view id);

}  // namespace berth::ecr::wire
