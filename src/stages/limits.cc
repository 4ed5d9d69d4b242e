// Enforcement of LimitsPlan: rlimits the target sets on itself before exec,
// and the run's own cgroup, made by the host process around the sandbox.
#include "stages/limits.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "aisbx/sys/mount.h"
#include "aisbx/sys/stale_cgroups.h"

namespace aisbx::stage {
namespace {

// Lowers, never raises: the hard limit is what the caller may not exceed,
// and raising it needs CAP_SYS_RESOURCE in the initial user namespace.
Expected<void> lower_rlimit(int resource, const char* name, std::uint64_t value) {
  rlimit r{};
  if (::getrlimit(resource, &r) != 0) return sys_fail(std::string("getrlimit(") + name + ")");
  const rlim_t v = static_cast<rlim_t>(value);
  if (r.rlim_max == RLIM_INFINITY || r.rlim_max > v) r.rlim_max = v;
  if (r.rlim_cur == RLIM_INFINITY || r.rlim_cur > r.rlim_max) r.rlim_cur = r.rlim_max;
  if (::setrlimit(resource, &r) != 0)
    return sys_fail(std::string("setrlimit(") + name + ", " + std::to_string(value) + ")");
  return {};
}

}  // namespace

Expected<void> apply_rlimits(const plan::LimitsPlan& l) {
  // Inside the sandbox's user namespace the kernel counts RLIMIT_NPROC per
  // (namespace, uid) since Linux 5.14 (ucounts): the sandbox's processes,
  // not the caller's (who still count the sandbox's against their own).
  if (l.rlimit_nproc && l.pids) AISBX_TRY(lower_rlimit(RLIMIT_NPROC, "RLIMIT_NPROC", l.pids));
  if (l.nofile) AISBX_TRY(lower_rlimit(RLIMIT_NOFILE, "RLIMIT_NOFILE", l.nofile));
  if (l.cpu_seconds) AISBX_TRY(lower_rlimit(RLIMIT_CPU, "RLIMIT_CPU", l.cpu_seconds));
  return {};
}

namespace {

Expected<void> write_at(int dir, const std::string& shown, const char* file,
                        const std::string& text) {
  sys::UniqueFd fd(::openat(dir, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return sys_fail("open " + q(shown + "/" + file) + " for writing");
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return sys_fail("write " + q(shown + "/" + file) + " (" + text + ")");
  return {};
}

}  // namespace

RunCgroup::~RunCgroup() { remove(); }

void RunCgroup::remove() {
  // Once the sandbox's init has been reaped, every process of its pid
  // namespace is gone; the directory may still be busy for a moment.
  for (const auto& d : dirs_) {
    for (int i = 0; i < 50 && ::unlinkat(d.parent.get(), d.name.c_str(), AT_REMOVEDIR) != 0 &&
                    errno == EBUSY;
         ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  dirs_.clear();
}

void RunCgroup::close_fds_in_child() const noexcept {
  for (const auto& d : dirs_) {
    ::close(d.parent.get());
    ::close(d.dir.get());
  }
}

Expected<void> RunCgroup::add(pid_t pid) {
  for (const auto& d : dirs_) AISBX_TRY(write_at(d.dir.get(), d.shown, "cgroup.procs", std::to_string(pid)));
  return {};
}

Expected<RunCgroup> make_run_cgroup(const plan::LimitsPlan& l) {
  RunCgroup cg;
  const std::string name = "aisbx-" + std::to_string(::getpid());
  const auto make = [&](const std::string& parent) -> Expected<int> {
    RunCgroup::Dir d;
    d.name = name;
    d.shown = parent + "/" + name;
    d.parent.reset(::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (d.parent.get() < 0) return sys_fail("open " + q(parent));
    sys::remove_stale_run_cgroups(d.parent.get());
    if (::mkdirat(d.parent.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
      return sys_fail("create the run's cgroup " + q(d.shown),
                      "limits: run as root, or set `limits: {pids: 0, memory: 0}`");
    d.dir.reset(::openat(d.parent.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (d.dir.get() < 0) return sys_fail("open " + q(d.shown));
    const int fd = d.dir.get();
    cg.dirs_.push_back(std::move(d));
    return fd;
  };
  const bool v2_pids = l.cgroup_pids && l.cgroup1_pids_dir.empty();
  const bool v2_memory = l.cgroup_memory && l.cgroup1_memory_dir.empty();
  if (!l.cgroup2_dir.empty() && (v2_pids || v2_memory)) {
    // Controllers are enabled in the parent for its children (cgroups(7);
    // "no internal processes" does not apply to the root cgroup).
    const std::string want = std::string(v2_pids ? "+pids " : "") + (v2_memory ? "+memory" : "");
    AISBX_TRY(sys::write_file(l.cgroup2_dir + "/cgroup.subtree_control", want));
    AISBX_ASSIGN(dir, make(l.cgroup2_dir));
    const std::string shown = l.cgroup2_dir + "/" + name;
    if (v2_pids) AISBX_TRY(write_at(dir, shown, "pids.max", std::to_string(l.pids)));
    if (v2_memory) {
      AISBX_TRY(write_at(dir, shown, "memory.max", std::to_string(l.memory)));
      // No swap either: a limit that spills into swap is no limit.
      (void)write_at(dir, shown, "memory.swap.max", "0");
    }
  }
  if (l.cgroup_pids && !l.cgroup1_pids_dir.empty()) {
    AISBX_ASSIGN(dir, make(l.cgroup1_pids_dir));
    AISBX_TRY(write_at(dir, l.cgroup1_pids_dir + "/" + name, "pids.max", std::to_string(l.pids)));
  }
  if (l.cgroup_memory && !l.cgroup1_memory_dir.empty()) {
    AISBX_ASSIGN(dir, make(l.cgroup1_memory_dir));
    AISBX_TRY(write_at(dir, l.cgroup1_memory_dir + "/" + name, "memory.limit_in_bytes",
                       std::to_string(l.memory)));
  }
  return cg;
}

}  // namespace aisbx::stage
