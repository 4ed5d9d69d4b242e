// The Oracle answers, from a Plan alone, what the sandbox will make of a
// path: does it exist behind the namespace wall, which Landlock rights cover
// it, and, when a use is refused, which profile line would allow it.
// `--check` asks it on the host before anything runs; the exec stage asks it
// inside the sandbox after execve failed, to name the path and the right.
//
// Pure: paths are the sandbox's (the Plan keeps host paths at their own
// place), and the only filesystem access goes through the injected Fs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aisbx/host.h"
#include "aisbx/plan.h"
#include "aisbx/rights.h"

namespace aisbx::plan {

// What one use of a path needs from the two walls.
struct Need {
  AccessMask rights = 0;    // Landlock rights; only the handled ones are checked
  bool exec_mount = false;  // the mount must not be noexec (execve, or a
                            // library the loader maps executable)
};

// execve of a program or of its ELF interpreter: the kernel opens it for
// reading with __FMODE_EXEC, which Landlock checks as read_file + execute.
Need need_exec();
// A shared library: ld.so opens it read-only, then maps it PROT_EXEC, which
// a noexec mount refuses (Landlock does not check mmap).
Need need_load();
// Reading a file (/etc/ld.so.cache).
Need need_read();
// A HOME programs can keep their files in: list it, create and replace
// files and directories in it.
Need need_home();

// How the namespace wall shows a path.
enum class Seen {
  visible,     // there, as on the host (or the wall is off)
  absent,      // under no root: the sandbox has no such path
  hidden,      // covered by a `deny` mask
  private_fs,  // inside the sandbox's own /tmp or /dev: not the host's file
};

const char* to_string(Seen s);

struct Verdict {
  std::string path;
  Seen seen = Seen::visible;
  AccessMask granted = 0;                // Landlock rights the rules covering it grant
  AccessMask missing_landlock = 0;       // needed, handled, not granted
  AccessMask missing_mount = 0;          // execute (noexec) or write rights (read-only)
  std::vector<std::string> rule_groups;  // origins of the rules covering it
  std::string mount_origin;              // group of the mount showing it
  std::string deny_group;                // the group whose `deny` hides it
  bool ok() const { return seen == Seen::visible && !missing_landlock && !missing_mount; }
};

// Where a path leads inside the sandbox, following symlinks as the kernel
// does, each component checked against the namespace wall.
struct Resolution {
  std::string path;                   // as asked
  std::optional<std::string> target;  // canonical path reached; nullopt if none
  std::string blocked;  // first component the sandbox does not show ("" if none)
  Seen blocked_why = Seen::visible;
  std::string reached;             // when blocked: `blocked` and the rest of the walk,
                                   // the path (links replaced) the sandbox would need
  std::string missing;             // first component the filesystem lacks ("" if none)
  std::vector<std::string> links;  // symlinks followed on the way
  bool loop = false;               // more than 40 links (ELOOP)
};

class Oracle {
 public:
  explicit Oracle(const Plan& plan) : plan_(plan) {}

  // The namespace wall's view of this exact path (no symlink followed).
  Seen seen(const std::string& path) const;
  // The deepest mount showing `path`, nullptr if none (or the wall is off).
  const MountOp* mount_of(const std::string& path) const;
  // Union of the Landlock rules covering `path`: a directory rule covers
  // everything beneath it, a file rule only that file.
  AccessMask landlock_rights(const std::string& path) const;
  // Both walls on one canonical path.
  Verdict check(const std::string& path, const Need& need) const;
  // Symlinks followed component by component through `fs`: the host's Fs in
  // --check (the roots are at their own paths inside), the sandbox's own
  // tree at exec time.
  Resolution resolve(const Fs& fs, const std::string& path) const;

  // What to list as a root so that a blocked walk gets through: the
  // blocked component itself when it is a symlink (the plan recreates a
  // link only for a root written through it, or a merged-/usr link such as
  // /lib when its whole target is visible), else the directory of the path
  // the walk was reaching. Inside the sandbox the host's links cannot be
  // seen: a top-level merged-/usr name (/bin, /lib, /lib64, ...) is taken
  // for one.
  std::string root_to_add(const Fs& fs, const Resolution& r) const;

  // Every path to list so that the whole walk gets through in one round,
  // each a real path or a link the plan recreates: the symlinks on the way
  // the sandbox does not show (a link written as a root is recreated),
  // except merged-/usr ones (/lib64 -> usr/lib64, recreated once their
  // target is visible), and, unless the last link is listed (its root holds
  // the end), the directory of the real end of the chain. `fs` must be the
  // host's (--check); where it does not reach an end, root_to_add().
  std::vector<std::string> roots_to_add(const Fs& fs, const Resolution& r) const;

  // suggest() for a walk that stopped: roots_to_add(), or, when a `deny`
  // mask stopped it, the pattern to remove.
  std::string suggest(const Fs& fs, const Resolution& r, const Need& need) const;

  // One line: why `v` is refused. "" if it is not.
  std::string explain(const Verdict& v) const;
  // Why a resolution stopped: "`/opt` lies under no root of the profile".
  std::string explain(const Resolution& r) const;
  // The profile line that would allow `need` on `add` (a file or the
  // directory to list as a root): the group to extend when one already
  // covers it, else a whole group as YAML, e.g.
  //   add `/opt/tool` to a group with `execute: true, read_file: true`, e.g.
  //   under access_roots: `tool: {paths: ["/opt/tool"], permissions: {...}}`
  std::string suggest(const std::string& add, const Need& need,
                      const Verdict* refused = nullptr) const;
  // The same for several paths in one group (named after the last).
  std::string suggest(const std::vector<std::string>& adds, const Need& need,
                      const Verdict* refused = nullptr) const;

  const Plan& plan() const { return plan_; }

 private:
  // resolve(), or with `sandbox_view` false the host's walk alone.
  Resolution walk(const Fs& fs, const std::string& path, bool sandbox_view) const;
  const Plan& plan_;
};

// `execute: true, read_file: true`: rights as a profile writes them.
std::string rights_yaml(AccessMask rights);

// The last name of `path` as a plain YAML key: lower case, [a-z0-9_] kept,
// every other run of characters one `-`; may be empty.
std::string yaml_key_of(const std::string& path);

// A YAML double-quoted scalar: `"` and `\` escaped, control characters as
// \xNN, so a path with a newline cannot break the suggested line.
std::string yaml_quote(const std::string& s);

// One root inside another whose rights it does not all have: Landlock
// grants the union of both rules beneath the outer one, so the inner root's
// narrower rights are not what the sandbox enforces there (and the namespace
// wall, which mounts the inner root with its own flags, disagrees).
struct Overlap {
  std::string inner, outer;
  std::string inner_groups, outer_groups;
  AccessMask inner_rights = 0, outer_rights = 0;
  AccessMask lost = 0;  // granted by the outer group, not by the inner one
};

// Roots from the profile only (no implicit rule); pairs that share a group
// are not reported (the Landlock split of `deny`/`readonly` makes those).
std::vector<Overlap> overlapping_roots(const Plan& plan);

}  // namespace aisbx::plan
