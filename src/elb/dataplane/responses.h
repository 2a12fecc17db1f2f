// elb/dataplane/responses: the responses the load balancer makes itself
// (§3.6): 400, 403, 405, 408, 460, 463, 500, 502, 503, 504 with ALB's nginx-style bodies and
// `Server: awselb/2.0`, plus fixed-response and redirect actions.
#pragma once

#include <string>
#include <string_view>

namespace berth::elb::dp {

// A complete HTTP/1.1 response (status line to body) of ALB's own making.
std::string alb_error_response(unsigned status, bool keep_alive);
// The body alone (Content-Length 162 for 503, 122 for 502).
std::string alb_error_body(unsigned status);
std::string fixed_response(unsigned status, std::string_view content_type, std::string_view body, bool keep_alive);
std::string redirect_response(unsigned status, std::string_view location, bool keep_alive);

}  // namespace berth::elb::dp
