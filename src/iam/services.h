// iam/services: the IAM and STS APIs (query protocol) over an Iam.
//
//   IAM  signing name "iam", version 2010-05-08, xmlns https://iam.amazonaws.com/doc/2010-05-08/
//   STS  signing name "sts", version 2011-06-15, xmlns https://sts.amazonaws.com/doc/2011-06-15/
#pragma once

#include <string_view>

#include "api/service.h"
#include "iam/iam.h"

namespace berth::iam {

inline constexpr std::string_view kIamXmlns = "https://iam.amazonaws.com/doc/2010-05-08/";

api::Service make_iam_service(Iam& iam);
api::Service make_sts_service(Iam& iam);

}  // namespace berth::iam
