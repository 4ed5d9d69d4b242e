// The floor of any relay (bench/net.sh; not part of the product): a TCP
// forwarder that checks nothing. One epoll loop accepts on LISTEN, dials TO
// with a blocking connect and copies both ways through a 64 KiB buffer,
// passing a half-close on. Whatever relays bytes between two TCP
// connections on this machine costs at least this much; the allowlist's
// proxy is compared with it in the same rounds.
//
//   forward LISTEN_IPV4 PORT TO_IPV4 PORT
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

namespace {

sockaddr_in address(const char* ip, const char* port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<unsigned short>(std::atoi(port)));
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
    std::fprintf(stderr, "forward: not an IPv4 address: %s\n", ip);
    std::exit(2);
  }
  return a;
}

struct Side {
  int peer;
  bool read_done = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: forward LISTEN_IPV4 PORT TO_IPV4 PORT\n");
    return 2;
  }
  const sockaddr_in listen_at = address(argv[1], argv[2]);
  const sockaddr_in to = address(argv[3], argv[4]);
  const int one = 1;
  const int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, reinterpret_cast<const sockaddr*>(&listen_at), sizeof listen_at) != 0 ||
      listen(l, 128) != 0) {
    std::perror("forward: listen");
    return 1;
  }
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{EPOLLIN, {.fd = l}};
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  std::printf("ready\n");
  std::fflush(stdout);
  std::unordered_map<int, Side> sides;
  static char buf[64 * 1024];
  epoll_event events[64];
  for (;;) {
    const int n = epoll_wait(ep, events, 64, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return 1;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == l) {
        const int c = accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        const int u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(u, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
          close(u);
          close(c);
          continue;
        }
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sides[c] = Side{u};
        sides[u] = Side{c};
        for (int s : {c, u}) {
          epoll_event e{EPOLLIN | EPOLLRDHUP, {.fd = s}};
          epoll_ctl(ep, EPOLL_CTL_ADD, s, &e);
        }
        continue;
      }
      auto it = sides.find(fd);
      if (it == sides.end()) continue;
      const int peer = it->second.peer;
      const ssize_t got = recv(fd, buf, sizeof buf, 0);
      if (got > 0) {
        for (ssize_t at = 0; at < got;) {
          const ssize_t w = send(peer, buf + at, static_cast<size_t>(got - at), MSG_NOSIGNAL);
          if (w <= 0) break;
          at += w;
        }
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      // End of this direction: pass the half-close on; both ended, close.
      it->second.read_done = true;
      epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
      shutdown(peer, SHUT_WR);
      if (sides[peer].read_done || got < 0) {
        close(fd);
        close(peer);
        sides.erase(fd);
        sides.erase(peer);
      }
    }
  }
}
