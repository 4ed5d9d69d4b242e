// How a forked process that has not exec'd yet reports a failure to the
// launcher: one message (exit code, errno, what, hint) on a close-on-exec
// pipe, so that main() prints it once. An exec that succeeds closes the
// pipe and the launcher reads nothing.
#pragma once

#include <optional>

#include "aisbx/error.h"

namespace aisbx::sys {

// One write below PIPE_BUF (atomic); a longer message is cut.
void send_error(int fd, const Error& e);
// Reads until every writer closed: nullopt when nothing was sent.
std::optional<Error> receive_error(int fd);

// A wait status as a shell shows it: the exit code, or 128+N for signal N.
int status_to_exit(int status);

}  // namespace aisbx::sys
