#include "runs/commands.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <vector>

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
    const Meta& m = run->meta;
    std::vector<std::uint64_t> bytes;
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < m.roots.size(); ++i) {
      auto upper = open_upper(*run, i);
      bytes.push_back(upper ? upper_bytes(upper->get()) : 0);
      total += bytes.back();
    }
    std::printf("%-24s %-24s %-16s %8s  %s  %s\n", n.c_str(), m.started_utc.c_str(),
                m.profile.c_str(), size_text(total).c_str(), profile::escaped_path(m.project).c_str(),
                profile::escaped_path(m.command).c_str());
    // Which roots the run overlaid, when it is not the project alone.
    if (m.roots.size() > 1 || m.roots[0] != m.project)
      for (std::size_t i = 0; i < m.roots.size(); ++i)
        std::printf("%-24s %-24s %-16s %8s  %s\n", "", "", "root", size_text(bytes[i]).c_str(),
                    profile::escaped_path(m.roots[i]).c_str());
  }
  return 0;
}

// A unified diff of one file by diff(1), both sides opened here without
// following links and handed over as /dev/fd/3 and /dev/fd/4.
Expected<void> show_diff(int upper, int project, const Change& c, const std::string& prefix) {
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
  // a/PATH as git labels it; a root other than the project by its path.
  const std::string shown = (prefix.empty() ? "/" : prefix) + c.path;
  const std::string la = c.real == NodeType::file ? "a" + shown : "/dev/null";
  const std::string lb = c.upper == NodeType::file ? "b" + shown : "/dev/null";
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

// What root `i` of the run is called in listings: "" for the project
// (paths relative to it, as before), its path and `/` otherwise.
std::string prefix_of(const Meta& m, std::size_t i) {
  return m.roots.at(i) == m.project ? "" : m.roots[i] + "/";
}

Expected<int> diff(const std::string& home, const RunsCommand& c) {
  AISBX_ASSIGN(run, open_run(home, c.name));
  struct Root {
    sys::UniqueFd upper, real;
    std::vector<Change> changes;
  };
  std::vector<Root> roots;
  for (std::size_t i = 0; i < run.meta.roots.size(); ++i) {
    AISBX_ASSIGN(real, open_root(run.meta, i));
    AISBX_ASSIGN(upper, open_upper(run, i));
    AISBX_ASSIGN(since, read_baseline(run, i));
    AISBX_ASSIGN(changes, collect_changes(upper.get(), real.get(), since));
    roots.push_back({std::move(upper), std::move(real), std::move(changes)});
  }
  std::printf("run %s: %s (started %s)\n", run.meta.name.c_str(),
              profile::escaped_path(run.meta.project).c_str(), run.meta.started_utc.c_str());
  bool any = false;
  for (std::size_t i = 0; i < roots.size(); ++i)
    for (const auto& ch : roots[i].changes) {
      std::printf("%s\n", describe(ch, prefix_of(run.meta, i)).c_str());
      any = true;
    }
  if (!any) std::printf("no changes\n");
  if (c.stat) return 0;
  // Contents of text files; binary files and git's own database are
  // listed, not shown.
  for (std::size_t i = 0; i < roots.size(); ++i)
    for (const auto& ch : roots[i].changes)
      if ((ch.upper == NodeType::file || ch.real == NodeType::file) &&
          (ch.content || ch.upper != ch.real) && !ch.binary && !in_git_dir(ch.path))
        AISBX_TRY(show_diff(roots[i].upper.get(), roots[i].real.get(), ch, prefix_of(run.meta, i)));
  return 0;
}

// PATH as typed: relative to the project, or absolute beneath one of the
// run's overlaid roots. Returns the root and the path relative to it (""
// when PATH names the whole root).
Expected<std::pair<std::size_t, std::string>> root_relative(const std::string& typed,
                                                            const Meta& m) {
  std::string p = typed;
  std::optional<std::size_t> root;
  if (p.starts_with("/")) {
    for (std::size_t i = 0; i < m.roots.size(); ++i)
      if (p == m.roots[i] || p.starts_with(m.roots[i] + "/")) {
        root = i;
        p = p.substr(m.roots[i].size());
      }
    if (!root) {
      std::string list;
      for (const auto& r : m.roots) list += (list.empty() ? "" : ", ") + q(r);
      return fail("commit: " + q(typed) + " is not inside a root the run overlaid (" + list + ")",
                  "nothing the run wrote lies there; `aisbx-ns diff " + m.name + "` lists it");
    }
  } else {
    for (std::size_t i = 0; i < m.roots.size(); ++i)
      if (m.roots[i] == m.project) root = i;
    if (!root)
      return fail("commit: " + q(typed) + ": a relative path names the project, which run " +
                      q(m.name) + " did not overlay",
                  "name the path by its absolute path beneath one of its roots");
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
  if (out.empty() && !typed.starts_with("/"))
    return fail("commit: " + q(typed) + " names the whole project", "omit PATH to apply everything");
  return std::pair{*root, out};
}

Expected<int> do_commit(const std::string& home, const RunsCommand& c) {
  AISBX_ASSIGN(run, open_run(home, c.name));
  AISBX_TRY(lock_run(run));
  // Per root: nullopt = not named, an empty list = all of it.
  std::vector<std::optional<std::vector<std::string>>> wanted(run.meta.roots.size());
  if (c.paths.empty())
    for (auto& w : wanted) w.emplace();
  for (const auto& typed : c.paths) {
    AISBX_ASSIGN(at, root_relative(typed, run.meta));
    auto& w = wanted[at.first];
    if (at.second.empty())
      w.emplace();  // the whole root
    else if (!w || !w->empty())
      (w ? *w : w.emplace()).push_back(at.second);
  }
  Committed sum;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (!wanted[i]) continue;
    AISBX_ASSIGN(real, open_root(run.meta, i));
    AISBX_ASSIGN(upper, open_upper(run, i));
    AISBX_ASSIGN(done, commit(run, i, upper.get(), real.get(), *wanted[i]));
    sum.refused += done.refused;
    sum.unmatched += done.unmatched;
  }
  if (sum.refused)
    std::fprintf(stderr, "aisbx-ns: commit: %d path%s not applied; the run keeps them\n",
                 sum.refused, sum.refused == 1 ? "" : "s");
  return sum.refused || sum.unmatched ? 1 : 0;
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
  std::string kept;
  for (const plan::OverlayDirs& d : p.ns.overlays)
    kept += (kept.empty() ? "" : ", to ") + d.lower + " in " + d.upper;
  std::fprintf(stderr,
               "aisbx-ns: run %s kept the writes to %s\n"
               "  review: aisbx-ns diff %s    apply: aisbx-ns commit %s [PATH...]    "
               "drop: aisbx-ns discard %s\n",
               n.c_str(), kept.c_str(), n.c_str(), n.c_str(), n.c_str());
}

void forget_failed_run(const RunDir& run) {
  if (run.runs.get() >= 0) (void)remove_tree(run.runs.get(), run.meta.name, run.meta.name);
}

}  // namespace aisbx::runs
