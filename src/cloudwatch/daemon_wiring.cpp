#include "cloudwatch/daemon_wiring.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>

namespace berth::cloudwatch {

Result<double> time_scale_from_environment() {
  const char* text = std::getenv("BERTH_TIME_SCALE");
  if (!text || !*text) return 1.0;
  char* end = nullptr;
  double scale = std::strtod(text, &end);
  if (*end != '\0' || !std::isfinite(scale) || scale <= 0)
    return Error::invalid("InvalidTimeScale", std::string("BERTH_TIME_SCALE must be a positive number, not ") + text);
  return scale;
}

Result<std::shared_ptr<CloudWatch>> open_for_daemon(store::Database& db, const Clock& clock,
                                                    const std::string& data_dir, const std::string& account_id,
                                                    const std::string& region) {
  auto scale = time_scale_from_environment();
  if (!scale) return std::move(scale).error();
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Error::internal("creating " + data_dir + ": " + ec.message());
  CloudWatchOptions options;
  options.account_id = account_id;
  options.region = region;
  options.clock = &clock;
  options.metrics_path = data_dir + "/metrics.db";
  options.time_scale = *scale;
  return CloudWatch::open(db, std::move(options));
}

}  // namespace berth::cloudwatch
