#include "api/query_codec.h"
#include "core/testing/expect_ok.h"

#include <gtest/gtest.h>

namespace berth::api {
namespace {

QueryParams parse_ok(std::string_view text) {
  Result<QueryParams> r = QueryParams::parse(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : QueryParams{};
}

TEST(QueryCodec, ParsesFormEncodingInOrder) {
  QueryParams q = parse_ok("Action=DescribeTargetGroups&Version=2015-12-01&Names.member.1=tg%20a&Names.member.2=b+c&&empty&k=%E2%82%AC");
  ASSERT_EQ(q.size(), 6u);
  EXPECT_EQ(q.all()[0].key, "Action");
  EXPECT_EQ(*q.get("Names.member.1"), "tg a");
  EXPECT_EQ(*q.get("Names.member.2"), "b c");
  EXPECT_EQ(*q.get("empty"), "");
  EXPECT_EQ(*q.get("k"), "\xE2\x82\xAC");
  EXPECT_FALSE(q.get("missing"));
}

TEST(QueryCodec, RejectsBadPercentEncoding) {
  for (std::string_view bad : {"a=%", "a=%4", "a=%G1", "a%2=1", "a=%%"}) {
    Result<QueryParams> r = QueryParams::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, kMalformedQueryString);
    EXPECT_EQ(r.error().error_class, ErrorClass::kInvalid);
  }
}

TEST(QueryCodec, RejectsInvalidUtf8) {
  for (std::string_view bad : {"a=%FF", "a=%C3", "a=%C0%AF", "a=%ED%A0%80", "%80=x", "a=%F4%90%80%80"}) {
    Result<QueryParams> r = QueryParams::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, kMalformedQueryString);
  }
  EXPECT_OK(QueryParams::parse("a=%F0%9F%98%80"));
}

TEST(QueryCodec, QueryProtocolMembers) {
  QueryParams q = parse_ok(
      "Action=CreateLoadBalancer&Names.member.2=second&Names.member.1=first"
      "&Tags.member.1.Key=env&Tags.member.1.Value=prod&Tags.member.2.Key=team"
      "&DefaultActions.member.1.Type=forward&DefaultActions.member.1.TargetGroupArn=arn:tg"
      "&Matcher.HttpCode=200&Attributes.entry.1.key=a&Attributes.entry.1.value=b");
  QueryView root = q.root();
  auto names = root.member_values("Names");
  ASSERT_OK(names);
  ASSERT_EQ(names->size(), 2u);
  EXPECT_EQ((*names)[0], "first");
  EXPECT_EQ((*names)[1], "second");

  auto tags = root.members("Tags");
  ASSERT_OK(tags);
  ASSERT_EQ(tags->size(), 2u);
  EXPECT_EQ(*(*tags)[0].get("Key"), "env");
  EXPECT_EQ(*(*tags)[0].get("Value"), "prod");
  EXPECT_EQ(*(*tags)[1].get("Key"), "team");
  EXPECT_FALSE((*tags)[1].get("Value"));

  auto actions = root.members("DefaultActions");
  ASSERT_OK(actions);
  ASSERT_EQ(actions->size(), 1u);
  EXPECT_EQ(*(*actions)[0].get("TargetGroupArn"), "arn:tg");

  EXPECT_EQ(*root.sub("Matcher").get("HttpCode"), "200");
  EXPECT_TRUE(root.has_any("Matcher"));
  EXPECT_FALSE(root.has_any("Match"));
  auto attrs = root.entries("Attributes");
  ASSERT_OK(attrs);
  ASSERT_EQ(attrs->size(), 1u);
  EXPECT_EQ((*attrs)[0].first, "a");
  EXPECT_EQ((*attrs)[0].second, "b");

  auto none = root.member_values("Absent");
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

TEST(QueryCodec, Ec2NestedShapes) {
  QueryParams q = parse_ok(
      "Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupId=sg-1"
      "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=80&IpPermissions.1.ToPort=80"
      "&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0&IpPermissions.1.IpRanges.2.CidrIp=10.0.0.0%2F8"
      "&IpPermissions.2.IpProtocol=-1&IpPermissions.2.Groups.1.GroupId=sg-2"
      "&IpPermissions.10.IpProtocol=udp"
      "&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1&Filter.1.Value.2=vpc-2&Filter.2.Name=group-name&Filter.2.Value.1=web"
      "&GroupIds.2=sg-b&GroupIds.1=sg-a");
  QueryView root = q.root();
  auto perms = root.items("IpPermissions");
  ASSERT_OK(perms);
  ASSERT_EQ(perms->size(), 3u);  // 1, 2, 10 in numeric order
  EXPECT_EQ(*(*perms)[0].get("IpProtocol"), "tcp");
  EXPECT_EQ(*(*perms)[1].get("IpProtocol"), "-1");
  EXPECT_EQ(*(*perms)[2].get("IpProtocol"), "udp");
  auto ranges = (*perms)[0].items("IpRanges");
  ASSERT_OK(ranges);
  ASSERT_EQ(ranges->size(), 2u);
  EXPECT_EQ(*(*ranges)[0].get("CidrIp"), "0.0.0.0/0");
  EXPECT_EQ(*(*ranges)[1].get("CidrIp"), "10.0.0.0/8");
  auto groups = (*perms)[1].items("Groups");
  ASSERT_OK(groups);
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ(*(*groups)[0].get("GroupId"), "sg-2");
  EXPECT_EQ((*groups)[0].prefix(), "IpPermissions.2.Groups.1.");

  auto filters = root.items("Filter");
  ASSERT_OK(filters);
  ASSERT_EQ(filters->size(), 2u);
  EXPECT_EQ(*(*filters)[0].get("Name"), "vpc-id");
  auto values = (*filters)[0].values("Value");
  ASSERT_OK(values);
  ASSERT_EQ(values->size(), 2u);
  EXPECT_EQ((*values)[1], "vpc-2");

  auto ids = root.values("GroupIds");
  ASSERT_OK(ids);
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_EQ((*ids)[0], "sg-a");
  EXPECT_EQ(*root.get("GroupId"), "sg-1");
  // GroupId.N is a different key from GroupId: no scalar list there.
  auto gid = root.values("GroupId");
  ASSERT_OK(gid);
  EXPECT_TRUE(gid->empty());
}

TEST(QueryCodec, IndicesMustBePositiveIntegers) {
  for (std::string_view bad : {"GroupId.0=x", "GroupId.01=x", "GroupId.x=y", "GroupId.-1=y", "GroupId.=y",
                               "GroupId.1234567890=y", "Filter.0.Name=a"}) {
    QueryParams q = parse_ok(bad);
    std::string key(bad.substr(0, bad.find('.')));
    auto v = q.root().values(key);
    auto i = q.root().items(key);
    EXPECT_FALSE(v.ok()) << bad;
    EXPECT_FALSE(i.ok()) << bad;
    if (!v.ok()) {
      EXPECT_EQ(v.error().code, kMalformedQueryString);
    }
  }
  QueryParams dup = parse_ok("GroupId.1=a&GroupId.1=b");
  EXPECT_FALSE(dup.root().values("GroupId").ok());
  QueryParams member0 = parse_ok("Names.member.0=a");
  EXPECT_FALSE(member0.root().member_values("Names").ok());
}

TEST(QueryCodec, UriEncodeAndDecode) {
  EXPECT_EQ(uri_encode("a b/c~d-e_f.g+h%", false), "a%20b%2Fc~d-e_f.g%2Bh%25");
  EXPECT_EQ(uri_encode("a b/c", true), "a%20b/c");
  EXPECT_EQ(uri_encode("\xE2\x82\xAC", false), "%E2%82%AC");
  EXPECT_EQ(*percent_decode("a+b%2b", true), "a b+");
  EXPECT_EQ(*percent_decode("a+b", false), "a+b");
  EXPECT_FALSE(percent_decode("%2", false));
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_FALSE(is_valid_utf8("\xC3\x28"));
}

}  // namespace
}  // namespace berth::api
