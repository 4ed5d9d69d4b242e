// How a forked process that has not exec'd yet reports a failure to the
// launcher: one message (exit code, errno, what, hint) on a close-on-exec
// pipe, so that main() prints it once. An exec that succeeds closes the
// pipe and the launcher reads nothing.
#pragma once

#include <climits>
#include <cstddef>
#include <optional>

#include "aisbx/error.h"

namespace aisbx::sys {

// One write below PIPE_BUF (atomic); a longer message is cut.
void send_error(int fd, const Error& e);
// Reads until every writer closed: nullopt when nothing was sent.
std::optional<Error> receive_error(int fd);

// The same in two steps, for a launcher that shares its memory with the
// writer (spawn.h, start_beside): the read allocates nothing and touches
// only `r`, so it may wait while the writer still runs; parse after EOF.
// false: the read failed before EOF, and the writer may still be running.
struct Report {
  char data[PIPE_BUF];
  std::size_t size = 0;
};
bool read_report(int fd, Report& r) noexcept;
std::optional<Error> parse_report(const Report& r);

// A wait status as a shell shows it: the exit code, or 128+N for signal N.
int status_to_exit(int status);

}  // namespace aisbx::sys
