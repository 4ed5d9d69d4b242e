// Thin wrappers over mount(2), pivot_root(2), openat2(2) and friends.
// Each captures errno and names the call and the paths; no decisions.
#pragma once

#include <cstdint>
#include <string>

#include "aisbx/error.h"
#include "aisbx/sys/fd.h"
#include "aisbx/sys/open.h"  // open_no_symlinks: what every mount is made through

namespace aisbx::sys {

// "/proc/self/fd/N" under the given procfs mount point, to name an fd to
// mount(2), which only takes paths.
std::string fd_path(const std::string& proc, int fd);

Expected<void> mount(const std::string& source, const std::string& target,
                     const char* fstype, unsigned long flags, const std::string& data = {},
                     const std::string& shown_source = {}, const std::string& shown_target = {});

// The new mount API (open_tree, mount_setattr, move_mount; Linux 5.12):
// a bind is cloned detached, given its flags on every mount of the tree in
// one call, then attached. False on older kernels (ENOSYS).
bool has_mount_setattr();

// open_tree(OPEN_TREE_CLONE | AT_RECURSIVE) of the tree at `fd`: a detached
// copy, with the mounts beneath it.
Expected<UniqueFd> clone_tree(int fd, const std::string& shown);

// mount_setattr(AT_RECURSIVE): adds MOUNT_ATTR_* `attrs` to every mount of
// the tree at `fd`. Only adds: the flags the kernel locked on a mount
// inherited from the host (ro, nosuid, nodev, noexec, atime) stay set.
Expected<void> add_attrs_recursive(int fd, std::uint64_t attrs, const std::string& shown);

// move_mount of the detached tree `tree` onto the mount point `at` (an fd).
// The same onto `name` in the directory `dir`, the name itself not
// followed should it be a symlink (move_mount without MOVE_MOUNT_T_SYMLINKS).
Expected<void> attach_tree_at(int tree, int dir, const std::string& name,
                              const std::string& shown_source, const std::string& shown_target);
Expected<void> attach_tree(int tree, int at, const std::string& shown_source,
                           const std::string& shown_target);

Expected<void> pivot_root(const std::string& new_root, const std::string& put_old);
Expected<void> umount_detach(const std::string& target);

Expected<void> mkdir_p(const std::string& path, unsigned mode);
// An empty regular file to bind a file onto; existing files are kept. Made
// in the parent opened without following symlinks.
Expected<void> touch(const std::string& path, unsigned mode);
Expected<void> write_file(const std::string& path, const std::string& text);

}  // namespace aisbx::sys
