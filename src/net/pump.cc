// One direction of a relayed connection for an event loop (pump.h).
#include "net/pump.h"

#include <sys/socket.h>

#include <cerrno>

namespace aisbx::net {
namespace {

// send() without waiting: bytes taken, 0 when the buffer is full (the flag
// cleared), -1 on a failure.
ssize_t send_now(SocketReady& to, const char* data, std::size_t len) {
  for (;;) {
    const ssize_t n = ::send(to.fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      to.writable = false;
      return 0;
    }
    return -1;
  }
}

}  // namespace

bool pump(Flow& flow, SocketReady& from, SocketReady& to, Buffers& bufs,
          bool closes_after_eof) {
  std::vector<char>& scratch = bufs.scratch;
  for (;;) {
    if (!flow.idle()) {
      if (!to.writable) return true;
      const ssize_t n = send_now(to, flow.pending.data() + flow.sent, flow.size - flow.sent);
      if (n < 0) return false;
      flow.sent += static_cast<std::size_t>(n);
      if (!flow.idle()) continue;  // writable is false now, or a short send: try once more
      flow.sent = flow.size = 0;
      bufs.give_back(flow.pending);
    }
    if (flow.ended || !from.readable) return true;
    const ssize_t n = ::recv(from.fd, scratch.data(), scratch.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        from.readable = false;
        return true;
      }
      return false;
    }
    if (n == 0) {
      // A half-close is passed on; the other direction goes on.
      if (!closes_after_eof) ::shutdown(to.fd, SHUT_WR);
      flow.ended = true;
      from.readable = false;
      return true;
    }
    const auto got = static_cast<std::size_t>(n);
    // Less than asked: the receive queue was empty at that moment, and an
    // edge-triggered loop hears of the next bytes; no recv() that would
    // only say EAGAIN. Not so once the peer has closed: its FIN may have
    // come with the event already taken.
    if (got < scratch.size() && !from.hup) from.readable = false;
    const ssize_t m = to.writable ? send_now(to, scratch.data(), got) : 0;
    if (m < 0) return false;
    if (static_cast<std::size_t>(m) < got) {
      // The rest waits in the buffer it was read into; the flow's old
      // buffer (empty, or of a size too small) becomes the scratch.
      const std::size_t want = scratch.size();
      flow.pending.swap(scratch);
      flow.sent = static_cast<std::size_t>(m);
      flow.size = got;
      if (scratch.size() != want) {
        if (!bufs.spare.empty()) {
          scratch.swap(bufs.spare.back());
          bufs.spare.pop_back();
        } else {
          scratch.assign(want, 0);
        }
      }
    }
  }
}

}  // namespace aisbx::net
