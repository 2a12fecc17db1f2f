// Errors cross module boundaries as a class (what kind of failure) plus a
// domain code and message. Only the api module turns a class into an HTTP
// status and a wire shape (STYLE.md, "containerd/errdefs").
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace berth {

enum class ErrorClass {
  kInvalid,        // the caller sent something wrong
  kNotFound,       // the thing named does not exist
  kAlreadyExists,  // creating something that is there
  kConflict,       // the state forbids it now (in use, not empty, ...)
  kDenied,         // authenticated but not allowed
  kUnauthenticated,
  kUnavailable,    // try again later (timeouts, refused connections)
  kInternal,       // a bug or an environment fault
};

struct Error {
  ErrorClass error_class = ErrorClass::kInternal;
  std::string code;     // the AWS-visible code, e.g. "InvalidGroup.NotFound"
  std::string message;  // the AWS-visible message
  int http_status = 0;  // 0: the api derives it from the class; else the model's status for this code

  static Error invalid(std::string code, std::string message) {
    return {ErrorClass::kInvalid, std::move(code), std::move(message)};
  }
  static Error not_found(std::string code, std::string message) {
    return {ErrorClass::kNotFound, std::move(code), std::move(message)};
  }
  static Error already_exists(std::string code, std::string message) {
    return {ErrorClass::kAlreadyExists, std::move(code), std::move(message)};
  }
  static Error conflict(std::string code, std::string message) {
    return {ErrorClass::kConflict, std::move(code), std::move(message)};
  }
  static Error unavailable(std::string message) {
    return {ErrorClass::kUnavailable, "ServiceUnavailable", std::move(message)};
  }
  static Error internal(std::string message) {
    return {ErrorClass::kInternal, "InternalFailure", std::move(message)};
  }
};

// A value or an Error. Expected failures travel as values, never as
// exceptions, so the data plane can use it too.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

}  // namespace berth
