#include "cli/config/keys.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "base/text.h"
#include "capture/event_spec.h"
#include "cli/units.h"

namespace dial9::cli::config {
namespace {

using C = Key::Check;
constexpr unsigned kTrace = kReport | kExport;

// Sections group keys by topic rather than by command: `[record]`,
// `[segments]` and `[sched]` are record's and attach's (which take the same
// options), `[attach]` attach's alone, and `[select]` and `[symbols]` are
// shared by report and export.
const std::vector<Key> kKeys = {
    {"record", "output", KeyType::kString, kRecording, "output", false, {}, "/var/tmp/dial9"},
    {"record", "frequency", KeyType::kInt, kRecording, "frequency", false, "period", {}, C::kPositive},
    {"record", "period", KeyType::kInt, kRecording, "period", false, "frequency", "100000", C::kPositive},
    {"record", "event", KeyType::kString, kRecording, "event", false, {}, "cpu-clock"},
    {"record", "kernel", KeyType::kBool, kRecording, "no-kernel", true},
    {"record", "call_graph", KeyType::kString, kRecording, "call-graph", false, {}, {}, C::kCallGraph},
    {"record", "duration", KeyType::kDuration, kRecording, "duration", false, {}, "30s", C::kPositive},
    {"record", "mmap_pages", KeyType::kInt, kRecording, "mmap-pages", false, {}, "128", C::kPowerOfTwo},
    {"record", "sampler", KeyType::kString, kRecording, "sampler", false, {}, {}, C::kChoice, "auto|perf|timer"},
    {"record", "agent", KeyType::kBool, kRecording, "no-agent", true},
    {"record", "quiet", KeyType::kBool, kRecording, "quiet", false, "verbose"},
    {"record", "verbose", KeyType::kBool, kRecording, "verbose", false, "quiet"},
    {"segments", "max_file_size", KeyType::kSize, kRecording, "max-file-size"},
    {"segments", "max_total_size", KeyType::kSize, kRecording, "max-total-size"},
    {"segments", "rotation_period", KeyType::kDuration, kRecording, "rotation-period", false, {}, "1h", C::kPositive},
    {"segments", "max_debug_info", KeyType::kSize, kRecording, "max-debug-info"},
    {"segments", "compression", KeyType::kString, kRecording, "compression", false, {}, {}, C::kChoice, "zstd|gzip|none"},
    {"segments", "on_seal", KeyType::kString, kRecording, "on-seal", false, {}, "gzip -t {}"},
    {"sched", "enabled", KeyType::kBool, kRecording, "no-sched", true},
    {"sched", "waker_stacks", KeyType::kInt, kRecording, "waker-stacks", false, {}, {}, C::kNotNegative},
    {"attach", "force", KeyType::kBool, kAttach, "force"},
    {"report", "format", KeyType::kString, kReport, "format", false, {}, {}, C::kChoice, "text|json|markdown"},
    {"report", "top", KeyType::kInt, kReport, "top", false, {}, {}, C::kPositive},
    {"report", "verbose", KeyType::kBool, kReport, "verbose"},
    {"export", "folded", KeyType::kString, kExport, "folded", false, {}, "profile.folded"},
    {"export", "flamegraph", KeyType::kString, kExport, "flamegraph", false, {}, "flamegraph.svg"},
    {"export", "inverted", KeyType::kBool, kExport, "inverted"},
    {"export", "diff", KeyType::kString, kExport, "diff", false, {}, "./baseline-trace"},
    {"export", "title", KeyType::kString, kExport, "title", false, {}, "checkout service"},
    {"export", "html", KeyType::kString, kExport, "html", false, {}, "trace.html"},
    {"export", "pprof", KeyType::kString, kExport, "pprof", false, {}, "profile.pb.gz"},
    {"export", "chrome", KeyType::kString, kExport, "chrome", false, {}, "trace.json"},
    {"export", "speedscope", KeyType::kString, kExport, "speedscope", false, {}, "profile.speedscope.json"},
    {"export", "off_cpu", KeyType::kBool, kExport, "off-cpu"},
    {"export", "verbose", KeyType::kBool, kExport, "verbose"},
    {"select", "tid", KeyType::kIntList, kTrace, "tid", false, {}, "[1234, 1235]", C::kPositive},
    {"select", "pid", KeyType::kIntList, kTrace, "pid", false, {}, "[1234]", C::kPositive},
    {"select", "thread", KeyType::kStringList, kTrace, "thread", false, {}, "[\"worker-1\"]"},
    {"select", "from", KeyType::kString, kTrace, "from", false, {}, "2s", C::kTimePoint},
    {"select", "to", KeyType::kString, kTrace, "to", false, {}, "-10s", C::kTimePoint},
    {"symbols", "debug_dirs", KeyType::kStringList, kTrace, "debug-dir", false, {}, "[\"/srv/debug\"]"},
    {"symbols", "inline", KeyType::kBool, kTrace, "no-inline", true},
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// A whole decimal integer, or nullopt-like false.
bool to_int(const std::string& s, long long& out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && end && *end == '\0';
}

}  // namespace

const std::vector<Key>& keys() { return kKeys; }

std::vector<std::string_view> sections() {
  std::vector<std::string_view> out;
  for (const Key& k : kKeys) {
    if (out.empty() || out.back() != k.section) out.push_back(k.section);
  }
  return out;
}

const Key* find_key(std::string_view section, std::string_view name) {
  for (const Key& k : kKeys) {
    if (k.section == section && k.name == name) return &k;
  }
  return nullptr;
}

const Key* key_for_option(Command command, std::string_view option) {
  for (const Key& k : kKeys) {
    if ((k.commands & command) && k.option == option) return &k;
  }
  return nullptr;
}

std::string full_name(const Key& k) { return std::string(k.section) + "." + std::string(k.name); }

std::string env_name(const Key& k) { return "DIAL9_" + upper(k.section) + "_" + upper(k.name); }

std::string describe_type(KeyType t) {
  switch (t) {
    case KeyType::kInt: return "an integer";
    case KeyType::kBool: return "true or false";
    case KeyType::kString: return "a string";
    case KeyType::kSize: return "a size such as \"64MiB\" or a number of bytes";
    case KeyType::kDuration: return "a duration such as \"30s\" or \"1h30m\", or a number of seconds";
    case KeyType::kIntList: return "an array of integers such as [1234, 1235]";
    case KeyType::kStringList: return "an array of strings such as [\"a\", \"b\"]";
  }
  return "a value";
}

std::string check_value(const Key& k, const std::vector<std::string>& items) {
  for (const std::string& v : items) {
    long long n = 0;
    switch (k.check) {
      case C::kNone: break;
      case C::kPositive:
        if (k.type == KeyType::kDuration) {
          auto d = parse_duration(v);
          if (d && *d == 0) return "must be longer than 0";
        } else if (to_int(v, n) && n <= 0) {
          return "must be a positive number, not " + v;
        }
        break;
      case C::kNotNegative:
        if (to_int(v, n) && n < 0) return "must be 0 or more, not " + v;
        break;
      case C::kPowerOfTwo:
        if (to_int(v, n) && (n < 0 || (n & (n - 1)) != 0)) return "must be a power of two (or 0: chosen automatically), not " + v;
        break;
      case C::kCallGraph:
        if (auto cg = capture::parse_call_graph(v); !cg) return "must be fp, auto, dwarf or dwarf,BYTES, not '" + v + "'";
        break;
      case C::kTimePoint:
        if (auto tp = parse_time_point(v); !tp) {
          return "must be a time such as 2s, -10s, @SECONDS or 2026-05-15T17:55:12Z, not '" + v + "'";
        }
        break;
      case C::kChoice: {
        std::string_view rest = k.choices;
        bool ok = false;
        while (!rest.empty()) {
          size_t bar = rest.find('|');
          if (rest.substr(0, bar) == v) ok = true;
          rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
        }
        if (!ok) {
          std::string list(k.choices);
          for (char& c : list) c = c == '|' ? ',' : c;
          return "must be one of " + list + ", not '" + v + "'";
        }
        break;
      }
    }
  }
  return "";
}

std::string unknown_key_message(std::string_view section, std::string_view name) {
  std::vector<std::string> candidates;
  if (name.empty()) {
    for (std::string_view s : sections()) candidates.emplace_back(s);
    auto near = closest_names(section, candidates, 1);
    std::string all;
    for (const auto& s : candidates) all += (all.empty() ? "[" : ", [") + s + "]";
    std::string msg = "unknown section [" + std::string(section) + "]";
    if (!near.empty() && edit_distance(section, near[0]) <= 3) return msg + "; did you mean [" + near[0] + "]?";
    return msg + " (sections: " + all + ")";
  }
  // The key in another section, as written: say where it belongs.
  for (const Key& k : kKeys) {
    if (k.name == name && k.section != section) {
      return "unknown key '" + std::string(name) + "' in [" + std::string(section) + "]; it belongs in [" +
             std::string(k.section) + "]";
    }
  }
  std::string msg = "unknown key '" + std::string(name) + "' in [" + std::string(section) + "]";
  if (const Key* near = nearest_key(section, name)) return msg + "; did you mean '" + std::string(near->name) + "'?";
  std::string all;
  for (const Key& k : kKeys) {
    if (k.section == section) all += (all.empty() ? "" : ", ") + std::string(k.name);
  }
  return msg + " (keys: " + all + ")";
}

const Key* nearest_key(std::string_view section, std::string_view name) {
  const Key* best = nullptr;
  size_t best_distance = 0;
  for (const Key& k : kKeys) {
    if (k.section != section) continue;
    if (!name.empty() && k.name.substr(0, name.size()) == name) return &k;
    size_t d = edit_distance(name, k.name);
    if (!best || d < best_distance) {
      best = &k;
      best_distance = d;
    }
  }
  return best && best_distance <= 3 ? best : nullptr;
}

}  // namespace dial9::cli::config
