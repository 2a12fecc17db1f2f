#include "logs/filter_pattern.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/regex.hpp>

#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace berth::logs {
namespace {

Error invalid(std::string message) {
  Error e = Error::invalid("InvalidParameterException", std::move(message));
  e.http_status = 400;
  return e;
}
Error invalid_pattern() { return invalid("Invalid filter pattern"); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<double> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double out = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(out)) return std::nullopt;
  return out;
}

// '*' matches any run of characters; everything else literally.
bool glob_match(std::string_view text, std::string_view pattern) {
  size_t t = 0, p = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// ---- the parsed forms ----

struct Term {
  enum Kind { kRequired, kOptional, kExcluded } kind = kRequired;
  std::string text;
  std::optional<boost::regex> regex;  // a %...% term
};

enum class Op { kEq, kNe, kLt, kGt, kLe, kGe, kIsNull, kIsTrue, kIsFalse, kNotExists, kExists };

struct Value {
  std::string text;              // as written, quotes removed; '*' is a wildcard
  std::optional<double> number;  // unquoted numbers
};

// One comparison of a text field (space-delimited) or a JSON string's text.
bool compare_text(std::string_view field, Op op, const Value& value) {
  if (op == Op::kEq || op == Op::kNe) {
    bool equal;
    if (value.number) {
      auto n = parse_number(field);
      equal = n ? *n == *value.number : field == value.text;
    } else {
      equal = glob_match(field, value.text);
    }
    return op == Op::kEq ? equal : !equal;
  }
  auto n = parse_number(field);
  if (!n || !value.number) return false;
  switch (op) {
    case Op::kLt: return *n < *value.number;
    case Op::kGt: return *n > *value.number;
    case Op::kLe: return *n <= *value.number;
    case Op::kGe: return *n >= *value.number;
    default: return false;
  }
}

using PathStep = std::variant<std::string, size_t>;

struct Comparison {
  std::vector<PathStep> path;
  Op op = Op::kEq;
  Value value;
};

struct Expr {
  enum Kind { kCompare, kAnd, kOr } kind = kCompare;
  Comparison compare;
  std::vector<Expr> children;
};

struct TermsPattern {
  std::vector<Term> terms;
};
struct JsonPattern {
  Expr expr;
};
struct FieldCondition {
  Op op = Op::kEq;
  Value value;
};
struct Slot {
  bool ellipsis = false;
  std::string name;
  std::vector<std::vector<FieldCondition>> any_of;  // OR of ANDs; empty: any value
};
struct DelimitedPattern {
  std::vector<Slot> slots;
};

}  // namespace

struct FilterPattern::Node {
  std::variant<TermsPattern, JsonPattern, DelimitedPattern> pattern;
};

namespace {

// ---- unstructured terms ----

bool term_char(char c) {
  // Unverified: which characters AWS takes unquoted beyond letters, digits
  // and '_'; these common ones in log words are accepted too.
  return is_alnum(c) || c == '_' || c == '.' || c == '-' || c == '/' || c == '@' || c == ':';
}

Error bad_term(std::string_view token) {
  return invalid("Invalid filter pattern: Invalid character(s) in term '" + std::string(token) + "'");
}

Result<TermsPattern> parse_terms(std::string_view text) {
  TermsPattern out;
  size_t i = 0;
  while (i < text.size()) {
    if (is_space(text[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    Term term;
    if (text[i] == '?' || text[i] == '-') {
      term.kind = text[i] == '?' ? Term::kOptional : Term::kExcluded;
      ++i;
    }
    if (i < text.size() && text[i] == '"') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        char c = text[i++];
        if (c == '\\' && i < text.size()) {
          term.text.push_back(text[i++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          term.text.push_back(c);
        }
      }
      if (!closed) return invalid_pattern();
      if (term.text.empty()) return bad_term(text.substr(start, i - start));
    } else if (i < text.size() && text[i] == '%') {
      size_t close = text.find('%', i + 1);
      if (close == std::string_view::npos || close == i + 1) return invalid_pattern();
      std::string expression(text.substr(i + 1, close - i - 1));
      i = close + 1;
      try {
        term.regex.emplace(expression, boost::regex::perl);
      } catch (const std::exception&) {
        return invalid_pattern();
      }
      term.text = std::move(expression);
    } else {
      while (i < text.size() && !is_space(text[i])) term.text.push_back(text[i++]);
      for (char c : term.text)
        if (!term_char(c)) return bad_term(text.substr(start, i - start));
      if (term.text.empty()) return bad_term(text.substr(start, i - start));
    }
    if (i < text.size() && !is_space(text[i])) {
      while (i < text.size() && !is_space(text[i])) ++i;
      return bad_term(text.substr(start, i - start));
    }
    out.terms.push_back(std::move(term));
  }
  return out;
}

bool term_found(const Term& term, std::string_view message) {
  if (!term.regex) return message.find(term.text) != std::string_view::npos;
  try {
    return boost::regex_search(message.begin(), message.end(), *term.regex);
  } catch (const std::exception&) {
    return false;  // too complex for this message: Boost.Regex gave up
  }
}

bool match_terms(const TermsPattern& p, std::string_view message) {
  bool any_optional = false, optional_found = false;
  for (const auto& term : p.terms) {
    switch (term.kind) {
      case Term::kRequired:
        if (!term_found(term, message)) return false;
        break;
      case Term::kExcluded:
        if (term_found(term, message)) return false;
        break;
      case Term::kOptional:
        any_optional = true;
        if (!optional_found && term_found(term, message)) optional_found = true;
        break;
    }
  }
  return !any_optional || optional_found;
}

// ---- a small tokenizer shared by JSON and space-delimited patterns ----

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }
  bool at_end() {
    skip_space();
    return pos_ >= text_.size();
  }
  bool take(std::string_view s) {
    skip_space();
    if (text_.substr(pos_, s.size()) != s) return false;
    pos_ += s.size();
    return true;
  }
  // A keyword (IS, NULL, ...) only when a whole word.
  bool take_word(std::string_view word) {
    skip_space();
    if (text_.substr(pos_, word.size()) != word) return false;
    size_t after = pos_ + word.size();
    if (after < text_.size() && (is_alnum(text_[after]) || text_[after] == '_')) return false;
    pos_ = after;
    return true;
  }
  char peek() {
    skip_space();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }

  std::optional<Op> op() {
    for (auto [s, o] :
         {std::pair{"!=", Op::kNe}, {"<=", Op::kLe}, {">=", Op::kGe}, {"=", Op::kEq}, {"<", Op::kLt}, {">", Op::kGt}})
      if (take(s)) return o;
    return std::nullopt;
  }

  // A quoted string or a bare word up to a space or an operator character.
  Result<Value> value(std::string_view stop) {
    skip_space();
    Value v;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      ++pos_;
      while (pos_ < text_.size() && text_[pos_] != '"') {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
        v.text.push_back(text_[pos_++]);
      }
      if (pos_ >= text_.size()) return invalid_pattern();
      ++pos_;
      return v;
    }
    while (pos_ < text_.size() && !is_space(text_[pos_]) && stop.find(text_[pos_]) == std::string_view::npos)
      v.text.push_back(text_[pos_++]);
    if (v.text.empty()) return invalid_pattern();
    v.number = parse_number(v.text);
    return v;
  }

  std::string word(std::string_view stop) {
    skip_space();
    std::string out;
    while (pos_ < text_.size() && !is_space(text_[pos_]) && stop.find(text_[pos_]) == std::string_view::npos)
      out.push_back(text_[pos_++]);
    return out;
  }

  size_t pos() const { return pos_; }
  void seek(size_t pos) { pos_ = pos; }
  std::string_view text() const { return text_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

constexpr std::string_view kJsonStop = "(){}&|=!<>";

// ---- JSON patterns ----

Result<std::vector<PathStep>> parse_selector(Lexer& lex) {
  if (!lex.take("$")) return invalid_pattern();
  std::vector<PathStep> path;  // "$.a.b[0]": "a", "b", 0
  std::string_view text = lex.text();
  size_t i = lex.pos();
  auto done = [&] {
    return i >= text.size() || is_space(text[i]) || kJsonStop.find(text[i]) != std::string_view::npos;
  };
  while (!done()) {
    if (text[i] == '.') {
      ++i;
      std::string name;
      while (!done() && text[i] != '.' && text[i] != '[') name.push_back(text[i++]);
      if (name.empty()) return invalid_pattern();
      path.emplace_back(std::move(name));
    } else if (text[i] == '[') {
      size_t close = text.find(']', i);
      if (close == std::string_view::npos) return invalid_pattern();
      std::string_view digits = text.substr(i + 1, close - i - 1);
      size_t index = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return invalid_pattern();
      path.emplace_back(index);
      i = close + 1;
    } else {
      return invalid_pattern();
    }
  }
  if (path.empty()) return invalid_pattern();
  lex.seek(i);
  return path;
}

Result<Expr> parse_or(Lexer& lex, int depth);

Result<Expr> parse_primary(Lexer& lex, int depth) {
  if (depth > 32) return invalid_pattern();
  if (lex.take("(")) {
    auto inner = parse_or(lex, depth + 1);
    if (!inner) return inner;
    if (!lex.take(")")) return invalid_pattern();
    return inner;
  }
  Expr e;
  auto path = parse_selector(lex);
  if (!path) return std::move(path).error();
  e.compare.path = std::move(*path);
  if (lex.take_word("IS")) {
    if (lex.take_word("NULL")) {
      e.compare.op = Op::kIsNull;
    } else if (lex.take_word("TRUE")) {
      e.compare.op = Op::kIsTrue;
    } else if (lex.take_word("FALSE")) {
      e.compare.op = Op::kIsFalse;
    } else {
      return invalid_pattern();
    }
    return e;
  }
  if (lex.take_word("NOT")) {
    if (!lex.take_word("EXISTS")) return invalid_pattern();
    e.compare.op = Op::kNotExists;
    return e;
  }
  if (lex.take_word("EXISTS")) {
    e.compare.op = Op::kExists;
    return e;
  }
  auto op = lex.op();
  if (!op) return invalid_pattern();
  e.compare.op = *op;
  auto value = lex.value(kJsonStop);
  if (!value) return std::move(value).error();
  if (*op != Op::kEq && *op != Op::kNe && !value->number) return invalid_pattern();
  e.compare.value = std::move(*value);
  return e;
}

Result<Expr> parse_and(Lexer& lex, int depth) {
  auto first = parse_primary(lex, depth);
  if (!first) return first;
  if (lex.peek() != '&') return first;
  Expr all;
  all.kind = Expr::kAnd;
  all.children.push_back(std::move(*first));
  while (lex.take("&&")) {
    auto next = parse_primary(lex, depth);
    if (!next) return next;
    all.children.push_back(std::move(*next));
  }
  return all;
}

Result<Expr> parse_or(Lexer& lex, int depth) {
  auto first = parse_and(lex, depth);
  if (!first) return first;
  if (lex.peek() != '|') return first;
  Expr any;
  any.kind = Expr::kOr;
  any.children.push_back(std::move(*first));
  while (lex.take("||")) {
    auto next = parse_and(lex, depth);
    if (!next) return next;
    any.children.push_back(std::move(*next));
  }
  return any;
}

Result<JsonPattern> parse_json(std::string_view text) {
  if (text.back() != '}') return invalid("If a filter pattern starts with '{' it must end with '}'");
  Lexer lex(text.substr(1, text.size() - 2));
  auto expr = parse_or(lex, 0);
  if (!expr) return std::move(expr).error();
  if (!lex.at_end()) return invalid_pattern();
  return JsonPattern{std::move(*expr)};
}

const boost::json::value* select(const boost::json::value& root, const std::vector<PathStep>& path) {
  const boost::json::value* v = &root;
  for (const auto& step : path) {
    if (const auto* name = std::get_if<std::string>(&step)) {
      if (!v->is_object()) return nullptr;
      v = v->get_object().if_contains(*name);
    } else {
      size_t index = std::get<size_t>(step);
      if (!v->is_array() || index >= v->get_array().size()) return nullptr;
      v = &v->get_array()[index];
    }
    if (!v) return nullptr;
  }
  return v;
}

bool evaluate(const Expr& e, const boost::json::value& root) {
  if (e.kind == Expr::kAnd) {
    for (const auto& c : e.children)
      if (!evaluate(c, root)) return false;
    return true;
  }
  if (e.kind == Expr::kOr) {
    for (const auto& c : e.children)
      if (evaluate(c, root)) return true;
    return false;
  }
  const Comparison& c = e.compare;
  const boost::json::value* v = select(root, c.path);
  switch (c.op) {
    case Op::kNotExists: return v == nullptr;
    case Op::kExists: return v != nullptr;
    case Op::kIsNull: return v && v->is_null();
    case Op::kIsTrue: return v && v->is_bool() && v->get_bool();
    case Op::kIsFalse: return v && v->is_bool() && !v->get_bool();
    default: break;
  }
  if (!v) return false;
  if (v->is_string()) {
    std::string_view s = v->get_string();
    // A quoted number is text: "5" equals 5 only as written.
    if (c.value.number && (c.op == Op::kEq || c.op == Op::kNe)) {
      bool equal = s == c.value.text;
      return c.op == Op::kEq ? equal : !equal;
    }
    if (c.value.number) return false;
    return compare_text(s, c.op, c.value);
  }
  if (v->is_number()) {
    double n = v->to_number<double>();
    if (!c.value.number) {
      if (c.op != Op::kEq && c.op != Op::kNe) return false;
      bool equal = glob_match(boost::json::serialize(*v), c.value.text);
      return c.op == Op::kEq ? equal : !equal;
    }
    double want = *c.value.number;
    switch (c.op) {
      case Op::kEq: return n == want;
      case Op::kNe: return n != want;
      case Op::kLt: return n < want;
      case Op::kGt: return n > want;
      case Op::kLe: return n <= want;
      case Op::kGe: return n >= want;
      default: return false;
    }
  }
  if (v->is_bool() && (c.op == Op::kEq || c.op == Op::kNe) && !c.value.number) {
    bool equal = glob_match(v->get_bool() ? "true" : "false", c.value.text);
    return c.op == Op::kEq ? equal : !equal;
  }
  return false;
}

bool match_json(const JsonPattern& p, std::string_view message) {
  boost::system::error_code ec;
  boost::json::value root = boost::json::parse(message, ec);
  if (ec) return false;
  return evaluate(p.expr, root);
}

// ---- space-delimited patterns ----

bool name_char(char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.' || c == '@' || c == '$'; }

// Splits the pattern's body on commas outside quotes.
std::vector<std::string_view> split_slots(std::string_view body) {
  std::vector<std::string_view> out;
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '"') quoted = !quoted;
    if (body[i] == ',' && !quoted) {
      out.push_back(trim(body.substr(start, i - start)));
      start = i + 1;
    }
  }
  out.push_back(trim(body.substr(start)));
  return out;
}

constexpr std::string_view kSlotStop = "&|=!<>,";

Result<Slot> parse_slot(std::string_view text) {
  Slot slot;
  if (text == "...") {
    slot.ellipsis = true;
    return slot;
  }
  Lexer lex(text);
  std::vector<FieldCondition> all;
  for (;;) {
    std::string name = lex.word(kSlotStop);
    if (name.empty()) return invalid_pattern();
    for (char c : name)
      if (!name_char(c)) return invalid_pattern();
    if (slot.name.empty()) slot.name = name;
    // A condition names its own field only (AWS refuses one field's
    // condition inside another's slot).
    if (name != slot.name) return invalid_pattern();
    if (lex.at_end() && all.empty() && slot.any_of.empty()) return slot;
    auto op = lex.op();
    if (!op) return invalid_pattern();
    auto value = lex.value(kSlotStop);
    if (!value) return std::move(value).error();
    if (*op != Op::kEq && *op != Op::kNe && !value->number) return invalid_pattern();
    all.push_back({*op, std::move(*value)});
    if (lex.at_end()) break;
    if (lex.take("&&")) continue;
    if (lex.take("||")) {
      slot.any_of.push_back(std::move(all));
      all.clear();
      continue;
    }
    return invalid_pattern();
  }
  slot.any_of.push_back(std::move(all));
  return slot;
}

Result<DelimitedPattern> parse_delimited(std::string_view text) {
  if (text.back() != ']') return invalid("If a filter pattern starts with '[' it must end with ']'");  // unverified
  std::string_view body = trim(text.substr(1, text.size() - 2));
  if (body.empty()) return invalid_pattern();
  DelimitedPattern out;
  for (auto part : split_slots(body)) {
    if (part.empty()) return invalid_pattern();
    auto slot = parse_slot(part);
    if (!slot) return std::move(slot).error();
    out.slots.push_back(std::move(*slot));
  }
  return out;
}

// A message's fields: split on spaces; "..." and [...] are one field each,
// their delimiters dropped.
std::vector<std::string_view> message_fields(std::string_view m) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < m.size()) {
    if (is_space(m[i])) {
      ++i;
      continue;
    }
    char close = m[i] == '"' ? '"' : m[i] == '[' ? ']' : '\0';
    if (close) {
      size_t end = m.find(close, i + 1);
      if (end != std::string_view::npos) {
        out.push_back(m.substr(i + 1, end - i - 1));
        i = end + 1;
        continue;
      }
    }
    size_t start = i;
    while (i < m.size() && !is_space(m[i])) ++i;
    out.push_back(m.substr(start, i - start));
  }
  return out;
}

bool slot_accepts(const Slot& slot, std::string_view field) {
  if (slot.any_of.empty()) return true;
  for (const auto& all : slot.any_of) {
    bool ok = true;
    for (const auto& c : all)
      if (!compare_text(field, c.op, c.value)) {
        ok = false;
        break;
      }
    if (ok) return true;
  }
  return false;
}

bool match_delimited(const DelimitedPattern& p, std::string_view message) {
  auto fields = message_fields(message);
  size_t slots = p.slots.size(), n = fields.size();
  // can[s][f]: slots s.. match fields f.. exactly.
  std::vector<char> can((slots + 1) * (n + 1), 0);
  auto at = [&](size_t s, size_t f) -> char& { return can[s * (n + 1) + f]; };
  at(slots, n) = 1;
  for (size_t s = slots; s-- > 0;) {
    for (size_t f = n + 1; f-- > 0;) {
      const Slot& slot = p.slots[s];
      if (slot.ellipsis) {
        at(s, f) = at(s + 1, f) || (f < n && at(s, f + 1));
      } else {
        at(s, f) = f < n && at(s + 1, f + 1) && slot_accepts(slot, fields[f]);
      }
    }
  }
  return at(0, 0);
}

}  // namespace

Result<FilterPattern> FilterPattern::parse(std::string_view text) {
  std::string_view t = trim(text);
  if (t.empty() || t == "\"\"") return FilterPattern(nullptr);
  auto node = std::make_shared<Node>();
  if (t.front() == '{') {
    auto p = parse_json(t);
    if (!p) return std::move(p).error();
    node->pattern = std::move(*p);
  } else if (t.front() == '[') {
    auto p = parse_delimited(t);
    if (!p) return std::move(p).error();
    node->pattern = std::move(*p);
  } else {
    auto p = parse_terms(t);
    if (!p) return std::move(p).error();
    if (p->terms.empty()) return FilterPattern(nullptr);
    node->pattern = std::move(*p);
  }
  return FilterPattern(std::move(node));
}

bool FilterPattern::matches(std::string_view message) const {
  if (!root_) return true;
  return std::visit(
      [&](const auto& p) {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, TermsPattern>) return match_terms(p, message);
        if constexpr (std::is_same_v<P, JsonPattern>) return match_json(p, message);
        if constexpr (std::is_same_v<P, DelimitedPattern>) return match_delimited(p, message);
      },
      root_->pattern);
}

}  // namespace berth::logs
