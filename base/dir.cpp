#include "base/dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace dial9 {
namespace {

template <typename F>
auto retry_eintr(F f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r < 0 && errno == EINTR);
  return r;
}

}  // namespace

Result<Dir> Dir::open(const std::string& path) {
  int fd = retry_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return fail(Error::from_errno("cannot open directory '" + path + "'"));
  return Dir(UniqueFd(fd), path);
}

Result<Dir> Dir::open_or_create(const std::string& path) {
  if (path.empty()) return fail("the output directory name is empty");
  // Create missing components one by one, each 0700 (a trace can hold
  // anything the target had in memory; others should not read it).
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return fail(Error::from_errno("cannot create directory '" + prefix + "'"));
    }
  }
  return open(path);
}

Result<UniqueFd> Dir::create_exclusive(const std::string& name) const {
  int fd = retry_eintr([&] {
    return ::openat(fd_.get(), name.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  });
  if (fd < 0) {
    int e = errno;
    if (e == EEXIST) {
      return fail("refusing to write '" + path_of(name) +
                      "': something (a file or symlink) already exists there; remove it",
                  e);
    }
    return fail(Error::from_errno("cannot create '" + path_of(name) + "'", e));
  }
  return UniqueFd(fd);
}

Result<UniqueFd> Dir::open_file(const std::string& name, bool writable) const {
  int fd = retry_eintr([&] {
    return ::openat(fd_.get(), name.c_str(), (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC);
  });
  if (fd < 0) {
    int e = errno;
    if (e == ELOOP) return fail("refusing to open '" + path_of(name) + "': it is a symlink", e);
    return fail(Error::from_errno("cannot open '" + path_of(name) + "'", e));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail("refusing to open '" + path_of(name) + "': not a regular file");
  }
  return UniqueFd(fd);
}

Result<void> Dir::rename_noreplace(const std::string& from, const std::string& to) const {
  if (::renameat2(fd_.get(), from.c_str(), fd_.get(), to.c_str(), RENAME_NOREPLACE) != 0) {
    return fail(Error::from_errno("cannot rename '" + path_of(from) + "' to '" + to + "'"));
  }
  return {};
}

Result<void> Dir::remove(const std::string& name) const {
  if (::unlinkat(fd_.get(), name.c_str(), 0) != 0) {
    return fail(Error::from_errno("cannot remove '" + path_of(name) + "'"));
  }
  return {};
}

Result<void> Dir::sync() const {
  auto r = sync_fd(fd_.get());
  if (!r) return fail(std::move(r.error()).with_context(path_));
  return {};
}

Result<std::vector<Dir::Entry>> Dir::list() const {
  // fdopendir takes ownership of its fd, so give it a duplicate.
  int dup = ::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return fail(Error::from_errno("cannot list '" + path_ + "'"));
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    return fail(Error::from_errno("cannot list '" + path_ + "'"));
  }
  ::rewinddir(d);
  std::vector<Entry> out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(fd_.get(), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // raced away
    out.push_back(Entry{name, static_cast<uint64_t>(st.st_size), S_ISREG(st.st_mode)});
  }
  ::closedir(d);
  return out;
}

Result<uint64_t> file_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(Error::from_errno("fstat failed"));
  return static_cast<uint64_t>(st.st_size);
}

Result<void> sync_fd(int fd) {
  if (retry_eintr([&] { return ::fsync(fd); }) != 0) return fail(Error::from_errno("fsync failed"));
  return {};
}

}  // namespace dial9
