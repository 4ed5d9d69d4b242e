// Thin wrappers over mount(2), pivot_root(2), openat2(2) and friends.
// Each captures errno and names the call and the paths; no decisions.
#pragma once

#include <string>

#include "aisbx/error.h"
#include "aisbx/sys/fd.h"

namespace aisbx::sys {

// openat2(O_PATH, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS): a handle on
// exactly this path, refusing any symlink on the way. Mounting through such
// a handle never follows a link planted at the source or the destination.
Expected<UniqueFd> open_no_symlinks(const std::string& path);

// "/proc/self/fd/N" under the given procfs mount point, to name an fd to
// mount(2), which only takes paths.
std::string fd_path(const std::string& proc, int fd);

Expected<void> mount(const std::string& source, const std::string& target,
                     const char* fstype, unsigned long flags, const std::string& data = {},
                     const std::string& shown_source = {}, const std::string& shown_target = {});

Expected<void> pivot_root(const std::string& new_root, const std::string& put_old);
Expected<void> umount_detach(const std::string& target);

Expected<void> mkdir_p(const std::string& path, unsigned mode);
// An empty regular file to bind a file onto; existing files are kept.
Expected<void> touch(const std::string& path, unsigned mode);
Expected<void> write_file(const std::string& path, const std::string& text);

}  // namespace aisbx::sys
