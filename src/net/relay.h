// Byte plumbing: blocking I/O with deadlines for one connection per
// thread (the published ports, publish.cc; the proxy's DNS over TCP), a
// dial, and the blocking two-way copy of publish.cc.
// The proxy's own connections go through its event loop (pump.h).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "aisbx/net_rules.h"
#include "aisbx/sys/fd.h"

namespace aisbx::net {

// poll() for `events` until `timeout_ms` (-1: no limit); true when ready.
bool wait_for(int fd, short events, int timeout_ms);
// recv() what is there, waiting up to `timeout_ms`; -1 on error or timeout.
ssize_t read_some(int fd, void* buf, std::size_t len, int timeout_ms);
bool send_all(int fd, const void* data, std::size_t len);
bool send_text(int fd, const std::string& s);
// A TCP connect to `a`:`port` begun without waiting, in the calling
// thread's network namespace (a socket keeps the namespace it was made
// in): the non-blocking socket, and whether it is connected already;
// nullopt when it failed at once.
struct Dialling {
  sys::UniqueFd fd;
  bool connected = false;
};
std::optional<Dialling> start_dial(const Address& a, std::uint16_t port);
// A TCP connection to `a`:`port` in the calling thread's network
// namespace, waited for, or nullopt.
std::optional<sys::UniqueFd> dial(const Address& a, std::uint16_t port);
// Copies both ways until both sides are done; a half-close is passed on.
// `pending_to_b` is sent to `b` first.
void relay(int a, int b, std::string pending_to_b = {});

}  // namespace aisbx::net
