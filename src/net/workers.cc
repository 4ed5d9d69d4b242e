// The connection pool of the publish relay (workers.h).
#include "net/workers.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <system_error>
#include <thread>

#include "net/accept.h"

namespace aisbx::net {
namespace {

// Idle workers kept for the next connections; one that finishes a
// connection while this many wait ends instead.
constexpr int kMaxIdle = 8;

struct Pool {
  sys::UniqueFd epoll;
  std::function<void(int, sys::UniqueFd)> serve;
  std::atomic<int> idle{0};
  Acceptor acceptor;
};

void work(Pool* pool);

// Counted idle before it runs, so that two workers never both see the
// pool empty and both start one. Out of threads: the connections wait in
// the listen backlog until a worker is free.
void start_worker(Pool* pool) {
  pool->idle.fetch_add(1);
  try {
    std::thread(work, pool).detach();
  } catch (const std::system_error&) {
    pool->idle.fetch_sub(1);
  }
}

void work(Pool* pool) {
  for (;;) {
    epoll_event ev{};
    const int n = ::epoll_wait(pool->epoll.get(), &ev, 1, -1);
    if (n <= 0) continue;  // EINTR
    // Level-triggered and shared: another worker may have taken it. Out
    // of fds, the connection is shed, not retried (net/accept.h).
    const int c = pool->acceptor.accept(ev.data.fd);
    if (c < 0) continue;
    if (pool->idle.fetch_sub(1) == 1) start_worker(pool);
    pool->serve(ev.data.fd, sys::UniqueFd(c));
    if (pool->idle.load() >= kMaxIdle) return;
    pool->idle.fetch_add(1);
  }
}

}  // namespace

Expected<void> serve_on_workers(const std::vector<int>& listeners,
                                std::function<void(int, sys::UniqueFd)> serve) {
  // The pool lives as long as the process (the proxy and the relay end by
  // SIGKILL only), so it is never freed.
  auto pool = std::make_unique<Pool>();
  pool->epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (pool->epoll.get() < 0) return sys_fail("network: epoll_create1 for the connection workers");
  for (int fd : listeners) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(pool->epoll.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
      return sys_fail("network: epoll_ctl for the connection workers");
  }
  pool->serve = std::move(serve);
  start_worker(pool.get());
  if (pool->idle.load() == 0) return fail("network: no thread for the connection workers");
  pool.release();
  return {};
}

}  // namespace aisbx::net
