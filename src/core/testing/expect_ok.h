// EXPECT_OK / ASSERT_OK: a Result<T> or Status that must have succeeded,
// evaluated once; a failure prints the expression and the error's code and
// message, so a log from another machine says why.
//
//   ASSERT_OK(runtime_->start(spec));
#pragma once

#include <gtest/gtest.h>

#include "core/error.h"

namespace berth::testing {

template <class R>
::testing::AssertionResult is_ok(const char* expression, const R& result) {
  if (result.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expression << " failed: " << result.error().code << ": "
                                       << result.error().message;
}

}  // namespace berth::testing

#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::berth::testing::is_ok, expr)
#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::berth::testing::is_ok, expr)
