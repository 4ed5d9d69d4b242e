// UniqueFd: one owned file descriptor, closed when the owner goes away.
// Move-only, like sandbox2's FDCloser and minijail's scoped handles.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <utility>

namespace aisbx::sys {

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }

  // Gives up ownership: the caller closes the returned fd.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

  // Closes the owned fd (if any) and takes `fd`. errno is kept: a UniqueFd
  // going out of scope between a failing call and sys_fail() must not change
  // the error that gets reported. close(2) errors are ignored on purpose:
  // the fd is gone either way on Linux, and retrying would be wrong.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0 && fd_ != fd) {
      const int saved = errno;
      ::close(fd_);
      errno = saved;
    }
    fd_ = fd;
  }

 private:
  int fd_;
};

// Writes all of `text` through short writes and EINTR; false (errno set)
// when a write fails.
inline bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace aisbx::sys
