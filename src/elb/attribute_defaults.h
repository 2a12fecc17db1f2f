// ELBv2's default attributes of a load balancer and a target group (DESIGN
// §3.4), header-only so the CloudFormation export can leave out what equals
// them without linking the load balancer.
#pragma once

#include <map>
#include <string>

namespace berth::elb {

inline std::map<std::string, std::string> default_load_balancer_attributes() {
  return {{"access_logs.s3.enabled", "false"},
          {"access_logs.s3.bucket", ""},
          {"access_logs.s3.prefix", ""},
          {"idle_timeout.timeout_seconds", "60"},
          {"client_keep_alive.seconds", "3600"},
          {"deletion_protection.enabled", "false"},
          {"routing.http2.enabled", "true"},
          {"routing.http.drop_invalid_header_fields.enabled", "false"},
          {"routing.http.xff_client_port.enabled", "false"},
          {"routing.http.preserve_host_header.enabled", "false"},
          {"routing.http.xff_header_processing.mode", "append"},
          {"routing.http.desync_mitigation_mode", "defensive"},
          {"routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "false"},
          {"waf.fail_open.enabled", "false"}};
}

inline std::map<std::string, std::string> default_target_group_attributes() {
  return {{"deregistration_delay.timeout_seconds", "300"},
          {"load_balancing.algorithm.type", "round_robin"},
          {"load_balancing.algorithm.anomaly_mitigation", "off"},
          {"load_balancing.cross_zone.enabled", "use_load_balancer_configuration"},
          {"slow_start.duration_seconds", "0"},
          {"stickiness.enabled", "false"},
          {"stickiness.type", "lb_cookie"},
          {"stickiness.lb_cookie.duration_seconds", "86400"},
          {"stickiness.app_cookie.cookie_name", ""},
          {"stickiness.app_cookie.duration_seconds", "86400"}};
}

}  // namespace berth::elb
