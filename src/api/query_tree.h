// api/query_tree: query-protocol parameters as a JSON tree, so a service
// offering query besides JSON and CBOR reads one input shape.
//
//   Action=PutMetricData&Namespace=App&MetricData.member.1.MetricName=Hits
//     &MetricData.member.1.Dimensions.member.1.Name=Host
//   ──► {"Namespace":"App","MetricData":[{"MetricName":"Hits","Dimensions":[{"Name":"Host"}]}]}
//
// "member.N" makes a list (ordered by N, gaps closed); every scalar stays
// a string (the reader converts by the model's type); "Key=" with an empty
// value is "" (botocore's spelling of an empty list). Action and Version
// are left out.
#pragma once

#include <boost/json/object.hpp>

#include "api/query_codec.h"

namespace berth::api {

boost::json::object query_to_json(const QueryParams& params);

}  // namespace berth::api
