// Byte plumbing for the allowlist's proxy and the published ports (relay.h).
#include "net/relay.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace aisbx::net {
namespace {

constexpr int kConnectTimeoutMs = 10000;
// Bigger than a socket's usual read: fewer system calls per megabyte in a
// bulk transfer (bench/net.sh); splice(2) was tried and cost more CPU, the
// pages from the veth arriving one small fragment each.
constexpr std::size_t kRelayBuffer = 256 * 1024;

}  // namespace

bool wait_for(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  int r;
  while ((r = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  return r == 1;
}

ssize_t read_some(int fd, void* buf, std::size_t len, int timeout_ms) {
  for (;;) {
    const ssize_t n = ::recv(fd, buf, len, MSG_DONTWAIT);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    if (!wait_for(fd, POLLIN, timeout_ms)) return -1;
  }
}

bool send_all(int fd, const void* data, std::size_t len) {
  const auto* p = static_cast<const char*>(data);
  while (len) {
    const ssize_t n = ::send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      p += n;
      len -= static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(fd, POLLOUT, -1)) continue;
    return false;
  }
  return true;
}

bool send_text(int fd, const std::string& s) { return send_all(fd, s.data(), s.size()); }

std::optional<Dialling> start_dial(const Address& a, std::uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len;
  if (a.v4) {
    auto& s = reinterpret_cast<sockaddr_in&>(ss);
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    std::memcpy(&s.sin_addr, a.bytes.data(), 4);
    len = sizeof(sockaddr_in);
  } else {
    auto& s = reinterpret_cast<sockaddr_in6&>(ss);
    s.sin6_family = AF_INET6;
    s.sin6_port = htons(port);
    std::memcpy(&s.sin6_addr, a.bytes.data(), 16);
    len = sizeof(sockaddr_in6);
  }
  Dialling d;
  d.fd.reset(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (d.fd.get() < 0) return std::nullopt;
  // No Nagle delay: each piece goes on as it came.
  const int on = 1;
  ::setsockopt(d.fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  d.connected = ::connect(d.fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0;
  if (!d.connected && errno != EINPROGRESS) return std::nullopt;
  return d;
}

std::optional<sys::UniqueFd> dial(const Address& a, std::uint16_t port) {
  auto d = start_dial(a, port);
  if (!d) return std::nullopt;
  sys::UniqueFd fd = std::move(d->fd);
  if (!d->connected) {
    if (!wait_for(fd.get(), POLLOUT, kConnectTimeoutMs)) return std::nullopt;
    int err = 0;
    socklen_t el = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) return std::nullopt;
  }
  return fd;
}

void relay(int a, int b, std::string pending_to_b) {
  // No Nagle delay on either side: each piece goes on as it came, and a
  // small reply is not held back waiting for an acknowledgement.
  const int on = 1;
  for (int fd : {a, b}) ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  if (!pending_to_b.empty() && !send_text(b, pending_to_b)) return;
  // One buffer per thread, kept: the workers (workers.h) serve connection
  // after connection, and a buffer this size would otherwise be mmap()ed
  // and munmap()ed for each.
  thread_local std::vector<char> buf(kRelayBuffer);
  bool a_open = true, b_open = true;
  // The first round reads without a poll: the program's request is
  // usually there already when the connection is handed over.
  pollfd p[2] = {{a, 0, POLLIN}, {b, 0, POLLIN}};
  while (a_open || b_open) {
    for (int i = 0; i < 2; ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const int from = i == 0 ? a : b, to = i == 0 ? b : a;
      // Everything that is there before the next poll: a bulk transfer
      // costs one recv and one send per buffer, not a poll more.
      for (;;) {
        const ssize_t n = ::recv(from, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) {
          ::shutdown(to, SHUT_WR);
          (i == 0 ? a_open : b_open) = false;
          if (n < 0) return;
          break;
        }
        if (!send_all(to, buf.data(), static_cast<std::size_t>(n))) return;
        if (static_cast<std::size_t>(n) < buf.size()) break;
      }
    }
    p[0] = {a, static_cast<short>(a_open ? POLLIN : 0), 0};
    p[1] = {b, static_cast<short>(b_open ? POLLIN : 0), 0};
    if (!a_open && !b_open) break;
    while (::poll(p, 2, -1) < 0)
      if (errno != EINTR) return;
  }
}

}  // namespace aisbx::net
