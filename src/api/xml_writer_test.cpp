#include "api/xml_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "api/envelope.h"
#include "core/time_format.h"

namespace berth::api {
namespace {

std::string escaped(std::string_view s) {
  std::string out;
  append_xml_escaped(s, out);
  return out;
}

TEST(XmlWriter, EscapesMarkupAndControls) {
  EXPECT_EQ(escaped("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
  EXPECT_EQ(escaped("tab\tnl\ncr\r"), "tab\tnl\ncr&#13;");
  EXPECT_EQ(escaped(std::string_view("nul\0bel\x07", 8)), "nul\xEF\xBF\xBD" "bel\xEF\xBF\xBD");
  EXPECT_EQ(escaped("euro \xE2\x82\xAC ok"), "euro \xE2\x82\xAC ok");
  EXPECT_EQ(escaped("bad \xFF\xC3 end"), "bad \xEF\xBF\xBD\xEF\xBF\xBD end");
  EXPECT_EQ(escaped("\xEF\xBF\xBF"), "\xEF\xBF\xBD");  // U+FFFF is not an XML char
  EXPECT_EQ(escaped("\x7F"), "\x7F");
}

TEST(XmlWriter, TypedLeaves) {
  std::string out;
  XmlWriter w(out);
  WallTime t = *parse_amz_date("20240309T123456Z") + std::chrono::milliseconds(7);
  w.open("r")
      .leaf("s", "<x>")
      .leaf_bool("t", true)
      .leaf_bool("f", false)
      .leaf_int("i", -42)
      .leaf_int("big", 9007199254740993LL)
      .leaf_time("ts", t)
      .empty("e")
      .close("r");
  EXPECT_EQ(out,
            "<r><s>&lt;x&gt;</s><t>true</t><f>false</f><i>-42</i><big>9007199254740993</big>"
            "<ts>2024-03-09T12:34:56.007Z</ts><e/></r>");
  EXPECT_EQ(w.depth(), 0);
}

std::string query_success() {
  std::string out;
  XmlWriter w(out);
  begin_query_response(w, "DescribeTargetGroups", kElbv2Xmlns);
  w.open("TargetGroups").open("member").leaf("TargetGroupName", "web&api").leaf_int("Port", 80);
  w.close("member").close("TargetGroups");
  end_query_response(w, "DescribeTargetGroups", "11111111-2222-3333-4444-555555555555");
  return out;
}

std::string ec2_success() {
  std::string out;
  XmlWriter w(out);
  begin_ec2_response(w, "DeleteSecurityGroup", "req-1");
  w.leaf_bool("return", true);
  end_ec2_response(w, "DeleteSecurityGroup");
  return out;
}

TEST(Envelope, QuerySuccess) {
  EXPECT_EQ(query_success(),
            "<DescribeTargetGroupsResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">"
            "<DescribeTargetGroupsResult><TargetGroups><member><TargetGroupName>web&amp;api</TargetGroupName>"
            "<Port>80</Port></member></TargetGroups></DescribeTargetGroupsResult>"
            "<ResponseMetadata><RequestId>11111111-2222-3333-4444-555555555555</RequestId></ResponseMetadata>"
            "</DescribeTargetGroupsResponse>");
}

TEST(Envelope, QueryError) {
  std::string out;
  write_query_error(out, kElbv2Xmlns, {400, "TargetGroupNotFound", "One or more target groups not found"}, "rid");
  EXPECT_EQ(out,
            "<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\"><Error>"
            "<Type>Sender</Type><Code>TargetGroupNotFound</Code><Message>One or more target groups not found</Message>"
            "</Error><RequestId>rid</RequestId></ErrorResponse>");
  out.clear();
  write_query_error(out, kStsXmlns, {500, "InternalFailure", "x"}, "rid");
  EXPECT_NE(out.find("<Type>Receiver</Type>"), std::string::npos);
}

TEST(Envelope, Ec2SuccessAndError) {
  EXPECT_EQ(ec2_success(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DeleteSecurityGroupResponse "
            "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>req-1</requestId><return>true</return>"
            "</DeleteSecurityGroupResponse>");
  std::string out;
  write_ec2_error(out, "InvalidGroup.NotFound", "The security group 'sg-1' does not exist", "rid");
  EXPECT_EQ(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>InvalidGroup.NotFound</Code>"
            "<Message>The security group &apos;sg-1&apos; does not exist</Message></Error></Errors>"
            "<RequestID>rid</RequestID></Response>");
}

TEST(Envelope, JsonError) {
  std::string out;
  write_json_error(out, "ClusterNotFoundException", "Cluster \"x\" not found.\n\x01");
  EXPECT_EQ(out, "{\"__type\":\"ClusterNotFoundException\",\"message\":\"Cluster \\\"x\\\" not found.\\n\\u0001\"}");
}

TEST(Envelope, ErrorClassStatus) {
  EXPECT_EQ(default_http_status(ErrorClass::kNotFound, Protocol::kJson), 400);
  EXPECT_EQ(default_http_status(ErrorClass::kInternal, Protocol::kQuery), 500);
  EXPECT_EQ(default_http_status(ErrorClass::kUnauthenticated, Protocol::kEc2), 401);
  EXPECT_EQ(default_http_status(ErrorClass::kDenied, Protocol::kEc2), 403);
  WireError e = to_wire(Error::not_found("ClusterNotFoundException", "Cluster not found."), Protocol::kJson);
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.code, "ClusterNotFoundException");
}

// Writes sample envelopes for testdata/check_envelopes.py (botocore's own
// parsers) into BERTH_API_ENVELOPE_DIR, or a temp dir when it is unset; the
// ctest `api_envelopes_botocore` (tests/api) runs both steps.
TEST(Envelope, DumpForBotocoreCheck) {
  const char* env_dir = std::getenv("BERTH_API_ENVELOPE_DIR");
  std::string dir = env_dir ? env_dir : std::string();
  if (dir.empty()) {
    char tmpl[] = "/tmp/berth-envelopes-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  std::vector<std::string> written;
  auto dump = [&](const char* name, const std::string& body) {
    std::string path = dir + "/" + name;
    std::ofstream(path) << body;
    written.push_back(path);
  };
  dump("query_success.xml", query_success());
  std::string out;
  write_query_error(out, kElbv2Xmlns, {400, "TargetGroupNotFound", "One or more <target> groups not found"}, "rid-q");
  dump("query_error.xml", out);
  dump("ec2_success.xml", ec2_success());
  out.clear();
  write_ec2_error(out, "InvalidGroup.NotFound", "The security group 'sg-1' does not exist", "rid-e");
  dump("ec2_error.xml", out);
  out.clear();
  write_json_error(out, "ClusterNotFoundException", "Cluster not found.");
  dump("json_error.json", out);
  for (const auto& path : written) {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_FALSE(text.empty()) << path;
    if (!env_dir) std::remove(path.c_str());
  }
  if (!env_dir) ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace berth::api
