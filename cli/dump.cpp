// `dial9 dump FILE|DIR...`: prints every event of a trace, one per line, the
// way `perf script` does for perf.data. See man/dial9-dump.1.
#include <CLI/CLI.hpp>

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/io.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "format/schemas.h"
#include "format/trace_file.h"
#include "report/event_text.h"

namespace dial9::cli {
namespace {

struct DumpOptions {
  std::vector<std::string> inputs;
  std::string format = "text";
  std::vector<std::string> events;
};

// Buffers output and writes it in large chunks; stops quietly when the
// reader went away (`dial9 dump x | head`), like other Unix filters.
class Output {
 public:
  bool ok() const { return ok_; }
  bool closed() const { return closed_; }
  std::string& buf() { return buf_; }
  void maybe_flush() {
    if (buf_.size() >= (1u << 16)) flush();
  }
  void flush() {
    if (!ok_ || buf_.empty()) return;
    auto r = write_all(1, {reinterpret_cast<const uint8_t*>(buf_.data()), buf_.size()});
    buf_.clear();
    if (!r) {
      ok_ = false;
      closed_ = r.error().errno_value() == EPIPE;
      if (!closed_) std::fprintf(stderr, "dial9 dump: cannot write output: %s\n", r.error().message().c_str());
    }
  }

 private:
  std::string buf_;
  bool ok_ = true;
  bool closed_ = false;
};

// An -e prefix that names no event type a trace can hold, built-in or in
// the trace: a typo, said after the dump (a trace may define its own
// schemas, so only the dump knows them all).
std::string unmatched_prefix(const std::vector<std::string>& prefixes, const std::set<std::string>& seen) {
  for (const auto& p : prefixes) {
    bool known = std::any_of(seen.begin(), seen.end(), [&](const std::string& n) { return n.compare(0, p.size(), p) == 0; });
    for (size_t i = 0; !known && i < static_cast<size_t>(format::Builtin::kCount); ++i) {
      auto id = static_cast<format::Builtin>(i);
      if (id == format::Builtin::kNone) continue;
      const format::BuiltinSchema& b = format::builtin_schema(id);
      // "Cpu" names CpuSampleEvent; "SpanEnter:db" names spans of "SpanEnter:".
      known = b.name.substr(0, p.size()) == p || (b.name_is_prefix && std::string_view(p).substr(0, b.name.size()) == b.name);
    }
    if (!known) return p;
  }
  return "";
}

bool wanted(const std::vector<std::string>& prefixes, const std::string& name) {
  if (prefixes.empty()) return true;
  for (const auto& p : prefixes) {
    if (name.compare(0, p.size(), p) == 0) return true;
  }
  return false;
}

int run_dump(const DumpOptions& opt) {
  auto files = format::expand_trace_inputs(opt.inputs);
  if (!files) {
    std::fprintf(stderr, "dial9 dump: %s\n", files.error().message().c_str());
    return kExitRuntimeError;
  }
  // A closed pipe must end the dump, not kill it with SIGPIPE mid-write.
  ::signal(SIGPIPE, SIG_IGN);
  const bool json = opt.format == "jsonl";
  Output out;
  int status = kExitOk;
  std::set<std::string> seen;  // schema names of the trace, for -e
  const void* last_schema = nullptr;  // events come in runs of one schema: look each run up once
  for (const format::TraceInput& input : *files) {
    const std::string& file = input.path;
    if (!input.duplicate_of.empty()) {
      std::fprintf(stderr, "dial9 dump: warning: skipping segment %s: the same bytes as %s (a copy)\n",
                   file.c_str(), input.duplicate_of.c_str());
      continue;
    }
    uint64_t printed = 0;
    auto sum = format::read_trace_file(file, [&](const format::Event& e) {
      if (!opt.events.empty() && e.schema != last_schema && seen.size() < 4096) {
        last_schema = e.schema;
        seen.emplace(e.name());
      }
      if (!out.ok() || !wanted(opt.events, e.name())) return;
      if (json) {
        report::render_event_json(e, out.buf());
      } else {
        report::render_event_text(e, out.buf());
      }
      ++printed;
      out.maybe_flush();
    });
    out.flush();
    if (out.closed()) return kExitOk;
    if (!out.ok()) return kExitRuntimeError;
    if (!sum) {
      // A damaged segment among many is skipped; a file the user named is
      // an error.
      if (input.from_directory) {
        std::fprintf(stderr, "dial9 dump: warning: skipping segment %s\n", sum.error().message().c_str());
      } else {
        std::fprintf(stderr, "dial9 dump: %s\n", sum.error().message().c_str());
        status = kExitRuntimeError;
      }
      continue;
    }
    for (const auto& d : sum->diagnostics) {
      if (d.kind == format::Diagnostic::Kind::kCorrupt) {
        std::fprintf(stderr,
                     "dial9 dump: warning: %s: corrupt data at byte %llu: %s; skipped to the next "
                     "stream\n",
                     file.c_str(), static_cast<unsigned long long>(d.offset), d.message.c_str());
      }
    }
    if (sum->diagnostic_count > sum->diagnostics.size()) {
      std::fprintf(stderr, "dial9 dump: warning: %s: %llu more problems not shown\n", file.c_str(),
                   static_cast<unsigned long long>(sum->diagnostic_count - sum->diagnostics.size()));
    }
    if (!sum->container_error.empty()) {
      std::fprintf(stderr, "dial9 dump: warning: %s: %s; events before it were printed\n",
                   file.c_str(), sum->container_error.c_str());
    }
    if (sum->truncated) {
      std::fprintf(stderr,
                   "dial9 dump: warning: %s is truncated at byte %llu of its TRC data (%s); the "
                   "%llu events before the cut were printed\n",
                   file.c_str(), static_cast<unsigned long long>(sum->truncated_at),
                   sum->truncation.c_str(), static_cast<unsigned long long>(printed));
    }
  }
  out.flush();
  if (!out.ok() && !out.closed()) return kExitRuntimeError;
  if (std::string bad = unmatched_prefix(opt.events, seen); !bad.empty()) {
    std::string names;
    for (const auto& n : seen) names += (names.empty() ? "" : ", ") + n;
    std::fprintf(stderr, "dial9 dump: -e %s matches no event type (this trace has: %s)\n", bad.c_str(), names.c_str());
    return kExitUsage;
  }
  return status;
}

}  // namespace

RunFn add_dump_command(CLI::App& app) {
  auto opt = std::make_shared<DumpOptions>();
  CLI::App* cmd = app.add_subcommand(
      "dump", "Print every event of a trace, one per line (like perf script).");
  cmd->add_option("TRACE", opt->inputs,
                  "Trace files (raw, .gz or .zst) or directories of segments")
      ->required()
      ->type_name("");
  cmd->add_option("-f,--format", opt->format, "Output format: text (aligned columns) or jsonl")
      ->check(CLI::IsMember({"text", "jsonl"}))
      ->capture_default_str();
  cmd->add_option("-e,--event", opt->events,
                  "Print only events whose schema name starts with NAME (repeatable, or "
                  "comma-separated)")
      ->delimiter(',')
      ->type_name("NAME");
  return [opt] { return run_dump(*opt); };
}

}  // namespace dial9::cli
