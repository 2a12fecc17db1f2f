// ec2/schema: the "ec2" store migrations and the resources every account
// starts with (reference §5.1, §5.2): the default VPC 172.31.0.0/16, one
// default /20 subnet per availability zone, the VPC's default security
// group. Seeding is idempotent: it runs on every start and creates only
// what is missing, in one transaction.
#pragma once

#include <string>

#include "core/error.h"
#include "ec2/ec2_service.h"
#include "store/store.h"

namespace berth::ec2 {

inline constexpr std::string_view kDefaultVpcCidr = "172.31.0.0/16";

Status apply_ec2_migrations(store::Database& db);
Status seed_defaults(store::Database& db, const Ec2Options& options);

// The default VPC's id; NotFound when seeding has not run.
Result<std::string> default_vpc_id(store::Tx& tx);

}  // namespace berth::ec2
