// The namespace wall's filesystem: a fresh root holding only the Plan's
// mounts. Runs in init, inside the new user and mount namespaces.
//
// The way bubblewrap builds its root: a tmpfs over /tmp becomes a staging
// root with the host's root moved to /oldroot beneath it, so every bind
// source is reachable as /oldroot/PATH whatever it hides, and the sandbox's
// root is assembled at /newroot; then a second pivot_root makes /newroot
// the root and the old tree is detached.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>

#include "aisbx/stages.h"
#include "aisbx/sys/landlock.h"
#include "aisbx/sys/mount.h"
#include "aisbx/sys/mount_table.h"
#include "stages/mount_paths.h"
#include "stages/open_planned.h"

namespace aisbx::stage {
namespace {

using plan::MountKind;
using plan::MountOp;

constexpr unsigned long kLockable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                    MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

bool within(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         (dir == "/" || path[dir.size()] == '/'));
}

std::string in_new(const std::string& target) {
  return target == "/" ? std::string(kNewRoot) : kNewRoot + target;
}

// Directories known to exist in the new root, so that a root costs one
// mkdir() and not one per component of its path (1000 roots beneath
// /home/u/src: 6000 mkdir() calls that fail with EEXIST). A mount hides
// what lay beneath its mount point: those entries are forgotten.
//
// The directory a root is made in is kept open: roots are mostly siblings
// (1000 roots in one directory open it once, not 1000 times). The fd is the
// directory reached through no symlink when it was opened; a mount on it or
// above it drops it, since a mount hides the directory the fd names.
class Dirs {
 public:
  Expected<void> make(const std::string& path) {
    if (path.empty() || known_.contains(path)) return {};
    const auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) AISBX_TRY(make(path.substr(0, slash)));
    // In the parent reached through no symlink: beneath a bind of a
    // writable host directory, a directory on the way may have become a
    // link since planning, and mkdir would follow it out to the host.
    const std::string parent = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
    AISBX_ASSIGN(dir, parent_fd(parent));
    if (::mkdirat(dir, path.substr(slash + 1).c_str(), 0755) != 0 && errno != EEXIST)
      return sys_fail("mkdir " + q(path));
    known_.insert(path);
    return {};
  }
  // `path` (made by make(), or a file beside it) opened O_PATH through no
  // symlink, from the kept parent.
  Expected<sys::UniqueFd> open(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return sys::open_no_symlinks(path);
    AISBX_ASSIGN(dir, parent_fd(path.substr(0, slash)));
    sys::UniqueFd fd(sys::open_path_no_symlinks(dir, path.substr(slash + 1)));
    if (fd.get() < 0) return sys_fail("open " + q(path) + " (O_PATH, no symlinks)");
    return fd;
  }
  // A detached tree moved onto `path` (made by make()), from the kept
  // parent: one move_mount, no fd of its own for the mount point.
  Expected<void> attach(int tree, const std::string& path, const std::string& shown_source,
                        const std::string& shown_target) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) {
      AISBX_ASSIGN(fd, sys::open_no_symlinks(path));
      return sys::attach_tree(tree, fd.get(), shown_source, shown_target);
    }
    AISBX_ASSIGN(dir, parent_fd(path.substr(0, slash)));
    const std::string name = path.substr(slash + 1);
    auto r = sys::attach_tree_at(tree, dir, name, shown_source, shown_target);
    // move_mount refuses a symlink put where the mount point was made:
    // say what happened, as the fd path below does.
    struct stat st {};
    if (!r && ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
      return fail("mounts: the mount point " + q(shown_target) +
                      " became a symlink; the tree changed while the sandbox was being built; "
                      "run again",
                  "aisbx-ns never mounts through a symlink");
    return r;
  }
  void mounted(const std::string& at) {
    const std::string below = at + "/";
    known_.erase(known_.lower_bound(below), known_.lower_bound(at + "0"));  // '0' follows '/'
    if (open_path_ == at || open_path_.starts_with(below)) {
      open_fd_.reset();
      open_path_.clear();
    }
  }

 private:
  Expected<int> parent_fd(const std::string& parent) {
    if (open_fd_.get() >= 0 && open_path_ == parent) return open_fd_.get();
    sys::UniqueFd dir(sys::open_path_no_symlinks(AT_FDCWD, parent));
    if (dir.get() < 0) return sys_fail("open " + q(parent) + " (O_PATH, no symlinks)");
    open_fd_ = std::move(dir);
    open_path_ = parent;
    return open_fd_.get();
  }

  std::set<std::string> known_;
  std::string open_path_;
  sys::UniqueFd open_fd_;
};

// The flags a bind gets on every mount of its tree.
unsigned long bind_flags(const MountOp& op) {
  unsigned long want = MS_NOSUID | MS_NODEV;
  if (op.read_only) want |= MS_RDONLY;
  if (op.noexec) want |= MS_NOEXEC;
  return want;
}

std::uint64_t as_mount_attrs(unsigned long ms) {
  std::uint64_t a = 0;
  if (ms & MS_RDONLY) a |= MOUNT_ATTR_RDONLY;
  if (ms & MS_NOSUID) a |= MOUNT_ATTR_NOSUID;
  if (ms & MS_NODEV) a |= MOUNT_ATTR_NODEV;
  if (ms & MS_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
  return a;
}

// The Landlock rule of a bind's own root, added in init from the source fd
// the bind opened and compared with planning: the target does not open,
// stat and close that path again (three system calls a root). Only where
// the rule names the bind's path, planning saw the same file for both,
// nothing else is mounted at that path (what the target would open is then
// that very file) and no overlay's merged view is involved. No fd is kept:
// the rule is added while the bind's fd is open, and the ruleset alone
// goes to the target.
class KeptRules {
 public:
  KeptRules(const plan::NamespacePlan& ns, const plan::LandlockPlan* l, HeldRules* held)
      : l_(l), held_(held) {
    if (!l || !held || !l->enabled) return;
    auto made = sys::create_ruleset({l->handled_fs, l->handled_net, l->scoped}, l->abi);
    if (!made) return;  // the target makes its own and reports what fails
    held->ruleset = std::move(*made);
    held->added.assign(l->rules.size(), false);
    std::map<std::string, int> targets;
    for (const MountOp& op : ns.mounts) ++targets[op.target];
    std::set<std::size_t> merged(l->merged_rules.begin(), l->merged_rules.end());
    for (std::size_t i = 0; i < l->rules.size() && i < l->rule_seen.size(); ++i) {
      const plan::LandlockRule& r = l->rules[i];
      if (r.access == 0 || merged.contains(i) || targets[r.path] != 1) continue;
      if (!l->rule_seen[i].checked || !l->rule_seen[i].id) continue;
      by_path_.emplace(r.path, i);
    }
  }

  // After the bind of `op` from `src` (fstat `st`), compared with `seen`.
  Expected<void> add(const MountOp& op, const plan::PlannedId& seen, int src,
                     const struct stat& st) {
    if (by_path_.empty() || op.source != op.target) return {};
    const auto it = by_path_.find(op.target);
    if (it == by_path_.end()) return {};
    const std::size_t i = it->second;
    if (!seen.checked || !seen.id || *seen.id != *l_->rule_seen[i].id) return {};
    const plan::LandlockRule& r = l_->rules[i];
    const AccessMask access = S_ISDIR(st.st_mode) ? r.access : (r.access & fs::kFileRights);
    if (access != 0)
      if (auto ok = sys::add_path_rule(held_->ruleset.get(), src, access); !ok)
        return std::unexpected(with_context(ok.error(), "landlock: rule for " + q(r.path)));
    held_->added[i] = true;
    return {};
  }

 private:
  const plan::LandlockPlan* l_;
  HeldRules* held_;
  std::unordered_map<std::string, std::size_t> by_path_;
};

// A bind of `source` (a host path) onto its place in the new root: the
// source named by an fd opened without following any symlink, the mount
// point by its name in the kept parent (reached through no symlink), the
// name itself not followed either. With the new mount
// API the tree is cloned detached and gets its flags, on every mount in it,
// before it is attached: no mount table to read, nothing ever visible with
// the host's flags, and a root nested in it later keeps its own. Without it
// (`flagged` false) the flags come after all binds (apply_flags).
// The upper dir's device once an overlay is mounted (open_merged_as_planned).
using UpperDev = std::optional<dev_t>;

Expected<void> bind(const MountOp& op, const plan::PlannedId& seen, bool flagged, Dirs& dirs,
                    KeptRules& rules, bool from_merged = false, UpperDev upper_dev = {}) {
  // The source planning saw, through no symlink: what is checked is what
  // is bound (a `readonly` .git/hooks swapped for a link to ~/.ssh would
  // otherwise bind ~/.ssh). Beneath an overlay (plan::overlay_holding) the
  // source is the merged view's, so that its writes stay in the upper dir,
  // tied to the host's path planning saw.
  const std::string host = kOldRoot + (op.source == "/" ? "" : op.source);
  if (from_merged && !upper_dev)
    return fail("mounts: " + q(op.source) + " lies beneath an overlay that is not mounted yet");
  struct stat st {};
  AISBX_ASSIGN(src_fd, from_merged
                           ? open_merged_as_planned(in_new(op.source), host, seen, op.source, *upper_dev)
                           : open_as_planned(host, seen, op.source, false, &st));
  if (from_merged && ::fstat(src_fd.get(), &st) != 0) return sys_fail("fstat " + q(op.source));
  const std::string dst = in_new(op.target);
  const auto parent = dst.substr(0, dst.rfind('/'));
  AISBX_TRY(dirs.make(parent));
  // A directory or a file to mount it on, as the source is (on the fd: what
  // is bound is what was looked at).
  if (S_ISDIR(st.st_mode))
    AISBX_TRY(dirs.make(dst));
  else
    AISBX_TRY(sys::touch(dst, 0644));
  if (flagged) {
    AISBX_ASSIGN(tree, sys::clone_tree(src_fd.get(), op.source));
    AISBX_TRY(sys::add_attrs_recursive(tree.get(), as_mount_attrs(bind_flags(op)), op.target));
    AISBX_TRY(dirs.attach(tree.get(), dst, op.source, op.target));
    dirs.mounted(dst);
    if (!from_merged) AISBX_TRY(rules.add(op, seen, src_fd.get(), st));
    return {};
  }
  AISBX_ASSIGN(dst_fd, dirs.open(dst));
  dirs.mounted(dst);
  return sys::mount(sys::fd_path(kHostProc, src_fd.get()),
                    sys::fd_path(kHostProc, dst_fd.get()), nullptr, MS_BIND | MS_REC, {},
                    op.source, op.target);
}

// --overlay: overlayfs at the root's place, the host directory as its
// lower layer and the run's upper and work dirs (made on the host by
// runs::create_run). Inside the user namespace overlayfs takes only
// `userxattr` (user.overlay.* xattrs; Linux 5.11), which also turns
// redirect_dir and metacopy off: a renamed directory is copied (EXDEV to
// rename(2), which mv handles) and every changed file is whole in the upper
// dir, which is what `aisbx-ns diff` and `commit` read. Every layer is
// named by an fd opened without following symlinks.
// Returns the upper dir's device.
// Test hook (as AISBX_FAKE_NO_OPENAT2): AISBX_FAKE_NO_OVERLAYFS=1 fails the
// mount as a kernel without overlayfs does (ENODEV), for tests of the
// refusal on a kernel that has it.
bool fake_no_overlayfs() {
  const char* v = std::getenv("AISBX_FAKE_NO_OVERLAYFS");
  return v != nullptr && std::string_view(v) == "1";
}

Expected<dev_t> mount_overlay(const MountOp& op, const plan::PlannedId& seen,
                              const plan::NamespacePlan& ns, Dirs& dirs) {
  const plan::OverlayDirs* layer = plan::overlay_dirs(ns, op.target);
  if (!layer) return fail("mounts: no upper directory planned for the overlay " + q(op.target));
  AISBX_ASSIGN(lower, open_as_planned(kOldRoot + op.source, seen, op.source));
  AISBX_ASSIGN(upper, sys::open_no_symlinks(kOldRoot + layer->upper));
  AISBX_ASSIGN(work, sys::open_no_symlinks(kOldRoot + layer->work));
  const std::string dst = in_new(op.target);
  AISBX_TRY(dirs.make(dst));
  dirs.mounted(dst);
  AISBX_ASSIGN(dst_fd, sys::open_no_symlinks(dst));
  const std::string opts = "lowerdir=" + sys::fd_path(kHostProc, lower.get()) +
                           ",upperdir=" + sys::fd_path(kHostProc, upper.get()) +
                           ",workdir=" + sys::fd_path(kHostProc, work.get()) + ",userxattr";
  const unsigned long flags = MS_NOSUID | MS_NODEV | (op.noexec ? MS_NOEXEC : 0);
  const bool faked = fake_no_overlayfs();
  if (faked || ::mount("overlay", sys::fd_path(kHostProc, dst_fd.get()).c_str(), "overlay", flags,
                       opts.c_str()) != 0) {
    const int err = faked ? ENODEV : errno;
    return errno_fail(err, "mount overlay " + q(op.target) + " (lower " + q(op.source) +
                               ", upper " + q(layer->upper) + ")",
                      err == ENODEV
                          ? "this kernel has no overlayfs (modprobe overlay, or a kernel built "
                            "with CONFIG_OVERLAY_FS); run without --overlay"
                          : "overlayfs in a user namespace needs Linux 5.11 or newer and an upper "
                            "directory on a filesystem with user xattrs (ext4, xfs, btrfs; tmpfs "
                            "since 6.6), not on overlayfs itself; run without --overlay");
  }
  struct stat st {};
  if (::fstat(upper.get(), &st) != 0) return sys_fail("fstat " + q(layer->upper));
  return st.st_dev;
}

// Kernels before 5.12: reads the mount table once and remounts every mount beneath each bind
// with that bind's flags, in plan order (parents before children, so a
// nested root's flags win). Flags the kernel locked on a mount inherited
// from a more privileged namespace (ro, nosuid, nodev, noexec, atime) are
// kept: clearing one fails with EPERM.
Expected<void> apply_flags(const std::vector<const MountOp*>& binds,
                           const std::vector<std::string>& own_mounts) {
  const std::string info = std::string(kHostProc) + "/self/mountinfo";
  AISBX_ASSIGN(table, sys::read_mount_table(info));
  struct Entry {
    std::string target;
    unsigned long flags;
  };
  std::vector<Entry> mounts;
  mounts.reserve(table.size());
  for (sys::MountEntry& m : table) {
    if (!within(m.target, kNewRoot)) continue;
    // Our own tmpfs mounts (the private /tmp) are not the host's to re-flag.
    if (std::find(own_mounts.begin(), own_mounts.end(), m.target) != own_mounts.end()) continue;
    mounts.push_back({std::move(m.target), m.flags});
  }
  // Sorted by path (stable: a mount point mounted over twice keeps its
  // order), the mounts beneath a bind are one range: the bind's own target,
  // then the paths that start with it and a `/`. Linear in the mounts for
  // each bind, instead of comparing every mount with every bind.
  std::stable_sort(mounts.begin(), mounts.end(),
                   [](const Entry& a, const Entry& b) { return a.target < b.target; });
  const auto remount = [&](const Entry& m, unsigned long want) -> Expected<void> {
    // A mount a deeper bind owns gets that bind's flags later.
    const unsigned long flags = MS_REMOUNT | MS_BIND | (m.flags & kLockable) | want;
    // Through an fd: a path beneath a bind may have become a symlink.
    AISBX_ASSIGN(fd, sys::open_no_symlinks(m.target));
    return sys::mount({}, sys::fd_path(kHostProc, fd.get()), nullptr, flags, {}, "remount",
                      m.target.substr(kNewRoot.size()));
  };
  const auto first_at = [&](const std::string& path) {
    return std::lower_bound(mounts.begin(), mounts.end(), path,
                            [](const Entry& e, const std::string& p) { return e.target < p; });
  };
  for (const MountOp* op : binds) {
    const std::string dst = in_new(op->target);
    const unsigned long want = bind_flags(*op);
    for (auto m = first_at(dst); m != mounts.end() && m->target == dst; ++m)
      AISBX_TRY(remount(*m, want));
    const std::string below = dst + "/";
    for (auto m = first_at(below); m != mounts.end() && m->target.starts_with(below); ++m)
      AISBX_TRY(remount(*m, want));
  }
  return {};
}

// A denied path is covered, never removed: an empty read-only tmpfs over a
// directory, the staging root's empty file bound read-only over a file. The
// mount is made through an fd opened without following symlinks.
Expected<void> mask(const MountOp& op, const plan::PlannedId& seen, UpperDev merged_upper) {
  const std::string dst = in_new(op.target);
  AISBX_ASSIGN(dst_fd, merged_upper ? open_merged_as_planned(dst, kOldRoot + op.target, seen,
                                                             op.target, *merged_upper)
                                    : open_as_planned(dst, seen, op.target));
  const std::string at = sys::fd_path(kHostProc, dst_fd.get());
  constexpr unsigned long kRo = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (op.kind == MountKind::mask_dir)
    return sys::mount("tmpfs", at, "tmpfs", kRo, "mode=0755,nr_inodes=1", "empty tmpfs", op.target);
  AISBX_TRY(sys::touch(kEmptyFile, 0444));
  AISBX_ASSIGN(src_fd, sys::open_no_symlinks(kEmptyFile));
  AISBX_TRY(sys::mount(sys::fd_path(kHostProc, src_fd.get()), at, nullptr, MS_BIND, {},
                       "empty file", op.target));
  // Re-open: the remount must name the new mount, not the file beneath it,
  // and it must be that mount (the empty file), not whatever was swapped in.
  AISBX_ASSIGN(top_fd, sys::open_no_symlinks(dst));
  struct stat empty {}, top {};
  if (::fstat(src_fd.get(), &empty) != 0 || ::fstat(top_fd.get(), &top) != 0)
    return sys_fail("fstat " + q(op.target));
  if (empty.st_dev != top.st_dev || empty.st_ino != top.st_ino)
    return fail(q(op.target) + " is not the empty file just mounted over it; the tree changed "
                "while the sandbox was being built; run again");
  return sys::mount({}, sys::fd_path(kHostProc, top_fd.get()), nullptr,
                    MS_REMOUNT | MS_BIND | kRo, {}, "remount", op.target);
}

// A directory of the new root bound onto itself with everything mounted
// in it so far (MountKind::pin): each mount keeps its own flags, and the
// directory becomes a mount point, which rename(2) and rmdir(2) refuse
// with EBUSY in this mount namespace and in any made from it.
Expected<void> pin(const MountOp& op, bool flagged) {
  AISBX_ASSIGN(dir_fd, sys::open_no_symlinks(in_new(op.target)));
  struct stat st {};
  if (::fstat(dir_fd.get(), &st) != 0) return sys_fail("fstat " + q(op.target));
  if (!S_ISDIR(st.st_mode))
    return fail(q(op.target) + " is no longer a directory; the tree changed while the sandbox "
                "was being built; run again");
  if (flagged) {
    AISBX_ASSIGN(tree, sys::clone_tree(dir_fd.get(), op.target));
    return sys::attach_tree(tree.get(), dir_fd.get(), op.target, op.target);
  }
  const std::string at = sys::fd_path(kHostProc, dir_fd.get());
  return sys::mount(at, at, nullptr, MS_BIND | MS_REC, {}, op.target, op.target);
}

}  // namespace

Expected<void> enter_staging(const plan::NamespacePlan& ns) {
  // The older kernels' path reads the mount table after the pivot, from
  // where the host's libraries are out of reach.
  if (!ns.flag_detached) AISBX_TRY(sys::load_mount_table_reader());
  // Nothing we mount may propagate back to the host; host unmounts still
  // reach us (slave, as bubblewrap does).
  AISBX_TRY(sys::mount({}, "/", nullptr, MS_REC | MS_SLAVE));
  AISBX_TRY(sys::mount("tmpfs", kStaging, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"));
  if (::chdir(kStaging) != 0) return sys_fail("chdir " + q(kStaging));
  AISBX_TRY(sys::mkdir_p(std::string(kStaging) + kOldRoot, 0755));
  AISBX_TRY(sys::mkdir_p(std::string(kStaging) + kNewRoot, 0755));
  AISBX_TRY(sys::pivot_root(kStaging, std::string(kStaging) + kOldRoot));
  if (::chdir("/") != 0) return sys_fail("chdir `/` after pivot_root");
  return {};
}

Expected<void> build_root(const plan::NamespacePlan& ns, const plan::LandlockPlan* l,
                          HeldRules* held_rules) {
  KeptRules rules(ns, l, held_rules);
  std::vector<const MountOp*> binds;
  std::vector<std::string> own_mounts;
  Dirs dirs;
  // Each mounted overlay's upper dir device, by its target.
  std::map<std::string, dev_t> upper_devs;
  const auto upper_dev = [&](const MountOp* overlay) -> UpperDev {
    if (!overlay) return {};
    const auto it = upper_devs.find(overlay->target);
    return it == upper_devs.end() ? UpperDev{} : UpperDev{it->second};
  };
  const bool flagged = ns.flag_detached;
  // What planning saw at each mount's path (none in a Plan made by hand).
  const auto seen = [&](const MountOp& op) {
    const auto i = static_cast<std::size_t>(&op - ns.mounts.data());
    return i < ns.mount_seen.size() ? ns.mount_seen[i] : plan::PlannedId{};
  };
  const std::vector<const MountOp*> held = plan::overlays_holding(ns);
  for (const MountOp& op : ns.mounts) {
    switch (op.kind) {
      case MountKind::tmpfs_root:
        AISBX_TRY(sys::mount("tmpfs", kNewRoot, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755",
                             "tmpfs", "/"));
        dirs.mounted(kNewRoot);
        break;
      case MountKind::tmp:
        AISBX_TRY(dirs.make(in_new(op.target)));
        AISBX_TRY(sys::mount("tmpfs", in_new(op.target), "tmpfs",
                             MS_NOSUID | MS_NODEV | (op.noexec ? MS_NOEXEC : 0),
                             "mode=1777" + (ns.tmp_size ? ",size=" + std::to_string(ns.tmp_size) : ""),
                             "tmpfs", op.target));
        dirs.mounted(in_new(op.target));
        own_mounts.push_back(in_new(op.target));
        break;
      case MountKind::host_root:
      case MountKind::bind:
      case MountKind::home:
      case MountKind::readonly: {
        const auto i = static_cast<std::size_t>(&op - ns.mounts.data());
        AISBX_TRY(bind(op, seen(op), flagged, dirs, rules, held[i] != nullptr, upper_dev(held[i])));
        binds.push_back(&op);
        break;
      }
      case MountKind::overlay: {
        AISBX_ASSIGN(dev, mount_overlay(op, seen(op), ns, dirs));
        upper_devs[op.target] = dev;
        // Its flags are its own: a bind it lies beneath must not re-flag it.
        own_mounts.push_back(in_new(op.target));
        break;
      }
      default:
        break;  // after the binds and their flags
    }
  }
  if (!flagged) AISBX_TRY(apply_flags(binds, own_mounts));
  for (const MountOp& op : ns.mounts) {
    switch (op.kind) {
      case MountKind::symlink: {
        const std::string dst = in_new(op.target);
        AISBX_TRY(sys::mkdir_p(dst.substr(0, dst.rfind('/')), 0755));
        if (::symlink(op.source.c_str(), dst.c_str()) != 0 && errno != EEXIST)
          return sys_fail("symlink " + q(op.target) + " -> " + q(op.source));
        break;
      }
      case MountKind::proc:
        AISBX_TRY(mount_proc(in_new(op.target)));
        break;
      case MountKind::dev:
        AISBX_TRY(mount_dev(in_new(op.target), ns.shm_size, ns.dev_nodes));
        break;
      case MountKind::pin:
        AISBX_TRY(pin(op, flagged));
        break;
      case MountKind::mask_dir:
      case MountKind::mask_file:
        AISBX_TRY(mask(op, seen(op), upper_dev(plan::overlay_covering(ns, op.target))));
        break;
      default:
        break;
    }
  }
  // The root itself is read-only: nothing can be created beside the roots.
  if (ns.empty_root)
    AISBX_TRY(sys::mount({}, kNewRoot, nullptr,
                         MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, {}, "remount",
                         "/"));
  return {};
}

Expected<void> pivot_into_new_root() {
  if (::chdir(kNewRoot.c_str()) != 0) return sys_fail("chdir " + q(kNewRoot));
  // pivot_root(".", ".") stacks the old root on top of the new one; the
  // detach then removes it without needing a directory for it (as runc
  // and bubblewrap do).
  AISBX_TRY(sys::pivot_root(".", "."));
  AISBX_TRY(sys::umount_detach("."));
  if (::chdir("/") != 0) return sys_fail("chdir `/` in the new root");
  return {};
}

Expected<void> open_merged_rules(const plan::Plan& p, HeldRules& held) {
  const plan::LandlockPlan& l = p.landlock;
  if (!l.enabled || l.merged_rules.empty()) return {};
  held.fds.resize(l.rules.size());
  std::map<std::string, dev_t> upper_devs;  // by upper dir
  for (const std::size_t i : l.merged_rules) {
    const plan::LandlockRule& r = l.rules.at(i);
    const plan::PlannedId seen = i < l.rule_seen.size() ? l.rule_seen[i] : plan::PlannedId{};
    // Planned missing: the stage's own open refuses one that appeared.
    if (r.access == 0 || !seen.checked || !seen.id) continue;
    const MountOp* overlay = plan::overlay_covering(p.ns, r.path);
    const plan::OverlayDirs* layer = overlay ? plan::overlay_dirs(p.ns, overlay->target) : nullptr;
    if (!layer) return fail("landlock: the rule of " + q(r.path) + " lies beneath no planned overlay");
    auto dev = upper_devs.find(layer->upper);
    if (dev == upper_devs.end()) {
      AISBX_ASSIGN(upper, sys::open_no_symlinks(kOldRoot + layer->upper));
      struct stat st {};
      if (::fstat(upper.get(), &st) != 0) return sys_fail("fstat " + q(layer->upper));
      dev = upper_devs.emplace(layer->upper, st.st_dev).first;
    }
    auto fd = open_merged_as_planned(in_new(r.path), kOldRoot + r.path, seen, r.path, dev->second);
    if (!fd) return std::unexpected(with_context(fd.error(), "landlock: the rule of " + r.origin));
    held.fds[i] = std::move(*fd);
  }
  return {};
}

}  // namespace aisbx::stage
