#include "cloudwatch/metric_math.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <deque>
#include <vector>

namespace berth::cloudwatch {
namespace {

Error invalid(std::string message) { return Error::invalid("ValidationError", std::move(message)); }

class Parser {
 public:
  Parser(std::string_view text, const std::map<std::string, TimeSeries>& series) : s_(text), series_(series) {}

  Result<MathValue> parse() {
    auto v = expression();
    if (!v) return v;
    skip();
    if (pos_ != s_.size()) return unexpected();
    return v;
  }

 private:
  Error unexpected() const {
    return invalid("Error in expression '" + std::string(s_) + "': Unexpected token at position " +
                   std::to_string(pos_ + 1));  // unverified wording
  }
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(char c) {
    skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string word() {
    skip();
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }

  static MathValue combine(const MathValue& a, const MathValue& b, char op) {
    auto apply = [op](double x, double y, bool& ok) {
      ok = true;
      switch (op) {
        case '+': return x + y;
        case '-': return x - y;
        case '*': return x * y;
        default:
          if (y == 0) ok = false;
          return y == 0 ? 0 : x / y;
      }
    };
    bool ok = true;
    if (auto* x = std::get_if<double>(&a)) {
      if (auto* y = std::get_if<double>(&b)) return apply(*x, *y, ok);
      TimeSeries out;
      for (const auto& [t, v] : std::get<TimeSeries>(b))
        if (double r = apply(*x, v, ok); ok) out[t] = r;
      return out;
    }
    const auto& left = std::get<TimeSeries>(a);
    TimeSeries out;
    if (auto* y = std::get_if<double>(&b)) {
      for (const auto& [t, v] : left)
        if (double r = apply(v, *y, ok); ok) out[t] = r;
      return out;
    }
    const auto& right = std::get<TimeSeries>(b);
    for (const auto& [t, v] : left) {
      auto it = right.find(t);
      if (it == right.end()) continue;
      if (double r = apply(v, it->second, ok); ok) out[t] = r;
    }
    return out;
  }

  Result<MathValue> expression() {
    auto left = term();
    if (!left) return left;
    while (true) {
      char op = eat('+') ? '+' : eat('-') ? '-' : 0;
      if (!op) return left;
      auto right = term();
      if (!right) return right;
      left = combine(*left, *right, op);
    }
  }

  Result<MathValue> term() {
    auto left = factor();
    if (!left) return left;
    while (true) {
      char op = eat('*') ? '*' : eat('/') ? '/' : 0;
      if (!op) return left;
      auto right = factor();
      if (!right) return right;
      left = combine(*left, *right, op);
    }
  }

  Result<MathValue> number() {
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.')) ++pos_;
    double x = 0;
    auto [end, ec] = std::from_chars(s_.data() + start, s_.data() + pos_, x);
    if (ec != std::errc() || end != s_.data() + pos_) return unexpected();
    return MathValue(x);
  }

  Result<std::vector<const TimeSeries*>> function_arguments() {
    std::vector<const TimeSeries*> out;
    if (eat('[')) {
      do {
        std::string id = word();
        auto it = series_.find(id);
        if (it == series_.end()) return unknown_id(id);
        out.push_back(&it->second);
      } while (eat(','));
      if (!eat(']')) return unexpected();
      return out;
    }
    size_t save = pos_;
    std::string id = word();
    if (id == "METRICS" && eat('(') && eat(')')) {
      for (const auto& [name, s] : series_) out.push_back(&s);
      return out;
    }
    pos_ = save;
    auto inner = expression();
    if (!inner) return std::move(inner).error();
    if (auto* ts = std::get_if<TimeSeries>(&*inner)) {
      owned_.push_back(*ts);
      out.push_back(&owned_.back());
      return out;
    }
    owned_.push_back(TimeSeries{{0, std::get<double>(*inner)}});
    out.push_back(&owned_.back());
    return out;
  }

  Error unknown_id(const std::string& id) const {
    return invalid("Error in expression '" + std::string(s_) + "': Unrecognized identifier " + id);  // unverified
  }

  static double reduce(std::string_view fn, const std::vector<double>& xs) {
    double acc = fn == "MIN" ? xs[0] : fn == "MAX" ? xs[0] : 0;
    for (double x : xs) {
      if (fn == "SUM" || fn == "AVG") acc += x;
      if (fn == "MIN") acc = std::min(acc, x);
      if (fn == "MAX") acc = std::max(acc, x);
    }
    return fn == "AVG" ? acc / static_cast<double>(xs.size()) : acc;
  }

  Result<MathValue> function(const std::string& fn) {
    if (!eat('(')) return unexpected();
    auto args = function_arguments();
    if (!args) return std::move(args).error();
    if (!eat(')')) return unexpected();
    if (args->size() == 1) {
      std::vector<double> xs;
      for (const auto& [t, v] : *(*args)[0]) xs.push_back(v);
      if (xs.empty()) return MathValue(TimeSeries{});
      return MathValue(reduce(fn, xs));
    }
    std::map<int64_t, std::vector<double>> by_time;
    for (const auto* s : *args)
      for (const auto& [t, v] : *s) by_time[t].push_back(v);
    TimeSeries out;
    for (const auto& [t, xs] : by_time) out[t] = reduce(fn, xs);
    return MathValue(out);
  }

  Result<MathValue> factor() {
    skip();
    if (pos_ >= s_.size()) return unexpected();
    char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      auto v = expression();
      if (!v) return v;
      if (!eat(')')) return unexpected();
      return v;
    }
    if (c == '-') {
      ++pos_;
      auto v = factor();
      if (!v) return v;
      return combine(MathValue(0.0), *v, '-');
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return number();
    std::string id = word();
    if (id.empty()) return unexpected();
    if (id == "SUM" || id == "AVG" || id == "MIN" || id == "MAX") return function(id);
    auto it = series_.find(id);
    if (it == series_.end()) return unknown_id(id);
    return MathValue(it->second);
  }

  std::string_view s_;
  size_t pos_ = 0;
  const std::map<std::string, TimeSeries>& series_;
  std::deque<TimeSeries> owned_;  // stable addresses for function_arguments()
};

}  // namespace

Result<MathValue> evaluate_expression(std::string_view expression, const std::map<std::string, TimeSeries>& series) {
  Parser p(expression, series);
  return p.parse();
}

}  // namespace berth::cloudwatch
