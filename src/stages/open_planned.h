// Internal to the stages: opening a path of the Plan as planning saw it.
#pragma once

#include <sys/types.h>
#include <sys/stat.h>

#include <string>

#include "aisbx/error.h"
#include "aisbx/plan.h"
#include "aisbx/sys/fd.h"

namespace aisbx::stage {

// Opens `path` O_PATH without following any symlink (sys/open.h) and, when
// `seen.checked`, compares fstat() of the fd with what planning saw; the fd
// is what the rule or mount then uses, so what is checked is what is used.
// `shown` is the path as the Plan names it (`path` may be it under the
// staging root). A symlink on the way, a path gone or appeared, another
// inode: an Error (exit 125) naming the path, what planning saw and what is
// there now: "the tree changed while the sandbox was being built; run again".
// `missing_ok`: a path planning saw missing and that is still missing gives
// an empty UniqueFd (a Landlock rule on nothing grants nothing).
// `st`, when given, receives fstat() of the fd, so that a caller that needs
// the kind of file asks the kernel once (1000 roots: 2000 system calls).
Expected<sys::UniqueFd> open_as_planned(const std::string& path, const plan::PlannedId& seen,
                                        const std::string& shown, bool missing_ok = false,
                                        struct ::stat* st = nullptr);

// Beneath an overlay (--overlay): `merged` in the merged view, tied to
// `host`, the same path in its lower layer on the host, which planning saw
// (`seen`). The run's upper dir is new and empty while the sandbox is
// built, so the merged view shows the lower tree: `host` is opened as
// planned, then `merged`, and the two must be one file. Where upper and
// lower share a filesystem, overlayfs shows the lower file's inode number
// (also a non-directory's on another filesystem with xino off): it must be
// the host's. Where they do not (`upper_dev` is not the lower's), a
// directory's number is overlayfs's own; `host` is then opened again after
// `merged` and must still be what planning saw. Nothing is compared when
// planning saw nothing (`seen.checked` false).
Expected<sys::UniqueFd> open_merged_as_planned(const std::string& merged, const std::string& host,
                                               const plan::PlannedId& seen,
                                               const std::string& shown, dev_t upper_dev);

}  // namespace aisbx::stage
