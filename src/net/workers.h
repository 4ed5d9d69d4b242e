// Serving accepted connections on a pool of threads, for the published
// ports (publish.cc; the allowlist's proxy has an event loop of its own,
// proxy.cc). A connection is served by blocking code (relay.h), so each one
// holds a thread while it lasts; the threads are kept and reused, because
// making and tearing down one per connection (clone, stack mmap/munmap)
// costs more than the connection (perf, bench/net.sh).
//
// Idle workers wait on the listeners themselves and serve what they accept:
// no hand-over from an accepting thread. The worker that takes the last
// idle place starts another first, so a long connection never holds up the
// next accept.
#pragma once

#include <functional>
#include <vector>

#include "aisbx/error.h"
#include "aisbx/sys/fd.h"

namespace aisbx::net {

// `serve(listener, connection)` for every connection accepted on
// `listeners` (non-blocking listening sockets), on threads of a pool that
// lives as long as the process. The connection is non-blocking and
// close-on-exec. Returns once the first worker runs.
Expected<void> serve_on_workers(const std::vector<int>& listeners,
                                std::function<void(int listener, sys::UniqueFd connection)> serve);

}  // namespace aisbx::net
