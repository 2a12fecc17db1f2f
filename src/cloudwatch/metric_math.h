// cloudwatch/metric_math: the metric math expressions of GetMetricData and
// metric-math alarms, over series keyed by period start.
//
//   expression := term (('+'|'-') term)*
//   term       := factor (('*'|'/') factor)*
//   factor     := number | id | '-' factor | '(' expression ')'
//               | SUM|AVG|MIN|MAX '(' (id | '[' id, ... ']' | METRICS()) ')'
//
// Arithmetic between two series keeps the timestamps both have; a scalar
// applies to every point. SUM/AVG/MIN/MAX of several series give a series
// (per timestamp, over the series that have it); of one series a scalar
// (over all its points), as CloudWatch's functions do. Division by zero
// drops the point. An error names what is wrong (ValidationError text).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "core/error.h"

namespace berth::cloudwatch {

using TimeSeries = std::map<int64_t, double>;  // period start (ms) -> value
using MathValue = std::variant<double, TimeSeries>;

// series: the values of the other queries by id; METRICS() stands for all
// of them.
Result<MathValue> evaluate_expression(std::string_view expression, const std::map<std::string, TimeSeries>& series);

}  // namespace berth::cloudwatch
