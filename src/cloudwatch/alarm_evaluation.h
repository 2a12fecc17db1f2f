// cloudwatch/alarm_evaluation: one evaluation of one alarm, as a pure
// function of its definition, the last EvaluationPeriods period values and
// its current state (Nomad-style: inputs in, decision out; the CloudWatch
// object fetches the values and applies the decision).
//
//   periods (newest first; a missing one has no value)
//      ─► breaching?  per ComparisonOperator vs Threshold
//      ─► TreatMissingData (missing | ignore | breaching | notBreaching)
//      ─► "M out of N" (DatapointsToAlarm of EvaluationPeriods)
//      ─► Decision { state, StateReason, StateReasonData JSON }
//
// Missing data (AWS's "Configuring how CloudWatch alarms treat missing
// data"): with missing/ignore, an evaluation range where every period is
// missing gives INSUFFICIENT_DATA (missing) or keeps the state (ignore);
// when fewer periods than DatapointsToAlarm have data, the alarm goes to
// ALARM only if every one of them breaches; breaching/notBreaching count a
// missing period as that.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cloudwatch/types.h"

namespace berth::cloudwatch {

inline constexpr std::string_view kStateOk = "OK";
inline constexpr std::string_view kStateAlarm = "ALARM";
inline constexpr std::string_view kStateInsufficient = "INSUFFICIENT_DATA";

struct PeriodValue {
  WallTime start{};
  std::optional<double> value;
  double sample_count = 0;
};

struct Decision {
  std::string state;
  std::string reason;
  std::string reason_data;         // StateReasonData JSON
  std::vector<double> datapoints;  // the values evaluated, newest first
};

bool breaches(double value, double threshold, std::string_view comparison_operator);

// periods: newest first, one per evaluation period. nullopt: keep the
// current state (TreatMissingData=ignore with no data at all).
std::optional<Decision> evaluate_alarm(const AlarmDefinition& alarm, std::span<const PeriodValue> periods,
                                       std::string_view statistic_label, WallTime now);

// AWS's spellings inside reasons: 70.0, 85.2; 04/12/26 23:10:00;
// 2026-12-04T23:10:00.000+0000.
std::string java_double(double x);
std::string reason_date(WallTime t);
std::string reason_data_date(WallTime t);

}  // namespace berth::cloudwatch
