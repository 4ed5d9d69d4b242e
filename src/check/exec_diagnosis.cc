// The Oracle asked about a failed execve, in the order the kernel meets the
// files: the path to the program, the program, then its interpreter, which
// the kernel opens for the program (a missing ELF loader is ENOENT on a file
// that exists; a loader without execute is EACCES).
#include "check/exec_diagnosis.h"

#include "aisbx/host_sys.h"
#include "aisbx/oracle.h"
#include "check/elf.h"
#include "plan/expand.h"

namespace aisbx::check {
namespace {

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// Where the walk stopped, and what to list so that it goes through.
std::optional<ExecDiagnosis> unreachable(const plan::Oracle& o, const plan::Resolution& r,
                                         const std::string& prefix) {
  if (!r.blocked.empty())
    return ExecDiagnosis{prefix + o.explain(r),
                         o.suggest(RealFs(), r, plan::need_exec())};
  if (r.loop) return ExecDiagnosis{prefix + o.explain(r), "fix the symlinks on the way"};
  // The sandbox shows the directory, and it has no such file: the host's
  // tree lacks it too (a bind shows the host's files), no profile line helps.
  return ExecDiagnosis{prefix + o.explain(r), "check the path; the sandbox shows " +
                                                  q(dir_of(r.missing)) +
                                                  " as the host has it"};
}

std::optional<ExecDiagnosis> refused(const plan::Oracle& o, const std::string& path,
                                     const std::string& prefix) {
  const plan::Verdict v = o.check(path, plan::need_exec());
  if (v.ok()) return std::nullopt;
  return ExecDiagnosis{prefix + o.explain(v),
                       o.suggest(dir_of(path), plan::need_exec(), &v)};
}

}  // namespace

std::optional<ExecDiagnosis> diagnose_exec(const plan::Plan& p, const std::string& path) {
  const plan::Oracle o(p);
  const RealFs fs;  // the tree this process sees: the sandbox's
  const std::string abs = plan::absolute(path, p.exec.cwd);
  const plan::Resolution r = o.resolve(fs, abs);
  if (!r.target) return unreachable(o, r, "");
  if (auto d = refused(o, *r.target, "")) return d;

  std::string interp;
  if (auto elf = read_elf(*r.target); elf && *elf)
    interp = (*elf)->interp;
  else if (auto sh = read_shebang(*r.target))
    interp = *sh;
  if (interp.empty()) return std::nullopt;
  const std::string prefix = "the interpreter of " + q(*r.target) + ": ";
  const plan::Resolution ri = o.resolve(fs, interp);
  if (!ri.target) return unreachable(o, ri, prefix);
  return refused(o, *ri.target, prefix);
}

std::optional<ExecDiagnosis> diagnose_cwd(const plan::Plan& p) {
  const plan::Oracle o(p);
  const RealFs fs;
  const plan::Resolution r = o.resolve(fs, p.exec.cwd);
  if (r.target || r.blocked.empty()) return std::nullopt;
  // chdir needs no Landlock right; only the namespace wall can lack it.
  return ExecDiagnosis{o.explain(r),
                       o.suggest(r.reached, {fs::kReadFile | fs::kReadDir, false})};
}

std::string missing_path_dirs(const plan::Plan& p, const std::string& path_value) {
  const plan::Oracle o(p);
  const RealFs fs;
  std::string out;
  std::size_t start = 0;
  while (start <= path_value.size()) {
    const auto colon = path_value.find(':', start);
    const std::string dir = path_value.substr(
        start, colon == std::string::npos ? std::string::npos : colon - start);
    // Only what the wall hides: a directory missing everywhere is no news.
    if (!dir.empty() && dir[0] == '/' && !o.resolve(fs, dir).blocked.empty())
      out += (out.empty() ? "" : ", ") + q(dir);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return out;
}

}  // namespace aisbx::check
