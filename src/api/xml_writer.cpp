#include "api/xml_writer.h"

#include <cassert>
#include <charconv>
#include <cmath>

#include "core/time_format.h"

namespace berth::api {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence at s[i] and its code point, or 0.
size_t utf8_sequence(std::string_view s, size_t i, uint32_t& cp) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

}  // namespace

void append_xml_escaped(std::string_view s, std::string& out) {
  out.reserve(out.size() + s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&': out.append("&amp;"); break;
        case '<': out.append("&lt;"); break;
        case '>': out.append("&gt;"); break;
        case '"': out.append("&quot;"); break;
        case '\'': out.append("&apos;"); break;
        case '\r': out.append("&#13;"); break;
        case '\t':
        case '\n': out.push_back(static_cast<char>(c)); break;
        default:
          if (c < 0x20) out.append(kReplacement);
          else out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t len = utf8_sequence(s, i, cp);
    if (len == 0) {
      out.append(kReplacement);
      ++i;
    } else if (cp == 0xFFFE || cp == 0xFFFF) {
      out.append(kReplacement);
      i += len;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
}

XmlWriter& XmlWriter::declaration() {
  out_.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
  return *this;
}

XmlWriter& XmlWriter::open(std::string_view name) {
  out_.push_back('<');
  out_.append(name);
  out_.push_back('>');
  ++depth_;
  return *this;
}

XmlWriter& XmlWriter::open_with_xmlns(std::string_view name, std::string_view xmlns) {
  out_.push_back('<');
  out_.append(name);
  out_.append(" xmlns=\"");
  append_xml_escaped(xmlns, out_);
  out_.append("\">");
  ++depth_;
  return *this;
}

XmlWriter& XmlWriter::close(std::string_view name) {
  assert(depth_ > 0);
  out_.append("</");
  out_.append(name);
  out_.push_back('>');
  --depth_;
  return *this;
}

XmlWriter& XmlWriter::text(std::string_view s) {
  append_xml_escaped(s, out_);
  return *this;
}

XmlWriter& XmlWriter::empty(std::string_view name) {
  out_.push_back('<');
  out_.append(name);
  out_.append("/>");
  return *this;
}

XmlWriter& XmlWriter::leaf(std::string_view name, std::string_view value) {
  open(name);
  append_xml_escaped(value, out_);
  return close(name);
}

XmlWriter& XmlWriter::leaf_bool(std::string_view name, bool value) {
  open(name);
  out_.append(value ? "true" : "false");
  return close(name);
}

XmlWriter& XmlWriter::leaf_int(std::string_view name, int64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  open(name);
  out_.append(buf, end);
  return close(name);
}

XmlWriter& XmlWriter::leaf_double(std::string_view name, double value) {
  char buf[32];
  auto [end, ec] = std::isfinite(value) ? std::to_chars(buf, buf + sizeof buf, value) : std::to_chars(buf, buf + sizeof buf, 0);
  open(name);
  out_.append(buf, end);
  return close(name);
}

XmlWriter& XmlWriter::leaf_time(std::string_view name, WallTime value) {
  open(name);
  out_.append(format_iso8601_millis(value));
  return close(name);
}

}  // namespace berth::api
