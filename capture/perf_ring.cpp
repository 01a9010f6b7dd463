#include "capture/perf_ring.h"

#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace dial9::capture {
namespace {

int read_int_file(const char* path, int fallback) {
  std::ifstream in(path);
  int v = fallback;
  if (!(in >> v)) return fallback;
  return v;
}

}  // namespace

std::string explain_perf_open_error(int e) {
  switch (e) {
    case EACCES:
    case EPERM: {
      int paranoid = read_int_file("/proc/sys/kernel/perf_event_paranoid", -100);
      std::string level = paranoid == -100 ? "" : " (kernel.perf_event_paranoid is " + std::to_string(paranoid) + ")";
      return "perf events are not permitted for this user" + level +
             "; run as root, grant CAP_PERFMON (setcap cap_perfmon+ep), or "
             "sudo sysctl kernel.perf_event_paranoid=1";
    }
    case ENOENT:
    case EOPNOTSUPP:
      return "this event is not supported here (no hardware PMU in a VM?); try -e cpu-clock";
    case ENOSYS:
      return "perf_event_open is not available: blocked by seccomp (in a container: allow it in the "
             "seccomp profile, e.g. docker run --security-opt seccomp=PROFILE, or --cap-add PERFMON with "
             "Docker 20.10+), or a kernel without CONFIG_PERF_EVENTS";
    case EMFILE:
      return "too many open files; raise the limit with ulimit -n";
    case EINVAL:
      return "the kernel rejected the event settings (a frequency above "
             "kernel.perf_event_max_sample_rate?)";
    default:
      return std::strerror(e);
  }
}

PerfRing::PerfRing(UniqueFd fd, void* base, size_t map_bytes, size_t data_bytes)
    : fd_(std::move(fd)), base_(base), map_bytes_(map_bytes), data_bytes_(data_bytes) {}

PerfRing::PerfRing(PerfRing&& o) noexcept
    : fd_(std::move(o.fd_)), followers_(std::move(o.followers_)), base_(o.base_), map_bytes_(o.map_bytes_), data_bytes_(o.data_bytes_),
      scratch_(std::move(o.scratch_)) {
  o.base_ = nullptr;
  o.map_bytes_ = o.data_bytes_ = 0;
}

PerfRing& PerfRing::operator=(PerfRing&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = std::move(o.fd_);
    followers_ = std::move(o.followers_);
    base_ = o.base_;
    map_bytes_ = o.map_bytes_;
    data_bytes_ = o.data_bytes_;
    scratch_ = std::move(o.scratch_);
    o.base_ = nullptr;
    o.map_bytes_ = o.data_bytes_ = 0;
  }
  return *this;
}

PerfRing::~PerfRing() { release(); }

void PerfRing::release() {
  if (base_ != nullptr) ::munmap(base_, map_bytes_);
  base_ = nullptr;
  fd_.reset();
}

Result<PerfRing> PerfRing::open(const perf_event_attr& attr, pid_t pid, int cpu, size_t data_pages) {
  if (data_pages == 0 || (data_pages & (data_pages - 1)) != 0) {
    return fail("the ring size must be a power of two pages, not " + std::to_string(data_pages));
  }
  perf_event_attr a = attr;
  int fd = static_cast<int>(::syscall(SYS_perf_event_open, &a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) {
    int e = errno;
    return fail("cannot open perf event: " + explain_perf_open_error(e), e);
  }
  UniqueFd owned(fd);
  size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  size_t map_bytes = (1 + data_pages) * page;
  void* base = ::mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    int e = errno;
    if (e == EPERM || e == ENOMEM) {
      // The kernel lets each user lock perf_event_mlock_kb per CPU (beyond
      // RLIMIT_MEMLOCK); one ring per CPU must fit.
      long cpus = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
      return fail("cannot map a " + std::to_string(map_bytes >> 10) +
                      " KiB perf ring: the locked-memory budget is used up; use fewer --mmap-pages, "
                      "raise ulimit -l, or sudo sysctl kernel.perf_event_mlock_kb=" +
                      std::to_string(static_cast<long>(map_bytes >> 10) * cpus),
                  ENOMEM);  // whatever mmap said: callers tell this case apart by ENOMEM
    }
    return fail(Error::from_errno("cannot map the perf ring", e));
  }
  return PerfRing(std::move(owned), base, map_bytes, data_pages * page);
}

Result<void> PerfRing::add_event(const perf_event_attr& attr, pid_t tid, int cpu) {
  perf_event_attr a = attr;
  int fd = static_cast<int>(::syscall(SYS_perf_event_open, &a, tid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) {
    int e = errno;
    return fail("cannot open perf event: " + explain_perf_open_error(e), e);
  }
  UniqueFd owned(fd);
  if (::ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, fd_.get()) != 0) {
    return fail(Error::from_errno("cannot share a perf ring between events"));
  }
  followers_.push_back(std::move(owned));
  return {};
}

namespace {

// One ioctl on the ring's event and every follower; the first error wins.
Result<void> each_ioctl(int fd, const std::vector<UniqueFd>& followers, unsigned long request, const void* arg,
                        const char* what) {
  Result<void> out;
  auto one = [&](int f) {
    if (::ioctl(f, request, arg) != 0 && out) out = fail(Error::from_errno(what));
  };
  one(fd);
  for (const UniqueFd& f : followers) one(f.get());
  return out;
}

Result<uint64_t> lost_of(int fd) {
  uint64_t v[2] = {0, 0};  // { value, lost } for read_format == PERF_FORMAT_LOST
  ssize_t n;
  do {
    n = ::read(fd, v, sizeof v);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof v)) return fail(Error::from_errno("cannot read perf event"));
  return v[1];
}

}  // namespace

Result<void> PerfRing::enable() {
  return each_ioctl(fd_.get(), followers_, PERF_EVENT_IOC_ENABLE, nullptr, "cannot enable perf event");
}

Result<void> PerfRing::disable() {
  return each_ioctl(fd_.get(), followers_, PERF_EVENT_IOC_DISABLE, nullptr, "cannot disable perf event");
}

Result<void> PerfRing::set_filter(const std::string& filter) {
  return each_ioctl(fd_.get(), followers_, PERF_EVENT_IOC_SET_FILTER, filter.c_str(),
                    "cannot set the tracepoint filter");
}

Result<uint64_t> PerfRing::read_lost() {
  auto total = lost_of(fd_.get());
  if (!total) return total;
  for (const UniqueFd& f : followers_) {
    if (auto n = lost_of(f.get())) *total += *n;
  }
  return total;
}

size_t PerfRing::drain(const std::function<void(std::span<const uint8_t>)>& fn) {
  auto* meta = static_cast<perf_event_mmap_page*>(base_);
  const uint8_t* data = static_cast<const uint8_t*>(base_) + meta->data_offset;
  size_t size = meta->data_size ? static_cast<size_t>(meta->data_size) : data_bytes_;
  // The kernel publishes data_head with release semantics; pair it with an
  // acquire load so the records before it are visible.
  uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
  uint64_t tail = meta->data_tail;
  size_t count = 0;
  while (tail + sizeof(perf_event_header) <= head) {
    size_t off = static_cast<size_t>(tail % size);
    perf_event_header h;
    if (off + sizeof h <= size) {
      std::memcpy(&h, data + off, sizeof h);
    } else {  // the header itself wraps around the end
      for (size_t i = 0; i < sizeof h; ++i) reinterpret_cast<uint8_t*>(&h)[i] = data[(off + i) % size];
    }
    if (h.size < sizeof h || tail + h.size > head) break;  // cannot happen with a sane kernel
    if (off + h.size <= size) {
      fn({data + off, h.size});
    } else {
      scratch_.resize(h.size);
      size_t first = size - off;
      std::memcpy(scratch_.data(), data + off, first);
      std::memcpy(scratch_.data() + first, data, h.size - first);
      fn({scratch_.data(), h.size});
    }
    tail += h.size;
    ++count;
  }
  // Hand the space back only after the records were consumed.
  __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
  return count;
}

Result<void> probe_sampling(SamplingSpec spec, bool every_process) {
  spec.inherit = false;
  auto attr = build_attr(spec);
  if (!attr) return fail(attr.error());
  perf_event_attr a = every_process ? cpu_wide_sampling_attr(*attr) : *attr;
  a.disabled = 1;
  // Every process: on the CPU this thread runs on, which is online.
  auto ring = every_process ? PerfRing::open(a, -1, std::max(0, ::sched_getcpu()), 1) : PerfRing::open(a, 0, -1, 1);
  if (!ring) return fail(ring.error());
  return {};
}

}  // namespace dial9::capture
