#include "aisbx/sys/stale_cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string_view>

namespace aisbx::sys {

void remove_stale_run_cgroups(int parent_dirfd) {
  // A dup of its own: closedir() closes the fd it was given.
  const int fd = ::fcntl(parent_dirfd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return;
  const int dir_fd = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);  // O_PATH cannot list
  ::close(fd);
  if (dir_fd < 0) return;
  DIR* d = ::fdopendir(dir_fd);
  if (!d) {
    ::close(dir_fd);
    return;
  }
  const std::string_view prefix = "aisbx-";
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (e->d_type != DT_DIR || !name.starts_with(prefix)) continue;
    const std::string_view digits = name.substr(prefix.size());
    pid_t pid = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0) continue;
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    (void)::unlinkat(::dirfd(d), e->d_name, AT_REMOVEDIR);  // EBUSY when populated: kept
  }
  ::closedir(d);
}

}  // namespace aisbx::sys
