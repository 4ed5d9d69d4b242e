// Walking a relative path below a directory fd, one component at a time,
// never through a symbolic link: how the host commands reach a file of the
// run's upper dir or of the real project.
#pragma once

#include <string>

#include "aisbx/error.h"
#include "aisbx/sys/fd.h"

namespace aisbx::runs {

// `rel` split at its last `/`: the directory part ("" at the top) and the name.
std::pair<std::string, std::string> split_parent(const std::string& rel);

// The directory `rel` below `root` (O_RDONLY | O_DIRECTORY), every
// component opened O_NOFOLLOW. A component that is a symbolic link is an
// error saying so. With `mkdir_from` >= 0, a missing component is made
// with the mode of the same directory below `mkdir_from` (the upper dir).
// `shown`: what `root` is, for messages ("the project").
Expected<sys::UniqueFd> open_below(int root, const std::string& rel, const std::string& shown,
                                   int mkdir_from = -1);

}  // namespace aisbx::runs
