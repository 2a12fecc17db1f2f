// logs/filter_pattern: the CloudWatch Logs filter pattern syntax that
// FilterLogEvents (and `aws logs tail --filter-pattern`) take, parsed once
// and matched against each event's message.
//
//   ""                          every event
//   ERROR "bad thing"           all terms (case-sensitive substrings; quote
//                               anything but letters, digits and _)
//   ?ERROR ?WARN                at least one of the ?-terms
//   ERROR -Exiting              ERROR but not Exiting
//   %[Ee]rror|[Ff]ail%          a regular expression
//   { $.a.b[0] = "x*" && ($.n > 5 || $.f IS TRUE) }
//                               JSON messages: =, != on strings (with *),
//                               numbers; <, >, <=, >= on numbers; IS NULL,
//                               IS TRUE, IS FALSE, NOT EXISTS
//   [ip, user, ..., status = 5* || status = 4*, bytes > 100]
//                               space-delimited fields ("..." and [...]
//                               are one field; ... is any number of fields)
//
// A pattern that does not parse is InvalidParameterException, with AWS's
// texts where they are known ("Invalid filter pattern", "If a filter pattern
// starts with '{' it must end with '}'", "Invalid character(s) in term '..'").
#pragma once

#include <memory>
#include <string_view>

#include "core/error.h"

namespace berth::logs {

class FilterPattern {
 public:
  struct Node;  // the parsed form; defined in filter_pattern.cpp

  static Result<FilterPattern> parse(std::string_view text);

  bool matches(std::string_view message) const;
  // The empty pattern: no event needs looking at.
  bool matches_everything() const { return !root_; }

 private:
  explicit FilterPattern(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
  std::shared_ptr<const Node> root_;
};

}  // namespace berth::logs
