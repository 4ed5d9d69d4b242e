// The allowlist at run time (DESIGN.md "Network allowlist"): a proxy
// process outside the sandbox, forked by the launcher before it enters the
// namespaces, so that it stays in the host's network namespace, user
// namespace and pid namespace (the sandbox cannot see, signal or ptrace it).
//
// Once the launcher has unshared the network namespace it makes the
// listening sockets there (hand_over): a socket keeps the namespace it was
// made in, so the proxy accepts inside and dials outside. Every address is
// local inside (a `local` default route on `lo`), so whatever a program
// dials at a relay port lands on one of these sockets, and getsockname()
// on the accepted socket says where it meant to go.
#pragma once

#include <sys/types.h>

#include "aisbx/error.h"
#include "aisbx/plan.h"
#include "aisbx/trace.h"
#include "aisbx/sys/fd.h"

namespace aisbx::net {

class Proxy {
 public:
  Proxy(pid_t pid, sys::UniqueFd control) : pid_(pid), control_(std::move(control)) {}
  Proxy(Proxy&& o) noexcept : pid_(std::exchange(o.pid_, -1)), control_(std::move(o.control_)) {}
  Proxy& operator=(Proxy&&) = delete;
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;
  // Kills and reaps the proxy: it dies with the run (and with the
  // launcher, by PR_SET_PDEATHSIG, if the launcher is killed).
  ~Proxy();

  // In the sandbox's new network namespace (the caller has unshared it and
  // holds CAP_NET_ADMIN there): brings `lo` up, makes every address local,
  // opens the relay, DNS and proxy sockets and passes them to the proxy.
  // Returns once the proxy has them.
  Expected<void> hand_over(const plan::NetAllowPlan& plan);
  // Best effort (--mode landlock): the HTTP proxy's listener at the host's
  // 127.0.0.1, made by listen_on_host().
  Expected<void> give(sys::UniqueFd listener);

  // What the proxy denied so far, counted per destination and reason (the
  // --trace report). Empty when the proxy does not answer within a second.
  std::vector<trace::NetDenial> denials();

 private:
  Expected<void> pass(const std::vector<int>& fds);
  pid_t pid_ = -1;
  sys::UniqueFd control_;
};

// Best effort (--mode landlock): a listener at the host's 127.0.0.1 on a
// port the kernel chooses, and that port.
Expected<std::pair<sys::UniqueFd, std::uint16_t>> listen_on_host();

// Forks the proxy. Call before unshare(CLONE_NEWNET).
Expected<Proxy> start_proxy(const plan::NetAllowPlan& plan);

// The proxy's own loop (proxy.cc): runs in the child until the launcher
// goes away. `control` carries the listening sockets.
[[noreturn]] void proxy_main(const plan::NetAllowPlan& plan, int control);

}  // namespace aisbx::net
