// Taking connections off a level-triggered listener when the process may
// run out of file descriptors. The sandboxed program decides how many
// connections it holds open to the proxy, up to as many as the proxy may
// have fds: then accept4() fails with EMFILE, the connection stays queued,
// the listener stays readable, and a loop that only retried would spin a
// CPU of the host. A spare fd kept for this is given up for one accept,
// the connection is closed at once, and the spare is taken back: each
// queued connection is shed instead of spinning on it.
#pragma once

#include <atomic>
#include <mutex>

#include "aisbx/sys/fd.h"

namespace aisbx::net {

class Acceptor {
 public:
  Acceptor();
  // The accepted socket (non-blocking, close-on-exec), or -1: nothing was
  // queued, or the connection was shed for want of fds.
  int accept(int listener);
  // Connections shed so far.
  unsigned long shed() const { return shed_.load(); }

 private:
  std::mutex mu_;  // the spare, for the published ports' worker threads
  sys::UniqueFd spare_;
  std::atomic<unsigned long> shed_{0};
};

}  // namespace aisbx::net
