// network.publish: a server the program starts inside, reachable from the
// host at 127.0.0.1:PORT. It is a relay, never `--net host`:
//   - before the namespaces, the launcher listens at the host's
//     127.0.0.1:PORT and [::1]:PORT (a port in use is an error before
//     anything runs; [::1] is skipped when the host's `lo` has no IPv6);
//   - after unshare(USER|NET) and before the pid namespace, it forks the
//     relay (DESIGN.md "Network allowlist"): the relay's own sockets are
//     made in the sandbox's network namespace, so it dials 127.0.0.1:PORT
//     there, while it stays outside the sandbox's pid namespace (the
//     program cannot see or signal it) and holds the host's listeners.
// The relay only ever dials into the sandbox: nothing it does reaches the
// host's network for the program.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "aisbx/error.h"
#include "aisbx/plan.h"
#include "aisbx/sys/fd.h"

namespace aisbx::net {

class Published {
 public:
  Published() = default;
  Published(Published&& o) noexcept
      : listeners_(std::move(o.listeners_)), ports_(std::move(o.ports_)),
        pid_(std::exchange(o.pid_, -1)) {}
  Published& operator=(Published&&) = delete;
  Published(const Published&) = delete;
  Published& operator=(const Published&) = delete;
  // Kills and reaps the relay: it dies with the run (and with the
  // launcher, by PR_SET_PDEATHSIG).
  ~Published();

  // In the host's network namespace: listens at 127.0.0.1 and ::1 on
  // every port of plan.publish.
  static Expected<Published> listen(const plan::NetAllowPlan& plan);
  // In the sandbox's new network namespace, before the pid namespace:
  // forks the relay, which takes the listeners. The launcher keeps none.
  Expected<void> start();

 private:
  std::vector<sys::UniqueFd> listeners_;
  std::vector<std::uint16_t> ports_;
  pid_t pid_ = -1;
};

}  // namespace aisbx::net
