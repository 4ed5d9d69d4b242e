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

#include "plan/glob.h"
#include "plan/parts.h"

namespace aisbx::plan {
namespace {

constexpr std::size_t kMaxSplitRules = 20000;

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
    // A file only has file rights; refer would let it be moved or linked
    // somewhere readable. A missing path may become a directory: all of it.
    return p.kind == FileKind::regular ? lost & (fs::kFileRights | fs::kRefer) : lost;
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
    for (const auto* p : ps) strip |= strip_for(*p, a);
    add(dir, true, a & ~strip);
    for (const auto& name : fs.list(dir)) {
      const std::string child = join(dir, name);
      std::vector<const ProtectedPath*> under;
      const ProtectedPath* exact = nullptr;
      for (const auto* p : ps) {
        if (p->path == child) exact = p;
        else if (is_within(p->path, child)) under.push_back(p);
      }
      const FileKind k = fs.kind(child);
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
        if (k == FileKind::symlink)
          return fail(pat.where.str() + ": " + key + ": `" + m + "` is a symlink",
                      "aisbx-ns never mounts over a symlink: protect its target instead");
        if (k != FileKind::missing) {
          auto real = fs.realpath(m);
          if (!real || *real != m)
            return fail(pat.where.str() + ": " + key + ": `" + m + "` lies under a symlink (to `" +
                            real.value_or("?") + "`)",
                        "protect the real path instead");
        }
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const ProtectedPath& p) { return p.path == m; });
        if (it != out.end()) {
          it->deny = it->deny || deny;  // deny wins over readonly
          continue;
        }
        out.push_back({m, deny, k, g.name, false, false});
      }
      return {};
    };
    for (const auto& d : g.deny) AISBX_TRY(add_matches(d, true));
    for (const auto& r : g.readonly) AISBX_TRY(add_matches(r, false));
  }
  std::sort(out.begin(), out.end(),
            [](const ProtectedPath& a, const ProtectedPath& b) { return a.path < b.path; });
  return {};
}

}  // namespace

Expected<void> plan_protected(Context& cx, const std::vector<Root>& roots) {
  AISBX_TRY(collect(cx, roots));
  auto& prot = cx.plan.protected_paths;
  if (prot.empty()) return {};

  NamespacePlan& ns = cx.plan.ns;
  if (ns.enabled) {
    for (auto& p : prot) {
      if (p.kind == FileKind::missing) continue;  // nothing there to mask now
      MountKind kind = !p.deny ? MountKind::readonly
                       : p.kind == FileKind::directory ? MountKind::mask_dir
                                                       : MountKind::mask_file;
      ns.mounts.push_back({kind, p.path, p.path, true, true, p.group, false});
      p.masked = true;
    }
    // A path missing now is listed as such by --dry-run; nothing to mask.
    return {};
  }

  LandlockPlan& l = cx.plan.landlock;
  if (!l.enabled) {
    for (const auto& p : prot)
      cx.warn("`" + p.path + "` (" + (p.deny ? "deny" : "readonly") +
              ") is not protected: neither wall is on");
    return {};
  }
  std::vector<LandlockRule> rules;
  for (const auto& r : l.rules) {
    std::vector<const ProtectedPath*> under;
    const ProtectedPath* exact = nullptr;
    for (const auto& p : prot) {
      // A path missing now is not split around, as the namespace wall does
      // not mask it: taking every right from its parent (it may become a
      // directory) would leave e.g. a project without `.env` unusable.
      if (p.kind == FileKind::missing) continue;
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
  for (auto& p : prot) p.split = p.kind != FileKind::missing;
  return {};
}

}  // namespace aisbx::plan
