// One direction of a relayed TCP connection, for an event loop
// (edge-triggered epoll, non-blocking sockets): the allowlist's proxy
// (proxy.cc) copies both directions of every connection on one thread, so a
// request costs no hand-over between threads (bench/net.sh).
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace aisbx::net {

// What the loop knows about one socket, from its edge-triggered events:
// readable/writable until a call says EAGAIN.
struct SocketReady {
  int fd = -1;
  bool readable = false;
  bool writable = false;
  // The peer closed or failed (EPOLLRDHUP, EPOLLHUP, EPOLLERR): read until
  // recv() says so, however short the reads.
  bool hup = false;
};

// Bytes from one socket to the other. `pending` holds what was read and not
// yet taken by the other side (its buffer full): nothing more is read from
// `from` until it is gone, so a slow reader slows the writer down.
struct Flow {
  std::string pending;
  std::size_t sent = 0;  // of `pending`
  bool ended = false;    // `from` said EOF, passed on as shutdown(SHUT_WR)

  void reset() {
    pending.clear();
    sent = 0;
    ended = false;
  }
  bool idle() const { return sent == pending.size(); }
};

// Moves what can move now through `scratch`; the flags are cleared where a
// call said EAGAIN. false: a socket failed (the connection is over).
// `closes_after_eof`: the other direction is over, so an EOF here ends the
// connection and the caller's close() passes it on (no shutdown first).
bool pump(Flow& flow, SocketReady& from, SocketReady& to, std::span<char> scratch,
          bool closes_after_eof = false);

}  // namespace aisbx::net
