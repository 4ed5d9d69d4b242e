#include "supervise/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include "aisbx/sys/fd.h"
#include "aisbx/sys/stale_cgroups.h"

namespace aisbx::supervise {
namespace {

std::string read_small(const char* path) {
  sys::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return {};
  char buf[4096];
  const ssize_t n = ::read(fd.get(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

bool write_text(const std::string& path, const char* text) {
  sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  return fd.get() >= 0 && sys::write_all(fd.get(), text);
}

// The root cgroup has no cgroup.kill file to look for.
bool kernel_has_cgroup_kill() {
  utsname u{};
  int major = 0, minor = 0;
  if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 5 || (major == 5 && minor >= 14);
}

}  // namespace

std::string delegated_cgroup() {
  // "0::/user.slice/..." is the cgroup v2 line (also on a hybrid host).
  const std::string text = read_small("/proc/self/cgroup");
  std::string path;
  for (std::size_t at = 0; at < text.size();) {
    const auto nl = text.find('\n', at);
    const std::string line = text.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    if (line.starts_with("0::")) path = line.substr(3);
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  if (path.empty() || path.find(" (deleted)") != std::string::npos) return {};
  std::string mount;
  for (const char* m : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"})
    if (::access((std::string(m) + "/cgroup.controllers").c_str(), F_OK) == 0) {
      mount = m;
      break;
    }
  if (mount.empty()) return {};
  const std::string dir = path == "/" ? mount : mount + path;
  if (::access(dir.c_str(), W_OK) != 0 || ::access((dir + "/cgroup.procs").c_str(), W_OK) != 0)
    return {};
  const bool kill = path == "/" ? kernel_has_cgroup_kill()
                                : ::access((dir + "/cgroup.kill").c_str(), F_OK) == 0;
  return kill ? dir : std::string();
}

std::optional<RunCgroup> RunCgroup::make(const std::string& parent) {
  if (const sys::UniqueFd p(::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)); p.get() >= 0)
    sys::remove_stale_run_cgroups(p.get());
  const std::string path = parent + "/aisbx-" + std::to_string(::getpid());
  if (::mkdir(path.c_str(), 0755) != 0) return std::nullopt;
  if (::access((path + "/cgroup.kill").c_str(), W_OK) != 0) {
    ::rmdir(path.c_str());
    return std::nullopt;
  }
  return RunCgroup(path);
}

bool RunCgroup::join() const { return write_text(path_ + "/cgroup.procs", "0"); }

void RunCgroup::kill_all() const { (void)write_text(path_ + "/cgroup.kill", "1"); }

void RunCgroup::remove() const {
  // EBUSY while a killed process is still on its way out (reaped by the
  // /proc walk before this): a bounded wait.
  for (int i = 0; i < 200; ++i) {
    if (::rmdir(path_.c_str()) == 0 || errno != EBUSY) return;
    const timespec ms{0, 1000000};
    ::nanosleep(&ms, nullptr);
  }
}

}  // namespace aisbx::supervise
