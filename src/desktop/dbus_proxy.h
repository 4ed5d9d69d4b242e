// `desktop: {dbus: {talk: [...]}}` at run time: xdg-dbus-proxy, a child of
// the launcher on the host, between the sandbox and the user's session bus
// (flatpak's model: the real bus never reaches the sandbox, the proxy
// filters every message by name).
//
// Its lifetime is one pipe: the proxy gets the write end as `--fd`, writes
// one byte when its socket listens, and exits, removing the socket, when
// the pipe's other end closes: when the run ends, and when the launcher is
// killed (the kernel closes its fds; init, which shares them, dies with
// it). No signal or clean-up code has to run for it to go.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>

#include "aisbx/error.h"
#include "aisbx/plan.h"
#include "aisbx/sys/fd.h"

namespace aisbx::desktop {

class DbusProxy {
 public:
  DbusProxy(pid_t pid, sys::UniqueFd alive, std::string socket)
      : pid_(pid), alive_(std::move(alive)), socket_(std::move(socket)) {}
  DbusProxy(DbusProxy&& o) noexcept
      : pid_(std::exchange(o.pid_, -1)), alive_(std::move(o.alive_)), socket_(std::move(o.socket_)) {}
  DbusProxy& operator=(DbusProxy&&) = delete;
  DbusProxy(const DbusProxy&) = delete;
  DbusProxy& operator=(const DbusProxy&) = delete;
  // Closes the pipe, waits until the proxy has exited, and removes its
  // socket if the proxy could not (landlock mode's end of the run kills
  // every descendant of the launcher, the proxy among them).
  ~DbusProxy();

 private:
  pid_t pid_ = -1;
  sys::UniqueFd alive_;  // the read end: the proxy lives while it is open
  std::string socket_;
};

// Makes the socket's directory (the user's own, 0700), starts the proxy and
// returns once its socket listens. Call before the namespaces exist: the
// proxy stays in the host's, where the bus is.
Expected<DbusProxy> start_dbus_proxy(const plan::DesktopPlan& d);

}  // namespace aisbx::desktop
