#include "api/document.h"

#include <cbor.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>
#include <boost/json/value.hpp>

#include <cmath>

#include "api/xml_writer.h"
#include "core/time_format.h"

namespace berth::api {
namespace {

void json_string(std::string_view s, std::string& out) {
  out.append(boost::json::serialize(boost::json::string_view(s.data(), s.size())));
}

void json_number(double x, std::string& out) {
  if (!std::isfinite(x)) x = 0;  // JSON has no NaN; AWS never sends one
  out.append(boost::json::serialize(boost::json::value(x)));
}

void write_json(const Doc& d, std::string& out) {
  switch (d.kind()) {
    case Doc::Kind::kNull: out.append("null"); break;
    case Doc::Kind::kBool: out.append(d.as_bool() ? "true" : "false"); break;
    case Doc::Kind::kInt: out.append(std::to_string(d.as_int())); break;
    case Doc::Kind::kDouble: json_number(d.as_double(), out); break;
    case Doc::Kind::kString: json_string(d.as_string(), out); break;
    case Doc::Kind::kTime: json_number(epoch_seconds(d.as_time()), out); break;
    case Doc::Kind::kList: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : d.items()) {
        if (!first) out.push_back(',');
        first = false;
        write_json(item, out);
      }
      out.push_back(']');
      break;
    }
    case Doc::Kind::kStruct:
    case Doc::Kind::kMap: {
      out.push_back('{');
      bool first = true;
      for (const auto& [name, value] : d.members()) {
        if (value.is_null()) continue;
        if (!first) out.push_back(',');
        first = false;
        json_string(name, out);
        out.push_back(':');
        write_json(value, out);
      }
      out.push_back('}');
      break;
    }
  }
}

// libcbor's streaming encoders write one head (at most 9 bytes) at a time.
class CborOut {
 public:
  explicit CborOut(std::string& out) : out_(out) {}
  template <class Encode>
  void head(Encode encode) {
    unsigned char buf[16];
    size_t n = encode(buf, sizeof buf);
    out_.append(reinterpret_cast<const char*>(buf), n);
  }
  void text(std::string_view s) {
    head([&](unsigned char* b, size_t n) { return cbor_encode_string_start(s.size(), b, n); });
    out_.append(s);
  }
  std::string& out_;
};

void write_cbor(const Doc& d, CborOut& w) {
  switch (d.kind()) {
    case Doc::Kind::kNull: w.head([](unsigned char* b, size_t n) { return cbor_encode_null(b, n); }); break;
    case Doc::Kind::kBool:
      w.head([&](unsigned char* b, size_t n) { return cbor_encode_bool(d.as_bool(), b, n); });
      break;
    case Doc::Kind::kInt: {
      int64_t i = d.as_int();
      if (i >= 0)
        w.head([&](unsigned char* b, size_t n) { return cbor_encode_uint(static_cast<uint64_t>(i), b, n); });
      else
        w.head([&](unsigned char* b, size_t n) { return cbor_encode_negint(static_cast<uint64_t>(-1 - i), b, n); });
      break;
    }
    case Doc::Kind::kDouble:
      w.head([&](unsigned char* b, size_t n) { return cbor_encode_double(d.as_double(), b, n); });
      break;
    case Doc::Kind::kString: w.text(d.as_string()); break;
    case Doc::Kind::kTime:
      w.head([](unsigned char* b, size_t n) { return cbor_encode_tag(1, b, n); });
      w.head([&](unsigned char* b, size_t n) { return cbor_encode_double(epoch_seconds(d.as_time()), b, n); });
      break;
    case Doc::Kind::kList:
      w.head([&](unsigned char* b, size_t n) { return cbor_encode_array_start(d.items().size(), b, n); });
      for (const auto& item : d.items()) write_cbor(item, w);
      break;
    case Doc::Kind::kStruct:
    case Doc::Kind::kMap: {
      size_t count = 0;
      for (const auto& m : d.members()) count += m.second.is_null() ? 0 : 1;
      w.head([&](unsigned char* b, size_t n) { return cbor_encode_map_start(count, b, n); });
      for (const auto& [name, value] : d.members()) {
        if (value.is_null()) continue;
        w.text(name);
        write_cbor(value, w);
      }
      break;
    }
  }
}

void write_xml_value(XmlWriter& w, std::string_view name, const Doc& d);

void write_xml_members(XmlWriter& w, const Doc& d) {
  for (const auto& [name, value] : d.members())
    if (!value.is_null()) write_xml_value(w, name, value);
}

void write_xml_value(XmlWriter& w, std::string_view name, const Doc& d) {
  switch (d.kind()) {
    case Doc::Kind::kNull: break;
    case Doc::Kind::kBool: w.leaf_bool(name, d.as_bool()); break;
    case Doc::Kind::kInt: w.leaf_int(name, d.as_int()); break;
    case Doc::Kind::kDouble: w.leaf_double(name, d.as_double()); break;
    case Doc::Kind::kString: w.leaf(name, d.as_string()); break;
    case Doc::Kind::kTime: w.leaf_time(name, d.as_time()); break;
    case Doc::Kind::kList:
      w.open(name);
      for (const auto& item : d.items()) write_xml_value(w, "member", item);
      w.close(name);
      break;
    case Doc::Kind::kStruct:
      w.open(name);
      write_xml_members(w, d);
      w.close(name);
      break;
    case Doc::Kind::kMap:
      w.open(name);
      for (const auto& [key, value] : d.members()) {
        if (value.is_null()) continue;
        w.open("entry").leaf("key", key);
        write_xml_value(w, "value", value);
        w.close("entry");
      }
      w.close(name);
      break;
  }
}

}  // namespace

std::string to_json(const Doc& doc) {
  std::string out;
  write_json(doc, out);
  return out;
}

std::string to_cbor(const Doc& doc) {
  std::string out;
  CborOut w(out);
  write_cbor(doc, w);
  return out;
}

std::string to_query_xml(const Doc& doc) {
  std::string out;
  XmlWriter w(out);
  write_xml_members(w, doc);
  return out;
}

std::string render_document(const Doc& doc, Protocol protocol) {
  switch (protocol) {
    case Protocol::kJson:
    case Protocol::kJson10: return to_json(doc);
    case Protocol::kRpcV2Cbor: return to_cbor(doc);
    case Protocol::kQuery:
    case Protocol::kEc2: return to_query_xml(doc);
  }
  return to_json(doc);
}

}  // namespace berth::api
