// The tracer behind --trace: ptrace from a process outside the target's
// Landlock domain (the sandbox's init, or the launcher in landlock mode).
//
// The target loads a seccomp filter (stage::apply_trace_filter) that stops
// it only on the calls that name a path, a socket address or a signal
// target (SECCOMP_RET_TRACE) and traps the calls its profile denies. At the
// seccomp stop the tracer keeps the arguments and asks for the syscall-exit
// stop; only a failed call is decoded (path read from the tracee's memory,
// resolved against /proc/PID/cwd or /proc/PID/fd/N). A trapped call is
// recorded and failed with the errno the target's own filter gives.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

#include "aisbx/error.h"
#include "aisbx/plan.h"
#include "aisbx/trace.h"

namespace aisbx::trace {

class Tracer {
 public:
  explicit Tracer(const plan::Plan& plan) : plan_(plan) {}

  // PTRACE_SEIZE with every option the tracer relies on (children are
  // traced too; EXITKILL: the tracees die with the tracer).
  Expected<void> attach(pid_t pid);
  // A stop waitpid reported: decode it and resume the tracee.
  void on_stop(pid_t pid, int status);
  // A tracee is gone.
  void on_exit(pid_t pid);

  Batch batch() const;

 private:
  struct Thread {
    bool in_syscall = false;  // between the seccomp stop and the exit stop
    std::uint64_t nr = 0;
    std::array<std::uint64_t, 6> args{};
  };
  void resume(pid_t pid, int sig = 0);
  void record_failure(pid_t pid, const Thread& t, int err);
  void emulate_trap(pid_t pid);
  std::string syscall_name(std::uint64_t nr);
  std::string read_string(pid_t pid, std::uint64_t addr);
  std::string absolute(pid_t pid, std::int64_t dirfd, const std::string& path);
  std::string program(pid_t pid);

  const plan::Plan& plan_;
  std::unordered_map<pid_t, Thread> threads_;
  std::unordered_map<std::uint64_t, std::string> names_;
  std::unordered_map<pid_t, std::string> programs_;
  Aggregate aggregate_;
};

}  // namespace aisbx::trace
