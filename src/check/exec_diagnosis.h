// Why execve failed, told in the profile's terms. Runs where the failure
// happened (inside the sandbox, or in place in landlock mode), after the
// walls are up: it only stats, reads links and reads the file's first bytes.
#pragma once

#include <optional>
#include <string>

#include "aisbx/plan.h"

namespace aisbx::check {

struct ExecDiagnosis {
  std::string cause;  // "`/opt/tool` lacks execute: ..." — names the path and the right
  std::string fix;    // the profile line that would allow it
};

// After execve(`path`) failed with ENOENT or EACCES: the binary, its
// interpreter (ELF PT_INTERP or `#!`) or a directory on the way, whichever
// the Plan does not allow. nullopt when the Plan allows all of them (the
// cause is elsewhere: file mode, a corrupt file).
std::optional<ExecDiagnosis> diagnose_exec(const plan::Plan& plan,
                                           const std::string& path);

// chdir to the working directory failed: why, if the Plan is the cause.
std::optional<ExecDiagnosis> diagnose_cwd(const plan::Plan& plan);

// A bare command found nowhere in PATH: the PATH directories the sandbox
// does not show ("" if it shows them all).
std::string missing_path_dirs(const plan::Plan& plan, const std::string& path_value);

}  // namespace aisbx::check
