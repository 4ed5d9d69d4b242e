// The identity post-pass, last in resolve(): every path a stage will open
// for a Landlock rule or a mount gets the (st_dev, st_ino) planning saw
// there (lstat, through Fs::identity). The stages open the path without
// following symlinks and refuse the run when fstat() of what they opened
// differs: a sandboxed program that swaps a directory for a symlink (or for
// another directory) between planning and the stage gets a refused run,
// never the swapped-in tree (DESIGN.md, threat model).
//
// Landlock rules of layered mode are opened inside the new root. A bind
// keeps the inode numbers of its source there; the trees the sandbox makes
// itself (the empty root, /tmp, /proc, /dev, masks) do not. So a rule is
// compared only when the mount that provides its path in the new root is a
// bind of the same host path; the rest are skipped here, by name, not by
// an accident of the comparison. A rule an overlay provides beneath its
// root (one split around a protected path there) is compared too, but
// before pivot_root, through the host's path: merged_rules.
#include <unordered_map>

#include "plan/parts.h"

namespace aisbx::plan {
namespace {

// Mounts that show a host path at its own place, inode numbers included.
bool keeps_identity(MountKind k) {
  return k == MountKind::bind || k == MountKind::readonly || k == MountKind::home ||
         k == MountKind::host_root;
}

// build_root() makes the binds and tmpfs mounts first, then symlinks, /proc,
// /dev and masks: the order in which a later mount hides an earlier one.
int pass_of(MountKind k) {
  switch (k) {
    case MountKind::tmpfs_root:
    case MountKind::host_root:
    case MountKind::bind:
    case MountKind::home:
    case MountKind::readonly:
    case MountKind::tmp:
    case MountKind::overlay:
      return 0;
    default:
      return 1;
  }
}

// Which mount of the namespace plan a path of the new root lies on: the
// last one made whose target is the path or one of its parents. One lookup
// per parent of the path, not one comparison per mount.
class Provider {
 public:
  explicit Provider(const std::vector<MountOp>& ops) {
    for (std::size_t i = 0; i < ops.size(); ++i) {
      // A pin shows what was already there, identities included.
      if (ops[i].kind == MountKind::symlink || ops[i].kind == MountKind::pin) continue;
      const std::size_t rank = static_cast<std::size_t>(pass_of(ops[i].kind)) * ops.size() + i;
      auto [at, added] = by_target_.emplace(ops[i].target, Made{rank, ops[i].kind});
      if (!added && at->second.rank < rank) at->second = Made{rank, ops[i].kind};
    }
    size_ = ops.size();
  }

  // The kind of the last mount covering `path` made before `before` (a
  // rank; everything when absent); nullopt if none does.
  std::optional<MountKind> at(const std::string& path, std::size_t before = ~std::size_t{0}) const {
    std::optional<Made> best;
    std::string p = path;
    for (;;) {
      if (auto it = by_target_.find(p);
          it != by_target_.end() && it->second.rank < before && (!best || it->second.rank > best->rank))
        best = it->second;
      if (p == "/") break;
      const auto slash = p.rfind('/');
      p = slash == 0 ? "/" : p.substr(0, slash);
    }
    if (!best) return std::nullopt;
    return best->kind;
  }

  std::size_t rank_of(const std::vector<MountOp>& ops, std::size_t i) const {
    return static_cast<std::size_t>(pass_of(ops[i].kind)) * size_ + i;
  }

 private:
  struct Made {
    std::size_t rank;
    MountKind kind;
  };
  std::unordered_map<std::string, Made> by_target_;
  std::size_t size_ = 0;
};

// `made_at_launch`: the path may be missing now and be created before the
// stage opens it (the private HOME): then it is not compared.
PlannedId look(const Fs& fs, const std::string& path, bool made_at_launch) {
  PlannedId s;
  s.id = fs.identity(path);
  s.checked = s.id.has_value() || !made_at_launch;
  return s;
}

}  // namespace

void plan_identities(Context& cx) {
  const Fs& fs = cx.in.fs;
  NamespacePlan& ns = cx.plan.ns;
  LandlockPlan& l = cx.plan.landlock;

  l.rule_seen.assign(l.rules.size(), PlannedId{});
  l.merged_rules.clear();
  ns.mount_seen.assign(ns.mounts.size(), PlannedId{});
  if (ns.enabled) {
    const Provider provider(ns.mounts);
    for (std::size_t i = 0; i < ns.mounts.size(); ++i) {
      const MountOp& op = ns.mounts[i];
      PlannedId& seen = ns.mount_seen[i];
      switch (op.kind) {
        case MountKind::bind:
        case MountKind::readonly:
        case MountKind::host_root:
          // Beneath an overlay the source is the merged view's: the stage
          // ties it to the host's path (open_merged_as_planned).
          // The D-Bus proxy's socket is made at launch, in a directory the
          // launcher checks is the user's own (desktop/dbus_proxy.cc): a
          // file there now is a dead run's, replaced.
          if (op.source != cx.plan.desktop.dbus_socket) seen = look(fs, op.source, false);
          break;
        case MountKind::overlay:  // the lower dir is opened on the host
          seen = look(fs, op.source, false);
          break;
        case MountKind::home:
          seen = look(fs, op.source, true);
          break;
        case MountKind::mask_dir:
        case MountKind::mask_file: {
          // The target is opened in the new root: what lies there must be
          // the host's file, through a bind made before the mask.
          // Or an overlay's merged view, which the stage ties to the host's
          // path as it does for a bind beneath it.
          const auto under = provider.at(op.target, provider.rank_of(ns.mounts, i));
          if (under && (keeps_identity(*under) || *under == MountKind::overlay))
            seen = look(fs, op.target, false);
          break;
        }
        default:
          break;  // made by the sandbox: nothing of the host's to compare
      }
    }
    if (l.enabled)
      for (std::size_t i = 0; i < l.rules.size(); ++i) {
        if (l.rules[i].access == 0) continue;  // no rule is added: nothing is opened
        const auto under = provider.at(l.rules[i].path);
        if (under && keeps_identity(*under))
          l.rule_seen[i] = look(fs, l.rules[i].path, l.rules[i].implicit);
        // Strictly beneath an overlay's root: that root itself is the
        // overlay mount, made on a directory of the sandbox's own root
        // with its lower dir opened as planned (mount_seen), and shows the
        // upper dir's inode number, not the host's.
        if (under == MountKind::overlay) {
          const MountOp* top = overlay_covering(ns, l.rules[i].path);
          if (top && top->target != l.rules[i].path) {
            l.rule_seen[i] = look(fs, l.rules[i].path, false);
            l.merged_rules.push_back(i);
          }
        }
      }
    return;
  }
  // Landlock alone: every rule is opened on the host, where it was planned.
  if (l.enabled)
    for (std::size_t i = 0; i < l.rules.size(); ++i)
      if (l.rules[i].access != 0) l.rule_seen[i] = look(fs, l.rules[i].path, l.rules[i].implicit);
}

}  // namespace aisbx::plan
