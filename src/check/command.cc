// The command as the sandbox will start it: argv[0] searched in the Plan's
// PATH (as stage::exec searches it, execvpe-style), each candidate walked
// through the Oracle, then its interpreter (ELF PT_INTERP or `#!`) and its
// shared libraries.
//
// "Inside the sandbox's tree" means: every component on the way is shown by
// the namespace wall (when it is on), and the file itself has what execve
// needs from both walls: read_file and execute from Landlock when they are
// handled, a mount without noexec. In landlock mode the whole host tree is
// there, so only the rules decide.
#include <unistd.h>

#include "check/parts.h"
#include "plan/expand.h"

namespace aisbx::check {
namespace {

constexpr int kMaxInterpreterDepth = 4;  // the kernel allows 4 levels of #!

std::string env_of(const plan::Plan& p, const std::string& k) {
  for (const auto& [key, v] : p.exec.env)
    if (key == k) return v;
  return {};
}

std::vector<std::string> candidates(const plan::Plan& p, const std::string& cmd,
                                    std::string& path_used) {
  if (cmd.find('/') != std::string::npos) return {plan::absolute(cmd, p.exec.cwd)};
  // The same default as stage::exec when the environment has no PATH.
  path_used = env_of(p, "PATH");
  if (path_used.empty()) path_used = "/usr/local/bin:/usr/bin:/bin";
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path_used.size()) {
    const auto colon = path_used.find(':', start);
    std::string dir = path_used.substr(
        start, colon == std::string::npos ? std::string::npos : colon - start);
    out.push_back(plan::absolute(dir.empty() ? "." : dir, p.exec.cwd) + "/" + cmd);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return out;
}

// The interpreter a program names, reachable and executable in the sandbox,
// then its own checks.
// `depth` < 0: not followed (ld.so is static and loads nothing itself).
void check_interpreter(const plan::Oracle& oracle, const Fs& fs,
                       const std::string& program, const std::string& interp,
                       const char* what, Report& report, int depth) {
  const plan::Resolution r = oracle.resolve(fs, interp);
  if (!r.target) {
    const bool on_host = fs.realpath(interp).has_value();
    report.findings.push_back(
        {"interpreter", interp,
         "the " + std::string(what) + " of " + q(program) + ": " + oracle.explain(r) +
             (on_host ? "" : "; the host has no such file either"),
         on_host ? oracle.suggest(fs, r, plan::need_exec())
                 : "install it, or use a program built for this system", Severity::error});
    return;
  }
  const plan::Verdict v = oracle.check(*r.target, plan::need_exec());
  if (!v.ok()) {
    report.findings.push_back(
        {"interpreter", *r.target,
         "the " + std::string(what) + " of " + q(program) + ": " + oracle.explain(v),
         oracle.suggest(dir_of(*r.target), plan::need_exec(), &v), Severity::error});
    return;
  }
  if (depth >= 0) check_program(oracle, fs, *r.target, report, depth + 1);
}

}  // namespace

void check_program(const plan::Oracle& oracle, const Fs& fs, const std::string& program,
                   Report& report, int depth) {
  if (depth > kMaxInterpreterDepth) {
    report.notes.push_back(q(program) + ": more than " +
                           std::to_string(kMaxInterpreterDepth) +
                           " levels of interpreters; not followed further");
    return;
  }
  auto elf = read_elf(program);
  if (!elf) {
    report.notes.push_back(q(program) + ": not checked: " + elf.error().message());
    return;
  }
  if (!*elf) {
    if (auto interp = read_shebang(program))
      check_interpreter(oracle, fs, program, *interp, "#! interpreter", report, depth);
    else
      report.notes.push_back(q(program) +
                             " is neither an ELF program nor a #! script: not checked");
    return;
  }
  const ElfInfo& info = **elf;
  if (!info.supported) {
    report.notes.push_back(q(program) + " is a " +
                           (info.elf_class == 1 ? std::string("32-bit") : "non-64-bit") +
                           (info.little_endian ? "" : " big-endian") +
                           " ELF program: its loader and libraries were not checked");
    return;
  }
  if (!info.interp.empty())
    check_interpreter(oracle, fs, program, info.interp, "ELF interpreter (PT_INTERP)",
                      report, -1);
  check_libraries(oracle, fs, program, info, report);
}

void check_command(const plan::Plan& p, const plan::Oracle& oracle, const Fs& fs,
                   Report& report) {
  if (p.exec.argv.empty()) return;
  // The command starts in the working directory: the sandbox must show it.
  if (const plan::Resolution cwd = oracle.resolve(fs, p.exec.cwd); !cwd.blocked.empty())
    report.findings.push_back(
        {"cwd", p.exec.cwd, "the working directory: " + oracle.explain(cwd),
         oracle.suggest(cwd.reached, {fs::kReadFile | fs::kReadDir, false}), Severity::error});
  const std::string& cmd = p.exec.argv.front();
  std::string path_used;
  const auto cands = candidates(p, cmd, path_used);

  std::optional<plan::Verdict> refused;       // first one there but not executable
  std::optional<plan::Resolution> unreached;  // first one the host has, the sandbox not
  std::string not_executable;                 // DAC: no x bit for the caller
  for (const auto& c : cands) {
    if (fs.kind(c) == FileKind::missing) continue;  // not here on the host either
    const plan::Resolution r = oracle.resolve(fs, c);
    if (!r.target) {
      if (!unreached) unreached = r;
      continue;
    }
    if (fs.kind(*r.target) != FileKind::regular) continue;
    const plan::Verdict v = oracle.check(*r.target, plan::need_exec());
    if (!v.ok()) {
      if (!refused) refused = v;
      continue;
    }
    if (::access(r.target->c_str(), X_OK) != 0) {
      if (not_executable.empty()) not_executable = *r.target;
      continue;
    }
    check_program(oracle, fs, *r.target, report);
    return;
  }

  const std::string where = path_used.empty() ? "" : " (PATH=" + path_used + ")";
  if (refused) {
    report.findings.push_back(
        {"command", refused->path,
         "the command " + q(cmd) + where + ": " + oracle.explain(*refused),
         oracle.suggest(dir_of(refused->path), plan::need_exec(), &*refused), Severity::error});
  } else if (unreached) {
    const std::string file = unreached->path;
    report.findings.push_back(
        {"command", file,
         "the command " + q(cmd) + where + ": " + oracle.explain(*unreached),
         oracle.suggest(fs, *unreached, plan::need_exec()), Severity::error});
  } else if (!not_executable.empty()) {
    report.findings.push_back(
        {"command", not_executable,
         "the command " + q(cmd) + ": " + q(not_executable) +
             " is not executable by you (file mode)",
         "chmod +x " + q(not_executable) + "; nothing in the profile", Severity::error});
  } else {
    report.findings.push_back(
        {"command", cands.size() == 1 ? cands.front() : cmd,
         "the command " + q(cmd) + " is not found on this host" + where,
         path_used.empty() ? "fix the path in command.binary or after `--`"
                           : "install it, or set PATH to include its directory "
                             "(command.env.PATH in the profile, or --env PATH=...)", Severity::error});
  }
}

}  // namespace aisbx::check
