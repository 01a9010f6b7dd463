#include "base/io.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace dial9 {

Result<UniqueFd> open_read(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return fail(Error::from_errno("cannot open '" + path + "'"));
  return UniqueFd(fd);
}

Result<size_t> read_full(int fd, std::span<uint8_t> buf) {
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + done, buf.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Error::from_errno("read failed"));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Result<void> write_all(int fd, std::span<const uint8_t> data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Error::from_errno("write failed"));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<void> write_file_atomic(const std::string& path, std::span<const uint8_t> data) {
  // A device, a pipe or a symlink (/dev/stdout, /dev/null, a fifo, a link
  // the user keeps pointing somewhere) is written through, not replaced:
  // renaming over it would swap the entry itself for a regular file.
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return fail(Error::from_errno("cannot write '" + path + "'"));
    UniqueFd owner(fd);
    if (auto w = write_all(fd, data); !w) {
      return fail("cannot write '" + path + "': " + std::strerror(w.error().errno_value()), w.error().errno_value());
    }
    return {};
  }
  std::string tmp = path + ".tmp-XXXXXX";
  std::vector<char> name(tmp.begin(), tmp.end());
  name.push_back('\0');
  int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    return fail("cannot write '" + path + "': " + std::strerror(e) +
                    (e == ENOENT ? " (the directory does not exist)" : ""),
                e);
  }
  UniqueFd owner(fd);
  auto cleanup = [&](const std::string& what, int e) -> Result<void> {
    ::unlink(name.data());
    return fail("cannot write '" + path + "': " + what + ": " + std::strerror(e), e);
  };
  if (auto w = write_all(fd, data); !w) return cleanup("write", w.error().errno_value());
  mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0644 & ~mask) != 0 || ::fsync(fd) != 0) return cleanup("sync", errno);
  if (::rename(name.data(), path.c_str()) != 0) return cleanup("rename", errno);
  return {};
}

Result<std::string> read_small_file(const std::string& path, size_t max_bytes) {
  auto fd = open_read(path);
  if (!fd) return fail(fd.error());
  std::string out;
  uint8_t chunk[16384];
  for (;;) {
    auto n = read_full(fd->get(), chunk);
    if (!n) return fail(std::move(n.error()).with_context(path));
    if (*n == 0) break;
    if (out.size() + *n > max_bytes) {
      return fail("'" + path + "' is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(reinterpret_cast<const char*>(chunk), *n);
  }
  return out;
}

Result<void> for_each_line(const std::string& path, const std::function<void(std::string_view)>& line,
                           std::stop_token stop) {
  auto fd = open_read(path);
  if (!fd) return fail(fd.error());
  std::vector<uint8_t> buf(size_t{64} << 10);
  size_t held = 0;  // the start of a line the last read cut
  for (;;) {
    if (stop.stop_requested()) return fail("reading '" + path + "' was stopped", ECANCELED);
    if (held == buf.size()) buf.resize(buf.size() * 2);  // a line longer than the buffer
    auto n = read_full(fd->get(), std::span<uint8_t>(buf).subspan(held));
    if (!n) return fail(std::move(n.error()).with_context(path));
    const size_t end = held + *n;
    std::string_view text(reinterpret_cast<const char*>(buf.data()), end);
    size_t pos = 0;
    for (size_t eol; (eol = text.find('\n', pos)) != std::string_view::npos; pos = eol + 1) line(text.substr(pos, eol - pos));
    if (*n == 0) {
      if (pos < end) line(text.substr(pos));
      return {};
    }
    std::memmove(buf.data(), buf.data() + pos, end - pos);
    held = end - pos;
  }
}

}  // namespace dial9
