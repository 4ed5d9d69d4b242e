#include "net/accept.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace aisbx::net {

Acceptor::Acceptor() : spare_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

int Acceptor::accept(int listener) {
  int c;
  while ((c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0 &&
         errno == EINTR) {
  }
  if (c >= 0 || (errno != EMFILE && errno != ENFILE)) return c;
  std::lock_guard lock(mu_);
  spare_.reset();
  const int shed = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (shed >= 0) ::close(shed);
  spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (shed >= 0 && shed_.fetch_add(1) == 0)
    std::fputs("aisbx-ns: network: refused connections: the proxy has no file descriptor "
               "left (the sandbox holds too many connections open)\n",
               stderr);
  return -1;
}

}  // namespace aisbx::net
