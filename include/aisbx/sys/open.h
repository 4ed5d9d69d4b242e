// Opening a path without following any symlink on the way: openat2(2)
// with RESOLVE_NO_SYMLINKS, or where the kernel lacks it (Linux < 5.6, or a
// container's seccomp filter that refuses it) a walk of one
// openat(O_PATH | O_NOFOLLOW) per component. Never a silent fallback to
// following links.
//
// Test hook: AISBX_FAKE_NO_OPENAT2=1 makes every call take the walk, as on
// a kernel without openat2 (test-only, like the AISBX_FAKE_* of probe.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aisbx/error.h"
#include "aisbx/sys/fd.h"

namespace aisbx::sys {

// An O_PATH | O_CLOEXEC fd for `path` (relative to `dirfd`, or absolute),
// or -1 with errno: ELOOP when the path or a directory on the way is a
// symlink (magic /proc links included), EINVAL for a `.` or `..` component
// (the paths of a Plan are canonical: they have none), else what the
// kernel says.
int open_path_no_symlinks(int dirfd, const std::string& path);

// The same as an Expected, naming the path, for what must exist.
Expected<UniqueFd> open_no_symlinks(const std::string& path);

// The names in the directory `dirfd` names (an O_PATH fd will do), without
// `.` and `..`; nullopt when it cannot be read. `dirfd` stays open.
std::optional<std::vector<std::string>> names_in(int dirfd);

}  // namespace aisbx::sys
