// `deny` and `readonly` subpaths: deny-within-allow, which Landlock alone
// cannot express (its rights are inherited downward and add up).
//
// The namespace wall masks them: an empty read-only tmpfs over a denied
// directory, an empty read-only file over a denied file, a read-only bind
// for a readonly subpath. Never a mount over a symlink.
//
// Without the namespace wall (landlock mode, or no user namespaces), the
// Landlock rules are split instead: every sibling along the way keeps the
// root's rights, the protected path gets what it may have, and each
// directory on the way loses the rights that would reach the protected
// path through inheritance. New entries made in those directories later
// get their reduced rights. With the namespace wall on, the split is not
// made: it would take make_reg from `.git` to protect `.git/hooks` and so
// break git, while the mount already holds.
#include <algorithm>
#include <set>

#include "plan/glob.h"
#include "plan/parts.h"

namespace aisbx::plan {
namespace {

constexpr std::size_t kMaxSplitRules = 20000;
constexpr AccessMask kMakeRights = fs::kMakeChar | fs::kMakeDir | fs::kMakeReg | fs::kMakeSock |
                                   fs::kMakeFifo | fs::kMakeBlock | fs::kMakeSym;

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

bool is_pattern_path(const std::string& p) {
  return p.starts_with("/") || p.starts_with("~") || p.starts_with("${");
}

struct Splitter {
  const Fs& fs;
  std::vector<LandlockRule>& out;
  std::string origin;
  const std::vector<ProtectedPath>& all;

  AccessMask allowed_at(const ProtectedPath& p, AccessMask a) const {
    return p.deny ? 0 : (a & ~fs::kWriteRights);
  }
  // What must not reach `p` from an ancestor's rule.
  AccessMask strip_for(const ProtectedPath& p, AccessMask a) const {
    const AccessMask lost = a & ~allowed_at(p, a);
    // Only creating it is refused where nothing can be mounted over it.
    if (p.creatable && (p.kind == FileKind::missing || !p.link.empty()))
      return a & kMakeRights;
    // A file only has file rights; refer would let it be moved or linked
    // somewhere readable. A missing path may become a directory: all of it.
    return p.kind == FileKind::regular ? lost & (fs::kFileRights | fs::kRefer) : lost;
  }
  // A read-only path must also stay in place: were an entry on the way
  // free to leave its directory, `mv docs docs2; mv src docs` would put a
  // sibling, with its full rights, where the protected path was, and a
  // removed file could be made again. Rights add up along the path, so
  // every directory on the way loses removing directories, and removing
  // files too above a file. (A `deny` promises only that the content stays
  // hidden, and its rules move with it; a path missing now loses make_*
  // along the whole way instead.)
  AccessMask keep_in_place(const ProtectedPath& p) const {
    if (p.deny || p.kind == FileKind::missing || !p.link.empty()) return 0;
    return fs::kRemoveDir | (p.kind == FileKind::directory ? 0 : fs::kRemoveFile);
  }
  void add(const std::string& path, bool is_dir, AccessMask a) {
    const AccessMask m = is_dir ? a : a & fs::kFileRights;
    if (m) out.push_back({path, is_dir, m, m, origin, false});
  }
  Expected<void> split(const std::string& dir, AccessMask a, std::vector<const ProtectedPath*> ps) {
    if (out.size() > kMaxSplitRules)
      return fail("splitting the Landlock rules around `deny`/`readonly` paths needs more than " +
                      std::to_string(kMaxSplitRules) + " rules (at `" + dir + "`)",
                  "protect fewer paths, or run with the namespace wall (--mode layered)");
    AccessMask strip = 0;
    for (const auto* p : ps) strip |= strip_for(*p, a) | (a & keep_in_place(*p));
    add(dir, true, a & ~strip);
    for (const auto& e : fs.entries(dir)) {
      const std::string child = join(dir, e.name);
      std::vector<const ProtectedPath*> under;
      const ProtectedPath* exact = nullptr;
      for (const auto* p : ps) {
        if (p->path == child) exact = p;
        else if (is_within(p->path, child)) under.push_back(p);
      }
      const FileKind k = e.kind;
      if (k == FileKind::symlink) continue;  // its target has rules of its own
      if (exact) {
        const AccessMask there = a & allowed_at(*exact, a);
        if (k == FileKind::directory && !under.empty())
          AISBX_TRY(split(child, there, under));
        else
          add(child, k == FileKind::directory, there);
      } else if (!under.empty()) {
        AISBX_TRY(split(child, a, under));
      } else {
        add(child, k == FileKind::directory, a);
      }
    }
    return {};
  }
};

const Root* holding_root(const std::vector<Root>& roots, const std::string& path) {
  const Root* best = nullptr;
  for (const auto& r : roots)
    if (is_within(path, r.path) && (r.is_dir || r.path == path) && !r.link_only &&
        (!best || r.path.size() > best->path.size()))
      best = &r;
  return best;
}

// The namespace wall's masks and read-only binds sit on mount points, and
// a mount moves with its directory: in a writable root, `mv ~/.config
// ~/.c2; mkdir -p ~/.config/git` takes the masks along and leaves a fresh,
// unprotected path for the host's git, shell or IDE to read. So every
// directory between a writable root and a protected path is pinned (bound
// onto itself; a mount point cannot be renamed or removed: EBUSY).
// A profile's `deny` only promises that the file stays hidden, which a
// rename does not undo (the mask goes with it); everything else promises
// that the path keeps the host's content.
void pin_ancestors(Context& cx, const std::vector<Root>& roots, std::vector<ProtectedPath>& out) {
  const Fs& fs = cx.in.fs;
  std::set<std::string> dirs;
  for (const auto& p : out) {
    if (p.deny && p.mask.empty()) continue;
    const Root* r = holding_root(roots, p.path);
    if (!r || !r->is_dir || !(r->granted & fs::kWriteRights)) continue;
    for (std::string at = parent_dir(p.path); at.size() > r->path.size() && is_within(at, r->path);
         at = parent_dir(at))
      dirs.insert(at);
  }
  for (const auto& d : dirs) {
    // A link on the way is not mounted over (add_protected warns about
    // the path beneath it); a missing directory has nothing to pin, and
    // the Landlock wall keeps it from being made (`creatable`).
    if (fs.kind(d) != FileKind::directory || fs.realpath(d) != d) continue;
    if (std::any_of(out.begin(), out.end(), [&](const ProtectedPath& o) { return o.path == d; }))
      continue;  // already a mount point
    ProtectedPath p = protected_path(d, false, FileKind::directory, "built-in");
    p.pin = true;
    p.ns_only = true;
    p.why = "on the way to a protected path: cannot be renamed or replaced";
    out.push_back(std::move(p));
  }
}

Expected<void> collect(Context& cx, const std::vector<Root>& roots) {
  const Fs& fs = cx.in.fs;
  auto& out = cx.plan.protected_paths;
  for (const auto& g : cx.in.profile.access_roots) {
    auto add_matches = [&](const profile::Located<std::string>& pat, bool deny) -> Expected<void> {
      const std::string key = "access_roots." + g.name + (deny ? ".deny" : ".readonly");
      std::vector<std::string> matches;
      if (is_pattern_path(pat.value)) {
        AISBX_ASSIGN(abs, expand_path(pat, cx.vars));
        auto root = std::find_if(roots.begin(), roots.end(), [&](const Root& r) {
          return r.group == g.name && r.is_dir && is_within(abs, r.path);
        });
        if (root == roots.end())
          return fail(pat.where.str() + ": " + key + ": `" + abs +
                      "` is not inside a root of the group");
        // A glob in the absolute form expands beneath that root, as the
        // relative form does.
        const std::string rel = abs == root->path ? "" : abs.substr(root->path == "/" ? 1 : root->path.size() + 1);
        if (has_glob(rel)) {
          auto m = expand_glob(fs, root->path, rel);
          if (!m) return std::unexpected(with_context(m.error(), pat.where.str() + ": " + key));
          matches = std::move(*m);
        } else {
          matches.push_back(abs);
        }
      } else {
        for (const auto& r : roots) {
          if (r.group != g.name || !r.is_dir) continue;
          // In a worktree, `.git/hooks` and `.git/config` live in the
          // repository's common dir, which `git: worktree` made a root.
          std::string rel = pat.value;
          if (r.git_added && !r.git_common) continue;
          if (r.git_common) {
            if (!rel.starts_with(".git/")) continue;
            rel = rel.substr(5);
          }
          auto m = expand_glob(fs, r.path, rel);
          if (!m) return std::unexpected(with_context(m.error(), pat.where.str() + ": " + key));
          matches.insert(matches.end(), m->begin(), m->end());
        }
      }
      for (const auto& m : matches) {
        const FileKind k = fs.kind(m);
        // Under a missing directory (or a `.git` file) there is nothing to
        // protect and nothing the wall could cover.
        if (k == FileKind::missing && fs.kind(m.substr(0, m.rfind('/'))) != FileKind::directory)
          continue;
        add_protected(cx, roots, out, protected_path(m, deny, k, g.name));
      }
      return {};
    };
    // A profile that extends another adds its lists up: the same pattern
    // twice would walk the tree twice (a `**` costs a getdents per
    // directory of the root).
    std::set<std::pair<bool, std::string>> done;
    for (const auto& d : g.deny)
      if (done.emplace(true, d.value).second) AISBX_TRY(add_matches(d, true));
    for (const auto& r : g.readonly)
      if (done.emplace(false, r.value).second) AISBX_TRY(add_matches(r, false));
  }
  AISBX_TRY(collect_home_masks(cx, roots, out));
  AISBX_TRY(collect_git_meta(cx, roots, out));
  if (cx.plan.ns.enabled) pin_ancestors(cx, roots, out);
  std::sort(out.begin(), out.end(),
            [](const ProtectedPath& a, const ProtectedPath& b) { return a.path < b.path; });
  return {};
}

// No mount can cover these: a missing path, or a symlink.
bool uncoverable(const ProtectedPath& p) {
  return p.kind == FileKind::missing || !p.link.empty();
}

}  // namespace

void add_protected(Context& cx, const std::vector<Root>& roots, std::vector<ProtectedPath>& out,
                   ProtectedPath p) {
  const Fs& fs = cx.in.fs;
  auto same = [&](const std::string& path) {
    return std::find_if(out.begin(), out.end(),
                        [&](const ProtectedPath& o) { return o.path == path; });
  };
  if (auto it = same(p.path); it != out.end()) {
    it->deny = it->deny || p.deny;  // deny wins over readonly
    it->creatable = it->creatable || p.creatable;
    return;
  }
  if (p.kind == FileKind::missing) {
    out.push_back(std::move(p));
    return;
  }
  // A symlink here, or on the way (a run may have made `.git/hooks` one):
  // never mounted over, never a reason to refuse. What it leads to is
  // protected instead when a root holds it; otherwise the sandbox cannot
  // reach it at all.
  const auto real = fs.realpath(p.path);
  if (p.kind != FileKind::symlink && real && *real == p.path) {
    out.push_back(std::move(p));
    return;
  }
  p.link = real.value_or(fs.readlink(p.path).value_or("?"));
  const Root* holder = real ? holding_root(roots, *real) : nullptr;
  // A target that holds a root would take the whole root with it.
  const bool wide = real && std::any_of(roots.begin(), roots.end(), [&](const Root& r) {
    return is_within(r.path, *real);
  });
  std::string what = "`" + p.path + "` " +
                     (p.kind == FileKind::symlink ? "is a symlink" : "lies under a symlink") +
                     " (to `" + p.link + "`): no mount is made over it; ";
  if (!real || !holder) what += "its target is outside every root";
  else if (wide) what += "its target holds a root and stays as the root grants";
  else what += "its target is " + std::string(p.deny ? "hidden" : "read-only") + " instead";
  cx.warn(what);
  ProtectedPath target = p;
  out.push_back(std::move(p));
  if (real && holder && !wide && same(*real) == out.end()) {
    target.path = *real;
    target.kind = fs.kind(*real);
    target.link.clear();
    target.creatable = false;
    out.push_back(std::move(target));
  }
}

Expected<void> plan_protected(Context& cx, const std::vector<Root>& roots) {
  AISBX_TRY(collect(cx, roots));
  auto& prot = cx.plan.protected_paths;
  if (prot.empty()) return {};

  NamespacePlan& ns = cx.plan.ns;
  LandlockPlan& l = cx.plan.landlock;
  // ns mode may apply a ruleset of scopes only: no file right is handled.
  const bool fs_wall = l.enabled && l.handled_fs != 0;
  if (ns.enabled) {
    for (auto& p : prot) {
      if (uncoverable(p)) continue;  // nothing there to mount over now
      const Root* r = holding_root(roots, p.path);
      // Start-up directories (`~/.local/bin`) and `.git` keep the root's
      // execute right; the rest is noexec as before.
      const bool exec_ok = r && (r->granted & fs::kExecute) && (p.pin || (!p.mask.empty() && p.mask != "git"));
      MountKind kind = p.pin    ? MountKind::pin
                       : !p.deny ? MountKind::readonly
                       : p.kind == FileKind::directory ? MountKind::mask_dir
                                                       : MountKind::mask_file;
      ns.mounts.push_back({kind, p.path, p.path, !p.pin, !exec_ok,
                           p.mask.empty() ? p.group : "mask " + p.mask, false});
      p.masked = true;
    }
    if (!fs_wall) {
      std::string missing;
      std::size_t n = 0;
      for (const auto& p : prot)
        if (p.creatable && n++ < 6) missing += (missing.empty() ? "`" : ", `") + p.path + "` (" + p.mask + ")";
      if (n)
        return fail("the sandbox could create " + missing + (n > 6 ? " and " + std::to_string(n - 6) + " more" : "") +
                        ", which do not exist now or are symlinks: a mount cannot cover them, and "
                        "there is no Landlock wall to take the right to create them",
                    "run with Landlock (--mode layered), create them on the host, or lift the "
                    "masks with `unmask:` in the profile");
    }
  }

  if (!fs_wall) {
    if (!ns.enabled)
      for (const auto& p : prot)
        cx.warn("`" + p.path + "` (" + (p.deny ? "deny" : "readonly") +
                ") is not protected: neither wall is on");
    return {};
  }
  // With the namespace wall, only what no mount covers is split around;
  // without it, everything but the git metadata (see git_meta_plan.cc).
  auto splits = [&](const ProtectedPath& p) {
    if (p.creatable) return true;
    if (ns.enabled || uncoverable(p) || p.ns_only) return false;
    return true;
  };
  std::vector<LandlockRule> rules;
  for (const auto& r : l.rules) {
    std::vector<const ProtectedPath*> under;
    const ProtectedPath* exact = nullptr;
    for (const auto& p : prot) {
      // A path missing now is not split around, as the namespace wall does
      // not mask it: taking every right from its parent (it may become a
      // directory) would leave e.g. a project without `.env` unusable.
      // Built-in masks that could be created are: their parent loses only
      // the make_* rights.
      if (!splits(p)) continue;
      if (p.path == r.path) exact = &p;
      else if (r.is_dir && is_within(p.path, r.path)) under.push_back(&p);
    }
    if (exact) {
      // The protected path is a root itself: it keeps what it may have.
      LandlockRule x = r;
      if (exact->deny) continue;
      x.access &= ~fs::kWriteRights;
      if (!under.empty()) under.clear();
      rules.push_back(x);
      continue;
    }
    if (under.empty()) {
      rules.push_back(r);
      continue;
    }
    Splitter s{cx.in.fs, rules, r.origin + " (split)", prot};
    AISBX_TRY(s.split(r.path, r.access, under));
  }
  l.rules = std::move(rules);
  for (auto& p : prot) {
    p.split = splits(p);
    p.restored = !ns.enabled && p.ns_only && !uncoverable(p);
  }
  if (std::any_of(prot.begin(), prot.end(), [](const ProtectedPath& p) { return p.restored; }))
    cx.warn("git metadata (`.git/config`, hooks, ...) is not read-only without the namespace "
            "wall (Landlock would have to take from `.git` what git writes there): what the run "
            "changes there is restored when it ends, but git on the host may follow it while it "
            "runs (--mode layered holds it)");
  return {};
}

}  // namespace aisbx::plan
