// cli/scaling_wiring: Application Auto Scaling's alarms kept by CloudWatch.
//
//   PutScalingPolicy (target tracking) ──AlarmPort──> CloudWatch::put_metric_alarm
//   CloudWatch alarm, action arn:aws:autoscaling:... ──handler──> AutoScaling::on_alarm_action
#pragma once

#if BERTH_HAVE_AUTOSCALING && BERTH_HAVE_CLOUDWATCH

#include <memory>

#include "autoscaling/daemon_wiring.h"
#include "cloudwatch/cloudwatch.h"

namespace berth::cli {

// The CloudWatch alarms of target tracking policies.
std::unique_ptr<autoscaling::AlarmPort> cloudwatch_alarm_port(std::shared_ptr<cloudwatch::CloudWatch> cloudwatch);

// CloudWatch's actions on policy ARNs reach Application Auto Scaling.
void route_scaling_actions(cloudwatch::CloudWatch& cloudwatch, std::shared_ptr<autoscaling::AutoScalingDaemon> scaling);

// The definition CloudWatch keeps for a tracking alarm (pure; tested).
cloudwatch::AlarmDefinition alarm_definition(const autoscaling::TrackingAlarm& alarm);

}  // namespace berth::cli

#endif
