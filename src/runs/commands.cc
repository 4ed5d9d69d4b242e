#include "runs/commands.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "aisbx/host_sys.h"
#include "aisbx/profile.h"
#include "runs/changes.h"
#include "runs/commit.h"
#include "runs/store.h"
#include "runs/tree.h"

namespace aisbx::runs {
namespace {

Expected<std::string> real_home() {
  AISBX_ASSIGN(host, read_host_facts());
  char buf[PATH_MAX];
  if (!::realpath(host.home.c_str(), buf))
    return sys_fail("realpath " + q(host.home), "HOME must name an existing directory");
  return std::string(buf);
}

std::string size_text(std::uint64_t bytes) {
  const char* units[] = {"B", "K", "M", "G", "T"};
  int u = 0;
  double v = static_cast<double>(bytes);
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f%s" : "%.0f%s", v, units[u]);
  return buf;
}

Expected<int> list_runs(const std::string& home) {
  AISBX_ASSIGN(names, run_names(home));
  if (names.empty()) {
    std::printf("no runs in %s\n", plan::runs_dir(home).c_str());
    return 0;
  }
  std::printf("%-24s %-24s %-16s %8s  %s\n", "RUN", "STARTED", "PROFILE", "CHANGES", "PROJECT  COMMAND");
  for (const auto& n : names) {
    auto run = open_run(home, n);
    if (!run) {
      std::printf("%-24s (unreadable: %s)\n", n.c_str(), run.error().message().c_str());
      continue;
    }
    auto upper = open_upper(*run);
    const std::uint64_t bytes = upper ? upper_bytes(upper->get()) : 0;
    const Meta& m = run->meta;
    std::printf("%-24s %-24s %-16s %8s  %s  %s\n", n.c_str(), m.started_utc.c_str(),
                m.profile.c_str(), size_text(bytes).c_str(), profile::escaped_path(m.project).c_str(),
                profile::escaped_path(m.command).c_str());
  }
  return 0;
}

// A unified diff of one file by diff(1), both sides opened here without
// following links and handed over as /dev/fd/3 and /dev/fd/4.
Expected<void> show_diff(int upper, int project, const Change& c) {
  const auto [dir, name] = split_parent(c.path);
  const auto open_side = [&](int root, NodeType t) -> sys::UniqueFd {
    if (t != NodeType::file) return sys::UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    auto d = open_below(root, dir, "tree");
    if (!d) return sys::UniqueFd();
    return sys::UniqueFd(::openat(d->get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  };
  sys::UniqueFd a = open_side(project, c.real);
  sys::UniqueFd b = open_side(upper, c.upper);
  if (a.get() < 0 || b.get() < 0) return sys_fail("open both sides of " + q(c.path));
  std::fflush(stdout);
  const std::string la = c.real == NodeType::file ? "a/" + c.path : "/dev/null";
  const std::string lb = c.upper == NodeType::file ? "b/" + c.path : "/dev/null";
  const pid_t pid = ::fork();
  if (pid < 0) return sys_fail("fork");
  if (pid == 0) {
    if (::dup2(a.get(), 3) < 0 || ::dup2(b.get(), 4) < 0) ::_exit(127);
    ::execlp("diff", "diff", "-u", "--label", la.c_str(), "--label", lb.c_str(), "/dev/fd/3",
             "/dev/fd/4", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return fail("diff: could not run diff(1)", "install diffutils");
  return {};
}

bool in_git_dir(const std::string& path) {
  return path == ".git" || path.starts_with(".git/") || path.find("/.git/") != std::string::npos;
}

Expected<int> diff(const std::string& home, const RunsCommand& c) {
  AISBX_ASSIGN(run, open_run(home, c.name));
  AISBX_ASSIGN(project, open_project(run.meta));
  AISBX_ASSIGN(upper, open_upper(run));
  AISBX_ASSIGN(since, read_baseline(run));
  AISBX_ASSIGN(changes, collect_changes(upper.get(), project.get(), since));
  std::printf("run %s: %s (started %s)\n", run.meta.name.c_str(),
              profile::escaped_path(run.meta.project).c_str(), run.meta.started_utc.c_str());
  for (const auto& ch : changes) std::printf("%s\n", describe(ch).c_str());
  if (changes.empty()) std::printf("no changes\n");
  if (c.stat) return 0;
  // Contents of text files; binary files and git's own database are
  // listed, not shown.
  for (const auto& ch : changes)
    if ((ch.upper == NodeType::file || ch.real == NodeType::file) &&
        (ch.content || ch.upper != ch.real) && !ch.binary && !in_git_dir(ch.path))
      AISBX_TRY(show_diff(upper.get(), project.get(), ch));
  return 0;
}

// PATH as typed: relative to the project, or absolute beneath it.
Expected<std::string> project_relative(const std::string& typed, const Meta& m) {
  std::string p = typed;
  if (p.starts_with("/")) {
    if (!p.starts_with(m.project + "/"))
      return fail("commit: " + q(typed) + " is not inside the run's project " + q(m.project));
    p = p.substr(m.project.size() + 1);
  }
  std::string out;
  for (std::size_t i = 0; i <= p.size();) {
    std::size_t end = p.find('/', i);
    if (end == std::string::npos) end = p.size();
    const std::string part = p.substr(i, end - i);
    i = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return fail("commit: " + q(typed) + ": `..` is not allowed in a path");
    out += (out.empty() ? "" : "/") + part;
  }
  if (out.empty()) return fail("commit: " + q(typed) + " names the whole project", "omit PATH to apply everything");
  return out;
}

Expected<int> do_commit(const std::string& home, const RunsCommand& c) {
  AISBX_ASSIGN(run, open_run(home, c.name));
  AISBX_TRY(lock_run(run));
  std::vector<std::string> paths;
  for (const auto& typed : c.paths) {
    AISBX_ASSIGN(rel, project_relative(typed, run.meta));
    paths.push_back(rel);
  }
  AISBX_ASSIGN(project, open_project(run.meta));
  AISBX_ASSIGN(upper, open_upper(run));
  return commit(run, upper.get(), project.get(), paths);
}

Expected<int> discard(const std::string& home, const RunsCommand& c) {
  AISBX_ASSIGN(run, open_run(home, c.name));
  AISBX_TRY(lock_run(run));
  AISBX_ASSIGN(runs, open_runs_dir(home, true));
  AISBX_TRY(remove_tree(runs.get(), c.name, plan::runs_dir(home) + "/" + c.name));
  std::printf("discarded run %s\n", c.name.c_str());
  return 0;
}

}  // namespace

Expected<int> command(const RunsCommand& c) {
  AISBX_ASSIGN(home, real_home());
  if (c.verb == "runs") return list_runs(home);
  if (c.verb == "diff") return diff(home, c);
  if (c.verb == "commit") return do_commit(home, c);
  if (c.verb == "discard") return discard(home, c);
  return fail("unknown command " + q(c.verb));
}

std::string generate_name() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  tm t{};
  char when[32] = "run";
  if (::gmtime_r(&now.tv_sec, &t)) std::strftime(when, sizeof when, "%Y%m%d-%H%M%S", &t);
  unsigned short r = 0;
  if (::getrandom(&r, sizeof r, 0) != sizeof r) r = static_cast<unsigned short>(now.tv_nsec);
  char out[64];
  std::snprintf(out, sizeof out, "%s-%04x", when, r);
  return out;
}

void announce(const plan::Plan& p) {
  const std::string& n = p.run.name;
  std::fprintf(stderr,
               "aisbx-ns: run %s kept the writes to %s in %s\n"
               "  review: aisbx-ns diff %s    apply: aisbx-ns commit %s [PATH...]    "
               "drop: aisbx-ns discard %s\n",
               n.c_str(), p.run.lower.c_str(), p.ns.overlay_upper.c_str(), n.c_str(), n.c_str(),
               n.c_str());
}

void forget_failed_run(const RunDir& run) {
  if (run.runs.get() >= 0) (void)remove_tree(run.runs.get(), run.meta.name, run.meta.name);
}

}  // namespace aisbx::runs
