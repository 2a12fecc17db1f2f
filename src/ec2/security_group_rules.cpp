#include "ec2/security_group_rules.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace berth::ec2 {
namespace {

constexpr size_t kMaxAddressText = 64;  // longer than any valid address text

// inet_pton wants a NUL-terminated string; copy into a stack buffer.
bool to_c_string(std::string_view text, std::array<char, kMaxAddressText>& buffer) {
  if (text.empty() || text.size() >= buffer.size()) return false;
  std::memcpy(buffer.data(), text.data(), text.size());
  buffer[text.size()] = '\0';
  return true;
}

uint64_t load_be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void store_be64(uint64_t v, uint8_t* p) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v & 0xff);
}

using detail::v4_mask;
using detail::v6_hi_mask;
using detail::v6_lo_mask;

// "0".."max" without sign, spaces or leading zeros.
std::optional<int> parse_prefix_length(std::string_view text, int max) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

Error invalid_value(std::string message) {
  return Error::invalid("InvalidParameterValue", std::move(message));
}

std::string upper_protocol_name(IpProtocol protocol) {
  std::string name = protocol.is_all() ? std::string("all") : protocol.to_string();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; });
  return name;
}

}  // namespace

// ---------------------------------------------------------------- IpAddress

IpAddress IpAddress::from_v4_bytes(const std::array<uint8_t, 4>& b) {
  return IpAddress((uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3]);
}

IpAddress IpAddress::from_v6_bytes(const std::array<uint8_t, 16>& b) {
  uint64_t hi = load_be64(b.data());
  uint64_t lo = load_be64(b.data() + 8);
  if (hi == 0 && (lo >> 32) == 0xffff) return IpAddress(static_cast<uint32_t>(lo));
  return IpAddress(hi, lo);
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  std::array<char, kMaxAddressText> buffer;
  if (!to_c_string(text, buffer)) return std::nullopt;
  std::array<uint8_t, 4> v4{};
  if (inet_pton(AF_INET, buffer.data(), v4.data()) == 1) return from_v4_bytes(v4);
  std::array<uint8_t, 16> v6{};
  if (inet_pton(AF_INET6, buffer.data(), v6.data()) == 1) return from_v6_bytes(v6);
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    uint32_t bits = v4_bits();
    uint8_t b[4] = {static_cast<uint8_t>(bits >> 24), static_cast<uint8_t>(bits >> 16),
                    static_cast<uint8_t>(bits >> 8), static_cast<uint8_t>(bits)};
    inet_ntop(AF_INET, b, text, sizeof text);
  } else {
    uint8_t b[16];
    store_be64(hi_, b);
    store_be64(lo_, b + 8);
    inet_ntop(AF_INET6, b, text, sizeof text);
  }
  return text;
}

// ---------------------------------------------------------------- Cidr

std::optional<Cidr> Cidr::parse_v4(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto prefix = parse_prefix_length(text.substr(slash + 1), 32);
  std::array<char, kMaxAddressText> buffer;
  std::array<uint8_t, 4> bytes{};
  if (!prefix || !to_c_string(text.substr(0, slash), buffer) ||
      inet_pton(AF_INET, buffer.data(), bytes.data()) != 1)
    return std::nullopt;
  return of(IpAddress::from_v4_bytes(bytes), *prefix);
}

std::optional<Cidr> Cidr::parse_v6(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto prefix = parse_prefix_length(text.substr(slash + 1), 128);
  std::array<char, kMaxAddressText> buffer;
  std::array<uint8_t, 16> bytes{};
  if (!prefix || !to_c_string(text.substr(0, slash), buffer) ||
      inet_pton(AF_INET6, buffer.data(), bytes.data()) != 1)
    return std::nullopt;
  // Not IpAddress::from_v6_bytes: a rule's IPv6 block stays IPv6 even when
  // it lies in ::ffff:0:0/96.
  Cidr cidr;
  cidr.network_ = IpAddress(load_be64(bytes.data()), load_be64(bytes.data() + 8));
  cidr.prefix_length_ = static_cast<uint8_t>(*prefix);
  cidr.network_ = IpAddress(cidr.network_.hi_ & v6_hi_mask(*prefix),
                            cidr.network_.lo_ & v6_lo_mask(*prefix));
  return cidr;
}

Cidr Cidr::of(const IpAddress& network, int prefix_length) {
  Cidr cidr;
  if (network.is_v4()) {
    prefix_length = std::clamp(prefix_length, 0, 32);
    cidr.network_ = IpAddress::v4(network.v4_bits() & v4_mask(prefix_length));
  } else {
    prefix_length = std::clamp(prefix_length, 0, 128);
    cidr.network_ = IpAddress(network.v6_hi() & v6_hi_mask(prefix_length),
                              network.v6_lo() & v6_lo_mask(prefix_length));
  }
  cidr.prefix_length_ = static_cast<uint8_t>(prefix_length);
  return cidr;
}

std::string Cidr::to_string() const {
  return network_.to_string() + "/" + std::to_string(prefix_length_);
}

// ---------------------------------------------------------------- IpProtocol

std::string IpProtocol::to_string() const {
  switch (number_) {
    case kAll: return "-1";
    case kTcp: return "tcp";
    case kUdp: return "udp";
    case kIcmp: return "icmp";
    case kIcmpv6: return "icmpv6";
    default: return std::to_string(number_);
  }
}

// ---------------------------------------------------------------- GroupId

std::optional<GroupId> GroupId::parse(std::string_view text) {
  constexpr std::string_view kPrefix = "sg-";
  if (!text.starts_with(kPrefix)) return std::nullopt;
  std::string_view hex = text.substr(kPrefix.size());
  if (hex.size() != 8 && hex.size() != 17) return std::nullopt;
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  GroupId id;
  std::memcpy(id.chars_.data(), text.data(), text.size());
  id.chars_[kSizeByte] = static_cast<char>(text.size());
  return id;
}

// ---------------------------------------------------------------- validation

Result<IpProtocol> parse_ip_protocol(std::string_view text) {
  if (text.empty())
    return invalid_value(
        "Invalid value 'null' for protocol. VPC security group rules must specify protocols "
        "explicitly.");
  if (text == "-1") return IpProtocol::all();
  if (equals_ignoring_case(text, "tcp")) return IpProtocol::tcp();
  if (equals_ignoring_case(text, "udp")) return IpProtocol::udp();
  if (equals_ignoring_case(text, "icmp")) return IpProtocol::icmp();
  if (equals_ignoring_case(text, "icmpv6")) return IpProtocol::icmpv6();
  if (text.size() <= 3 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int number = 0;
    for (char c : text) number = number * 10 + (c - '0');
    if (number <= 255) return IpProtocol(static_cast<int16_t>(number));
  }
  return invalid_value("Invalid value '" + std::string(text) + "' for IP protocol. Unknown protocol.");
}

Result<PortRange> validate_port_range(IpProtocol protocol, std::optional<int64_t> from_port,
                                      std::optional<int64_t> to_port) {
  if (!protocol.has_port_range()) return PortRange{};
  if (protocol.is_tcp_or_udp()) {
    if (!from_port || !to_port)
      return invalid_value("Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.");
    if (*from_port < 0 || *from_port > 65535)
      return invalid_value("TCP/UDP (from) port (" + std::to_string(*from_port) + ") out of range");
    if (*to_port < 0 || *to_port > 65535)
      return invalid_value("TCP/UDP (to) port (" + std::to_string(*to_port) + ") out of range");
    if (*from_port > *to_port)
      return invalid_value("Invalid TCP/UDP port range (" + std::to_string(*from_port) + "-" +
                           std::to_string(*to_port) + ")");
    return PortRange{static_cast<int32_t>(*from_port), static_cast<int32_t>(*to_port)};
  }
  if (protocol.number() == IpProtocol::kIcmpv6 && !from_port && !to_port) return PortRange{};
  if (!from_port || !to_port)
    return invalid_value("Invalid value 'Must specify both from and to ports with ICMP.' for portRange.");
  if (*from_port < -1 || *from_port > 255)
    return invalid_value("ICMP type (" + std::to_string(*from_port) + ") out of range");
  if (*to_port < -1 || *to_port > 255)
    return invalid_value("ICMP code (" + std::to_string(*to_port) + ") out of range");
  if (*from_port == -1 && *to_port != -1)
    return invalid_value("ICMP code (" + std::to_string(*to_port) + ") must be -1 when ICMP type is -1");
  return PortRange{static_cast<int32_t>(*from_port), static_cast<int32_t>(*to_port)};
}

Result<Cidr> parse_cidr_v4(std::string_view text) {
  if (auto cidr = Cidr::parse_v4(text)) return *cidr;
  return invalid_value("CIDR block " + std::string(text) + " is malformed");
}

Result<Cidr> parse_cidr_v6(std::string_view text) {
  if (auto cidr = Cidr::parse_v6(text)) return *cidr;
  return invalid_value("CIDR block " + std::string(text) + " is malformed");
}

Result<GroupId> parse_group_id(std::string_view text) {
  if (auto id = GroupId::parse(text)) return *id;
  return Error::invalid("InvalidGroupId.Malformed",
                        "Invalid id: \"" + std::string(text) + "\" (expecting \"sg-...\")");
}

Result<SecurityGroupRule> make_rule(RuleDirection direction, std::string_view ip_protocol,
                                    std::optional<int64_t> from_port,
                                    std::optional<int64_t> to_port, RulePeer peer,
                                    std::string description) {
  auto protocol = parse_ip_protocol(ip_protocol);
  if (!protocol) return std::move(protocol).error();
  auto ports = validate_port_range(*protocol, from_port, to_port);
  if (!ports) return std::move(ports).error();
  SecurityGroupRule rule;
  rule.direction = direction;
  rule.protocol = *protocol;
  rule.ports = *ports;
  rule.peer = std::move(peer);
  rule.description = std::move(description);
  return rule;
}

SecurityGroupRule default_egress_rule() {
  SecurityGroupRule rule;
  rule.direction = RuleDirection::kEgress;
  rule.protocol = IpProtocol::all();
  rule.peer = Cidr{};  // 0.0.0.0/0
  return rule;
}

SecurityGroupRule default_egress_rule_v6() {
  SecurityGroupRule rule = default_egress_rule();
  rule.peer = *Cidr::parse_v6("::/0");
  return rule;
}

// ---------------------------------------------------------------- identity

bool same_permission(const SecurityGroupRule& a, const SecurityGroupRule& b) {
  if (a.direction != b.direction || a.protocol != b.protocol || a.ports != b.ports) return false;
  if (a.peer.index() != b.peer.index()) return false;
  if (const auto* ga = std::get_if<GroupPeer>(&a.peer))
    return ga->group_id == std::get<GroupPeer>(b.peer).group_id;  // the owner account is not identity
  return a.peer == b.peer;
}

std::string permission_text(const SecurityGroupRule& rule) {
  std::string text = "peer: ";
  if (const auto* cidr = std::get_if<Cidr>(&rule.peer)) text += cidr->to_string();
  else if (const auto* group = std::get_if<GroupPeer>(&rule.peer)) text += group->group_id.view();
  else text += std::get<PrefixListPeer>(rule.peer).prefix_list_id;
  text += ", ";
  text += upper_protocol_name(rule.protocol);
  if (rule.protocol.is_tcp_or_udp()) {
    text += ", from port: " + std::to_string(rule.ports.from) +
            ", to port: " + std::to_string(rule.ports.to);
  } else if (rule.protocol.is_icmp_family()) {
    text += ", type: " + std::to_string(rule.ports.from) + ", code: " + std::to_string(rule.ports.to);
  }
  text += ", ALLOW";
  return text;
}

Error duplicate_permission_error(const SecurityGroupRule& rule) {
  return Error::already_exists("InvalidPermission.Duplicate",
                               "the specified rule \"" + permission_text(rule) + "\" already exists");
}

Error permission_not_found_error() {
  return Error::not_found("InvalidPermission.NotFound",
                          "The specified rule does not exist in this security group.");
}

}  // namespace berth::ec2
