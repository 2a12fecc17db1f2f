#include "runtime/etc_files.h"

#include <sstream>

namespace berth::runtime {

std::string hosts_file(const std::string& hostname,
                       const std::vector<std::pair<std::string, std::string>>& extra_hosts) {
  std::string out =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "ff00::0\tip6-mcastprefix\n"
      "ff02::1\tip6-allnodes\n"
      "ff02::2\tip6-allrouters\n";
  if (!hostname.empty()) out += "127.0.1.1\t" + hostname + "\n";
  for (const auto& [name, address] : extra_hosts) out += address + "\t" + name + "\n";
  return out;
}

std::string resolv_conf(const std::vector<std::string>& servers, const std::vector<std::string>& search,
                        std::string_view host_resolv_conf) {
  std::string out;
  if (!search.empty()) {
    out += "search";
    for (const auto& s : search) out += " " + s;
    out += "\n";
  }
  if (!servers.empty()) {
    for (const auto& s : servers) out += "nameserver " + s + "\n";
    return out;
  }
  std::istringstream in{std::string(host_resolv_conf)};
  std::string line;
  bool any_server = false;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    words >> key >> value;
    if (key == "nameserver") {
      if (value.rfind("127.", 0) == 0 || value == "::1") continue;
      any_server = true;
    } else if (key == "search" && !search.empty()) {
      continue;
    }
    out += line + "\n";
  }
  // Docker's fallback when the host names only loopback servers.
  if (!any_server) out += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
  return out;
}

}  // namespace berth::runtime
