#include "report/export/pprof.h"

#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "base/hex.h"
#include "format/frame_codec.h"
#include "report/export/profile.pb.h"
#include "report/export/sample_period.h"
#include "report/symbols/trace_resolver.h"

namespace dial9::report {
namespace {

// proto3 strings must be UTF-8 (the full runtime and other languages'
// decoders reject the message otherwise), and symbol or thread names from a
// trace need not be: each invalid byte becomes U+FFFD.
std::string valid_utf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = len > 0 && i + len <= n;
    uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (p[i + k] & 0xc0) == 0x80;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    if (ok && len > 1) {
      static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    }
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

class Strings {
 public:
  explicit Strings(pprof::Profile& p) : p_(p) { add(""); }
  int64_t add(const std::string& s) {
    auto [it, fresh] = ids_.try_emplace(s, static_cast<int64_t>(ids_.size()));
    if (fresh) p_.add_string_table(valid_utf8(s));
    return it->second;
  }

 private:
  pprof::Profile& p_;
  std::unordered_map<std::string, int64_t> ids_;
};

}  // namespace

std::optional<PprofAddress> pprof_address(const TraceResolver& resolver, uint32_t location) {
  if (location >= resolver.locations()) return std::nullopt;
  PprofAddress a;
  a.address = resolver.address(location);
  if (const auto& f = resolver.mapping(location)) {
    a.start = f->start;
    a.limit = f->end;
    a.file_offset = f->file_offset;
    if (f->path) a.path = *f->path;
    if (f->build_id) a.build_id = to_hex(*f->build_id);
  }
  return a;
}

std::string pprof_profile(const TraceModel& m, const PprofOptions& o) {
  pprof::Profile p;
  Strings str(p);

  // Sample types and period.
  auto value_type = [&](pprof::ValueType* v, const char* type, const char* unit) {
    v->set_type(str.add(type));
    v->set_unit(str.add(unit));
  };
  // 0: no time period (gcc's maybe-uninitialized misfires on an optional here).
  const int64_t period = o.weight.off_cpu ? 0 : sample_period_ns(m).value_or(0);
  const bool by_time = o.weight.off_cpu && off_cpu_by_time(m);
  if (by_time) {
    // Two values per sample: how many waits, and how long they blocked.
    value_type(p.add_sample_type(), "waits", "count");
    value_type(p.add_sample_type(), "off_cpu", "nanoseconds");
    value_type(p.mutable_period_type(), "off_cpu", "nanoseconds");
    p.set_period(1);
    p.add_comment(str.add("off-CPU: time blocked on each stack, from switch-out to wakeup"));
  } else if (o.weight.off_cpu) {
    value_type(p.add_sample_type(), "switches", "count");
    value_type(p.mutable_period_type(), "switches", "count");
    p.set_period(1);
    p.add_comment(str.add("off-CPU: one sample per switch-out; the trace has no off-CPU durations"));
  } else {
    value_type(p.add_sample_type(), "samples", "count");
    if (period) {
      value_type(p.add_sample_type(), "cpu", "nanoseconds");
      value_type(p.mutable_period_type(), "cpu", "nanoseconds");
      p.set_period(period);
    } else {
      value_type(p.mutable_period_type(), "samples", "count");
      p.set_period(1);
    }
  }
  p.set_default_sample_type(p.sample_type(p.sample_type_size() - 1).type());
  if (auto it = m.metadata.find("command"); it != m.metadata.end()) {
    p.add_comment(str.add("command: " + it->second));
  }
  if (m.end_ns > m.start_ns) p.set_duration_nanos(static_cast<int64_t>(m.end_ns - m.start_ns));
  if (m.clock_sync) {
    auto [mono, real] = *m.clock_sync;
    p.set_time_nanos(static_cast<int64_t>(real) + (static_cast<int64_t>(m.start_ns) - static_cast<int64_t>(mono)));
  }

  // Samples (and blocked ns) per (stack, thread), in that order so the
  // output is stable.
  std::map<std::pair<StackId, uint32_t>, std::pair<uint64_t, uint64_t>> counts;
  for_each_weighted(m, o.weight, by_time, [&](uint64_t, uint32_t tid, StackId stack, uint64_t w) {
    auto& c = counts[{stack, tid}];
    ++c.first;
    c.second += w;
  });

  // Mappings: by file and range when the caller located the address, else
  // one per module name.
  std::map<std::tuple<std::string, uint64_t, uint64_t, uint64_t>, uint64_t> mapping_ids;
  auto mapping_for = [&](const std::string& path, uint64_t start, uint64_t limit, uint64_t offset,
                         const std::string& build_id) -> pprof::Mapping* {
    auto [it, fresh] = mapping_ids.try_emplace({path, start, limit, offset}, mapping_ids.size() + 1);
    if (!fresh) return p.mutable_mapping(static_cast<int>(it->second - 1));
    pprof::Mapping* mp = p.add_mapping();
    mp->set_id(it->second);
    mp->set_memory_start(start);
    mp->set_memory_limit(limit);
    mp->set_file_offset(offset);
    mp->set_filename(str.add(path));
    if (!build_id.empty()) mp->set_build_id(str.add(build_id));
    return mp;
  };

  // Functions by (name, file); locations by model location id.
  std::map<std::pair<StringId, StringId>, uint64_t> function_ids;
  std::unordered_map<uint32_t, uint64_t> location_ids;
  auto location_for = [&](uint32_t loc) -> uint64_t {
    auto [it, fresh] = location_ids.try_emplace(loc, location_ids.size() + 1);
    if (!fresh) return it->second;
    pprof::Location* pl = p.add_location();
    pl->set_id(it->second);
    auto [first, count] = m.location_frames[loc];
    const Frame& real = m.frames[first + count - 1];
    std::optional<PprofAddress> addr = o.address ? o.address(loc) : std::nullopt;
    pprof::Mapping* mp = nullptr;
    if (addr && !addr->path.empty()) {
      mp = mapping_for(addr->path, addr->start, addr->limit, addr->file_offset, addr->build_id);
    } else {
      mp = mapping_for(m.strings.get(real.module), 0, 0, 0, "");
    }
    if (addr) pl->set_address(addr->address);
    pl->set_mapping_id(mp->id());
    for (uint32_t k = 0; k < count; ++k) {  // leaf (innermost inlined) first, as pprof wants
      const Frame& f = m.frames[first + k];
      if (!o.inlines && f.inlined) continue;
      auto [fit, fresh_fn] = function_ids.try_emplace({f.function, f.file}, function_ids.size() + 1);
      if (fresh_fn) {
        pprof::Function* fn = p.add_function();
        fn->set_id(fit->second);
        int64_t name = str.add(m.strings.get(f.function));
        fn->set_name(name);
        fn->set_system_name(name);
        fn->set_filename(str.add(m.strings.get(f.file)));
      }
      pprof::Line* line = pl->add_line();
      line->set_function_id(fit->second);
      line->set_line(f.line);
      if (frame_kind(m, f) != FrameKind::kUnknown) mp->set_has_functions(true);
      if (f.file != 0) mp->set_has_filenames(true);
      if (f.line != 0) mp->set_has_line_numbers(true);
      if (f.inlined) mp->set_has_inline_frames(true);
    }
    return it->second;
  };

  const int64_t thread_key = str.add("thread"), tid_key = str.add("tid");
  for (const auto& [key, weights] : counts) {
    const uint64_t n = weights.first;
    auto [locs, depth] = m.stacks.get(key.first);
    pprof::Sample* s = p.add_sample();
    for (size_t i = 0; i < depth; ++i) {
      if (locs[i] < m.location_frames.size() && m.location_frames[locs[i]].second > 0) {
        s->add_location_id(location_for(locs[i]));
      }
    }
    s->add_value(static_cast<int64_t>(n));
    if (by_time) s->add_value(static_cast<int64_t>(weights.second));
    if (period) s->add_value(static_cast<int64_t>(n) * period);
    const std::string& name = m.thread_name(key.second);
    if (!name.empty()) {
      pprof::Label* l = s->add_label();
      l->set_key(thread_key);
      l->set_str(str.add(name));
    }
    pprof::Label* l = s->add_label();
    l->set_key(tid_key);
    l->set_num(key.second);
  }
  return p.SerializeAsString();
}

Result<std::string> pprof_gz(const TraceModel& m, const PprofOptions& o) {
  std::string raw = pprof_profile(m, o);
  auto gz = format::FrameCompressor::create(format::Compression::kGzip, 6);
  if (!gz) return fail(gz.error());
  std::vector<uint8_t> out;
  auto ok = gz->compress({reinterpret_cast<const uint8_t*>(raw.data()), raw.size()}, out);
  if (!ok) return fail(ok.error());
  return std::string(out.begin(), out.end());
}

}  // namespace dial9::report
