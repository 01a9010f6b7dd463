// Error values for host-side libraries.
//
// Result<T> is a deliberately small subset of C++23 std::expected<T, Error>
// (value(), error(), has_value(), operator bool, operator*, operator->), so
// switching to std::expected later is a one-line change. Libraries return
// Result instead of throwing; only `main` turns an Error into an exit code.
//
// Not for the in-process agent: Error owns a std::string.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace dial9 {

// What went wrong, with the errno that caused it (0 when none) and a message
// a user can act on. Context is prepended as the error travels up:
// "reading trace.bin: gzip data is corrupt".
class Error {
 public:
  Error() = default;
  explicit Error(std::string message, int errno_value = 0)
      : message_(std::move(message)), errno_(errno_value) {}

  // An error from a failed libc call: "<what>: <strerror(errno)>".
  static Error from_errno(const std::string& what, int errno_value = errno) {
    return Error(what + ": " + std::strerror(errno_value), errno_value);
  }

  const std::string& message() const { return message_; }
  int errno_value() const { return errno_; }

  // Prefixes `context: ` to the message; returns *this for chaining.
  Error& with_context(const std::string& context) {
    message_ = context + ": " + message_;
    return *this;
  }

 private:
  std::string message_;
  int errno_ = 0;
};

// Wraps an Error so `return fail(...)` converts into any Result<T>.
struct Unexpected {
  Error error;
};
inline Unexpected fail(Error e) { return Unexpected{std::move(e)}; }
inline Unexpected fail(std::string message, int errno_value = 0) {
  return Unexpected{Error(std::move(message), errno_value)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  Error& error() & { return std::get<1>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(std::move(u.error)), ok_(false) {}  // NOLINT

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  Error& error() { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace dial9
