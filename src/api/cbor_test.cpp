// CBOR decode/encode (libcbor), the protocol-neutral Doc and query trees.
#include "api/cbor.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "api/document.h"
#include "api/query_tree.h"
#include "core/testing/expect_ok.h"

namespace berth::api {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string out;
  for (int x : b) out.push_back(static_cast<char>(x));
  return out;
}

TEST(Cbor, DocRoundTripsThroughDecode) {
  Doc d = Doc::structure();
  d.set("Name", Doc::string("CPUUtilization"))
      .set("Count", Doc::integer(-42))
      .set("Big", Doc::integer(1'000'000'000'000))
      .set("Value", Doc::number(85.25))
      .set("On", Doc::boolean(true))
      .set("Unset", Doc())
      .set("At", Doc::time(WallTime(std::chrono::seconds(1764888600))));
  d.set("Values", Doc::list());
  auto decoded = decode_cbor(to_cbor(d));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  const auto& o = decoded->as_object();
  EXPECT_EQ(o.at("Name").as_string(), "CPUUtilization");
  EXPECT_EQ(o.at("Count").as_int64(), -42);
  EXPECT_EQ(o.at("Big").to_number<int64_t>(), 1'000'000'000'000);
  EXPECT_DOUBLE_EQ(o.at("Value").as_double(), 85.25);
  EXPECT_TRUE(o.at("On").as_bool());
  EXPECT_FALSE(o.contains("Unset")) << "null members are left out, as botocore expects";
  EXPECT_DOUBLE_EQ(o.at("At").as_double(), 1764888600.0) << "tag 1 decodes to its epoch seconds";
  EXPECT_TRUE(o.at("Values").as_array().empty());
}

TEST(Cbor, TimestampIsTagOneWithAFloat) {
  Doc d = Doc::time(WallTime(std::chrono::milliseconds(1500)));
  EXPECT_EQ(to_cbor(d), bytes({0xc1, 0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0})) << "tag 1, float64 1.5";
}

TEST(Cbor, DecodesWhatBotocoreSends) {
  // {"Namespace": "A", "Period": 60, "StartTime": 1(1700000000)} as
  // botocore's RpcV2CBORSerializer writes it (uint timestamp under tag 1).
  std::string body =
      bytes({0xa3, 0x69, 'N', 'a',  'm', 'e', 's', 'p', 'a', 'c', 'e', 0x61, 'A', 0x66, 'P',  'e',  'r',  'i',  'o',
             'd',  0x18, 60,  0x69, 'S', 't', 'a', 'r', 't', 'T', 'i', 'm',  'e', 0xc1, 0x1a, 0x65, 0x53, 0xf1, 0x00});
  auto decoded = decode_cbor(body);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(boost::json::serialize(*decoded), R"({"Namespace":"A","Period":60,"StartTime":1700000000})");
}

TEST(Cbor, IndefiniteLengthItemsDecode) {
  // {_ "a": [_ 1, 2]} with an indefinite text string key "a" in one chunk.
  std::string body = bytes({0xbf, 0x7f, 0x61, 'a', 0xff, 0x9f, 0x01, 0x02, 0xff, 0xff});
  auto decoded = decode_cbor(body);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(boost::json::serialize(*decoded), R"({"a":[1,2]})");
}

TEST(Cbor, RefusesMalformedInput) {
  for (const std::string& bad : {bytes({0xa1, 0x61}), bytes({0xa1, 0x01, 0x02}), bytes({0xc2, 0x41, 0x00}),
                                 bytes({0x01, 0x02}), bytes({0xff})}) {
    auto decoded = decode_cbor(bad);
    ASSERT_FALSE(decoded.ok()) << "accepted " << bad.size() << " bad bytes";
    EXPECT_EQ(decoded.error().code, "SerializationException");
  }
  std::string deep(100, '\x81');
  deep.push_back('\x01');
  EXPECT_FALSE(decode_cbor(deep).ok()) << "nesting beyond the limit is refused";
}

// Found by fuzz/cbor: libcbor allocated and cleared a slot per declared
// item before reading any, so these few bytes cost gigabytes.
TEST(Cbor, RefusesMoreItemsThanBytesBeforeAllocating) {
  const std::string huge_array = bytes({0x9b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01});
  const std::string huge_map = bytes({0xa1, 0x61, 'M', 0xba, 0x7f, 0xff, 0xff, 0xff, 0x61, 'k', 0x01});
  const std::string short_array = bytes({0xa1, 0x61, 'a', 0x83, 0x01, 0x02});  // 3 items declared, 2 sent
  for (const std::string& bad : {huge_array, huge_map, short_array}) {
    auto decoded = decode_cbor(bad);
    ASSERT_FALSE(decoded.ok()) << "accepted " << bad.size() << " bytes declaring more items than they hold";
    EXPECT_EQ(decoded.error().code, "SerializationException");
  }
  auto exact = decode_cbor(bytes({0xa1, 0x61, 'a', 0x82, 0x01, 0x02}));
  ASSERT_TRUE(exact.ok()) << exact.error().message;
  EXPECT_EQ(boost::json::serialize(*exact), R"({"a":[1,2]})");
}

TEST(Document, JsonAndQueryXmlShapes) {
  Doc d = Doc::structure();
  Doc labels = Doc::list();
  labels.push(Doc::string("a<b"));
  labels.push(Doc::string("c"));
  d.set("Label", Doc::string("x")).set("Items", std::move(labels)).set("Skip", Doc());
  d.set("At", Doc::time(WallTime(std::chrono::seconds(0))));
  EXPECT_EQ(to_json(d), R"({"Label":"x","Items":["a<b","c"],"At":0E0})");
  EXPECT_EQ(to_query_xml(d),
            "<Label>x</Label><Items><member>a&lt;b</member><member>c</member></Items>"
            "<At>1970-01-01T00:00:00.000Z</At>");
}

TEST(QueryTree, MembersBecomeListsInIndexOrder) {
  auto params = QueryParams::parse(
      "Action=PutMetricData&Version=2010-08-01&Namespace=App&MetricData.member."
      "2.MetricName=B"
      "&MetricData.member.1.MetricName=A&MetricData.member.1.Dimensions.member."
      "1.Name=Host"
      "&MetricData.member.1.Dimensions.member.1.Value=h1&Empty=");
  ASSERT_OK(params);
  EXPECT_EQ(boost::json::serialize(query_to_json(*params)),
            R"({"Empty":"","MetricData":[{"Dimensions":[{"Name":"Host","Value":"h1"}],"MetricName":"A"},)"
            R"({"MetricName":"B"}],"Namespace":"App"})");
}

}  // namespace
}  // namespace berth::api
