#include "ec2/ec2_service.h"

#include "ec2/api_support.h"
#include "ec2/schema.h"

namespace berth::ec2 {

Result<api::Service> make_ec2_service(store::Database& db, Ec2Options options) {
  if (options.account_id.empty()) return Error::internal("ec2: the account id is required");
  if (auto st = prepare_ec2_store(db, options); !st) return std::move(st).error();
  auto ctx = std::make_shared<const Context>(Context{db, std::move(options)});
  api::Service service;
  service.signing_name = "ec2";
  service.protocol = api::Protocol::kEc2;
  service.xmlns = std::string(api::kEc2Xmlns);
  service.api_version = "2016-11-15";
  add_region_operations(service, ctx);
  add_vpc_operations(service, ctx);
  add_security_group_operations(service, ctx);
  add_security_group_rule_operations(service, ctx);
  add_key_pair_operations(service, ctx);
  add_instance_operations(service, ctx);
  add_catalogue_operations(service, ctx);
  add_network_interface_operations(service, ctx);
  return service;
}

}  // namespace berth::ec2
