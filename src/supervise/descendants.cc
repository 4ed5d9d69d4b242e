#include "supervise/descendants.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <string>

#include "aisbx/sys/fd.h"

namespace aisbx::supervise {
namespace {

std::string read_small(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string text;
  if (fd.get() < 0) return text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

template <class F>
void for_each_entry(const std::string& dir, F f) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') f(std::string(e->d_name));
  ::closedir(d);
}

// "12 345 " -> {12, 345}
void append_pids(const std::string& text, std::vector<pid_t>& out) {
  const char* s = text.c_str();
  while (*s != '\0') {
    char* end = nullptr;
    const long v = std::strtol(s, &end, 10);
    if (end == s) break;
    if (v > 0) out.push_back(static_cast<pid_t>(v));
    s = end;
  }
}

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> kids;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  for_each_entry(task, [&](const std::string& tid) {
    append_pids(read_small(task + "/" + tid + "/children"), kids);
  });
  return kids;
}

bool have_children_files() {
  static const bool have = [] {
    const std::string self = std::to_string(::getpid());
    return ::access(("/proc/" + self + "/task/" + self + "/children").c_str(), R_OK) == 0;
  }();
  return have;
}

// Without CONFIG_PROC_CHILDREN: the field after the command name, which is
// in parentheses and may itself hold ") ".
std::multimap<pid_t, pid_t> children_by_parent() {
  std::multimap<pid_t, pid_t> m;
  for_each_entry("/proc", [&](const std::string& pid) {
    const std::string stat = read_small("/proc/" + pid + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos || close + 4 >= stat.size()) return;
    const long ppid = std::strtol(stat.c_str() + close + 4, nullptr, 10);
    m.emplace(static_cast<pid_t>(ppid), static_cast<pid_t>(std::atol(pid.c_str())));
  });
  return m;
}

}  // namespace

std::vector<pid_t> descendants() {
  std::vector<pid_t> found;
  if (have_children_files()) {
    append_pids(read_small("/proc/self/task/" + std::to_string(::gettid()) + "/children"), found);
    for (std::size_t i = 0; i < found.size(); ++i) {
      const auto kids = children_of(found[i]);
      found.insert(found.end(), kids.begin(), kids.end());
    }
    return found;
  }
  const auto by_parent = children_by_parent();
  found.push_back(::getpid());
  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto [first, last] = by_parent.equal_range(found[i]);
    for (auto it = first; it != last; ++it) found.push_back(it->second);
  }
  found.erase(found.begin());
  return found;
}

void end_descendants() {
  for (;;) {
    while (::waitpid(-1, nullptr, WNOHANG | __WALL) > 0) {
    }
    const std::vector<pid_t> pids = descendants();
    if (pids.empty()) {
      // Nothing listed: done when no child is left at all, else one is
      // being born or dying right now; wait for it.
      if (::waitpid(-1, nullptr, WNOHANG | __WALL) < 0 && errno == ECHILD) return;
      continue;
    }
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
    // Blocks until a killed child is gone (its orphans are ours then).
    if (::waitpid(-1, nullptr, __WALL) < 0 && errno == ECHILD) {
      // Only grandchildren were listed, and their parents reap them: look
      // again (they are dying, being killed).
      ::sched_yield();
    }
  }
}

}  // namespace aisbx::supervise
