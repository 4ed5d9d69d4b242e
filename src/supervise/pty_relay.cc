#include "supervise/pty_relay.h"

#include <signal.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

namespace aisbx::supervise {

Expected<std::optional<Pty>> open_pty() {
  Pty pty;
  bool any = false;
  for (int fd = 0; fd < 3; ++fd) any |= pty.is_tty[fd] = ::isatty(fd) == 1;
  if (!any) return std::nullopt;
  pty.out_fd = pty.is_tty[1] || !pty.is_tty[2] ? 1 : 2;
  pty.master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (pty.master.get() < 0) return sys_fail("posix_openpt", "is /dev/ptmx (devpts) available?");
  if (::grantpt(pty.master.get()) != 0) return sys_fail("grantpt");
  if (::unlockpt(pty.master.get()) != 0) return sys_fail("unlockpt");
  char name[128];
  if (::ptsname_r(pty.master.get(), name, sizeof name) != 0) return sys_fail("ptsname_r");
  pty.slave.reset(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (pty.slave.get() < 0) return sys_fail("open " + q(name));
  // The command sees the modes the user's terminal has (before raw mode).
  for (int fd = 0; fd < 3; ++fd) {
    termios t{};
    if (pty.is_tty[fd] && ::tcgetattr(fd, &t) == 0) {
      (void)::tcsetattr(pty.slave.get(), TCSANOW, &t);
      break;
    }
  }
  copy_window_size(pty);
  return pty;
}

std::optional<Error> enter_session(const Pty* pty) {
  if (::setsid() < 0) return errno_error(errno, "setsid");
  if (pty == nullptr) return std::nullopt;
  const int slave = pty->slave.get();
  if (::ioctl(slave, TIOCSCTTY, 0) != 0) return errno_error(errno, "ioctl(TIOCSCTTY) on the pty");
  for (int fd = 0; fd < 3; ++fd)
    if (pty->is_tty[fd] && ::dup2(slave, fd) < 0) return errno_error(errno, "dup2 of the pty");
  return std::nullopt;
}

void RawMode::enter() {
  if (::isatty(0) != 1 || ::tcgetpgrp(0) != ::getpgrp()) return;
  if (::tcgetattr(0, &saved_) != 0) return;
  termios raw = saved_;
  ::cfmakeraw(&raw);
  if (::tcsetattr(0, TCSADRAIN, &raw) == 0) active_ = true;
}

void RawMode::restore() {
  if (!active_) return;
  (void)::tcsetattr(0, TCSADRAIN, &saved_);
  active_ = false;
}

void TerminalKeeper::save() {
  for (int fd = 0; fd < 3; ++fd) {
    if (::isatty(fd) != 1 || ::tcgetpgrp(fd) != ::getpgrp()) continue;
    if (::tcgetattr(fd, &modes_) != 0) return;
    fd_ = fd;
    pgrp_ = ::getpgrp();
    return;
  }
}

void TerminalKeeper::restore() {
  if (fd_ < 0) return;
  // The run may have left the launcher in the background of its terminal,
  // where tcsetpgrp and tcsetattr raise SIGTTOU unless it is blocked.
  sigset_t ttou, old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  ::sigprocmask(SIG_BLOCK, &ttou, &old);
  if (::tcgetpgrp(fd_) != pgrp_) (void)::tcsetpgrp(fd_, pgrp_);
  termios now{};
  if (::tcgetattr(fd_, &now) == 0 &&
      (now.c_lflag != modes_.c_lflag || now.c_iflag != modes_.c_iflag ||
       now.c_oflag != modes_.c_oflag || now.c_cflag != modes_.c_cflag))
    (void)::tcsetattr(fd_, TCSADRAIN, &modes_);
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  fd_ = -1;
}

void copy_window_size(const Pty& pty) {
  winsize ws{};
  for (int fd = 0; fd < 3; ++fd)
    if (pty.is_tty[fd] && ::ioctl(fd, TIOCGWINSZ, &ws) == 0) {
      (void)::ioctl(pty.master.get(), TIOCSWINSZ, &ws);
      return;
    }
}

Relay::Relay(Pty& pty, bool read_stdin) : pty_(pty), stdin_open_(read_stdin) {
  const int flags = ::fcntl(pty_.master.get(), F_GETFL);
  if (flags >= 0) (void)::fcntl(pty_.master.get(), F_SETFL, flags | O_NONBLOCK);
}

int Relay::want(pollfd* fds) const {
  int n = 0;
  if (master_open_)
    fds[n++] = {pty_.master.get(), static_cast<short>(POLLIN | (in_len_ > in_off_ ? POLLOUT : 0)), 0};
  if (stdin_open_ && in_len_ == in_off_) fds[n++] = {0, POLLIN, 0};
  return n;
}

void Relay::from_master() {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(pty_.master.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {  // EIO: no process holds the slave any more
      master_open_ = false;
      return;
    }
    // A user's terminal that went away: the command's output is dropped,
    // and still read, so that the command never blocks on it.
    if (out_ok_) out_ok_ = sys::write_all(pty_.out_fd, std::string_view(buf, static_cast<std::size_t>(n)));
  }
}

void Relay::on_ready(const pollfd* fds, int n) {
  for (int i = 0; i < n; ++i) {
    const pollfd& p = fds[i];
    if (p.revents == 0) continue;
    if (p.fd == 0) {
      const ssize_t r = ::read(0, in_, sizeof in_);
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r <= 0) {  // EOF or hangup: the command keeps its pty, with no input
        stdin_open_ = false;
        continue;
      }
      in_len_ = static_cast<std::size_t>(r);
      in_off_ = 0;
      continue;
    }
    if (p.revents & POLLOUT) {
      const ssize_t w = ::write(pty_.master.get(), in_ + in_off_, in_len_ - in_off_);
      if (w > 0) in_off_ += static_cast<std::size_t>(w);
      // Input the command can no longer receive is dropped.
      if (in_off_ == in_len_ || (w < 0 && errno != EAGAIN && errno != EINTR)) in_len_ = in_off_ = 0;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) from_master();
  }
}

void Relay::drain() {
  if (master_open_) from_master();
}

}  // namespace aisbx::supervise
