// Where a run can make a cgroup of its own (Features::cgroup*). Looked for
// only as root: an unprivileged caller's pids limit is RLIMIT_NPROC in its
// user namespace, and a delegated subtree of a user session would need the
// launcher to move itself into a leaf first (not done: "not enforced").
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "aisbx/probe.h"

namespace aisbx {
namespace {

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  for (std::string w; in >> w;)
    if (w == word) return true;
  return false;
}

}  // namespace

void probe_cgroups(Features& f) {
  if (::geteuid() != 0) return;
  // Unified (v2 at /sys/fs/cgroup) or hybrid (v2 beside the v1 hierarchies).
  for (const char* dir : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    const std::string controllers = std::string(dir) + "/cgroup.controllers";
    if (::access(controllers.c_str(), R_OK) != 0 || ::access(dir, W_OK) != 0) continue;
    const std::string list = read_line(controllers);
    f.cgroup2_dir = dir;
    f.cgroup2_pids = has_word(list, "pids");
    f.cgroup2_memory = has_word(list, "memory");
    break;
  }
  if (::access("/sys/fs/cgroup/pids/pids.max", F_OK) == 0 ||
      ::access("/sys/fs/cgroup/pids/cgroup.procs", W_OK) == 0)
    if (::access("/sys/fs/cgroup/pids", W_OK) == 0) f.cgroup1_pids_dir = "/sys/fs/cgroup/pids";
  if (::access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0 &&
      ::access("/sys/fs/cgroup/memory", W_OK) == 0)
    f.cgroup1_memory_dir = "/sys/fs/cgroup/memory";
}

}  // namespace aisbx
