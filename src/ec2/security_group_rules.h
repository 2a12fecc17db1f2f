// Security-group rule values, as the EC2 API stores them and the data plane
// reads them. This part of ec2 owns the vocabulary (addresses, CIDRs, IP
// protocols, port ranges, group ids, rules, a group snapshot), the AWS
// validation of AuthorizeSecurityGroupIngress/Egress input with AWS's error
// codes and messages, and the canonical rule identity behind
// InvalidPermission.Duplicate / InvalidPermission.NotFound.
//
//   API handler ──make_rule()──> SecurityGroupRule ──> store
//                                      │
//   store change feed ──> SecurityGroup snapshots ──> SecurityGroupTable
//                                 (connection_policy.h, data plane)
//
// Nothing here allocates on a matching path, throws, or touches the store.
//
// Decisions, with the reason for each:
// - CIDRs are canonicalised on parse: 10.0.0.1/24 is accepted and becomes
//   10.0.0.0/24, as the botocore model documents for IpRange.CidrIp and
//   Ipv6Range.CidrIpv6 ("Amazon Web Services canonicalizes IPv4 and IPv6
//   CIDRs ... 100.68.0.18/18 ... to 100.68.0.0/18", later Describe calls
//   return the canonical form, and re-adding the non-canonical form is a
//   duplicate). Matching is by prefix either way.
// - An IpAddress is the address as it appears on the wire: an IPv4-mapped
//   IPv6 address (::ffff:a.b.c.d, what a dual-stack socket reports for an
//   IPv4 peer) is stored as the IPv4 address a.b.c.d. It therefore matches
//   IPv4 CIDR rules and never IPv6 rules (not even ::/0), as the packet is
//   IPv4. Cidr values are not unmapped: an Ipv6 rule ::ffff:0:0/96 is kept
//   as given and matches nothing.
// - ICMP (1) and ICMPv6 (58): FromPort is the ICMP type, ToPort the code,
//   -1 meaning any. A type of -1 requires a code of -1. Matching compares
//   the connection's type and code; nothing checks that a type/code pair
//   exists in the ICMP registry (AWS does, for some types).
// - Protocol -1 and protocol numbers other than tcp/udp/icmp/icmpv6 carry
//   no port range: AWS allows all ports "regardless of any port range you
//   specify", so the stored range is canonicalised to -1..-1.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"

namespace berth::ec2 {

// ---------------------------------------------------------------- addresses

enum class IpFamily : uint8_t { kV4, kV6 };

// An IPv4 or IPv6 address, parsed once, compared as integers.
class IpAddress {
 public:
  IpAddress() = default;  // 0.0.0.0

  static IpAddress v4(uint32_t host_order) { return IpAddress(host_order); }
  static IpAddress from_v4_bytes(const std::array<uint8_t, 4>& bytes);
  // Unmaps ::ffff:a.b.c.d to the IPv4 address (see the header comment).
  // The array type is what boost::asio::ip::address_v6::to_bytes() returns.
  static IpAddress from_v6_bytes(const std::array<uint8_t, 16>& bytes);
  // Dotted quad or RFC 4291 text; no zone, no brackets, no prefix.
  static std::optional<IpAddress> parse(std::string_view text);

  IpFamily family() const { return family_; }
  bool is_v4() const { return family_ == IpFamily::kV4; }
  bool is_v6() const { return family_ == IpFamily::kV6; }
  uint32_t v4_bits() const { return static_cast<uint32_t>(lo_); }  // host order
  uint64_t v6_hi() const { return hi_; }
  uint64_t v6_lo() const { return lo_; }
  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  friend class Cidr;  // keeps IPv6 blocks inside ::ffff:0:0/96 as IPv6
  explicit IpAddress(uint32_t v4) : lo_(v4) {}
  IpAddress(uint64_t hi, uint64_t lo) : family_(IpFamily::kV6), hi_(hi), lo_(lo) {}

  IpFamily family_ = IpFamily::kV4;
  uint64_t hi_ = 0;  // v6 only
  uint64_t lo_ = 0;  // v4: the 32 bits; v6: the low 64 bits
};

namespace detail {
inline uint32_t v4_mask(int prefix) { return prefix == 0 ? 0u : ~uint32_t{0} << (32 - prefix); }
inline uint64_t v6_hi_mask(int prefix) {
  if (prefix >= 64) return ~uint64_t{0};
  return prefix == 0 ? 0 : ~uint64_t{0} << (64 - prefix);
}
inline uint64_t v6_lo_mask(int prefix) { return prefix <= 64 ? 0 : ~uint64_t{0} << (128 - prefix); }
}  // namespace detail

// A canonical CIDR block: the host bits are always zero.
class Cidr {
 public:
  Cidr() = default;  // 0.0.0.0/0

  // Strict text form "a.b.c.d/n" (n 0..32) or "x:x::x/n" (n 0..128).
  // Host bits are accepted and cleared. nullopt for anything else.
  static std::optional<Cidr> parse_v4(std::string_view text);
  static std::optional<Cidr> parse_v6(std::string_view text);
  static Cidr of(const IpAddress& network, int prefix_length);  // clears host bits

  IpFamily family() const { return network_.family(); }
  const IpAddress& network() const { return network_; }
  int prefix_length() const { return prefix_length_; }
  // False for an address of the other family. Inline: the data path.
  bool contains(const IpAddress& address) const {
    if (address.family() != network_.family()) return false;
    if (address.is_v4())
      return (address.v4_bits() & detail::v4_mask(prefix_length_)) == network_.v4_bits();
    return (address.v6_hi() & detail::v6_hi_mask(prefix_length_)) == network_.v6_hi() &&
           (address.v6_lo() & detail::v6_lo_mask(prefix_length_)) == network_.v6_lo();
  }
  std::string to_string() const;  // canonical, as Describe returns it

  friend bool operator==(const Cidr&, const Cidr&) = default;

 private:
  IpAddress network_;
  uint8_t prefix_length_ = 0;
};

// ---------------------------------------------------------------- protocols

// An IP protocol number, or -1 for all. Names are canonical: "6" is tcp.
class IpProtocol {
 public:
  static constexpr int16_t kAll = -1;
  static constexpr int16_t kIcmp = 1;
  static constexpr int16_t kTcp = 6;
  static constexpr int16_t kUdp = 17;
  static constexpr int16_t kIcmpv6 = 58;

  constexpr IpProtocol() = default;  // all
  constexpr explicit IpProtocol(int16_t number) : number_(number) {}
  static constexpr IpProtocol all() { return IpProtocol(kAll); }
  static constexpr IpProtocol tcp() { return IpProtocol(kTcp); }
  static constexpr IpProtocol udp() { return IpProtocol(kUdp); }
  static constexpr IpProtocol icmp() { return IpProtocol(kIcmp); }
  static constexpr IpProtocol icmpv6() { return IpProtocol(kIcmpv6); }

  constexpr int16_t number() const { return number_; }
  constexpr bool is_all() const { return number_ == kAll; }
  constexpr bool is_tcp_or_udp() const { return number_ == kTcp || number_ == kUdp; }
  constexpr bool is_icmp_family() const { return number_ == kIcmp || number_ == kIcmpv6; }
  // tcp, udp, icmp and icmpv6 rules carry a range; every other value means all ports.
  constexpr bool has_port_range() const { return is_tcp_or_udp() || is_icmp_family(); }
  // "tcp", "udp", "icmp", "icmpv6", "-1", or the decimal number ("47").
  std::string to_string() const;

  friend constexpr bool operator==(IpProtocol, IpProtocol) = default;

 private:
  int16_t number_ = kAll;
};

// FromPort..ToPort, inclusive. For tcp/udp a port range 0..65535; for
// icmp/icmpv6 {type, code} with -1 = any; otherwise always {-1, -1}.
struct PortRange {
  int32_t from = -1;
  int32_t to = -1;

  friend bool operator==(const PortRange&, const PortRange&) = default;
};

// ---------------------------------------------------------------- group ids

// "sg-" and 8 or 17 lowercase hex digits, held inline so that a group set
// is a flat array of trivially copyable values on the data path. Compared
// as three 64-bit words (the text zero-padded, its length in the last byte).
class GroupId {
 public:
  static constexpr size_t kMaxSize = 20;

  GroupId() = default;  // empty; matches no group
  static std::optional<GroupId> parse(std::string_view text);

  std::string_view view() const { return {chars_.data(), static_cast<size_t>(chars_[kSizeByte])}; }
  std::string to_string() const { return std::string(view()); }
  bool empty() const { return chars_[kSizeByte] == 0; }

  friend bool operator==(const GroupId& a, const GroupId& b) {
    return a.word(0) == b.word(0) && a.word(1) == b.word(1) && a.word(2) == b.word(2);
  }
  // The order of the texts: zero padding sorts a prefix first.
  friend std::strong_ordering operator<=>(const GroupId& a, const GroupId& b) {
    for (int i = 0; i < 3; ++i)
      if (a.word(i) != b.word(i)) return a.big_endian_word(i) <=> b.big_endian_word(i);
    return std::strong_ordering::equal;
  }

 private:
  static constexpr size_t kSizeByte = 23;

  uint64_t word(int i) const {
    uint64_t w;
    std::memcpy(&w, chars_.data() + 8 * i, sizeof w);
    return w;
  }
  uint64_t big_endian_word(int i) const {
    uint64_t w = word(i);
    if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
    return w;
  }

  std::array<char, 24> chars_{};
};

// ---------------------------------------------------------------- rules

enum class RuleDirection : uint8_t { kIngress, kEgress };

// UserIdGroupPair: a group whose ENIs match (user_id is the owner account
// when the API was given one; it takes no part in local matching).
struct GroupPeer {
  GroupId group_id;
  std::string user_id;

  friend bool operator==(const GroupPeer&, const GroupPeer&) = default;
};

// PrefixListId: kept for Describe; it never matches a local connection.
struct PrefixListPeer {
  std::string prefix_list_id;

  friend bool operator==(const PrefixListPeer&, const PrefixListPeer&) = default;
};

// Exactly one peer per rule: an IPv4 or IPv6 CIDR, a group, or a prefix
// list. The default is a GroupPeer with an empty id, which matches nothing,
// so that a default-constructed rule never opens anything.
using RulePeer = std::variant<GroupPeer, Cidr, PrefixListPeer>;

// One permission with one peer (the unit of DescribeSecurityGroupRules).
// An IpPermission of the API with several IpRanges/Groups is several rules.
struct SecurityGroupRule {
  RuleDirection direction = RuleDirection::kIngress;
  IpProtocol protocol;
  PortRange ports;  // canonical: see PortRange
  RulePeer peer;
  std::string description;  // not part of the rule's identity
  std::string rule_id;      // "sgr-...", assigned by the API; not part of identity
};

// What a connection decision needs of one group. Rules are expected in the
// list of their direction; their own `direction` is not consulted.
struct SecurityGroup {
  GroupId id;
  std::string vpc_id;
  std::vector<SecurityGroupRule> ingress;
  std::vector<SecurityGroupRule> egress;
};

// ---------------------------------------------------------------- validation
// All errors are ErrorClass::kInvalid with EC2's code and message.

// "tcp" | "udp" | "icmp" | "icmpv6" (any case) | "-1" | "0".."255".
// "6", "17", "1", "58" become tcp, udp, icmp, icmpv6. "all" is refused as
// AWS refuses it. Empty means absent:
//   InvalidParameterValue "Invalid value 'null' for protocol. VPC security
//   group rules must specify protocols explicitly."
// otherwise InvalidParameterValue "Invalid value 'x' for IP protocol. Unknown protocol."
Result<IpProtocol> parse_ip_protocol(std::string_view text);

// FromPort/ToPort of a permission for `protocol`, as given (nullopt when
// absent), to the canonical PortRange. InvalidParameterValue messages:
//   tcp/udp absent:  "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange."
//   tcp/udp range:   "TCP/UDP (from) port (-1) out of range", "(to)" likewise
//   tcp/udp from>to: "Invalid TCP/UDP port range (80-70)"                 [not seen from AWS]
//   icmp absent:     "Invalid value 'Must specify both from and to ports with ICMP.' for portRange."
//   icmp range:      "ICMP type (256) out of range", "ICMP code (65535) out of range"
//   icmp type -1:    "ICMP code (0) must be -1 when ICMP type is -1"      [not seen from AWS]
// icmpv6 with both ports absent means all types and codes.
Result<PortRange> validate_port_range(IpProtocol protocol, std::optional<int64_t> from_port,
                                      std::optional<int64_t> to_port);

// InvalidParameterValue "CIDR block <text> is malformed" for what parse_v4/v6 refuse.
Result<Cidr> parse_cidr_v4(std::string_view text);
Result<Cidr> parse_cidr_v6(std::string_view text);

// InvalidGroupId.Malformed `Invalid id: "<text>" (expecting "sg-...")`.
Result<GroupId> parse_group_id(std::string_view text);

// One rule from one peer of an IpPermission: protocol and ports validated
// and canonicalised. The peer is already parsed (parse_cidr_v4/v6,
// parse_group_id); whether a referenced group exists is the API's check.
Result<SecurityGroupRule> make_rule(RuleDirection direction, std::string_view ip_protocol,
                                    std::optional<int64_t> from_port,
                                    std::optional<int64_t> to_port, RulePeer peer,
                                    std::string description = {});

// The rule a new group gets: egress, all protocols, to 0.0.0.0/0. (A VPC
// with an IPv6 block also gets the same rule to ::/0.)
SecurityGroupRule default_egress_rule();
SecurityGroupRule default_egress_rule_v6();

// ---------------------------------------------------------------- identity

// Canonical identity: direction, protocol, ports, peer. Description and
// rule id are ignored; since all four parts are stored canonically,
// "6" vs "tcp" and 10.0.0.1/24 vs 10.0.0.0/24 are the same permission.
bool same_permission(const SecurityGroupRule& a, const SecurityGroupRule& b);

// The quoted rule of EC2's messages: "peer: 0.0.0.0/0, TCP, from port: 22,
// to port: 22, ALLOW", "peer: sg-..., ALL, ALLOW" (both observed). Other
// protocols follow the same pattern: "UDP", "ICMP, type: 8, code: -1",
// "ICMPV6", a number "47" (these are not seen from AWS).
std::string permission_text(const SecurityGroupRule& rule);

// InvalidPermission.Duplicate `the specified rule "<permission_text>" already exists`.
Error duplicate_permission_error(const SecurityGroupRule& rule);
// InvalidPermission.NotFound "The specified rule does not exist in this security group."
Error permission_not_found_error();

}  // namespace berth::ec2
