// ec2/addresses: private IPs in a subnet and public IPs from the loopback
// block (DESIGN.md, "the host plays the internet"). An address is held by
// one resource until released and is never handed out twice while held.
// Instances use it; awsvpc tasks (ecs) call the same functions.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "store/store.h"

namespace berth::ec2 {

// The lowest free address of the subnet, skipping the network address, the
// three after it and the broadcast address (AWS reserves these five).
// InsufficientFreeAddressesInSubnet when full; InvalidSubnetID.NotFound.
Result<std::string> allocate_private_ip(store::Tx& tx, std::string_view subnet_id, std::string_view resource_id);
// A chosen address; InvalidParameterValue outside the subnet or reserved,
// InvalidIPAddress.InUse when held.
Status claim_private_ip(store::Tx& tx, std::string_view subnet_id, std::string_view address,
                        std::string_view resource_id);
Status release_private_ips(store::Tx& tx, std::string_view resource_id);

// block is "127.100.0.0/16"; .0 and .255 host bytes are skipped.
Result<std::string> allocate_public_ip(store::Tx& tx, std::string_view block, std::string_view resource_id);
Status release_public_ips(store::Tx& tx, std::string_view resource_id);

// Free addresses left in a subnet (availableIpAddressCount).
Result<int64_t> available_ip_count(store::Tx& tx, std::string_view subnet_id, std::string_view cidr);

}  // namespace berth::ec2
