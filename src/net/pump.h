// One direction of a relayed TCP connection, for an event loop
// (edge-triggered epoll, non-blocking sockets): the allowlist's proxy
// (proxy.cc) copies both directions of every connection on one thread, so a
// request costs no hand-over between threads (bench/net.sh).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

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
// `from` until it is gone, so a slow reader slows the writer down. A read
// that the other side takes only in part keeps the read buffer itself
// (swapped with the scratch buffer, not copied): a bulk transfer to a slow
// reader costs no copy more.
struct Flow {
  std::vector<char> pending;
  std::size_t sent = 0, size = 0;  // [sent, size) of `pending` is still to go
  bool ended = false;              // `from` said EOF, passed on as shutdown(SHUT_WR)

  void reset() {
    sent = size = 0;
    ended = false;
  }
  bool idle() const { return sent == size; }
  // The proxy's own words (a 200 to CONNECT, the request in origin form)
  // to go first.
  void put(std::string_view text) {
    pending.assign(text.begin(), text.end());
    sent = 0;
    size = text.size();
  }
};

// The loop's read buffers: `scratch` for every read, and a few spare ones
// of the same size, so that a flow that keeps a buffer neither copies it
// nor pays for a fresh one (its pages faulted in) each time.
struct Buffers {
  explicit Buffers(std::size_t size) : scratch(size) {}
  std::vector<char> scratch;
  std::vector<std::vector<char>> spare;
  // A flow's buffer, no longer needed: kept when it is a read buffer and
  // there are few spares, else freed. `b` is left empty.
  void give_back(std::vector<char>& b) {
    if (b.size() == scratch.size() && spare.size() < kMaxSpare) spare.push_back(std::move(b));
    b = {};
  }
  static constexpr std::size_t kMaxSpare = 8;
};

// Moves what can move now, read through `bufs`; the flags are cleared
// where a call said EAGAIN. false: a socket failed (the connection is
// over). A flow that is drained gives its buffer back to the spares.
// `closes_after_eof`: the other direction is over, so an EOF here ends the
// connection and the caller's close() passes it on (no shutdown first).
bool pump(Flow& flow, SocketReady& from, SocketReady& to, Buffers& bufs,
          bool closes_after_eof = false);

}  // namespace aisbx::net
