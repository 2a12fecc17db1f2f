#include "runtime/runtime_test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "runtime/subprocess.h"

namespace berth::runtime::testing {

namespace fs = std::filesystem;

static std::string exchange_fd(int fd, const std::string& ip, uint16_t port, const std::string& request,
                               std::chrono::milliseconds timeout);

std::string busybox_rootfs(const fs::path& dir) {
  fs::path root = dir / "busybox-rootfs";
  if (fs::exists(root / "bin" / "busybox")) return root.string();
  for (const char* d : {"bin", "proc", "dev", "sys", "tmp", "etc", "www"}) fs::create_directories(root / d);
  fs::copy_file("/bin/busybox", root / "bin" / "busybox");
  for (const char* applet : {"sh", "httpd", "sleep", "head", "tail", "true", "false", "test", "touch", "echo",
                             "cat", "ls", "wc", "tr", "id", "hostname", "pwd"})
    fs::create_symlink("busybox", root / "bin" / applet);
  std::ofstream(root / "www" / "index.html") << "hello berth\n";
  std::ofstream(root / "etc" / "passwd") << "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/www:/bin/false\n";
  std::ofstream(root / "etc" / "group") << "root:x:0:\nwww:x:33:\n";
  return root.string();
}

std::string busybox_layout(const fs::path& rootfs, const fs::path& layout) {
  fs::remove_all(layout);
  std::string image = layout.string() + ":latest";
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"umoci", "init", "--layout", layout.string()},
           {"umoci", "new", "--image", image},
           {"umoci", "insert", "--image", image, rootfs.string(), "/"},
           {"umoci", "config", "--image", image, "--config.cmd", "/bin/true", "--config.env", "FROM_IMAGE=yes"}}) {
    auto r = run_program(argv, std::chrono::seconds(120));
    if (!r || r->exit_code != 0) throw std::runtime_error("umoci failed: " + argv[1] + ": " + (r ? r->err : ""));
  }
  std::ifstream in(layout / "index.json");
  std::ostringstream s;
  s << in.rdbuf();
  auto index = boost::json::parse(s.str());
  return std::string(index.at("manifests").as_array().at(0).at("digest").as_string());
}

std::string exchange_on(int fd, uint16_t port, const std::string& request) {
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return exchange_fd(fd, "127.0.0.1", port, request, std::chrono::milliseconds(3000));
}

std::string exchange(const std::string& ip, uint16_t port, const std::string& request,
                     std::chrono::milliseconds timeout) {
  return exchange_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ip, port, request, timeout);
}

static std::string exchange_fd(int fd, const std::string& ip, uint16_t port, const std::string& request,
                               std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

std::shared_ptr<const ec2::SecurityGroupTable> table_with(const std::string& id, uint16_t port,
                                                          const std::string& protocol) {
  ec2::SecurityGroup g;
  g.id = *ec2::GroupId::parse(id);
  if (port != 0) {
    auto rule = ec2::make_rule(ec2::RuleDirection::kIngress, protocol, port, port, *ec2::Cidr::parse_v4("127.0.0.0/8"));
    g.ingress.push_back(*rule);
  }
  std::vector<ec2::SecurityGroup> groups{g};
  return ec2::SecurityGroupTable::build(groups);
}

std::string udp_exchange(const std::string& ip, uint16_t port, const std::string& datagram,
                         std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return "";
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &to.sin_addr);
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  char buf[2048];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  ::close(fd);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::string private_loopback(int n) {
  return "127.91." + std::to_string(::getpid() % 250 + 1) + "." + std::to_string(n);
}

bool mounted_under(const std::string& prefix) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devs, root, mount_point;
    fields >> id >> parent >> devs >> root >> mount_point;
    if (mount_point.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace berth::runtime::testing
