// An interactive SVG flamegraph of the selected samples, written from the
// model alone: one self-contained file that a browser opens (click a frame
// to zoom, search by regex or substring, tooltips with samples and shares).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "report/export/stacks.h"

namespace dial9::report {

struct FlamegraphOptions {
  StackWeightOptions weight;
  bool inlines = true;    // inlined calls as frames of their own
  bool inverted = false;  // an icicle: stacks merged from the leaf, leaves on top
  std::string title;      // "" for a default that says what is drawn
  // A differential flamegraph when set: widths are `m`'s samples, colours
  // say how each frame's share of all samples changed against this trace
  // (red grew, blue shrank, grey unchanged). Read with the same options.
  const TraceModel* diff_base = nullptr;
};

// The whole SVG document, UTF-8. Stacks are folded by stack id and each
// unique stack is expanded once, so the cost follows unique stacks, not
// samples. Frames narrower than 0.1% of all samples are left out (and
// counted in the subtitle) to keep the file small. Every name is
// sanitized (invalid UTF-8 and characters XML cannot hold become U+FFFD;
// names longer than 2,000 characters are cut, ending in "..") and escaped;
// the embedded script only reads names from the DOM, so no name can become
// code.
std::string flamegraph_svg(const TraceModel& m, const FlamegraphOptions& o = {});

// `s` as XML character data or attribute text, as above: escaped, invalid
// UTF-8 and XML-forbidden characters replaced by U+FFFD, cut to
// `max_chars` code points, the last two "..", when longer. Exposed for tests.
void append_xml_escaped(std::string& out, std::string_view s, size_t max_chars = SIZE_MAX);

}  // namespace dial9::report
