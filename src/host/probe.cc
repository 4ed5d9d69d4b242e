// The impure half of the probe: syscalls and /proc reads, no decisions
// (those are in src/plan/features_from.cc, unit-tested).
#include "aisbx/probe.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "aisbx/sys/fd.h"
#include "aisbx/sys/landlock.h"
#include "aisbx/sys/mount.h"
#include "supervise/cgroup.h"

namespace aisbx {
namespace {

// Small /proc and /sys files only: one read of at most 4 KiB.
std::optional<std::string> read_small_file(const char* path) {
  sys::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return std::nullopt;
  std::array<char, 4096> buf{};
  const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
  if (n < 0) return std::nullopt;
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

// /proc/self/status "Seccomp:\t2" = SECCOMP_MODE_FILTER.
bool in_seccomp_filter() {
  const auto status = read_small_file("/proc/self/status");
  if (!status) return false;
  const auto at = status->find("\nSeccomp:");
  if (at == std::string::npos) return false;
  const auto value = status->find_first_not_of(" \t", at + 9);
  return value != std::string::npos && status->compare(value, 2, "2\n") == 0;
}

// Writes all of `text` (async-signal-safe: used in the forked child).
bool write_file(const char* path, const char* text, std::size_t len) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text, len) == static_cast<ssize_t>(len);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

// The child of the user namespace try. Between fork() and _exit() only
// async-signal-safe calls: the launcher may have threads by now. Reports the
// failed step as one byte on `report`, the errno as the exit status.
[[noreturn]] void userns_child(int report, const std::string& uid_map,
                               const std::string& gid_map) {
  auto fail = [report](UsernsStep step) {
    const int err = errno;
    const auto byte = static_cast<unsigned char>(step);
    if (::write(report, &byte, 1) != 1) {
      // nothing to do: the parent then blames unshare
    }
    ::_exit(err > 0 && err < 256 ? err : 255);
  };
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) fail(UsernsStep::unshare);
  // setgroups must be denied before an unprivileged gid_map write (user_namespaces(7)).
  if (!write_file("/proc/self/setgroups", "deny", 4) && errno != ENOENT)
    fail(UsernsStep::setgroups);
  if (!write_file("/proc/self/uid_map", uid_map.data(), uid_map.size()))
    fail(UsernsStep::uid_map);
  if (!write_file("/proc/self/gid_map", gid_map.data(), gid_map.size()))
    fail(UsernsStep::gid_map);
  ::_exit(0);
}

// Tries what the launcher will do, for real, in a forked child:
// unshare(CLONE_NEWUSER) fails with EINVAL in a multithreaded process, and
// would change the launcher itself. Checking the maps too matters: under
// Ubuntu's AppArmor restriction unshare succeeds but the maps cannot be
// written (minijail's NamespaceTest::UsernsSupported checks both).
void try_userns(ProbeReadings& r) {
  // Formatted before fork: no allocation in the child.
  const std::string uid_map = std::to_string(r.uid) + " " + std::to_string(r.uid) + " 1";
  const gid_t gid = ::getgid();
  const std::string gid_map = std::to_string(gid) + " " + std::to_string(gid) + " 1";
  std::array<int, 2> p{};
  if (::pipe2(p.data(), O_CLOEXEC) != 0) {
    r.userns_errno = errno;
    r.userns_step = UsernsStep::fork;
    return;
  }
  sys::UniqueFd rd(p[0]), wr(p[1]);
  const pid_t pid = ::fork();
  if (pid < 0) {
    r.userns_errno = errno;
    r.userns_step = UsernsStep::fork;
    return;
  }
  if (pid == 0) userns_child(wr.get(), uid_map, gid_map);
  wr.reset();
  int status = 0;
  pid_t waited = 0;
  do {
    waited = ::waitpid(pid, &status, 0);
  } while (waited < 0 && errno == EINTR);
  if (waited < 0) {  // ECHILD when SIGCHLD is ignored: the status is lost
    r.userns_errno = errno;
    r.userns_step = UsernsStep::child;
    return;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    r.userns_ok = true;
    return;
  }
  if (WIFSIGNALED(status)) {
    r.userns_step = UsernsStep::child;
    r.userns_signal = WTERMSIG(status);
    return;
  }
  unsigned char step = static_cast<unsigned char>(UsernsStep::unshare);
  if (::read(rd.get(), &step, 1) != 1)
    step = static_cast<unsigned char>(UsernsStep::unshare);
  r.userns_step = static_cast<UsernsStep>(step);
  r.userns_errno = WEXITSTATUS(status);
}

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

}  // namespace

ProbeReadings read_probe(ProbeScope scope, bool cgroups) {
  ProbeReadings r;
  r.uid = ::getuid();
  if (auto abi = sys::landlock_abi())
    r.landlock_abi = *abi;
  else
    r.landlock_abi = std::unexpected(abi.error().err);

  r.unprivileged_userns_clone =
      read_small_file("/proc/sys/kernel/unprivileged_userns_clone");
  r.max_user_namespaces = read_small_file("/proc/sys/user/max_user_namespaces");
  r.apparmor_restrict_unprivileged_userns =
      read_small_file("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  // PR_GET_SECCOMP says 2 in a filter; /proc/self/status only where a
  // filter refuses the prctl itself.
  const int seccomp_mode = ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  const int seccomp_errno = seccomp_mode < 0 ? errno : 0;
  r.in_seccomp_filter = seccomp_mode == 2 || (seccomp_mode < 0 && in_seccomp_filter());
  if (scope == ProbeScope::assume_userns && userns_knobs_allow(r)) {
    r.userns_ok = true;
    r.userns_assumed = true;
  } else if (scope != ProbeScope::without_userns) {
    try_userns(r);
  }

  r.mount_setattr = sys::has_mount_setattr();
  if (cgroups) r.run_cgroup = supervise::delegated_cgroup();
  r.seccomp_ok = seccomp_mode >= 0 || seccomp_errno != EINVAL;
  if (!r.seccomp_ok) r.seccomp_errno = EINVAL;

  // Usually not mounted inside containers and sandboxes: then left empty.
  if (auto lsm = read_small_file("/sys/kernel/security/lsm")) {
    r.lsm_list = *lsm;
    while (!r.lsm_list.empty() && (r.lsm_list.back() == '\n' || r.lsm_list.back() == ' '))
      r.lsm_list.pop_back();
  }
  return r;
}

Features probe_features(ProbeScope scope, bool cgroups) {
  ProbeReadings r = read_probe(scope, cgroups);
  r.fake_landlock_abi = env("AISBX_FAKE_LANDLOCK_ABI");
  r.fake_no_userns = env("AISBX_FAKE_NO_USERNS");
  r.fake_no_mount_setattr = env("AISBX_FAKE_NO_MOUNT_SETATTR");
  Features f = features_from(r);
  if (cgroups) probe_cgroups(f);
  return f;
}

void probe_run_cgroups(Features& f, bool run, bool limits) {
  if (run) f.run_cgroup = supervise::delegated_cgroup();
  if (limits) probe_cgroups(f);
}

}  // namespace aisbx
