// api/document: one answer, written in whichever protocol the caller spoke.
//
// A service that offers several protocols (CloudWatch: smithy-rpc-v2-cbor,
// JSON 1.0 and query) builds its output once as a Doc, a tree of the
// model's types, and render_document() writes it:
//
//   Doc ──► JSON 1.0/1.1   timestamps as epoch seconds, lists as arrays
//       ──► rpc-v2-cbor    timestamps as tag 1 + epoch seconds (float)
//       ──► query XML      the members inside <OpResult>, lists as
//                          <Name><member>..</member></Name>, ISO-8601 times
//
// Members whose value is null are left out, as botocore leaves out unset
// members.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "api/envelope.h"
#include "core/clock.h"

namespace berth::api {

class Doc {
 public:
  enum class Kind { kNull, kBool, kInt, kDouble, kString, kTime, kList, kStruct, kMap };

  Doc() = default;
  static Doc boolean(bool b) {
    Doc d(Kind::kBool);
    d.b_ = b;
    return d;
  }
  static Doc integer(int64_t i) {
    Doc d(Kind::kInt);
    d.i_ = i;
    return d;
  }
  static Doc number(double x) {
    Doc d(Kind::kDouble);
    d.x_ = x;
    return d;
  }
  static Doc string(std::string s) {
    Doc d(Kind::kString);
    d.s_ = std::move(s);
    return d;
  }
  static Doc time(WallTime t) {
    Doc d(Kind::kTime);
    d.t_ = t;
    return d;
  }
  static Doc list() { return Doc(Kind::kList); }
  static Doc structure() { return Doc(Kind::kStruct); }
  // A map (string keys): written like a struct in JSON and CBOR, as
  // <entry><key/><value/></entry> in query XML. Filled with set().
  static Doc map() { return Doc(Kind::kMap); }

  // A struct member (the Doc must be a struct); returns *this.
  Doc& set(std::string name, Doc value) {
    members_.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  // A list item (the Doc must be a list); returns the item.
  Doc& push(Doc value) {
    items_.push_back(std::move(value));
    return items_.back();
  }

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }
  double as_double() const { return x_; }
  const std::string& as_string() const { return s_; }
  WallTime as_time() const { return t_; }
  const std::vector<Doc>& items() const { return items_; }
  const std::vector<std::pair<std::string, Doc>>& members() const { return members_; }

 private:
  explicit Doc(Kind kind) : kind_(kind) {}
  Kind kind_ = Kind::kNull;
  bool b_ = false;
  int64_t i_ = 0;
  double x_ = 0;
  std::string s_;
  WallTime t_{};
  std::vector<Doc> items_;
  std::vector<std::pair<std::string, Doc>> members_;
};

std::string to_json(const Doc& doc);
std::string to_cbor(const Doc& doc);
// The members of a struct Doc as query-protocol XML (what goes between
// <OpResult> and </OpResult>).
std::string to_query_xml(const Doc& doc);

// The body for protocol: JSON 1.0/1.1, CBOR or query XML (EC2 is not offered).
std::string render_document(const Doc& doc, Protocol protocol);

}  // namespace berth::api
