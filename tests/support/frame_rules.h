// The two CFI rules x86-64 code shows most: inside a function that keeps no
// frame pointer (CFA = rsp + N, return address just below the CFA) and
// after a frame-pointer prologue (CFA = rbp + 16, caller's rbp below the
// return address).
#pragma once

#include "report/symbols/elf_module.h"

namespace dial9::test {

inline report::FrameRule sp_frame_rule(int64_t cfa_offset) {
  report::FrameRule r;
  r.cfa = report::FrameRule::Cfa::kSpOffset;
  r.cfa_offset = cfa_offset;
  r.ra = report::FrameRule::Saved::kAtCfaOffset;
  r.ra_offset = -8;
  return r;
}

inline report::FrameRule rbp_frame_rule() {
  report::FrameRule r;
  r.cfa = report::FrameRule::Cfa::kBpOffset;
  r.cfa_offset = 16;
  r.ra = report::FrameRule::Saved::kAtCfaOffset;
  r.ra_offset = -8;
  r.bp = report::FrameRule::Saved::kAtCfaOffset;
  r.bp_offset = -16;
  return r;
}

}  // namespace dial9::test
