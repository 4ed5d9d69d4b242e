#include <algorithm>

#include "plan/parts.h"

namespace aisbx::plan {
namespace {

// Rights of the ad-hoc `--ro` / `--rw` options.
constexpr AccessMask kCliRo = fs::kReadFile | fs::kReadDir | fs::kExecute;

Expected<void> add_root(Context& cx, std::vector<Root>& out, const std::string& group,
                        const profile::Located<std::string>& raw, AccessMask granted,
                        bool required) {
  AISBX_ASSIGN(path, expand_path(raw, cx.vars));
  const Fs& fs = cx.in.fs;
  auto real = fs.realpath(path);
  if (!real) {
    const std::string key =
        group.find('.') != std::string::npos ? group : "access_roots." + group + ".paths";
    const std::string why = fs.why_unresolved(path);
    const std::string what = raw.where.str() + ": " + key + ": `" +
                             raw.value + "`" + (raw.value != path ? " (`" + path + "`)" : "") +
                             (why.empty() ? " does not exist" : " cannot be resolved: " + why);
    if (required)
      return fail(what, why.empty() ? "create it, or drop `required: true` from the group to skip it"
                                    : "make it reachable, or drop `required: true` from the group "
                                      "to skip it");
    cx.warn(what + "; skipped");
    return {};
  }
  Root r;
  r.group = group;
  r.path = *real;
  r.where = raw.where;
  r.granted = granted;
  r.is_dir = fs.kind(*real) == FileKind::directory;
  if (*real != path) r.link_path = path;
  out.push_back(std::move(r));
  return {};
}

// `/lib64` written, `/usr/lib64` reached, through the standard merged-/usr
// link `/lib64 -> usr/lib64` and no other (also `/lib/x86_64-linux-gnu`).
bool merged_usr(const Fs& fs, const Root& r) {
  const std::string& written = r.link_path;
  const auto slash = written.find('/', 1);
  const std::string top = written.substr(0, slash);
  if (!is_merged_usr_link(top) || r.path != "/usr" + written) return false;
  const auto text = fs.readlink(top);
  return text && (*text == "usr" + top || *text == "/usr" + top);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// `git: worktree`: a project whose `.git` is a `gitdir:` file (a worktree,
// a submodule) keeps its metadata elsewhere; that gitdir and its commondir
// join the project's group with its rights, so git works inside.
void add_git_dirs(Context& cx, std::vector<Root>& roots) {
  const Fs& fs = cx.in.fs;
  auto project = fs.realpath(cx.vars.at("PROJECT"));
  const Root* home = nullptr;
  for (const auto& r : roots)
    if (project && r.path == *project) home = &r;
  if (!home) {
    cx.warn("git: worktree: the project `" + cx.vars.at("PROJECT") + "` is not a root of the "
            "profile; nothing added");
    return;
  }
  const std::string dotgit = home->path + "/.git";
  if (fs.kind(dotgit) != FileKind::regular) return;  // a plain repository, or none
  const std::string text = trim(fs.read_small(dotgit).value_or(""));
  if (!text.starts_with("gitdir:")) {
    cx.warn("git: worktree: `" + dotgit + "` is a file but not a `gitdir:` link; nothing added");
    return;
  }
  std::string gitdir = text.substr(7);
  gitdir.erase(0, gitdir.find_first_not_of(' '));
  // Everything the link names lies in trees the sandbox could write: it is
  // followed only to the layouts git makes, pointing back at this project.
  const GitGuards guards{fs.realpath(cx.in.host.home).value_or(normalize(cx.in.host.home)),
                         cx.plan.ns.home};
  const GitLink link = check_git_link(fs, home->path, gitdir, guards);
  if (!link.ok) {
    if (link.missing)
      cx.warn("git: worktree: the gitdir `" + gitdir + "` named by `" + dotgit +
              "` does not exist");
    else
      cx.warn("git: worktree: ignored `" + dotgit + "`: the gitdir `" + gitdir + "` " +
              link.why + "; nothing added");
    return;
  }
  const std::string& common = link.common;
  const Root project_root = *home;
  for (const auto& d : {common, link.gitdir}) {
    auto same = std::find_if(roots.begin(), roots.end(), [&](const Root& r) { return r.path == d; });
    if (same != roots.end()) {
      same->git_common = same->git_common || d == common;
      continue;
    }
    Root r = project_root;
    r.path = d;
    r.link_path.clear();
    r.is_dir = true;
    r.git_common = d == common;
    r.git_added = true;
    roots.push_back(r);
  }
}

}  // namespace

Expected<std::vector<Root>> collect_roots(Context& cx) {
  std::vector<Root> roots;
  for (const auto& g : cx.in.profile.access_roots)
    for (const auto& raw : g.paths)
      AISBX_TRY(add_root(cx, roots, g.name, raw, g.permissions.granted, g.required));

  // Ad-hoc roots from the command line must exist: the user named them now.
  const auto& o = cx.in.options;
  auto cli = [&](const std::vector<std::string>& paths, const std::string& group,
                 AccessMask granted) -> Expected<void> {
    for (const auto& p : paths) {
      profile::Located<std::string> raw{absolute(p, cx.in.host.cwd), {"--" + group, 0, 0}};
      AISBX_TRY(add_root(cx, roots, group, raw, granted, true));
    }
    return {};
  };
  AISBX_TRY(cli(o.ro, "ro", kCliRo));
  AISBX_TRY(cli(o.rw, "rw", fs_rights_at(kMaxKnownAbi)));

  // network.unix_sockets: the sockets the sandbox may connect to, each a
  // root granting resolve_unix (Landlock ABI 9) and, in the namespace wall,
  // the only sockets that exist.
  if (const auto& socks = cx.in.profile.network.unix_sockets)
    for (const auto& raw : *socks)
      AISBX_TRY(add_root(cx, roots, "network.unix_sockets", raw, fs::kResolveUnix, false));

  if (cx.in.profile.git.value_or(profile::GitMode::off) == profile::GitMode::worktree)
    add_git_dirs(cx, roots);

  // A path that resolves through a symlink is worth a note, unless its
  // target lies in another root anyway (/lib -> usr/lib with /usr a root),
  // or the link is a merged-/usr one (/lib64 -> usr/lib64): a known system
  // link that the namespace wall recreates, resolved silently.
  for (auto& r : roots) {
    if (r.link_path.empty()) continue;
    bool covered = merged_usr(cx.in.fs, r);
    for (const auto& other : roots) {
      if (&other == &r || !other.link_path.empty() || !is_within(r.path, other.path)) continue;
      covered = true;
      if (other.path != r.path && !(r.granted & ~other.granted)) r.link_only = true;
    }
    if (!covered)
      cx.note(r.where.str() + ": `" + r.link_path + "` resolves through a symlink to `" +
              r.path + "`; the rules apply to `" + r.path + "`");
  }
  return roots;
}

}  // namespace aisbx::plan
