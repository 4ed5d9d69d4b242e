// Glob expansion over the planning filesystem, for `deny` and `readonly`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "aisbx/error.h"
#include "aisbx/host.h"

namespace aisbx::plan {

// How many directory entries one pattern may visit under one root: a
// pattern that would scan more is an error, never a partial protection.
inline constexpr std::size_t kMaxGlobScan = 200000;

bool has_glob(const std::string& pattern);

// Whether `name` matches `pattern`, in which only `*` is special (any run
// of characters); `casefold` compares ASCII letters without regard to case.
// The same answer as fnmatch(3) for such patterns at a tenth of the cost:
// the built-in environment patterns are tried against every variable of
// every launch.
bool star_match(std::string_view pattern, std::string_view name, bool casefold) noexcept;

// Every existing path under `root` matching `pattern` (relative, `/`-
// separated; `*`, `?`, `[...]` within a component, `**` for any number of
// directories). Symlinked directories are matched but not descended into.
// A pattern without glob characters yields root/pattern whether or not it
// exists. Fails when the scan exceeds kMaxGlobScan entries.
Expected<std::vector<std::string>> expand_glob(const Fs& fs, const std::string& root,
                                               const std::string& pattern);

}  // namespace aisbx::plan
