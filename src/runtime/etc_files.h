// runtime/etc_files: the /etc/hosts, /etc/resolv.conf and /etc/hostname a
// container is given, as Docker writes them (its own files bound over the
// image's), with the definition's extraHosts, dnsServers and
// dnsSearchDomains.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::runtime {

// localhost lines, the container's hostname on the task's loopback, then
// extraHosts ("address\thostname") in order.
std::string hosts_file(const std::string& hostname,
                       const std::vector<std::pair<std::string, std::string>>& extra_hosts);

// dnsServers / dnsSearchDomains when given; otherwise the host's file with
// its loopback nameservers left out (they are not reachable from the
// container's network namespace), Docker's rule.
std::string resolv_conf(const std::vector<std::string>& servers, const std::vector<std::string>& search,
                        std::string_view host_resolv_conf);

}  // namespace berth::runtime
