// Which directories a project's `.git` file may add as roots. The `.git`
// file, the gitdir's `commondir`, `gitdir` and `config` all lie in trees the
// sandbox may write, so each is hostile input: a `.git` saying
// `gitdir: ~/.ssh`, or a gitdir whose `commondir` is `/`, would otherwise
// make the next launch bind that path with the project's rights. Only the
// two layouts git itself creates are accepted, and only when they point
// back at this project.
#include <array>
#include <string_view>

#include "plan/masks.h"
#include "plan/parts.h"

namespace aisbx::plan {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' ||
                        s.back() == '\t'))
    s.pop_back();
  s.erase(0, s.find_first_not_of(" \t"));
  return s;
}

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}


// `[core] worktree = PATH` of a submodule's config, "" if none. Enough of
// git-config(1) for what `git submodule` writes: sections, `key = value`,
// optional double quotes.
std::string core_worktree(const std::string& config) {
  bool in_core = false;
  std::size_t at = 0;
  while (at < config.size()) {
    auto nl = config.find('\n', at);
    if (nl == std::string::npos) nl = config.size();
    const std::string line = trim(config.substr(at, nl - at));
    at = nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      in_core = lower(line) == "[core]";
      continue;
    }
    const auto eq = line.find('=');
    if (!in_core || eq == std::string::npos) continue;
    if (lower(trim(line.substr(0, eq))) != "worktree") continue;
    std::string v = trim(line.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return v;
  }
  return {};
}

// Why `dir` may not become a root, or "" if it may.
std::string forbidden(const std::string& dir, const GitGuards& g) {
  if (dir == "/") return "is `/`";
  for (const auto& h : {g.real_home, g.private_home}) {
    if (h.empty()) continue;
    if (is_within(h, dir)) return "is or contains the home directory `" + h + "`";
  }
  if (!g.real_home.empty())
    for (const auto& m : builtin_masks()) {
      if (m.kind != MaskKind::secret) continue;
      const std::string store = g.real_home + "/" + std::string(m.path);
      if (is_within(dir, store) || is_within(store, dir))
        return "is or holds the secret store `" + store + "`";
    }
  return {};
}

}  // namespace

GitLink check_git_link(const Fs& fs, const std::string& project, const std::string& gitdir,
                       const GitGuards& guards) {
  GitLink out;
  auto real = fs.realpath(absolute(gitdir, project));
  if (!real) {
    out.missing = true;
    out.why = "does not exist";
    return out;
  }
  const std::string& g = *real;
  std::string repo;
  bool worktree = false;
  constexpr std::string_view kWorktrees = "/.git/worktrees/";
  constexpr std::string_view kModules = "/.git/modules/";
  std::string name;
  if (auto at = g.rfind(kWorktrees); at != std::string::npos &&
                                      g.find('/', at + kWorktrees.size()) == std::string::npos) {
    worktree = true;
    repo = g.substr(0, at);
    name = g.substr(at + kWorktrees.size());
  } else if (auto m = g.find(kModules); m != std::string::npos) {
    repo = g.substr(0, m);
    name = g.substr(m + kModules.size());
  }
  if (name.empty() || repo.empty()) {
    out.why = "resolves to `" + g +
              "`, which is not a worktree's or a submodule's gitdir "
              "(`REPO/.git/worktrees/NAME` or `REPO/.git/modules/NAME`)";
    return out;
  }
  const std::string common = worktree ? repo + "/.git" : g;
  if (fs.kind(g) != FileKind::directory || fs.kind(repo + "/.git") != FileKind::directory) {
    out.why = "resolves to `" + g + "`, which is not inside a repository's `.git` directory";
    return out;
  }

  // The commondir must be the repository's own: for a worktree the `.git`
  // two levels up, for a submodule its gitdir itself.
  if (auto text = fs.read_small(g + "/commondir")) {
    auto c = fs.realpath(absolute(trim(*text), g));
    if (!c || *c != common) {
      out.why = "has a `commondir` (`" + trim(*text) + "`) that is not `" + common + "`";
      return out;
    }
  } else if (worktree) {
    out.why = "resolves to `" + g + "`, which has no `commondir`";
    return out;
  }

  // The back-pointer: the repository must know this project.
  if (worktree) {
    auto text = fs.read_small(g + "/gitdir");
    auto back = text ? fs.realpath(absolute(trim(*text), g)) : std::nullopt;
    if (!back || *back != project + "/.git") {
      out.why = "resolves to `" + g + "`, whose `gitdir` file does not name `" + project +
                "/.git`";
      return out;
    }
  } else {
    bool ours = false;
    if (auto config = fs.read_small(g + "/config")) {
      const std::string wt = core_worktree(*config);
      if (!wt.empty())
        if (auto back = fs.realpath(absolute(wt, g))) ours = *back == project;
    }
    // `git submodule` lays REPO/a/b's gitdir at REPO/.git/modules/a/modules/b.
    std::string rel = name;
    for (std::size_t at; (at = rel.find("/modules/")) != std::string::npos;)
      rel.replace(at, 9, "/");
    ours = ours || repo + "/" + rel == project;
    if (!ours) {
      out.why = "resolves to `" + g + "`, a submodule gitdir whose `core.worktree` is not `" +
                project + "`";
      return out;
    }
  }

  for (const auto& d : {common, g}) {
    const std::string why = forbidden(d, guards);
    if (!why.empty()) {
      out.why = "leads to `" + d + "`, which " + why;
      return out;
    }
  }
  out.ok = true;
  out.gitdir = g;
  out.common = common;
  return out;
}

}  // namespace aisbx::plan
