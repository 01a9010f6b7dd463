// libFuzzer target for everything after decoding: the analysis model, the
// symbolizer's reading of a trace's mappings and symbol tables, the report
// with its three renderers, and every export format.
//
// Each input is one trace file (raw, gzip or zstd) as `dial9 report FILE`
// would read it. It is loaded into a TraceModel through the same
// TraceResolver and Symbolizer the CLI uses, then:
//
// - the report is built and rendered as text, Markdown and JSON; the JSON
//   must parse (docs/REPORT-JSON.md promises a document whatever the trace);
// - one export, picked by the input's last byte, is produced: folded
//   stacks, the flamegraph SVG (plain, and inverted as a diff), the HTML
//   viewer, pprof (gzipped, with the resolver's addresses), Chrome trace
//   events or speedscope; the JSON ones must parse;
// - the model is restricted to a time window and a thread picked by the
//   input's last eight bytes (as --from/--to/--tid would) and the report and
//   folded stacks are made again.
//
// The symbolizer opens the files a trace's mappings name, as the report
// would on the machine reading the trace; ElfModule refuses anything but a
// regular file, so a trace naming a FIFO or a device cannot hang it.
//
// Build: configure with -DDIAL9_FUZZ=ON (see tests/fuzz/CMakeLists.txt);
// run: tests/fuzz/run_fuzzer.sh build-fuzz/tests/fuzz/fuzz_report 60.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "report/analysis/report.h"
#include "report/export/chrome.h"
#include "report/export/flamegraph.h"
#include "report/export/folded.h"
#include "report/export/html.h"
#include "report/export/pprof.h"
#include "report/export/speedscope.h"
#include "report/model/trace_model.h"
#include "report/render/render.h"
#include "report/symbols/symbolizer.h"
#include "report/symbols/trace_resolver.h"

namespace {

namespace r = dial9::report;

volatile size_t g_sink;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_report: %s\n%.4000s\n", what, detail.c_str());
  std::fflush(stderr);
  std::abort();
}

void must_be_json(const char* what, const std::string& s) {
  if (!nlohmann::json::accept(s)) fail(what, s);
}

// The input as a file the loader can open by name, without touching disk.
std::string as_file(const uint8_t* data, size_t size, dial9::UniqueFd& fd) {
  fd.reset(memfd_create("fuzz_report", MFD_CLOEXEC));
  if (!fd) fail("memfd_create failed", "");
  for (size_t done = 0; done < size;) {
    ssize_t n = write(fd.get(), data + done, size - done);
    if (n <= 0) fail("writing the memfd failed", "");
    done += static_cast<size_t>(n);
  }
  return "/proc/self/fd/" + std::to_string(fd.get());
}

void report_and_render(const r::TraceModel& m) {
  r::Report rep = r::build_report(m);
  std::string json = r::render_json(rep);
  must_be_json("render_json: not valid JSON", json);
  g_sink = r::render_text(rep, true).size() + r::render_markdown(rep).size() + json.size();
}

// The exports, one per input (chosen by the input's last byte): together
// they cost ten times the rest, and each is as likely to be reached.
void export_one(const r::TraceModel& m, const r::TraceResolver& resolver, uint8_t which) {
  switch (which % 6) {
    case 0: {
      r::FoldedOptions off;
      off.weight.off_cpu = true;
      off.inlines = false;
      g_sink = r::folded_stacks(m).size() + r::folded_stacks(m, off).size();
      break;
    }
    case 1: {
      r::FlamegraphOptions fg;
      g_sink = r::flamegraph_svg(m, fg).size();
      fg.inverted = true;
      fg.diff_base = &m;
      g_sink = r::flamegraph_svg(m, fg).size();
      break;
    }
    case 2:
      g_sink = r::html_viewer(m, r::build_report(m)).size();
      break;
    case 3: {
      r::PprofOptions p;
      p.address = [&resolver](uint32_t loc) { return r::pprof_address(resolver, loc); };
      auto gz = r::pprof_gz(m, p);
      if (!gz) fail("pprof_gz failed", gz.error().message());
      g_sink = gz->size();
      break;
    }
    case 4: {
      std::string chrome = r::chrome_trace(m);
      must_be_json("chrome_trace: not valid JSON", chrome);
      g_sink = chrome.size();
      break;
    }
    default: {
      std::string speedscope = r::speedscope_json(m);
      must_be_json("speedscope_json: not valid JSON", speedscope);
      g_sink = speedscope.size();
      break;
    }
  }
}

// A selection from the input's last eight bytes: a window inside the trace's
// time range and, when the second byte is odd, one of its threads.
r::Selection pick_selection(const r::TraceModel& m, const uint8_t* data, size_t size) {
  uint64_t pick = 0;
  for (size_t i = size >= 8 ? size - 8 : 0; i < size; ++i) pick = (pick << 8) | data[i];
  r::Selection sel;
  if (m.end_ns > m.start_ns) {
    uint64_t span = m.end_ns - m.start_ns;
    sel.from_ns = m.start_ns + (pick & 0xffff) * (span / 65536);
    sel.to_ns = *sel.from_ns + ((pick >> 16) & 0xffff) * (span / 65536);
  }
  if (((pick >> 32) & 1) && !m.samples.empty()) {
    sel.tids.push_back(m.samples[(pick >> 33) % m.samples.size()].tid);
  }
  return sel;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dial9::UniqueFd fd;
  std::string path = as_file(data, size, fd);
  r::Symbolizer symbolizer;
  r::TraceResolver resolver(symbolizer);
  auto model = r::load_trace({path}, resolver);
  if (!model) return 0;  // not a trace at all: the CLI's one-line error

  report_and_render(*model);
  export_one(*model, resolver, size > 0 ? data[size - 1] : 0);

  r::restrict(*model, pick_selection(*model, data, size));
  report_and_render(*model);
  g_sink = r::folded_stacks(*model).size();
  return 0;
}
