// The process model of layered and strict mode (DESIGN.md):
//
//   aisbx-ns (host)   unshare(USER|NS|PID|IPC|UTS[|NET]), identity uid/gid map;
//    |                forwards signals sent to it, waits, reports errors
//    +- init (pid 1)  builds the root, pivots; forwards signals, reaps
//        |            orphans, exits with the target's status
//        +- target    caps dropped, Landlock, fds, exec
//
// Errors in init or in the target before exec travel to the host process
// through a close-on-exec pipe, so the one message is printed by main().
//
// --trace: init, which is outside the target's Landlock domain, traces the
// target (src/trace/tracer.h) and, when it exits, leaves the refused calls
// in a memfd the host process reads. Init then works in a mount namespace
// of its own, so its pivot_root leaves the host process the host's tree,
// where those calls are classified.
#include "aisbx/sandbox.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <string_view>

#include "aisbx/stages.h"
#include "aisbx/sys/error_pipe.h"
#include "aisbx/sys/fd.h"
#include "aisbx/sys/mount.h"
#include "aisbx/sys/phase.h"
#include "aisbx/sys/spawn.h"
#include "stages/limits.h"
#include "stages/mount_paths.h"
#include "supervise/descendants.h"
#include "supervise/pty_relay.h"
#include "supervise/supervise.h"
#include "trace/tracer.h"

namespace aisbx {
namespace {

using supervise::forwarded_set;
using sys::receive_error;
using sys::send_error;
using sys::status_to_exit;

// The terminal's own signals (SIGINT from Ctrl-C, SIGWINCH) already reach
// the target, which shares the foreground process group: only what a
// process sent (si_code <= 0) is forwarded, so that none arrives twice.

std::string read_from_start(int fd) {
  std::string text;
  if (::lseek(fd, 0, SEEK_SET) != 0) return text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

// ---- stages that run in init and in the target ----

constexpr std::string_view kUnshare = "unshare(USER|NS|PID|IPC|UTS";

Expected<void> enter_user_ns(uid_t uid, gid_t gid, profile::NetMode net,
                             const std::function<Expected<void>()>& in_net) {
  int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
  if (net != profile::NetMode::host) flags |= CLONE_NEWNET;
  // With `in_net`, the pid (and mount, ipc, uts) namespaces come second, so
  // that what in_net forks is outside them.
  const int later = in_net ? CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS : 0;
  if (::unshare(flags & ~later) != 0)
    return sys_fail(std::string(kUnshare) +
                        std::string(net != profile::NetMode::host ? "|NET" : "") + ")",
                    "aisbx-ns --features tells why user namespaces are refused here");
  // setgroups must be denied before an unprivileged process may write gid_map
  // (user_namespaces(7)); the same ids inside, so files keep their owner.
  AISBX_TRY(sys::write_file("/proc/self/setgroups", "deny"));
  AISBX_TRY(sys::write_file("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1"));
  AISBX_TRY(sys::write_file("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1"));
  if (in_net) {
    AISBX_TRY(in_net());
    if (::unshare(later) != 0) return sys_fail("unshare(NS|PID|IPC|UTS) in the new user namespace");
  }
  return {};
}

Expected<void> bring_up_loopback() {
  sys::UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) return sys_fail("socket(AF_INET) to configure `lo`");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) return sys_fail("ioctl(SIOCGIFFLAGS, `lo`)");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) return sys_fail("ioctl(SIOCSIFFLAGS, `lo` up)");
  return {};
}

// Root in the user namespace keeps no capability across exec: the bounding
// set is emptied, so a target running as uid 0 cannot remount or unmount
// even where Landlock is missing.
Expected<void> drop_capabilities() {
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap)
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
      return sys_fail("prctl(PR_CAPBSET_DROP, " + std::to_string(cap) + ")");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return sys_fail("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
  return {};
}

// --trace: the target waits until its tracer has attached, since the
// trace filter's stops need one (without it they fail with ENOSYS).
std::optional<Error> wait_for_tracer(int traced_fd) {
  char c = 0;
  ssize_t n;
  while ((n = ::read(traced_fd, &c, 1)) < 0 && errno == EINTR) {
  }
  ::close(traced_fd);
  if (n != 1) return errno_error(0, "trace: the tracer did not attach");
  return std::nullopt;
}

[[noreturn]] void target_main(const plan::Plan& p, int err_fd, const sigset_t& old_mask,
                              int traced_fd, const stage::HeldRules& held = stage::HeldRules()) {
  auto run = [&]() -> Error {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return errno_error(errno, "prctl(PR_SET_PDEATHSIG)");
    if (::sigprocmask(SIG_SETMASK, &old_mask, nullptr) != 0) return errno_error(errno, "sigprocmask");
    if (traced_fd >= 0)
      if (auto e = wait_for_tracer(traced_fd)) return *e;
    if (auto r = drop_capabilities(); !r) return r.error();
    // Landlock opens its rule paths here, inside the final tree.
    if (auto r = stage::restrict_for_exec(p, held); !r) return r.error();
    // err_fd is close-on-exec: it closes when exec succeeds.
    if (::fcntl(err_fd, F_SETFD, FD_CLOEXEC) != 0) return errno_error(errno, "fcntl(err_fd)");
    return stage::exec(p);
  };
  const Error e = run();
  send_error(err_fd, e);
  ::_exit(e.exit_code);
}

// pid 1 of the sandbox: waits for the target, reaps every orphan, passes on
// the signals the host process forwards, and exits with the target's status.
// --trace: every stop and exit of the tracees, until the target is gone.
// Returns the target's wait status.
int traced_wait(trace::Tracer& tracer, pid_t target, const sigset_t& set, pid_t forward_to) {
  for (;;) {
    siginfo_t si{};
    if (::sigwaitinfo(&set, &si) < 0) continue;
    if (si.si_signo != SIGCHLD) {
      if (si.si_code <= 0) ::kill(forward_to, si.si_signo);  // sent by a process
      continue;
    }
    for (;;) {
      int status = 0;
      const pid_t w = ::waitpid(-1, &status, WNOHANG | __WALL);
      if (w <= 0) break;
      if (WIFSTOPPED(status)) {
        tracer.on_stop(w, status);
        continue;
      }
      tracer.on_exit(w);
      if (w == target) return status;
    }
  }
}

// Runs beside the launcher on its memory (sys/spawn.h, start_beside): until
// `go` (the hand-off) it makes system calls only, while the launcher moves
// it into the run's cgroup; from `go` on, the launcher only waits (the
// set-up report into a buffer on its stack, then signals) until this
// process has exited.
[[noreturn]] void init_main(const plan::Plan& p, int err_fd, int go_fd, const sigset_t& old_mask,
                            int trace_fd) {
  auto fail_out = [&](const Error& e) {
    send_error(err_fd, e);
    ::_exit(kExitLauncherFailure);
  };
  // Die with the launcher; if it died before this line, the pipe says so.
  // (Before `go` there is no report: it would allocate while the launcher
  // does. This prctl cannot fail with a valid signal.)
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ::_exit(kExitLauncherFailure);
  char go = 0;
  if (::read(go_fd, &go, 1) != 1) ::_exit(kExitLauncherFailure);
  ::close(go_fd);

  // The host process shares this mount namespace: pivot_root would move it
  // too, and it must still see the host's tree to classify what --trace saw.
  if (p.trace && ::unshare(CLONE_NEWNS) != 0)
    fail_out(errno_error(errno, "trace: unshare(CLONE_NEWNS) in init"));
  if (auto r = stage::enter_staging(p.ns); !r) fail_out(with_context(r.error(), "namespace"));
  stage::HeldRules held;
  if (auto r = stage::build_root(p.ns, &p.landlock, &held); !r)
    fail_out(with_context(r.error(), "namespace"));
  // Landlock rules an overlay provides, opened while the host's tree is
  // still there to tie them to (mount_paths.h).
  if (auto r = stage::open_merged_rules(p, held); !r) fail_out(with_context(r.error(), "namespace"));
  if (auto r = stage::pivot_into_new_root(); !r) fail_out(with_context(r.error(), "namespace"));
  sys::phase_mark("mounts");
  if (p.ns.net == profile::NetMode::loopback)
    if (auto r = bring_up_loopback(); !r) fail_out(with_context(r.error(), "namespace"));

  int traced[2] = {-1, -1};
  if (p.trace && ::pipe2(traced, O_CLOEXEC) != 0) fail_out(errno_error(errno, "trace: pipe2"));
  pid_t target = -1;
  if (p.trace) {
    // The target waits for its tracer, this process: a fork, so that this
    // one runs meanwhile.
    target = ::fork();
    if (target == 0) {
      ::close(traced[1]);
      if (trace_fd >= 0) ::close(trace_fd);
      target_main(p, err_fd, old_mask, traced[0], held);
    }
  } else {
    // Nothing to copy for a process that execs next (sys/spawn.h).
    auto child = [&] { target_main(p, err_fd, old_mask, -1, held); };
    target = sys::spawn_shared(child);
  }
  if (target < 0) fail_out(errno_error(errno, "fork of the target"));
  held = stage::HeldRules();  // the target has its own copies (or has exec'd)

  const sigset_t set = forwarded_set();
  if (p.trace) {
    ::close(traced[0]);
    trace::Tracer tracer(p);
    if (auto r = tracer.attach(target); !r) {
      ::kill(target, SIGKILL);
      ::waitpid(target, nullptr, __WALL);
      fail_out(r.error());
    }
    ::close(err_fd);
    if (::write(traced[1], "t", 1) != 1) ::_exit(kExitLauncherFailure);
    ::close(traced[1]);
    const int status = traced_wait(tracer, target, set, target);
    sys::write_all(trace_fd, trace::serialize(tracer.batch()));
    ::_exit(status_to_exit(status));  // the kernel kills the rest
  }
  ::close(err_fd);
  for (;;) {
    siginfo_t si{};
    if (::sigwaitinfo(&set, &si) < 0) continue;
    if (si.si_signo != SIGCHLD) {
      if (si.si_code <= 0) ::kill(target, si.si_signo);  // sent by the host process
      continue;
    }
    for (;;) {
      int status = 0;
      const pid_t w = ::waitpid(-1, &status, WNOHANG);
      if (w <= 0) break;
      if (w == target) ::_exit(status_to_exit(status));  // the kernel kills the rest
    }
  }
}

}  // namespace

Expected<void> enter_namespaces(const plan::Plan& p, const std::function<Expected<void>()>& in_net) {
  return enter_user_ns(::getuid(), ::getgid(), p.ns.net, in_net);
}

bool userns_refused(const Error& e) {
  // EPERM: forbidden (sysctl, LSM, seccomp); ENOSPC/EUSERS: a limit; EINVAL:
  // no CONFIG_USER_NS, or a threaded process.
  return e.what.starts_with(kUnshare) &&
         (e.err == EPERM || e.err == EACCES || e.err == ENOSPC || e.err == EUSERS ||
          e.err == EINVAL);
}

Expected<int> run_sandboxed(const plan::Plan& p, trace::Batch* traced) {
  int err_pipe[2], go_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0 || ::pipe2(go_pipe, O_CLOEXEC) != 0)
    return sys_fail("pipe2");
  sys::UniqueFd err_r(err_pipe[0]), err_w(err_pipe[1]), go_r(go_pipe[0]), go_w(go_pipe[1]);
  sys::UniqueFd trace_fd;
  if (p.trace) {
    trace_fd.reset(::memfd_create("aisbx-trace", MFD_CLOEXEC));
    if (trace_fd.get() < 0) return sys_fail("trace: memfd_create");
  }

  // Signals are blocked before the fork and taken with sigwaitinfo, so
  // none is lost between fork and the wait loop.
  const sigset_t set = forwarded_set();
  sigset_t old_mask;
  if (::sigprocmask(SIG_BLOCK, &set, &old_mask) != 0) return sys_fail("sigprocmask");

  // The command gets the user's terminal itself: what it does to its
  // foreground group and modes is undone when it ends.
  supervise::TerminalKeeper terminal;
  terminal.save();
  // The run's cgroup (pids, memory) holds init before it forks the target.
  AISBX_ASSIGN(cgroup, stage::make_run_cgroup(p.limits));
  // init shares this process's memory (sys/spawn.h): its fds of ours are
  // closed by number, our objects stay as they are. Its stack outlives it.
  const sys::ChildStack init_stack;
  // Numbers taken now: the launcher resets its UniqueFds while init starts.
  const int err_read = err_r.get(), err_write = err_w.get(), go_read = go_r.get(),
            go_write = go_w.get(), trace_write = trace_fd.get();
  auto init_entry = [&] {
    ::close(err_read);
    ::close(go_write);
    cgroup.close_fds_in_child();
    init_main(p, err_write, go_read, old_mask, trace_write);
  };
  const pid_t init = sys::start_beside(init_entry, init_stack);
  if (init < 0) return sys_fail("start of the sandbox's init (clone)");
  // From here every way out waits for init first: its stack is ours.
  const auto abandon = [&](const Error& e) -> Expected<int> {
    ::kill(init, SIGKILL);
    ::waitpid(init, nullptr, 0);
    return std::unexpected(e);
  };
  err_w.reset();
  go_r.reset();
  if (auto r = cgroup.add(init); !r) return abandon(r.error());
  if (::write(go_w.get(), "g", 1) != 1) return abandon(errno_error(errno, "write to init"));
  // Handed off: from here until init is reaped, system calls only (the
  // report lands in a buffer of this frame).
  sys::Report report;
  const bool reported = sys::read_report(err_r.get(), report);

  int status = 0;
  for (;;) {
    siginfo_t si{};
    if (::sigwaitinfo(&set, &si) < 0) continue;
    if (si.si_signo == SIGCHLD) {
      const pid_t w = ::waitpid(init, &status, WNOHANG);
      if (w == init) break;
      continue;
    }
    // Only what a process sent (kill, sigqueue) is forwarded: what the
    // terminal sends reaches the target directly.
    if (si.si_code <= 0) ::kill(init, si.si_signo);
  }
  // init is gone: the memory is this process's alone again.
  terminal.restore();
  if (!reported) return std::unexpected(errno_error(0, "read of the sandbox's set-up report"));
  if (traced && trace_fd.get() >= 0) *traced = trace::parse(read_from_start(trace_fd.get()));
  if (auto e = sys::parse_report(report)) return std::unexpected(*e);
  return status_to_exit(status);
}

Expected<int> run_traced_in_place(const plan::Plan& p, trace::Batch& traced) {
  // Without a pid namespace the launcher ends the run (supervise.h): what
  // the command leaves behind comes back to it and is killed at the end.
  AISBX_TRY(supervise::become_subreaper());
  int err_pipe[2], go_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0 || ::pipe2(go_pipe, O_CLOEXEC) != 0)
    return sys_fail("pipe2");
  sys::UniqueFd err_r(err_pipe[0]), err_w(err_pipe[1]), go_r(go_pipe[0]), go_w(go_pipe[1]);
  const sigset_t set = forwarded_set();
  sigset_t old_mask;
  if (::sigprocmask(SIG_BLOCK, &set, &old_mask) != 0) return sys_fail("sigprocmask");
  const pid_t child = ::fork();
  if (child < 0) return sys_fail("fork of the traced command");
  if (child == 0) {
    err_r.reset();
    go_w.reset();
    auto run = [&]() -> Error {
      if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        return errno_error(errno, "prctl(PR_SET_PDEATHSIG)");
      if (::sigprocmask(SIG_SETMASK, &old_mask, nullptr) != 0)
        return errno_error(errno, "sigprocmask");
      if (auto e = wait_for_tracer(go_r.release())) return *e;
      if (auto r = stage::restrict_for_exec(p); !r) return r.error();
      if (::fcntl(err_w.get(), F_SETFD, FD_CLOEXEC) != 0) return errno_error(errno, "fcntl(err_fd)");
      return stage::exec(p);
    };
    const Error e = run();
    send_error(err_w.get(), e);
    ::_exit(e.exit_code);
  }
  err_w.reset();
  go_r.reset();
  trace::Tracer tracer(p);
  if (auto r = tracer.attach(child); !r) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    return std::unexpected(r.error());
  }
  if (::write(go_w.get(), "t", 1) != 1) return sys_fail("write to the traced command");
  go_w.reset();
  const int status = traced_wait(tracer, child, set, child);
  supervise::end_descendants();
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  traced = tracer.batch();
  if (auto e = receive_error(err_r.get())) return std::unexpected(*e);
  return status_to_exit(status);
}

}  // namespace aisbx
