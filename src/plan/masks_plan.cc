// The built-in masks (src/plan/masks.cc) applied beneath the roots.
//
// Homes: the caller's HOME always; when a root holds `/home` or `/root`
// (a root at `/`, `/home`, ...), or reads are not controlled and the
// namespace wall shows the host's tree, every home directory found there
// too, for the entries that exist (the caller cannot create in another
// user's home unless it is root, and listing them is bounded). In the
// host's read-only view the secret stores are hidden as well; without the
// namespace wall nothing can hide what Landlock does not control, and the
// plan says so (protect_plan.cc).
//
// A root that is a secret store or lies inside one is refused unless the
// profile unmasks it; a root inside a start-up directory (`~/.local/bin`)
// becomes read-only itself.
//
// A mask that is missing now (or is a symlink, which no mount may cover)
// in a directory the sandbox may create in is `creatable`: protect_plan.cc
// takes the make_* rights from the nearest existing directory in the
// Landlock wall, and refuses the run when there is no Landlock wall.
#include <algorithm>

#include "plan/masks.h"
#include "plan/parts.h"

namespace aisbx::plan {
namespace {

constexpr std::size_t kMaxOtherHomes = 256;
constexpr AccessMask kMakeRights = fs::kMakeChar | fs::kMakeDir | fs::kMakeReg | fs::kMakeSock |
                                   fs::kMakeFifo | fs::kMakeBlock | fs::kMakeSym;

// Roots the masks apply to: what the profile (or the command line) made
// visible. The sockets of network.unix_sockets grant only connecting.
bool counts(const Root& r) { return r.group != "network.unix_sockets" && !r.link_only; }

// Reads not controlled: the namespace wall shows the host's whole tree
// (read-only), so a secret store is reachable without any root holding it.
bool host_view(const Context& cx) { return cx.plan.ns.enabled && !cx.plan.ns.empty_root; }

std::vector<std::string> homes(const Context& cx, const std::vector<Root>& roots) {
  const Fs& fs = cx.in.fs;
  std::vector<std::string> out;
  const std::string home = fs.realpath(cx.in.host.home).value_or(cx.in.host.home);
  if (home.starts_with("/") && home != "/") out.push_back(home);
  auto held = [&](const std::string& dir) {
    return std::any_of(roots.begin(), roots.end(),
                       [&](const Root& r) { return counts(r) && r.is_dir && is_within(dir, r.path); });
  };
  auto add = [&](const std::string& h) {
    if (out.size() < kMaxOtherHomes && fs.kind(h) == FileKind::directory &&
        std::find(out.begin(), out.end(), h) == out.end())
      out.push_back(h);
  };
  if (held("/home") || host_view(cx))
    for (const auto& name : fs.list("/home")) add("/home/" + name);
  if (held("/root") || host_view(cx)) add("/root");
  return out;
}

std::string shown(const std::string& path, const std::string& home) {
  return is_within(path, home) && path != home ? "~" + path.substr(home.size()) : path;
}

}  // namespace

Expected<void> collect_home_masks(Context& cx, const std::vector<Root>& roots,
                                  std::vector<ProtectedPath>& out) {
  const Fs& fs = cx.in.fs;
  const auto& unmask = cx.in.profile.unmask;
  auto lifted = [&](std::string_view name) {
    return std::any_of(unmask.begin(), unmask.end(),
                       [&](const auto& u) { return u.value == name; });
  };
  const auto hs = homes(cx, roots);
  const std::string home = hs.empty() ? "" : hs.front();
  for (const auto& u : unmask) {
    std::string paths;
    std::string why;
    for (const auto& m : builtin_masks()) {
      if (m.name != u.value) continue;
      paths += (paths.empty() ? "~/" : ", ~/") + std::string(m.path);
      why = m.why;
    }
    cx.plan.unmasked.push_back(u.value + ": " + paths + " (" + why + ")");
    cx.warn(u.where.str() + ": unmask: `" + u.value + "`: " + paths +
            " is visible in the sandbox where a root holds it (" + why + ")");
  }

  // Landlock alone, reads not controlled: a secret store is readable
  // wherever it is, and no wall can say otherwise.
  const bool reads_open =
      !cx.plan.ns.enabled && (cx.in.profile.control_access.granted & fs::kReadFile) == 0;
  if (reads_open && !home.empty()) {
    std::string found;
    for (const auto& m : builtin_masks())
      if (m.kind == MaskKind::secret && !lifted(m.name) &&
          fs.kind(home + "/" + std::string(m.path)) != FileKind::missing)
        found += (found.empty() ? "`~/" : "`, `~/") + std::string(m.path);
    if (!found.empty())
      cx.warn("reads are not controlled (control_access has no read_file) and there is no "
              "namespace wall: the secret stores " + found + "` are readable in the sandbox; "
              "control read_file and read_dir, or run with the namespace wall (--mode layered)");
  }

  for (std::size_t hi = 0; hi < hs.size(); ++hi) {
    const std::string& h = hs[hi];
    const bool real_home = hi == 0 && h == home;
    // Only a root inside this home, or one holding it, can meet a path
    // beneath it (or the directories above one, on the way to the home):
    // with a thousand roots elsewhere, the loops below stay short.
    std::vector<const Root*> near;
    for (const auto& r : roots)
      if (counts(r) && (is_within(r.path, h) || is_within(h, r.path))) near.push_back(&r);
    // One mask at `path` (the table's row `m`).
    const auto mask_at = [&](const BuiltinMask& m, const std::string& path) -> Expected<void> {
      const bool secret = m.kind == MaskKind::secret;
      for (const Root* rp : near) {
        const Root& r = *rp;
        if (!is_within(r.path, path) || (r.path == path && !secret)) continue;
        if (secret)
          return fail(r.where.str() + ": `" + r.path + "` is or lies inside the secret store `" +
                          shown(path, home) + "` (" + std::string(m.why) + ")",
                      "name another path, or add `unmask: [" + std::string(m.name) +
                          "]` to the profile to show it");
        ProtectedPath p = protected_path(r.path, false, fs.kind(r.path), "built-in");
        p.mask = m.name;
        p.why = std::string(m.why) + " (inside `" + shown(path, home) + "`)";
        add_protected(cx, roots, out, std::move(p));
      }
      const Root* holder = nullptr;
      for (const Root* r : near)
        if (is_within(path, r->path) && (r->is_dir || r->path == path))
          if (!holder || r->path.size() > holder->path.size()) holder = r;
      if (!holder) {
        // Only in the host's read-only view: hidden where it really is.
        if (!secret || !host_view(cx)) return {};
        const auto real = fs.realpath(path);
        const FileKind rk = real ? fs.kind(*real) : FileKind::missing;
        if (rk != FileKind::directory && rk != FileKind::regular) return {};
        ProtectedPath p = protected_path(*real, true, rk, "built-in");
        p.mask = m.name;
        p.why = std::string(m.why) + " (in the host's read-only view: reads are not controlled)";
        add_protected(cx, roots, out, std::move(p));
        return {};
      }
      const FileKind k = fs.kind(path);
      if (k == FileKind::missing && !real_home) return {};
      ProtectedPath p = protected_path(path, secret, k, "built-in");
      p.mask = m.name;
      p.why = m.why;
      if (k == FileKind::missing || k == FileKind::symlink) {
        // The nearest directory that exists: what the sandbox would create in.
        std::string at = parent_dir(path);
        while (at != "/" && fs.kind(at) == FileKind::missing) at = parent_dir(at);
        const bool in_dir = fs.kind(at) == FileKind::directory;
        for (const Root* r : near)
          if (r->is_dir && in_dir && is_within(at, r->path) && (r->granted & kMakeRights))
            p.creatable = true;
        if (!p.creatable && k == FileKind::missing) return {};  // nothing can appear there
      }
      add_protected(cx, roots, out, std::move(p));
      return {};
    };
    for (const auto& m : builtin_masks()) {
      if (lifted(m.name)) continue;
      const std::string path = h + "/" + std::string(m.path);
      // The run's own private HOME lies among the private homes: each other
      // entry there is masked on its own, so the HOME bound beneath stays.
      const std::string& own = cx.plan.ns.home;
      if (m.name == kAisbxHomesMask && !own.empty() && own != path && is_within(own, path) &&
          fs.kind(path) == FileKind::directory) {
        std::vector<std::string> names = fs.list(path);
        std::sort(names.begin(), names.end());
        for (const auto& name : names)
          if (const std::string sub = path + "/" + name; !is_within(own, sub))
            AISBX_TRY(mask_at(m, sub));
        continue;
      }
      AISBX_TRY(mask_at(m, path));
    }
  }
  return {};
}

}  // namespace aisbx::plan
