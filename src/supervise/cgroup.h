// A cgroup v2 of the run's own, where the user may make one: everything
// the command starts stays in it (a process cannot leave without write
// access to a cgroup above), and cgroup.kill (Linux 5.14) ends it all at
// once. The /proc walk (descendants.h) still runs after it: it reaps, and
// it is the whole mechanism where no cgroup is delegated.
#pragma once

#include <optional>
#include <string>

namespace aisbx::supervise {

// The cgroup v2 directory this process is in, when the caller may make a
// child cgroup there and move processes into it (root, or a subtree that
// systemd delegated to the user) and the kernel has cgroup.kill; else "".
std::string delegated_cgroup();

class RunCgroup {
 public:
  // mkdir PARENT/aisbx-PID; nullopt when that fails (the /proc walk alone
  // then ends the run).
  static std::optional<RunCgroup> make(const std::string& parent);
  // In the target, before exec: moves the calling process in.
  bool join() const;
  // cgroup.kill: SIGKILL to every process in it, at once.
  void kill_all() const;
  // rmdir, once the killed processes are gone.
  void remove() const;
  const std::string& path() const { return path_; }

 private:
  explicit RunCgroup(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace aisbx::supervise
