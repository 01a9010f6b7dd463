// EINTR-safe file I/O helpers for host-side code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace dial9 {

// Opens `path` read-only and close-on-exec. The error names the path.
Result<UniqueFd> open_read(const std::string& path);

// Reads up to `buf.size()` bytes, retrying on EINTR and short reads until the
// buffer is full or end of file. Returns the number of bytes read (0 = EOF).
Result<size_t> read_full(int fd, std::span<uint8_t> buf);

// Writes all of `data`, retrying on EINTR and short writes.
Result<void> write_all(int fd, std::span<const uint8_t> data);

// Writes `data` to `path` whole or not at all: into a temporary file beside
// it, fsync'd, then renamed over `path` (mode 0644 less the umask). On
// failure the temporary is removed and `path` is untouched; the error
// names the path and says what failed (ENOSPC, EACCES, a missing directory).
// An existing path that is not a regular file (a device such as /dev/stdout,
// a pipe, a symlink) is written through in place instead, never replaced.
Result<void> write_file_atomic(const std::string& path, std::span<const uint8_t> data);

// Reads a whole (small) file, failing if it is larger than `max_bytes`.
Result<std::string> read_small_file(const std::string& path, size_t max_bytes);

// Calls `line` with each line of the file at `path` (without its '\n'; a
// last line without one too), reading it a chunk at a time: for a large
// file of which the caller keeps less than the text (/proc/kallsyms, 5 MB
// and more). A file the kernel formats as it is read can take long: once
// `stop` is requested it fails with ECANCELED before its next read.
Result<void> for_each_line(const std::string& path, const std::function<void(std::string_view)>& line,
                           std::stop_token stop = {});

}  // namespace dial9
