#include "aisbx/sys/error_pipe.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

namespace aisbx::sys {

// exit code, errno, what, hint; NUL-separated.
void send_error(int fd, const Error& e) {
  const std::string msg = std::to_string(e.exit_code) + '\0' + std::to_string(e.err) + '\0' +
                          e.what + '\0' + e.hint;
  const std::size_t n = std::min<std::size_t>(msg.size(), PIPE_BUF);
  (void)!::write(fd, msg.data(), n);
}

bool read_report(int fd, Report& r) noexcept {
  r.size = 0;
  char spill[PIPE_BUF];
  for (;;) {
    // Past the first message (the only one sent), the rest is drained.
    char* into = r.size < sizeof r.data ? r.data + r.size : spill;
    const std::size_t room = r.size < sizeof r.data ? sizeof r.data - r.size : sizeof spill;
    // errno is not looked at: it may be the writer's (spawn.h). With no
    // signal handler installed, a pipe read is never interrupted.
    const ssize_t n = ::read(fd, into, room);
    if (n == 0) return true;
    if (n < 0) return false;
    if (into != spill) r.size += static_cast<std::size_t>(n);
  }
}

std::optional<Error> parse_report(const Report& r) {
  if (r.size == 0) return std::nullopt;
  const std::string msg(r.data, r.size);
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const auto z = msg.find('\0', start);
    if (z == std::string::npos) break;
    parts.push_back(msg.substr(start, z - start));
    start = z + 1;
  }
  parts.push_back(msg.substr(start));
  if (parts.size() != 4) return errno_error(0, "sandbox set-up failed: garbled error report");
  Error e{parts[2], std::atoi(parts[1].c_str()), parts[3], std::atoi(parts[0].c_str())};
  return e;
}

std::optional<Error> receive_error(int fd) {
  Report r;
  read_report(fd, r);
  return parse_report(r);
}

int status_to_exit(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitLauncherFailure;
}

}  // namespace aisbx::sys
