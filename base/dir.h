// Files inside one directory, addressed relative to a directory fd so that a
// path component swapped for a symlink after we opened the directory cannot
// redirect our writes (the *at() family, O_NOFOLLOW, renameat2).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace dial9 {

class Dir {
 public:
  // Opens `path`, creating it and any missing parents with mode 0700. The
  // path itself is the user's choice and may be reached through symlinks;
  // nothing inside it is.
  static Result<Dir> open_or_create(const std::string& path);
  // Opens an existing directory read-only.
  static Result<Dir> open(const std::string& path);

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }
  std::string path_of(const std::string& name) const { return path_ + "/" + name; }

  // Creates `name` (mode 0600) for writing; fails if anything, including a
  // dangling symlink, already exists at that name.
  Result<UniqueFd> create_exclusive(const std::string& name) const;
  // Opens an existing regular file for reading, or for reading and writing;
  // refuses symlinks.
  Result<UniqueFd> open_file(const std::string& name, bool writable) const;
  // Renames within the directory without replacing an existing target.
  Result<void> rename_noreplace(const std::string& from, const std::string& to) const;
  Result<void> remove(const std::string& name) const;
  // Makes renames and removals in the directory durable.
  Result<void> sync() const;

  struct Entry {
    std::string name;
    uint64_t size;
    bool regular;
  };
  Result<std::vector<Entry>> list() const;

 private:
  Dir(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

// The size of an open file.
Result<uint64_t> file_size(int fd);
// fsync, retrying on EINTR.
Result<void> sync_fd(int fd);

}  // namespace dial9
