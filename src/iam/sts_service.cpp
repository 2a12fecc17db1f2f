// STS: GetCallerIdentity (reference §1.5), answered from the caller the
// front door resolved; no store access.
#include "api/xml_writer.h"
#include "iam/services.h"

namespace berth::iam {

api::Service make_sts_service(Iam&) {
  api::Service service;
  service.signing_name = "sts";
  service.protocol = api::Protocol::kQuery;
  service.xmlns = std::string(api::kStsXmlns);
  service.api_version = "2011-06-15";
  service.add("GetCallerIdentity", [](const api::CallContext& ctx, const api::OperationInput&) -> Result<std::string> {
    std::string out;
    out.reserve(256);
    api::XmlWriter w(out);
    w.leaf("Arn", ctx.caller.arn).leaf("UserId", ctx.caller.user_id).leaf("Account", ctx.caller.account_id);
    return out;
  });
  return service;
}

}  // namespace berth::iam
