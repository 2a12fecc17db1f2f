#include "core/clock.h"

namespace berth {

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

}  // namespace berth
