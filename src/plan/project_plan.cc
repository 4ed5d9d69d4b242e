#include "plan/project_plan.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "plan/expand.h"

namespace aisbx::plan {
namespace {

// The system's own directories, as real paths (/bin, /lib, /lib64, /sbin
// are links into /usr on a merged-/usr system: their real paths are here
// too). Each is refused itself; a directory below one may be a project
// (/usr/src/x, /var/www/site, /tmp/x, /srv/app), except below the kernel's
// pseudo-filesystems.
// clang-format off
constexpr std::array<std::string_view, 33> kSystemDirs{
    "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
    "/lost+found", "/media", "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv",
    "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/lib32", "/usr/lib64",
    "/usr/libexec", "/usr/local", "/usr/sbin", "/usr/share", "/var", "/var/lib",
    "/var/tmp", "/run/user"};
constexpr std::array<std::string_view, 3> kNeverBelow{"/proc", "/sys", "/dev"};
// clang-format on

bool is_system_dir(const std::string& real) {
  if (std::find(kSystemDirs.begin(), kSystemDirs.end(), real) != kSystemDirs.end()) return true;
  // /lib*: every multilib flavour.
  if (real.starts_with("/lib") && real.find('/', 1) == std::string::npos) return true;
  return std::any_of(kNeverBelow.begin(), kNeverBelow.end(),
                     [&](std::string_view d) { return is_within(real, std::string(d)); });
}

std::string real_or_normal(const Fs& fs, const std::string& path) {
  return fs.realpath(path).value_or(normalize(path));
}

}  // namespace

std::optional<std::string> too_wide_for_a_project(const std::string& real,
                                                  const std::string& real_home) {
  if (real == "/") return "the root directory";
  if (!real_home.empty() && real_home != "/") {
    if (real == real_home) return "your home directory";
    if (is_within(real_home, real)) return "an ancestor of your home directory " + q(real_home);
  }
  if (is_system_dir(real)) return "a system directory";
  return std::nullopt;
}

std::optional<std::string> git_top(const std::string& real_dir, const Fs& fs) {
  std::string dir = real_dir;
  for (;;) {
    const FileKind k = fs.kind(dir == "/" ? "/.git" : dir + "/.git");
    if (k == FileKind::directory || k == FileKind::regular) return dir;
    if (dir == "/") return std::nullopt;
    const auto slash = dir.rfind('/');
    dir = slash == 0 ? "/" : dir.substr(0, slash);
  }
}

bool profile_uses(const profile::Profile& p, const std::string& name) {
  const std::string token = "${" + name + "}";
  const auto in = [&](const profile::Located<std::string>& s) {
    return s.value.find(token) != std::string::npos;
  };
  const auto any_in = [&](const std::vector<profile::Located<std::string>>& v) {
    return std::any_of(v.begin(), v.end(), in);
  };
  for (const auto& g : p.access_roots)
    if (any_in(g.paths) || any_in(g.deny) || any_in(g.readonly)) return true;
  const auto& c = p.command;
  if ((c.binary && in(*c.binary)) || (c.working_dir && in(*c.working_dir))) return true;
  for (const auto& [k, v] : c.env)
    if (in(v)) return true;
  if (p.home && in(*p.home)) return true;
  return p.network.unix_sockets && any_in(*p.network.unix_sockets);
}

ProjectChoice choose_project(const Options& o, const HostFacts& host, const Fs& fs,
                             bool uses_project) {
  ProjectChoice c;
  const std::string real_home = host.home.empty() ? "" : real_or_normal(fs, host.home);
  const std::string cwd = real_or_normal(fs, host.cwd);

  if (o.project) {
    c.source = ProjectSource::option;
    c.path = absolute(*o.project, host.cwd);
    const auto wide = too_wide_for_a_project(real_or_normal(fs, c.path), real_home);
    if (wide && o.allow_wide_project)
      c.warning = "--project " + q(c.path) + " is " + *wide +
                  ": the sandbox gets all of it (--allow-wide-project)";
    else if (wide)
      c.refusal = Error{"--project " + q(c.path) + " is " + *wide +
                            ", which aisbx-ns does not make a project: the sandbox would get "
                            "all of it",
                        0,
                        "name the project's own directory, or add --allow-wide-project if "
                        "that is really meant"};
    return c;
  }

  if (auto top = git_top(cwd, fs); top && !too_wide_for_a_project(*top, real_home)) {
    // A dotfiles repository at HOME (or a repository at /) is no project.
    c.source = ProjectSource::git;
    c.path = *top;
    return c;
  }
  c.source = ProjectSource::cwd;
  c.path = cwd;
  if (const auto wide = too_wide_for_a_project(cwd, real_home); wide && uses_project)
    c.refusal = Error{"the current directory " + q(cwd) + " is " + *wide +
                          ", which aisbx-ns does not take as the project: the sandbox would "
                          "get all of it",
                      0,
                      "name the project with --project DIR, or cd into the project "
                      "(--allow-wide-project with --project if that is really meant)"};
  return c;
}

void check_cwd_variable(const Options& o, const HostFacts& host, const Fs& fs, ProjectChoice& c) {
  if (c.refusal) return;  // one refusal is enough to stop the run
  const std::string real_home = host.home.empty() ? "" : real_or_normal(fs, host.home);
  const std::string cwd = real_or_normal(fs, host.cwd);
  const auto wide = too_wide_for_a_project(cwd, real_home);
  if (!wide) return;
  if (o.allow_wide_project) {
    const std::string w = "the current directory " + q(cwd) + " is " + *wide +
                          ": the profile's `${CWD}` hands all of it to the sandbox "
                          "(--allow-wide-project)";
    c.warning = c.warning ? *c.warning + "; " + w : w;
    return;
  }
  c.refusal = Error{"the current directory " + q(cwd) + " is " + *wide +
                        ", and the profile names `${CWD}`: the sandbox would get all of it",
                    0,
                    "cd into the directory meant, or write the profile with `${PROJECT}` and "
                    "pass --project DIR (--allow-wide-project if the wide directory is really "
                    "meant)"};
}

const char* to_string(ProjectSource s) {
  switch (s) {
    case ProjectSource::option: return "option";
    case ProjectSource::git: return "git";
    case ProjectSource::cwd: return "cwd";
  }
  return "?";
}

}  // namespace aisbx::plan
