#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "ec2/connection_policy.h"
#include "ec2/security_group_rules.h"
#include "core/testing/expect_ok.h"

// Counts every global allocation, so a test can prove a path allocates
// nothing. Every form of operator new the library may use is replaced (the
// nothrow ones too: std::stable_sort takes its buffer that way), so that
// the sanitizer build sees matching new/delete pairs.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<long> g_allocations{0};

void* counted_malloc(std::size_t size) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size ? size : 1);
}
}  // namespace

void* operator new(std::size_t size) {
  if (void* p = counted_malloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted_malloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return counted_malloc(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace berth::ec2 {
namespace {

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress{});
}

Cidr v4(std::string_view text) {
  auto c = Cidr::parse_v4(text);
  EXPECT_TRUE(c.has_value()) << text;
  return c.value_or(Cidr{});
}

Cidr v6(std::string_view text) {
  auto c = Cidr::parse_v6(text);
  EXPECT_TRUE(c.has_value()) << text;
  return c.value_or(Cidr{});
}

GroupId gid(std::string_view text) {
  auto g = GroupId::parse(text);
  EXPECT_TRUE(g.has_value()) << text;
  return g.value_or(GroupId{});
}

SecurityGroupRule rule(RuleDirection direction, std::string_view protocol,
                       std::optional<int64_t> from, std::optional<int64_t> to, RulePeer peer) {
  auto r = make_rule(direction, protocol, from, to, std::move(peer));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : SecurityGroupRule{};
}

SecurityGroupRule in(std::string_view protocol, std::optional<int64_t> from,
                     std::optional<int64_t> to, RulePeer peer) {
  return rule(RuleDirection::kIngress, protocol, from, to, std::move(peer));
}

SecurityGroupRule out(std::string_view protocol, std::optional<int64_t> from,
                      std::optional<int64_t> to, RulePeer peer) {
  return rule(RuleDirection::kEgress, protocol, from, to, std::move(peer));
}

GroupPeer group_peer(std::string_view id) { return GroupPeer{gid(id), {}}; }

const GroupId kWeb = gid("sg-0123456789abcdef0");
const GroupId kAlb = gid("sg-0aaaaaaaaaaaaaaaa");
const GroupId kSsh = gid("sg-0bbbbbbbbbbbbbbbb");
const GroupId kOther = gid("sg-0cccccccccccccccc");
const GroupId kUnknown = gid("sg-0dddddddddddddddd");

Connection tcp_to(std::span<const GroupId> destination_groups, std::string_view source,
                  uint16_t port, std::span<const GroupId> source_groups = {}) {
  Connection c;
  c.source = ip(source);
  c.source_groups = source_groups;
  c.destination = ip("172.31.0.10");
  c.destination_groups = destination_groups;
  c.protocol = IpProtocol::tcp();
  c.port = port;
  return c;
}

// ---------------------------------------------------------------- addresses, CIDRs

TEST(IpAddress, ParsesBothFamilies) {
  EXPECT_TRUE(ip("10.1.2.3").is_v4());
  EXPECT_EQ(ip("10.1.2.3").v4_bits(), 0x0a010203u);
  EXPECT_EQ(ip("10.1.2.3").to_string(), "10.1.2.3");
  EXPECT_TRUE(ip("2001:db8::1").is_v6());
  EXPECT_EQ(ip("2001:DB8:0:0::1").to_string(), "2001:db8::1");
  EXPECT_EQ(ip("2001:db8::1").v6_hi(), 0x20010db800000000u);
  EXPECT_EQ(ip("2001:db8::1").v6_lo(), 1u);
  for (const char* bad : {"", "10.1.2", "10.1.2.256", "010.1.2.3", "10.1.2.3/32", " 10.1.2.3",
                          "fe80::1%eth0", "[::1]", "::g", "1.2.3.4.5"})
    EXPECT_FALSE(IpAddress::parse(bad).has_value()) << bad;
}

TEST(IpAddress, V4MappedV6IsTheV4Address) {
  EXPECT_EQ(ip("::ffff:10.1.2.3"), ip("10.1.2.3"));
  EXPECT_TRUE(ip("::ffff:10.1.2.3").is_v4());
  std::array<uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  EXPECT_EQ(IpAddress::from_v6_bytes(mapped), ip("127.0.0.1"));
  // v4-compatible (::a.b.c.d, deprecated) and NAT64 are real IPv6 addresses.
  EXPECT_TRUE(ip("::10.1.2.3").is_v6());
  EXPECT_TRUE(ip("64:ff9b::10.1.2.3").is_v6());
  EXPECT_EQ(IpAddress::from_v4_bytes({192, 168, 0, 1}), ip("192.168.0.1"));
}

TEST(Cidr, ParsesV4AndCanonicalisesHostBits) {
  EXPECT_EQ(v4("10.0.0.0/8").to_string(), "10.0.0.0/8");
  EXPECT_EQ(v4("0.0.0.0/0").to_string(), "0.0.0.0/0");
  EXPECT_EQ(v4("1.2.3.4/0").to_string(), "0.0.0.0/0");
  EXPECT_EQ(v4("203.0.113.7/32").to_string(), "203.0.113.7/32");
  // The botocore model's own example, and the brief's.
  EXPECT_EQ(v4("100.68.0.18/18").to_string(), "100.68.0.0/18");
  EXPECT_EQ(v4("10.0.0.1/24"), v4("10.0.0.0/24"));
  EXPECT_EQ(v4("10.0.0.1/24").prefix_length(), 24);
}

TEST(Cidr, RejectsMalformedV4) {
  for (const char* bad : {"", "bogus", "10.0.0.0", "10.0.0.0/", "/8", "10.0.0/8", "10.0.0.0/33",
                          "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/08", "10.0.0.0/8 ", " 10.0.0.0/8",
                          "256.0.0.0/8", "10.0.0.0/8/8", "::/0", "10.0.0.0/1000", "10.0.0.0/x"})
    EXPECT_FALSE(Cidr::parse_v4(bad).has_value()) << bad;
}

TEST(Cidr, ParsesV6AndCanonicalises) {
  EXPECT_EQ(v6("::/0").to_string(), "::/0");
  EXPECT_EQ(v6("2001:DB8::1/32").to_string(), "2001:db8::/32");
  EXPECT_EQ(v6("2001:db8::1/128").to_string(), "2001:db8::1/128");
  EXPECT_EQ(v6("2001:db8:1:2:ffff::/65").to_string(), "2001:db8:1:2:8000::/65");
  EXPECT_EQ(v6("2001:db8::/64").family(), IpFamily::kV6);
  // Kept as IPv6 even inside ::ffff:0:0/96 (and so matches no IPv4 peer).
  EXPECT_EQ(v6("::ffff:10.0.0.0/104").family(), IpFamily::kV6);
  for (const char* bad : {"2001:db8::/129", "2001:db8::", "2001:db8::/", "10.0.0.0/8",
                          "fe80::1%eth0/64", "2001:db8:::/64", "[2001:db8::]/64"})
    EXPECT_FALSE(Cidr::parse_v6(bad).has_value()) << bad;
}

TEST(Cidr, ContainsByPrefix) {
  EXPECT_TRUE(v4("0.0.0.0/0").contains(ip("255.255.255.255")));
  EXPECT_TRUE(v4("0.0.0.0/0").contains(ip("0.0.0.0")));
  EXPECT_FALSE(v4("0.0.0.0/0").contains(ip("::1")));
  EXPECT_FALSE(v6("::/0").contains(ip("10.0.0.1")));
  EXPECT_TRUE(v6("::/0").contains(ip("2001:db8::1")));

  EXPECT_TRUE(v4("10.0.0.7/32").contains(ip("10.0.0.7")));
  EXPECT_FALSE(v4("10.0.0.7/32").contains(ip("10.0.0.6")));
  EXPECT_FALSE(v4("10.0.0.7/32").contains(ip("10.0.0.8")));

  Cidr host_bits = v4("10.0.0.1/24");
  EXPECT_TRUE(host_bits.contains(ip("10.0.0.0")));
  EXPECT_TRUE(host_bits.contains(ip("10.0.0.255")));
  EXPECT_FALSE(host_bits.contains(ip("10.0.1.0")));
  EXPECT_FALSE(host_bits.contains(ip("9.255.255.255")));

  EXPECT_TRUE(v4("128.0.0.0/1").contains(ip("255.0.0.1")));
  EXPECT_FALSE(v4("128.0.0.0/1").contains(ip("127.255.255.255")));

  EXPECT_TRUE(v6("2001:db8::1/128").contains(ip("2001:db8::1")));
  EXPECT_FALSE(v6("2001:db8::1/128").contains(ip("2001:db8::2")));
  EXPECT_FALSE(v6("2001:db8::1/128").contains(ip("2001:db8::1:1")));
  EXPECT_TRUE(v6("2001:db8::/64").contains(ip("2001:db8::ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(v6("2001:db8::/64").contains(ip("2001:db8:0:1::")));
  EXPECT_TRUE(v6("2001:db8::/65").contains(ip("2001:db8::7fff:ffff:ffff:ffff")));
  EXPECT_FALSE(v6("2001:db8::/65").contains(ip("2001:db8::8000:0:0:0")));
  EXPECT_TRUE(v6("2001:db8::/63").contains(ip("2001:db8:0:1::5")));
  EXPECT_FALSE(v6("2001:db8::/63").contains(ip("2001:db8:0:2::")));

  // A v4-mapped peer is IPv4: it matches IPv4 blocks only.
  EXPECT_TRUE(v4("10.0.0.0/8").contains(ip("::ffff:10.9.9.9")));
  EXPECT_FALSE(v6("::/0").contains(ip("::ffff:10.9.9.9")));
  EXPECT_FALSE(v6("::ffff:10.0.0.0/104").contains(ip("::ffff:10.9.9.9")));
}

TEST(Cidr, OfClearsHostBits) {
  EXPECT_EQ(Cidr::of(ip("192.168.5.77"), 16).to_string(), "192.168.0.0/16");
  EXPECT_EQ(Cidr::of(ip("2001:db8::ff"), 120).to_string(), "2001:db8::/120");
}

TEST(Cidr, ErrorValuesCarryEc2Text) {
  auto bad = parse_cidr_v4("10.0.0.0/33");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().error_class, ErrorClass::kInvalid);
  EXPECT_EQ(bad.error().code, "InvalidParameterValue");
  EXPECT_EQ(bad.error().message, "CIDR block 10.0.0.0/33 is malformed");
  auto bad6 = parse_cidr_v6("2001:db8::/129");
  ASSERT_FALSE(bad6.ok());
  EXPECT_EQ(bad6.error().message, "CIDR block 2001:db8::/129 is malformed");
  EXPECT_EQ(parse_cidr_v4("10.0.0.1/24")->to_string(), "10.0.0.0/24");
}

// ---------------------------------------------------------------- protocols, ports

TEST(IpProtocol, NamesAndNumbersAreOne) {
  EXPECT_EQ(*parse_ip_protocol("tcp"), IpProtocol::tcp());
  EXPECT_EQ(*parse_ip_protocol("6"), IpProtocol::tcp());
  EXPECT_EQ(*parse_ip_protocol("TCP"), IpProtocol::tcp());
  EXPECT_EQ(*parse_ip_protocol("udp"), IpProtocol::udp());
  EXPECT_EQ(*parse_ip_protocol("17"), IpProtocol::udp());
  EXPECT_EQ(*parse_ip_protocol("icmp"), IpProtocol::icmp());
  EXPECT_EQ(*parse_ip_protocol("1"), IpProtocol::icmp());
  EXPECT_EQ(*parse_ip_protocol("icmpv6"), IpProtocol::icmpv6());
  EXPECT_EQ(*parse_ip_protocol("58"), IpProtocol::icmpv6());
  EXPECT_EQ(*parse_ip_protocol("-1"), IpProtocol::all());
  EXPECT_EQ(parse_ip_protocol("47")->number(), 47);
  EXPECT_EQ(parse_ip_protocol("0")->number(), 0);
  EXPECT_EQ(parse_ip_protocol("255")->number(), 255);

  EXPECT_EQ(parse_ip_protocol("6")->to_string(), "tcp");
  EXPECT_EQ(parse_ip_protocol("58")->to_string(), "icmpv6");
  EXPECT_EQ(parse_ip_protocol("-1")->to_string(), "-1");
  EXPECT_EQ(parse_ip_protocol("47")->to_string(), "47");
}

TEST(IpProtocol, RejectsWhatEc2Rejects) {
  for (const char* bad : {"all", "256", "-2", "1000", "tcp ", "foo", "esp", "6.0", "+6", "0x6"}) {
    auto r = parse_ip_protocol(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "InvalidParameterValue");
    EXPECT_EQ(r.error().message, "Invalid value '" + std::string(bad) + "' for IP protocol. Unknown protocol.");
  }
  auto missing = parse_ip_protocol("");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "Invalid value 'null' for protocol. VPC security group rules must specify protocols explicitly.");
}

TEST(PortRange, TcpUdpRules) {
  EXPECT_EQ(*validate_port_range(IpProtocol::tcp(), 0, 65535), (PortRange{0, 65535}));
  EXPECT_EQ(*validate_port_range(IpProtocol::udp(), 53, 53), (PortRange{53, 53}));
  auto message = [](std::optional<int64_t> from, std::optional<int64_t> to) {
    auto r = validate_port_range(IpProtocol::tcp(), from, to);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.ok() ? "" : r.error().code, "InvalidParameterValue");
    return r.ok() ? std::string() : r.error().message;
  };
  EXPECT_EQ(message(std::nullopt, 80),
            "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.");
  EXPECT_EQ(message(80, std::nullopt),
            "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.");
  EXPECT_EQ(message(-1, -1), "TCP/UDP (from) port (-1) out of range");
  EXPECT_EQ(message(80, 70000), "TCP/UDP (to) port (70000) out of range");
  EXPECT_EQ(message(65536, 65536), "TCP/UDP (from) port (65536) out of range");
  EXPECT_EQ(message(80, 70), "Invalid TCP/UDP port range (80-70)");
}

TEST(PortRange, IcmpTypeAndCode) {
  EXPECT_EQ(*validate_port_range(IpProtocol::icmp(), -1, -1), (PortRange{-1, -1}));
  EXPECT_EQ(*validate_port_range(IpProtocol::icmp(), 8, -1), (PortRange{8, -1}));
  EXPECT_EQ(*validate_port_range(IpProtocol::icmp(), 3, 4), (PortRange{3, 4}));
  EXPECT_EQ(*validate_port_range(IpProtocol::icmpv6(), std::nullopt, std::nullopt), (PortRange{-1, -1}));
  EXPECT_EQ(*validate_port_range(IpProtocol::icmpv6(), 128, 0), (PortRange{128, 0}));
  auto message = [](IpProtocol p, std::optional<int64_t> from, std::optional<int64_t> to) {
    auto r = validate_port_range(p, from, to);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.error().message;
  };
  EXPECT_EQ(message(IpProtocol::icmp(), std::nullopt, std::nullopt),
            "Invalid value 'Must specify both from and to ports with ICMP.' for portRange.");
  EXPECT_EQ(message(IpProtocol::icmp(), 0, 65535), "ICMP code (65535) out of range");
  EXPECT_EQ(message(IpProtocol::icmp(), 256, 0), "ICMP type (256) out of range");
  EXPECT_EQ(message(IpProtocol::icmp(), -2, -1), "ICMP type (-2) out of range");
  EXPECT_EQ(message(IpProtocol::icmp(), -1, 0), "ICMP code (0) must be -1 when ICMP type is -1");
  EXPECT_EQ(message(IpProtocol::icmpv6(), 128, 300), "ICMP code (300) out of range");
}

TEST(PortRange, OtherProtocolsMeanAllPorts) {
  EXPECT_EQ(*validate_port_range(IpProtocol::all(), std::nullopt, std::nullopt), (PortRange{-1, -1}));
  EXPECT_EQ(*validate_port_range(IpProtocol::all(), 22, 22), (PortRange{-1, -1}));
  EXPECT_EQ(*validate_port_range(IpProtocol(47), 0, 99999), (PortRange{-1, -1}));
}

// ---------------------------------------------------------------- group ids, rules

TEST(GroupId, ShapesAsAws) {
  EXPECT_EQ(gid("sg-0123456789abcdef0").view(), "sg-0123456789abcdef0");
  EXPECT_EQ(gid("sg-12345678").view(), "sg-12345678");
  for (const char* bad : {"", "sg-", "sg-123", "sg-0123456789ABCDEF0", "sg-0123456789abcdef01",
                          "sg_0123456789abcdef0", "vpc-12345678", "sg-1234567g", "default"})
    EXPECT_FALSE(GroupId::parse(bad).has_value()) << bad;
  auto bad = parse_group_id("sg-123");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "InvalidGroupId.Malformed");
  EXPECT_EQ(bad.error().message, "Invalid id: \"sg-123\" (expecting \"sg-...\")");
  EXPECT_LT(gid("sg-12345678"), gid("sg-22345678"));
  EXPECT_TRUE(GroupId{}.empty());
}

TEST(Rule, MakeRuleValidatesAndCanonicalises) {
  auto r = make_rule(RuleDirection::kIngress, "6", 22, 22, v4("10.0.0.9/8"), "ssh");
  ASSERT_OK(r);
  EXPECT_EQ(r->protocol, IpProtocol::tcp());
  EXPECT_EQ(r->ports, (PortRange{22, 22}));
  EXPECT_EQ(std::get<Cidr>(r->peer).to_string(), "10.0.0.0/8");
  EXPECT_EQ(r->description, "ssh");

  auto all = make_rule(RuleDirection::kIngress, "-1", 80, 80, v4("0.0.0.0/0"));
  ASSERT_OK(all);
  EXPECT_EQ(all->ports, (PortRange{-1, -1}));

  auto bad_protocol = make_rule(RuleDirection::kIngress, "all", {}, {}, v4("0.0.0.0/0"));
  ASSERT_FALSE(bad_protocol.ok());
  EXPECT_EQ(bad_protocol.error().message, "Invalid value 'all' for IP protocol. Unknown protocol.");
  auto bad_ports = make_rule(RuleDirection::kIngress, "tcp", 443, 80, v4("0.0.0.0/0"));
  ASSERT_FALSE(bad_ports.ok());
  EXPECT_EQ(bad_ports.error().code, "InvalidParameterValue");

  // A default-constructed rule opens nothing.
  EXPECT_TRUE(std::holds_alternative<GroupPeer>(SecurityGroupRule{}.peer));
}

TEST(Rule, CanonicalIdentity) {
  auto a = in("tcp", 22, 22, v4("10.0.0.0/24"));
  EXPECT_TRUE(same_permission(a, in("6", 22, 22, v4("10.0.0.1/24"))));
  auto described = a;
  described.description = "other text";
  described.rule_id = "sgr-0123456789abcdef0";
  EXPECT_TRUE(same_permission(a, described));
  EXPECT_FALSE(same_permission(a, in("tcp", 22, 23, v4("10.0.0.0/24"))));
  EXPECT_FALSE(same_permission(a, in("udp", 22, 22, v4("10.0.0.0/24"))));
  EXPECT_FALSE(same_permission(a, in("tcp", 22, 22, v4("10.0.0.0/25"))));
  EXPECT_FALSE(same_permission(a, out("tcp", 22, 22, v4("10.0.0.0/24"))));
  EXPECT_FALSE(same_permission(a, in("tcp", 22, 22, group_peer("sg-0123456789abcdef0"))));
  // -1 ignores ports, so the ports given do not make a different rule.
  EXPECT_TRUE(same_permission(in("-1", 1, 2, v4("0.0.0.0/0")), in("-1", {}, {}, v4("0.0.0.0/0"))));
  EXPECT_TRUE(same_permission(in("icmpv6", {}, {}, v6("::/0")), in("58", -1, -1, v6("::/0"))));
  // The owner account of a referenced group is not part of the identity.
  EXPECT_TRUE(same_permission(in("-1", {}, {}, GroupPeer{kWeb, "123456789012"}),
                              in("-1", {}, {}, GroupPeer{kWeb, ""})));
  EXPECT_FALSE(same_permission(in("-1", {}, {}, PrefixListPeer{"pl-1"}),
                               in("-1", {}, {}, PrefixListPeer{"pl-2"})));
  EXPECT_TRUE(same_permission(in("-1", {}, {}, PrefixListPeer{"pl-1"}),
                              in("-1", {}, {}, PrefixListPeer{"pl-1"})));
  EXPECT_FALSE(same_permission(in("-1", {}, {}, v4("0.0.0.0/0")), in("-1", {}, {}, v6("::/0"))));
}

TEST(Rule, PermissionTextAndErrors) {
  EXPECT_EQ(permission_text(in("tcp", 22, 22, v4("0.0.0.0/0"))),
            "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW");
  EXPECT_EQ(permission_text(in("-1", {}, {}, GroupPeer{kWeb, {}})),
            "peer: sg-0123456789abcdef0, ALL, ALLOW");
  EXPECT_EQ(permission_text(in("icmp", 8, -1, v4("10.0.0.0/8"))),
            "peer: 10.0.0.0/8, ICMP, type: 8, code: -1, ALLOW");
  EXPECT_EQ(permission_text(in("47", {}, {}, v6("2001:db8::/32"))), "peer: 2001:db8::/32, 47, ALLOW");
  Error dup = duplicate_permission_error(in("tcp", 22, 22, v4("0.0.0.0/0")));
  EXPECT_EQ(dup.error_class, ErrorClass::kAlreadyExists);
  EXPECT_EQ(dup.code, "InvalidPermission.Duplicate");
  EXPECT_EQ(dup.message,
            "the specified rule \"peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW\" already exists");
  Error missing = permission_not_found_error();
  EXPECT_EQ(missing.code, "InvalidPermission.NotFound");
  EXPECT_EQ(missing.message, "The specified rule does not exist in this security group.");
}

TEST(Rule, DefaultEgress) {
  SecurityGroupRule r = default_egress_rule();
  EXPECT_EQ(r.direction, RuleDirection::kEgress);
  EXPECT_TRUE(r.protocol.is_all());
  EXPECT_EQ(std::get<Cidr>(r.peer).to_string(), "0.0.0.0/0");
  EXPECT_EQ(std::get<Cidr>(default_egress_rule_v6().peer).to_string(), "::/0");
}

// ---------------------------------------------------------------- decisions

SecurityGroup group(GroupId id, std::vector<SecurityGroupRule> ingress,
                    std::vector<SecurityGroupRule> egress = {default_egress_rule()}) {
  return SecurityGroup{id, "vpc-0123456789abcdef0", std::move(ingress), std::move(egress)};
}

std::shared_ptr<const SecurityGroupTable> table_of(std::vector<SecurityGroup> groups) {
  return SecurityGroupTable::build(groups);
}

TEST(Decision, CidrAndPortEdges) {
  auto t = table_of({group(kWeb, {in("tcp", 8000, 8080, v4("203.0.113.0/24"))})});
  const GroupId dst[] = {kWeb};
  EXPECT_FALSE(connection_allowed(tcp_to(dst, "203.0.113.5", 7999), *t));
  EXPECT_TRUE(connection_allowed(tcp_to(dst, "203.0.113.5", 8000), *t));
  EXPECT_TRUE(connection_allowed(tcp_to(dst, "203.0.113.5", 8042), *t));
  EXPECT_TRUE(connection_allowed(tcp_to(dst, "203.0.113.5", 8080), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(dst, "203.0.113.5", 8081), *t));
  EXPECT_TRUE(connection_allowed(tcp_to(dst, "203.0.113.0", 8080), *t));
  EXPECT_TRUE(connection_allowed(tcp_to(dst, "203.0.113.255", 8080), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(dst, "203.0.114.0", 8080), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(dst, "203.0.112.255", 8080), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(dst, "2001:db8::1", 8080), *t));
  Connection udp = tcp_to(dst, "203.0.113.5", 8000);
  udp.protocol = IpProtocol::udp();
  EXPECT_FALSE(connection_allowed(udp, *t));
}

TEST(Decision, FullPortRangeAndSingleAddresses) {
  auto t = table_of({group(kWeb, {in("tcp", 0, 65535, v4("198.51.100.7/32")),
                                  in("udp", 53, 53, v6("2001:db8::53/128"))})});
  const GroupId dst[] = {kWeb};
  EXPECT_TRUE(connection_allowed(tcp_to(dst, "198.51.100.7", 0), *t));
  EXPECT_TRUE(connection_allowed(tcp_to(dst, "198.51.100.7", 65535), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(dst, "198.51.100.8", 1), *t));
  Connection dns = tcp_to(dst, "2001:db8::53", 53);
  dns.protocol = IpProtocol::udp();
  EXPECT_TRUE(connection_allowed(dns, *t));
  dns.source = ip("2001:db8::54");
  EXPECT_FALSE(connection_allowed(dns, *t));
  dns.source = ip("2001:db8::53");
  dns.port = 54;
  EXPECT_FALSE(connection_allowed(dns, *t));
}

TEST(Decision, WholeInternetV4AndV6) {
  auto t = table_of({group(kWeb, {in("tcp", 80, 80, v4("0.0.0.0/0")), in("tcp", 443, 443, v6("::/0"))})});
  const GroupId dst[] = {kWeb};
  EXPECT_TRUE(connection_allowed(tcp_to(dst, "1.2.3.4", 80), *t));
  EXPECT_TRUE(connection_allowed(tcp_to(dst, "255.255.255.255", 80), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(dst, "2001:db8::1", 80), *t));
  EXPECT_TRUE(connection_allowed(tcp_to(dst, "2001:db8::1", 443), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(dst, "1.2.3.4", 443), *t));
}

TEST(Decision, V4MappedSourceMatchesV4RulesOnly) {
  auto t = table_of({group(kWeb, {in("tcp", 80, 80, v4("127.0.0.0/8"))}),
                     group(kSsh, {in("tcp", 22, 22, v6("::/0"))})});
  const GroupId web[] = {kWeb};
  const GroupId ssh[] = {kSsh};
  EXPECT_TRUE(connection_allowed(tcp_to(web, "::ffff:127.0.0.1", 80), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(ssh, "::ffff:127.0.0.1", 22), *t));
  EXPECT_TRUE(connection_allowed(tcp_to(ssh, "::1", 22), *t));
}

TEST(Decision, AllProtocolsMatchEverything) {
  auto t = table_of({group(kWeb, {in("-1", {}, {}, v4("10.0.0.0/8"))})});
  const GroupId dst[] = {kWeb};
  Connection c = tcp_to(dst, "10.1.1.1", 0);
  for (IpProtocol p : {IpProtocol::tcp(), IpProtocol::udp(), IpProtocol::icmp(), IpProtocol(47)}) {
    c.protocol = p;
    for (uint16_t port : {0, 1, 22, 65535}) {
      c.port = port;
      EXPECT_TRUE(connection_allowed(c, *t)) << p.to_string() << " " << port;
    }
  }
  c.source = ip("11.0.0.1");
  EXPECT_FALSE(connection_allowed(c, *t));
}

TEST(Decision, NumericProtocolsAreTheNamedOnes) {
  auto t = table_of({group(kWeb, {in("6", 22, 22, v4("0.0.0.0/0")), in("17", 53, 53, v4("0.0.0.0/0")),
                                  in("47", {}, {}, v4("0.0.0.0/0"))})});
  const GroupId dst[] = {kWeb};
  Connection c = tcp_to(dst, "1.1.1.1", 22);
  EXPECT_TRUE(connection_allowed(c, *t));
  c.protocol = IpProtocol(6);
  EXPECT_TRUE(connection_allowed(c, *t));
  c.protocol = IpProtocol::udp();
  c.port = 53;
  EXPECT_TRUE(connection_allowed(c, *t));
  c.port = 22;
  EXPECT_FALSE(connection_allowed(c, *t));
  c.protocol = IpProtocol(47);  // GRE: no ports, any value passes
  c.port = 12345;
  EXPECT_TRUE(connection_allowed(c, *t));
  c.protocol = IpProtocol(50);
  EXPECT_FALSE(connection_allowed(c, *t));
}

TEST(Decision, IcmpTypeAndCode) {
  auto t = table_of({group(kWeb, {in("icmp", 8, -1, v4("0.0.0.0/0")), in("icmp", 3, 4, v4("0.0.0.0/0")),
                                  in("icmpv6", {}, {}, v6("::/0"))})});
  const GroupId dst[] = {kWeb};
  Connection c = tcp_to(dst, "1.1.1.1", 0);
  c.protocol = IpProtocol::icmp();
  c.icmp_type = 8;
  c.icmp_code = 0;
  EXPECT_TRUE(connection_allowed(c, *t));
  c.icmp_code = 7;
  EXPECT_TRUE(connection_allowed(c, *t));
  c.icmp_type = 3;
  c.icmp_code = 4;
  EXPECT_TRUE(connection_allowed(c, *t));
  c.icmp_code = 3;
  EXPECT_FALSE(connection_allowed(c, *t));
  c.icmp_type = 0;
  c.icmp_code = 0;
  EXPECT_FALSE(connection_allowed(c, *t));
  c.protocol = IpProtocol::icmpv6();
  c.source = ip("2001:db8::1");
  c.icmp_type = 128;
  EXPECT_TRUE(connection_allowed(c, *t));
}

TEST(Decision, SourceGroupReferences) {
  // The target admits the ALB's group on 8080, and only that.
  auto t = table_of({group(kWeb, {in("tcp", 8080, 8080, group_peer("sg-0aaaaaaaaaaaaaaaa"))}),
                     group(kAlb, {in("tcp", 80, 80, v4("0.0.0.0/0"))})});
  const GroupId dst[] = {kWeb};
  const GroupId alb[] = {kAlb};
  const GroupId alb_and_more[] = {kOther, kSsh, kAlb};
  const GroupId others[] = {kOther, kSsh};
  EXPECT_TRUE(connection_allowed(tcp_to(dst, "172.31.5.5", 8080, alb), *t));
  EXPECT_TRUE(connection_allowed(tcp_to(dst, "172.31.5.5", 8080, alb_and_more), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(dst, "172.31.5.5", 8081, alb), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(dst, "172.31.5.5", 8080, others), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(dst, "172.31.5.5", 8080), *t));  // the host carries none
  EXPECT_FALSE(connection_allowed(tcp_to(dst, "127.0.0.1", 8080), *t));
}

TEST(Decision, DefaultGroupAdmitsItsOwnMembers) {
  auto t = table_of({group(kWeb, {in("-1", {}, {}, group_peer("sg-0123456789abcdef0"))})});
  const GroupId dst[] = {kWeb};
  EXPECT_TRUE(connection_allowed(tcp_to(dst, "172.31.0.9", 5432, dst), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(dst, "172.31.0.9", 5432), *t));
}

TEST(Decision, SeveralDestinationGroupsAreAUnion) {
  auto t = table_of({group(kWeb, {in("tcp", 80, 80, v4("0.0.0.0/0"))}),
                     group(kSsh, {in("tcp", 22, 22, v4("192.0.2.0/24"))}), group(kOther, {})});
  const GroupId both[] = {kOther, kWeb, kSsh};
  const GroupId web[] = {kWeb};
  EXPECT_TRUE(connection_allowed(tcp_to(both, "8.8.8.8", 80), *t));
  EXPECT_TRUE(connection_allowed(tcp_to(both, "192.0.2.1", 22), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(both, "8.8.8.8", 22), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(web, "192.0.2.1", 22), *t));
}

TEST(Decision, NoRulesNoGroupsUnknownGroupsDrop) {
  auto t = table_of({group(kWeb, {})});
  const GroupId web[] = {kWeb};
  const GroupId unknown[] = {kUnknown};
  EXPECT_FALSE(connection_allowed(tcp_to(web, "10.0.0.1", 80), *t));
  EXPECT_FALSE(connection_allowed(tcp_to({}, "10.0.0.1", 80), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(unknown, "10.0.0.1", 80), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(web, "10.0.0.1", 80), *SecurityGroupTable::empty()));
  EXPECT_EQ(SecurityGroupTable::empty()->group_count(), 0u);
}

TEST(Decision, PrefixListsNeverMatch) {
  auto t = table_of({group(kWeb, {in("-1", {}, {}, PrefixListPeer{"pl-63a5400a"})},
                           {out("-1", {}, {}, PrefixListPeer{"pl-63a5400a"})})});
  const GroupId web[] = {kWeb};
  EXPECT_EQ(t->rule_count(), 0u);
  for (const char* source : {"0.0.0.0", "10.0.0.1", "52.216.0.1", "::1"})
    EXPECT_FALSE(connection_allowed(tcp_to(web, source, 443), *t)) << source;
  Connection egress = tcp_to({}, "172.31.0.10", 443, web);
  egress.destination = ip("52.216.0.1");
  EXPECT_FALSE(egress_allowed(egress, *t));
}

TEST(Decision, EgressDefaultAndRestricted) {
  auto t = table_of({group(kWeb, {}),  // default egress: all to 0.0.0.0/0
                     group(kSsh, {}, {}),  // egress revoked
                     group(kAlb, {}, {out("tcp", 8080, 8080, group_peer("sg-0123456789abcdef0"))}),
                     group(kOther, {}, {default_egress_rule(), default_egress_rule_v6()})});
  const GroupId web[] = {kWeb};
  const GroupId ssh[] = {kSsh};
  const GroupId alb[] = {kAlb};
  const GroupId other[] = {kOther};
  const GroupId unknown[] = {kUnknown};

  Connection c;
  c.source = ip("172.31.0.5");
  c.destination = ip("93.184.216.34");
  c.protocol = IpProtocol::tcp();
  c.port = 443;

  c.source_groups = web;
  EXPECT_TRUE(egress_allowed(c, *t));
  c.protocol = IpProtocol::udp();
  c.port = 53;
  EXPECT_TRUE(egress_allowed(c, *t));
  c.destination = ip("2001:db8::1");
  EXPECT_FALSE(egress_allowed(c, *t));  // no ::/0 egress rule
  c.source_groups = other;
  EXPECT_TRUE(egress_allowed(c, *t));

  c.destination = ip("93.184.216.34");
  c.source_groups = ssh;
  EXPECT_FALSE(egress_allowed(c, *t));
  c.source_groups = unknown;
  EXPECT_FALSE(egress_allowed(c, *t));
  c.source_groups = {};
  EXPECT_TRUE(egress_allowed(c, *t));  // the host: no ENI, no egress filter

  // Egress by destination group: the ALB may reach members of kWeb on 8080.
  c.source_groups = alb;
  c.protocol = IpProtocol::tcp();
  c.port = 8080;
  c.destination = ip("172.31.0.10");
  c.destination_groups = web;
  EXPECT_TRUE(egress_allowed(c, *t));
  c.port = 8081;
  EXPECT_FALSE(egress_allowed(c, *t));
  c.port = 8080;
  c.destination_groups = ssh;
  EXPECT_FALSE(egress_allowed(c, *t));
}

TEST(Decision, FlowNeedsBothEnds) {
  auto t = table_of({group(kWeb, {in("tcp", 8080, 8080, group_peer("sg-0aaaaaaaaaaaaaaaa"))}),
                     group(kAlb, {}, {out("tcp", 8080, 8080, group_peer("sg-0123456789abcdef0"))}),
                     group(kSsh, {}, {})});
  const GroupId web[] = {kWeb};
  const GroupId alb[] = {kAlb};
  const GroupId alb_no_egress[] = {kSsh};
  Connection c = tcp_to(web, "172.31.1.1", 8080, alb);
  EXPECT_TRUE(flow_allowed(c, *t));
  c.port = 9090;
  EXPECT_FALSE(flow_allowed(c, *t));
  c = tcp_to(web, "172.31.1.1", 8080, alb_no_egress);
  EXPECT_FALSE(flow_allowed(c, *t));
}

TEST(Table, DuplicateIdsKeepTheFirstAndTheInputsMayGo) {
  std::shared_ptr<const SecurityGroupTable> t;
  {
    std::vector<SecurityGroup> groups = {group(kWeb, {in("tcp", 80, 80, v4("0.0.0.0/0"))}),
                                         group(kWeb, {in("tcp", 22, 22, v4("0.0.0.0/0"))})};
    t = SecurityGroupTable::build(groups);
  }
  const GroupId web[] = {kWeb};
  EXPECT_EQ(t->group_count(), 1u);
  EXPECT_TRUE(t->contains(kWeb));
  EXPECT_FALSE(t->contains(kSsh));
  EXPECT_TRUE(connection_allowed(tcp_to(web, "1.1.1.1", 80), *t));
  EXPECT_FALSE(connection_allowed(tcp_to(web, "1.1.1.1", 22), *t));
}

TEST(Table, MillionDecisionsAllocateNothing) {
  // 64 groups of 12 rules each, the kinds the reference flow creates.
  std::vector<SecurityGroup> groups;
  std::vector<GroupId> ids;
  for (int g = 0; g < 64; ++g) {
    char text[32];
    std::snprintf(text, sizeof text, "sg-%017x", 0x1000 + g);
    ids.push_back(gid(text));
  }
  for (int g = 0; g < 64; ++g) {
    std::vector<SecurityGroupRule> ingress;
    for (int r = 0; r < 10; ++r) {
      char cidr[32];
      std::snprintf(cidr, sizeof cidr, "10.%d.%d.0/24", g, r);
      ingress.push_back(in("tcp", 1000 + r, 1000 + r, v4(cidr)));
    }
    ingress.push_back(in("tcp", 8080, 8080, GroupPeer{ids[(g + 1) % 64], {}}));
    ingress.push_back(in("tcp", 443, 443, v6("2001:db8::/32")));
    groups.push_back(group(ids[g], std::move(ingress)));
  }
  auto table = SecurityGroupTable::build(groups);
  ASSERT_EQ(table->rule_count(), 64u * 13u);

  const GroupId dst[] = {ids[5], ids[40]};
  const GroupId src[] = {ids[41]};
  Connection allowed_by_group = tcp_to(dst, "172.31.9.9", 8080, src);
  Connection allowed_by_cidr = tcp_to(dst, "10.40.9.77", 1009);
  Connection dropped = tcp_to(dst, "10.40.9.77", 1008);  // full scan, no match
  Connection v6 = tcp_to(dst, "2001:db8::9", 443);

  const long before = g_allocations.load();
  long allowed = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1'000'000; ++i) {
    const Connection* c = nullptr;
    switch (i & 3) {
      case 0: c = &allowed_by_group; break;
      case 1: c = &allowed_by_cidr; break;
      case 2: c = &dropped; break;
      default: c = &v6; break;
    }
    allowed += flow_allowed(*c, *table);
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  const long after = g_allocations.load();
  EXPECT_EQ(after - before, 0);
  EXPECT_EQ(allowed, 750'000);
  std::printf("[          ] 1e6 flow decisions (64 groups, up to 24 rules scanned): %.1f ns each\n",
              std::chrono::duration<double, std::nano>(elapsed).count() / 1e6);
}

TEST(Table, CountingAllocatorSeesAllocations) {
  // Guards the test above against a counter that never counts.
  const long before = g_allocations.load();
  auto t = table_of({group(kWeb, {in("tcp", 80, 80, v4("0.0.0.0/0"))})});
  EXPECT_GT(g_allocations.load(), before);
}

}  // namespace
}  // namespace berth::ec2
