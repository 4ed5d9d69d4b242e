// The command's own terminal, like sudo's use_pty: when the launcher runs
// in a terminal, the command gets a new session whose controlling terminal
// is a pseudo-terminal the launcher relays. Nothing in the sandbox then
// holds the user's terminal: it cannot take its foreground (tcsetpgrp),
// type into it (TIOCSTI), or read what the user types after the run.
#pragma once

#include <poll.h>
#include <termios.h>

#include <optional>

#include "aisbx/error.h"
#include "aisbx/sys/fd.h"

namespace aisbx::supervise {

struct Pty {
  sys::UniqueFd master, slave;
  bool is_tty[3] = {false, false, false};  // which of fds 0, 1, 2 get the slave
  int out_fd = 1;                          // where the master's output goes
};

// A pty when any of fds 0, 1, 2 is a terminal (a process holding the
// user's terminal on stdout can read from it too), else nullopt. The
// slave starts with the terminal's modes and window size.
Expected<std::optional<Pty>> open_pty();

// In the command's process, before exec: a new session; with a pty, its
// slave as the controlling terminal on the fds that were terminals.
std::optional<Error> enter_session(const Pty* pty);

// The user's terminal in raw mode while the command runs (input goes to
// the pty unchanged; the pty's line discipline does echo and signals),
// put back by restore() and on destruction, on every exit path.
class RawMode {
 public:
  RawMode() = default;
  ~RawMode() { restore(); }
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;
  // Only when fd 0 is a terminal whose foreground is our process group: a
  // background launcher must not change (or read) the terminal.
  void enter();
  void restore();
  bool active() const { return active_; }

 private:
  termios saved_{};
  bool active_ = false;
};

// The user's terminal as the launcher found it, put back when the command
// has ended: for runs that hand the command the user's terminal itself (the
// namespace wall: its pid namespace ends every process of the run, but the
// foreground group it took with tcsetpgrp and the modes it set would stay).
// Only when the launcher holds the terminal's foreground at the start.
class TerminalKeeper {
 public:
  TerminalKeeper() = default;
  ~TerminalKeeper() { restore(); }
  TerminalKeeper(const TerminalKeeper&) = delete;
  TerminalKeeper& operator=(const TerminalKeeper&) = delete;
  void save();
  void restore();

 private:
  int fd_ = -1;
  pid_t pgrp_ = -1;
  termios modes_{};
};

// Copies the window size of the user's terminal to the pty (SIGWINCH).
void copy_window_size(const Pty& pty);

// One step of the relay: moves what is ready between fd 0 and the master,
// and the master to out_fd. Owns its buffers and its view of which side is
// still open.
class Relay {
 public:
  explicit Relay(Pty& pty, bool read_stdin);
  // The fds poll() should watch this round (at most 2), filled in `fds`.
  int want(pollfd* fds) const;
  // After poll(): does the copying.
  void on_ready(const pollfd* fds, int n);
  // The command has ended: what the pty still holds goes out.
  void drain();

 private:
  void from_master();
  Pty& pty_;
  bool stdin_open_;
  bool master_open_ = true;
  bool out_ok_ = true;
  char in_[4096];
  std::size_t in_len_ = 0, in_off_ = 0;
};

}  // namespace aisbx::supervise
