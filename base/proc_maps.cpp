#include "base/proc_maps.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <span>

#include "base/dir.h"
#include "base/io.h"

namespace dial9 {
namespace {

// Parses a hexadecimal field up to `stop`, advancing `s`.
bool take_hex(std::string_view& s, char stop, uint64_t& out) {
  size_t end = s.find(stop);
  if (end == 0 || end == std::string_view::npos || end > 16) return false;
  uint64_t v = 0;
  for (char c : s.substr(0, end)) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  out = v;
  s.remove_prefix(end + 1);
  return true;
}

void skip_spaces(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
}

}  // namespace

std::optional<MapsEntry> parse_maps_line(std::string_view s) {
  // 7f1c2a400000-7f1c2a428000 r-xp 00028000 08:01 1835114   /usr/lib/x86_64-linux-gnu/libc.so.6
  MapsEntry m;
  if (!take_hex(s, '-', m.start) || !take_hex(s, ' ', m.end) || m.end < m.start) return std::nullopt;
  if (s.size() < 5 || s[4] != ' ') return std::nullopt;
  m.read = s[0] == 'r';
  m.write = s[1] == 'w';
  m.exec = s[2] == 'x';
  m.shared = s[3] == 's';
  s.remove_prefix(5);
  uint64_t major = 0, minor = 0;
  if (!take_hex(s, ' ', m.offset) || !take_hex(s, ':', major) || !take_hex(s, ' ', minor)) return std::nullopt;
  size_t end = s.find(' ');
  std::string_view inode = s.substr(0, end);
  if (inode.empty() || !std::all_of(inode.begin(), inode.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  m.inode = std::strtoull(std::string(inode).c_str(), nullptr, 10);
  s = end == std::string_view::npos ? std::string_view() : s.substr(end);
  skip_spaces(s);
  m.path = std::string(s);
  return m;
}

std::vector<MapsEntry> parse_maps(std::string_view text) {
  std::vector<MapsEntry> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    if (auto m = parse_maps_line(text.substr(0, nl))) out.push_back(std::move(*m));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

namespace {

// Large programs map thousands of regions; 64 MiB is far beyond any.
constexpr size_t kMaxMaps = size_t{64} << 20;

std::string task_path(pid_t pid, pid_t tid, const char* what) {
  return "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/" + what;
}

}  // namespace

pid_t address_space_thread(pid_t pid) {
  // One byte tells an empty maps file (a zombie main thread) from a full one.
  auto has_maps = [&](pid_t tid) {
    auto fd = open_read(task_path(pid, tid, "maps"));
    uint8_t b;
    auto n = fd ? read_full(fd->get(), std::span<uint8_t>(&b, 1)) : Result<size_t>(size_t{0});
    return !fd || (n && *n == 1);  // unreadable: let the caller report it
  };
  if (has_maps(pid)) return pid;
  auto tids = list_threads(pid);
  if (!tids) return pid;
  for (pid_t t : *tids) {
    if (t != pid && has_maps(t)) return t;
  }
  return pid;
}

Result<std::vector<MapsEntry>> read_maps(pid_t pid) {
  auto text = read_small_file(task_path(pid, address_space_thread(pid), "maps"), kMaxMaps);
  if (!text) return fail(text.error());
  return parse_maps(*text);
}

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  // "pid (comm) state ppid pgrp session tty_nr tpgid flags ..."
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(close + 1);
  auto token = [&rest]() -> std::string_view {
    const size_t b = rest.find_first_not_of(' ');
    if (b == std::string_view::npos) return {};
    const size_t e = std::min(rest.find(' ', b), rest.size());
    std::string_view t = rest.substr(b, e - b);
    rest.remove_prefix(e);
    return t;
  };
  ProcStat st;
  const std::string_view state = token();
  if (state.size() != 1) return std::nullopt;
  st.state = state[0];
  std::string_view fields[6];  // ppid pgrp session tty_nr tpgid flags
  for (std::string_view& f : fields) {
    f = token();
    if (f.empty()) return std::nullopt;
  }
  long ppid = 0;
  unsigned long flags = 0;
  if (std::from_chars(fields[0].data(), fields[0].data() + fields[0].size(), ppid).ec != std::errc() ||
      std::from_chars(fields[5].data(), fields[5].data() + fields[5].size(), flags).ec != std::errc()) {
    return std::nullopt;
  }
  st.ppid = static_cast<pid_t>(ppid);
  st.flags = flags;
  return st;
}

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  auto text = read_small_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text) return std::nullopt;
  return parse_proc_stat(*text);
}

std::string status_field(std::string_view status, std::string_view key) {
  for (size_t at = 0; at < status.size();) {
    size_t nl = status.find('\n', at);
    std::string_view line = status.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      size_t v = line.find_first_not_of(" \t", key.size() + 1);
      return v == std::string_view::npos ? std::string() : std::string(line.substr(v));
    }
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
  return "";
}

Result<std::vector<pid_t>> list_threads(pid_t pid) {
  auto dir = Dir::open("/proc/" + std::to_string(pid) + "/task");
  if (!dir) return fail(dir.error());
  auto entries = dir->list();
  if (!entries) return fail(entries.error());
  std::vector<pid_t> tids;
  for (const auto& e : *entries) {
    char* end = nullptr;
    long v = std::strtol(e.name.c_str(), &end, 10);
    if (end && *end == '\0' && v > 0) tids.push_back(static_cast<pid_t>(v));
  }
  std::sort(tids.begin(), tids.end());
  return tids;
}

std::string thread_comm(pid_t pid, pid_t tid) {
  auto text = read_small_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/comm", 64);
  if (!text) return "";
  std::string s = std::move(*text);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace dial9
