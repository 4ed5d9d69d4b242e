// Symlinks inside the roots whose target leaves every root. Neither wall
// follows them out (the namespace wall has nothing there, Landlock checks
// where a path leads, not how it is spelt), so each one is something the
// project expects from outside that the sandbox will not give it: worth
// knowing before a tool fails on it.
//
// A link in a read-only system tree (not the project, not HOME) that points
// into a directory the profile curates, naming some of its entries as roots
// (/etc: ld.so.cache, passwd, ssl, ...), leads to what the profile left out
// on purpose: Debian's /usr links to /etc/python3.11 or /etc/java-17-openjdk
// are counted in a note, with examples, and are not findings.
//
// The walk is bounded: at most `entries_per_root` entries per root are
// examined; past that, names are only counted (no lstat, no readlink) so the
// report can say how much was left out.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <memory>

#include "check/parts.h"
#include "plan/expand.h"

namespace aisbx::check {
namespace {

constexpr std::size_t kMaxFindingsPerRoot = 100;
constexpr std::size_t kCuratedExamples = 3;

struct DirClose {
  void operator()(DIR* d) const { ::closedir(d); }
};

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// Pseudo file systems: never walked (a root at `/` must not descend into
// /proc's endless self-links), and their links never "escape".
bool pseudo(const std::string& path) {
  return plan::is_within(path, "/proc") || plan::is_within(path, "/sys") ||
         plan::is_within(path, "/dev");
}

struct Scanner {
  const plan::Plan& plan;
  const plan::Oracle& oracle;
  const Fs& fs;
  const Limits& limits;
  const std::vector<Root>& roots;
  Report& report;

  bool inside_a_root(const std::string& target) const {
    if (root_holding(roots, target)) return true;
    // With the namespace wall, /proc and /dev are the sandbox's own.
    return plan.ns.enabled &&
           (plan::is_within(target, "/proc") || plan::is_within(target, "/dev"));
  }

  // `target`'s directory, or one above it short of `/`, has a root as a
  // direct entry.
  bool curated(const std::string& target) const {
    for (std::string d = dir_of(target); d != "/"; d = dir_of(d))
      for (const auto& r : roots)
        if (dir_of(r.path) == d) return true;
    return false;
  }

  bool system_tree(const Root& root) const {
    return !root.writable && root.path != plan.ns.home &&
           !plan::is_within(plan.project, root.path) && !plan::is_within(root.path, plan.project);
  }

  struct Tally {
    std::size_t listed = 0, unlisted = 0, curated = 0;
    std::vector<std::string> examples;
  };

  void link(const Root& root, int dir_fd, const std::string& dir, const std::string& name,
            Tally& t) {
    char buf[PATH_MAX];
    const ssize_t n = ::readlinkat(dir_fd, name.c_str(), buf, sizeof buf);
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) return;
    const std::string text(buf, static_cast<std::size_t>(n));
    const std::string path = join(dir, name);
    const std::string lexical = plan::absolute(text, dir);
    const auto real = fs.realpath(path);
    const std::string target = real.value_or(lexical);
    if (inside_a_root(target)) return;
    if (real && system_tree(root) && curated(target)) {
      if (t.curated++ < kCuratedExamples) t.examples.push_back(q(path) + " -> " + q(target));
      return;
    }
    if (t.listed >= kMaxFindingsPerRoot) {
      ++t.unlisted;
      return;
    }
    ++t.listed;
    const bool is_dir = real && fs.kind(*real) == FileKind::directory;
    std::string problem =
        "symlink to `" + text + "`" +
        (target != lexical || text[0] != '/' ? " (" + q(target) + ")" : "") +
        " leaves every root";
    if (!real)
      problem += " and leads nowhere on this host either";
    else
      problem += plan.ns.enabled ? ": in the sandbox it leads nowhere"
                                 : ": Landlock refuses what it points to";
    plan::Need need = plan::need_read();
    if (is_dir) need.rights |= fs::kReadDir;
    report.findings.push_back(
        {"symlink", path, problem,
         real ? "if the sandbox needs it, " + oracle.suggest(target, need) +
                    "; otherwise nothing to change"
              : "remove the link if it is stale; nothing to change in the profile",
         // A link that leads nowhere on the host leads nowhere in the
         // sandbox either (Debian's /usr links to /etc files a package
         // did not install): the sandbox changes nothing about it.
         real ? Severity::warning : Severity::info});
  }

  void scan(const Root& root) {
    RootScan s{root.path, 0, 0, false, 0};
    Tally t;
    std::vector<std::string> stack{root.path};
    while (!stack.empty()) {
      const std::string dir = stack.back();
      stack.pop_back();
      const int fd = ::open(dir.c_str(),
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
      if (fd < 0) {
        ++s.unreadable;
        continue;
      }
      std::unique_ptr<DIR, DirClose> d(::fdopendir(fd));
      if (!d) {
        ::close(fd);
        ++s.unreadable;
        continue;
      }
      while (const dirent* e = ::readdir(d.get())) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        const std::string child = join(dir, name);
        if (s.scanned >= limits.entries_per_root) {
          if (s.not_scanned >= limits.count_per_root) {
            s.count_capped = true;
            stack.clear();
            break;
          }
          ++s.not_scanned;
          if (e->d_type == DT_DIR && !pseudo(child)) stack.push_back(child);
          continue;
        }
        ++s.scanned;
        unsigned char type = e->d_type;
        if (type == DT_UNKNOWN) {
          struct stat st {};
          if (::fstatat(::dirfd(d.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
          type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
        }
        if (type == DT_LNK) link(root, ::dirfd(d.get()), dir, name, t);
        // What a `deny` mask hides is not in the sandbox: nothing to say.
        if (type == DT_DIR && !pseudo(child) && !denied(plan, child))
          stack.push_back(child);
      }
    }
    if (t.curated) {
      std::string eg;
      for (const auto& e : t.examples) eg += (eg.empty() ? "" : ", ") + e;
      report.notes.push_back(std::to_string(t.curated) + " symlink" +
                             (t.curated == 1 ? "" : "s") + " under " + q(root.path) +
                             (t.curated == 1 ? " leads" : " lead") +
                             " into directories the profile picks entries from, to "
                             "entries it leaves out (e.g. " + eg +
                             "); add them to a group if the sandbox needs them");
    }
    if (t.unlisted)
      report.notes.push_back(std::to_string(t.unlisted) + " more symlinks under " +
                             q(root.path) + " leave every root; the first " +
                             std::to_string(kMaxFindingsPerRoot) + " are listed");
    report.scans.push_back(s);
  }
};

}  // namespace

void scan_symlinks(const plan::Plan& p, const plan::Oracle& oracle, const Fs& fs,
                   const Limits& limits, Report& report) {
  const std::vector<Root> roots = plan_roots(p);
  Scanner scanner{p, oracle, fs, limits, roots, report};
  // Each tree once: a root inside another is walked as part of it.
  for (const auto& r : roots) {
    if (!r.is_dir || pseudo(r.path) || fs.kind(r.path) != FileKind::directory) continue;
    if (p.ns.enabled && r.path == "/tmp") continue;  // the sandbox's own
    bool nested = false;
    for (const auto& outer : roots)
      if (outer.is_dir && outer.path != r.path && plan::is_within(r.path, outer.path) &&
          !pseudo(outer.path))
        nested = true;
    if (!nested) scanner.scan(r);
  }
}

}  // namespace aisbx::check
