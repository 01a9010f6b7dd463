#include "capture/tracefs.h"

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/io.h"

namespace dial9::capture {
namespace {

bool number_after(std::string_view line, std::string_view key, uint64_t& out) {
  size_t at = line.find(key);
  if (at == std::string_view::npos) return false;
  size_t i = at + key.size();
  while (i < line.size() && line[i] == ' ') ++i;
  size_t start = i;
  uint64_t v = 0;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') v = v * 10 + static_cast<uint64_t>(line[i++] - '0');
  if (i == start) return false;
  out = v;
  return true;
}

// "field:char prev_comm[16];" -> "prev_comm"; "field:pid_t pid;" -> "pid".
std::string field_name(std::string_view decl) {
  size_t semi = decl.find(';');
  if (semi != std::string_view::npos) decl = decl.substr(0, semi);
  size_t bracket = decl.find('[');
  if (bracket != std::string_view::npos) decl = decl.substr(0, bracket);
  while (!decl.empty() && decl.back() == ' ') decl.remove_suffix(1);
  size_t space = decl.find_last_of(" \t*");
  return std::string(space == std::string_view::npos ? decl : decl.substr(space + 1));
}

bool has_events(const std::string& dir) { return ::access((dir + "/events").c_str(), F_OK) == 0; }

}  // namespace

const TracepointField* Tracepoint::field(std::string_view name) const {
  for (const TracepointField& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Result<Tracepoint> parse_tracepoint_format(std::string_view text) {
  Tracepoint tp;
  bool have_id = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    size_t i = line.find_first_not_of(" \t");
    if (i == std::string_view::npos) continue;
    line = line.substr(i);
    if (line.substr(0, 3) == "ID:") {
      have_id = number_after(line, "ID:", tp.id);
    } else if (line.substr(0, 6) == "field:") {
      TracepointField f;
      uint64_t offset = 0, size = 0, is_signed = 0;
      if (!number_after(line, "offset:", offset) || !number_after(line, "size:", size)) continue;
      number_after(line, "signed:", is_signed);
      f.name = field_name(line.substr(6));
      f.offset = static_cast<uint32_t>(offset);
      f.size = static_cast<uint32_t>(size);
      f.is_signed = is_signed != 0;
      tp.fields.push_back(std::move(f));
    }
  }
  if (!have_id) return fail("tracepoint format has no ID line");
  return tp;
}

std::optional<int64_t> read_raw_field(std::span<const uint8_t> raw, const TracepointField& f) {
  if (f.size == 0 || f.size > 8 || (f.size & (f.size - 1)) != 0) return std::nullopt;
  if (raw.size() < f.offset || raw.size() - f.offset < f.size) return std::nullopt;
  uint64_t v = 0;
  std::memcpy(&v, raw.data() + f.offset, f.size);  // little-endian host (x86-64, arm64)
  if (f.is_signed && f.size < 8) {
    unsigned shift = 64 - 8 * f.size;
    return static_cast<int64_t>(v << shift) >> shift;
  }
  return static_cast<int64_t>(v);
}

Result<std::string> find_tracefs(bool may_mount) {
  const std::string tracing = "/sys/kernel/tracing";
  for (const std::string& dir : {tracing, std::string("/sys/kernel/debug/tracing")}) {
    if (has_events(dir)) return dir;
    if (errno == EACCES) return fail("tracefs at " + dir + " is not readable by this user", EACCES);
  }
  if (may_mount && ::access(tracing.c_str(), F_OK) == 0) {
    if (::mount("tracefs", tracing.c_str(), "tracefs", 0, nullptr) == 0 && has_events(tracing)) return tracing;
    if (errno != EPERM && errno != EACCES) return fail(Error::from_errno("cannot mount tracefs at " + tracing));
  }
  return fail("tracefs is not mounted at " + tracing, ENOENT);
}

Result<Tracepoint> read_tracepoint(const std::string& tracefs, std::string_view system,
                                   std::string_view name) {
  std::string path = tracefs + "/events/" + std::string(system) + "/" + std::string(name) + "/format";
  auto text = read_small_file(path, 64 * 1024);
  if (!text) {
    int e = text.error().errno_value();
    if (e == EACCES || e == EPERM) return fail(path + " is not readable by this user", e);
    return fail(text.error());
  }
  auto tp = parse_tracepoint_format(*text);
  if (!tp) return fail(path + ": " + tp.error().message());
  return tp;
}

}  // namespace dial9::capture
