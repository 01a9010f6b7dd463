// Whether this machine lets the tests open perf events, for integration
// tests that skip (with the reason) where it does not.
#pragma once

#include <string>

#include "capture/perf_ring.h"

namespace dial9::test {

// Why perf events cannot be opened here, or "".
inline std::string perf_unavailable() {
  auto ok = capture::probe_sampling(capture::SamplingSpec{});
  return ok ? "" : ok.error().message();
}

}  // namespace dial9::test
