#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "aisbx/stages.h"
#include "aisbx/sys/phase.h"
#include "check/exec_diagnosis.h"
#include "stages/limits.h"

namespace aisbx::stage {
namespace {

std::string lookup(const std::vector<std::pair<std::string, std::string>>& env,
                   const std::string& k) {
  for (const auto& [key, v] : env)
    if (key == k) return v;
  return {};
}

Error exec_error(const plan::Plan& p, int err, const std::string& path, bool searched) {
  Error e{"execve " + q(path), err, {}, kExitNotExecutable};
  switch (err) {
    case ENOENT:
      if (searched) {
        e.exit_code = kExitNotFound;
        e.hint = "the command is not in the sandbox's PATH, or its directory is not a root "
                 "of the profile";
        std::string path_value = lookup(p.exec.env, "PATH");
        if (path_value.empty()) path_value = "/usr/local/bin:/usr/bin:/bin";
        const std::string hidden = check::missing_path_dirs(p, path_value);
        if (!hidden.empty())
          e.hint = "the sandbox does not show the PATH directories " + hidden +
                   "; `aisbx-ns --check` with the same options finds where the host has the "
                   "command and the profile line to add";
        return e;
      }
      if (::access(path.c_str(), F_OK) == 0) {
        e.hint = "the file is there, so its interpreter (#! line or ELF loader) is missing "
                 "in the sandbox: add its directory to the profile's roots";
      } else {
        e.exit_code = kExitNotFound;
        e.hint = "no such file in the sandbox: is its directory a root of the profile?";
      }
      break;
    case EACCES:
      e.hint = "not executable here: the root holding it (or its interpreter and shared "
               "libraries) may lack `execute` in the profile, or be mounted noexec";
      break;
    default:
      return e;
  }
  // Name the path and the right the Plan lacks, and the line that allows it.
  if (auto d = check::diagnose_exec(p, path)) e.hint = d->cause + "; to allow it, " + d->fix;
  return e;
}

}  // namespace

Expected<void> leave_session_keyring() {
  // KEYCTL_JOIN_SESSION_KEYRING with no name: a new anonymous session
  // keyring. Raw syscall: Debian 12 has no keyutils.h by default.
  constexpr long kJoinSessionKeyring = 1;
  if (::syscall(SYS_keyctl, kJoinSessionKeyring, nullptr) >= 0) return {};
  if (errno == ENOSYS) return {};  // a kernel without keys: nothing to inherit
  return sys_fail("keyctl(KEYCTL_JOIN_SESSION_KEYRING)",
                  "the sandbox would share the caller's session keyring; check "
                  "/proc/sys/kernel/keys/maxkeys");
}

Expected<void> close_fds_on_exec(const std::vector<int>& keep) {
  for (int fd : keep)
    if (::fcntl(fd, F_GETFD) < 0)
      return sys_fail("--keep-fd " + std::to_string(fd) + ": fcntl(F_GETFD)",
                      "the fd is not open in the launcher");
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) return sys_fail("close_range(3, ~0, CLOEXEC)");
  for (int fd : keep) {
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0)
      return sys_fail("--keep-fd " + std::to_string(fd) + ": fcntl(F_SETFD)");
  }
  return {};
}

Expected<void> restrict_for_exec(const plan::Plan& p, const HeldRules& held) {
  AISBX_TRY(apply_rlimits(p.limits));
  AISBX_TRY(apply_landlock(p.landlock, held));
  sys::phase_mark("landlock");
  AISBX_TRY(close_fds_on_exec(p.exec.keep_fds));
  AISBX_TRY(leave_session_keyring());
  if (p.trace) AISBX_TRY(apply_trace_filter(p.seccomp));
  AISBX_TRY(apply_seccomp(p.seccomp));
  sys::phase_mark("seccomp");
  return {};
}

Error exec(const plan::Plan& p) {
  const plan::ExecPlan& e = p.exec;
  if (::chdir(e.cwd.c_str()) != 0) {
    Error err = errno_error(errno, "chdir " + q(e.cwd),
                            "the working directory is not reachable in the sandbox");
    if (auto d = check::diagnose_cwd(p)) err.hint = d->cause + "; to allow it, " + d->fix;
    return err;
  }
  std::vector<std::string> envs;
  for (const auto& [k, v] : e.env) envs.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : envs) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = e.argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

  const std::string& cmd = e.argv.front();
  sys::phase_mark("exec");
  if (cmd.find('/') != std::string::npos) {
    ::execve(cmd.c_str(), argv.data(), envp.data());
    return exec_error(p, errno, cmd, false);
  }
  // PATH search in the sandbox's environment, as execvpe does, keeping the
  // most telling error: EACCES beats ENOENT.
  std::string path = lookup(e.env, "PATH");
  if (path.empty()) path = "/usr/local/bin:/usr/bin:/bin";
  int best = ENOENT;
  std::string best_path = cmd;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (dir.empty()) dir = ".";
    const std::string full = dir + "/" + cmd;
    ::execve(full.c_str(), argv.data(), envp.data());
    if (errno != ENOENT && errno != ENOTDIR && best == ENOENT) {
      best = errno;
      best_path = full;
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  Error err = exec_error(p, best, best_path, best == ENOENT);
  if (best == ENOENT) err.what = "command " + q(cmd) + " not found in PATH=" + path;
  return err;
}

}  // namespace aisbx::stage
