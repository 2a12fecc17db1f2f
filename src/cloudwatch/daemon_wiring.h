// cloudwatch/daemon_wiring: CloudWatch opened the way `berth serve` needs it:
// datapoints in <data_dir>/metrics.db, alarms in the shared store, and the
// time scale read from BERTH_TIME_SCALE (a positive number; alarm periods
// and the evaluation cadence are divided by it so tests can watch a 3 x 60 s
// alarm fire in seconds; unset or 1 is AWS's timing).
#pragma once

#include <memory>
#include <string>

#include "cloudwatch/cloudwatch.h"

namespace berth::cloudwatch {

// BERTH_TIME_SCALE, or 1 when unset; an unparsable or non-positive value is an error.
Result<double> time_scale_from_environment();

Result<std::shared_ptr<CloudWatch>> open_for_daemon(store::Database& db, const Clock& clock,
                                                    const std::string& data_dir, const std::string& account_id,
                                                    const std::string& region);

}  // namespace berth::cloudwatch
