// The HTML viewer: one self-contained file (page, style, script and data
// inline; no network) with a timeline of one lane per thread, a flamegraph
// whose totals follow a time selection, and the report's findings and tables.
// The page and its script are report/export/html/viewer.{html,css,js},
// embedded into the binary at build time.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "report/analysis/report.h"
#include "report/model/trace_model.h"

namespace dial9::report {

struct HtmlOptions {
  bool inlines = true;  // inlined calls as frames of their own
  bool off_cpu = false;  // the flamegraph opens on off-CPU samples
  // Samples are counted per thread and per unique stack in this many equal
  // time bins, so the file grows with unique stacks and bins, not samples,
  // and the flamegraph can be recomputed for any selection of bins.
  size_t bins = 2000;
  // Polls and spans drawn on the timeline, each kind capped (the longest
  // are kept; the page says how many were left out).
  size_t max_intervals = 200'000;
};

// The page. `report` is built from the same model (its JSON document is
// embedded as data). Names from the trace are untrusted: the data sits in
// <script type="application/json"> blocks escaped by script_safe_json() and
// the page shows it only as text.
std::string html_viewer(const TraceModel& model, const Report& report, const HtmlOptions& options = {});

// JSON text that can sit inside a <script> element: '<', '>' and '&' become
// \u003c, \u003e and \u0026, and U+2028/U+2029 (line terminators to old
// JavaScript parsers) \u2028 and \u2029. The input must be valid JSON, whose
// only places for those characters are strings, where the escapes mean the
// same characters.
std::string script_safe_json(std::string_view json);

}  // namespace dial9::report
