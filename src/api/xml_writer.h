// api/xml_writer: a streaming XML writer for the query and EC2 protocols.
//
// Owns: appending elements straight into a caller's std::string (the
// response buffer), escaping text so botocore's expat-based parser always
// accepts it, and the typed leaves AWS uses (booleans "true"/"false",
// integers, ISO-8601 timestamps with milliseconds).
//
//   std::string body;  XmlWriter w(body);
//   w.open("TargetGroups").open("member").leaf("TargetGroupName", n)
//    .leaf_int("Port", 80).close("member").close("TargetGroups");
//
// Element names are trusted (they come from code); text is not. Text bytes
// that XML 1.0 cannot carry (C0 controls other than tab/LF/CR, invalid UTF-8,
// U+FFFE/U+FFFF) become U+FFFD; CR is written as &#13; so it survives.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace berth::api {

// Appends s to out, escaped for XML text and attribute values.
void append_xml_escaped(std::string_view s, std::string& out);

class XmlWriter {
 public:
  explicit XmlWriter(std::string& out) : out_(out) {}

  XmlWriter& declaration();  // <?xml version="1.0" encoding="UTF-8"?>
  XmlWriter& open(std::string_view name);
  XmlWriter& open_with_xmlns(std::string_view name, std::string_view xmlns);
  XmlWriter& close(std::string_view name);
  XmlWriter& text(std::string_view s);
  XmlWriter& empty(std::string_view name);  // <name/>

  // <name>escaped value</name>
  XmlWriter& leaf(std::string_view name, std::string_view value);
  XmlWriter& leaf_bool(std::string_view name, bool value);
  XmlWriter& leaf_int(std::string_view name, int64_t value);
  XmlWriter& leaf_double(std::string_view name, double value);
  XmlWriter& leaf_time(std::string_view name, WallTime value);  // 2026-11-25T13:38:35.123Z

  int depth() const { return depth_; }
  std::string& buffer() { return out_; }

 private:
  std::string& out_;
  int depth_ = 0;
};

}  // namespace berth::api
