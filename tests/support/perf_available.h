// Whether this machine lets the tests open perf events, for integration
// tests that skip (with the reason) where it does not.
#pragma once

#include <string>

#include "capture/event_spec.h"
#include "capture/perf_ring.h"

namespace dial9::test {

// Why perf events cannot be opened here, or "".
inline std::string perf_unavailable() {
  capture::SamplingSpec s;
  s.inherit = false;
  auto attr = capture::build_attr(s);
  if (!attr) return attr.error().message();
  attr->disabled = 1;
  auto ring = capture::PerfRing::open(*attr, 0, -1, 1);
  return ring ? "" : ring.error().message();
}

}  // namespace dial9::test
