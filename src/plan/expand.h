// Expansion of `~` and `${NAME}` in profile paths, and lexical path helpers.
#pragma once

#include <map>
#include <string>

#include "aisbx/error.h"
#include "aisbx/profile.h"

namespace aisbx::plan {

// The variables a profile may use: HOME, PROJECT, CWD and the XDG base
// directories (with their specified defaults under HOME).
using Vars = std::map<std::string, std::string>;

// `~` or `~/...` at the start, then `${NAME}` anywhere. An unknown name, a
// lone `$` or a `~user` form is an error naming the profile position.
Expected<std::string> expand(const profile::Located<std::string>& raw, const Vars& vars);

// expand() and then require an absolute path; the result is normalized.
Expected<std::string> expand_path(const profile::Located<std::string>& raw,
                                  const Vars& vars);

// Lexical normalization: collapses `//` and `.`, resolves `..` textually,
// strips a trailing `/`. The input must be absolute.
std::string normalize(const std::string& abs_path);

// True if `path` is `dir` or lies beneath it (both normalized).
bool is_within(const std::string& path, const std::string& dir);

// The directory holding a normalized absolute path (`/` for `/` itself).
inline std::string parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// The standard merged-/usr links at the top of the tree (`/lib64` ->
// `usr/lib64`): known system links that the namespace wall recreates and
// that profiles may name without a word.
inline constexpr const char* kMergedUsrLinks[] = {"/bin",   "/sbin",  "/lib",
                                                  "/lib32", "/lib64", "/libx32"};
bool is_merged_usr_link(const std::string& path);

// `rel` made absolute against `base` and normalized.
std::string absolute(const std::string& rel, const std::string& base);

}  // namespace aisbx::plan
