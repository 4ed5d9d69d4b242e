// Landlock-only mode's process model (supervise.h). Who forwards what:
// the guard and the target are not in the launcher's process group, so the
// terminal's signals (Ctrl-C without a pty, SIGHUP) reach the launcher
// alone, which passes every signal on to the guard, and the guard to the
// target. With a pty, SIGWINCH is the launcher's: it resizes the pty, whose
// line discipline tells the command.
#include "supervise/supervise.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "aisbx/stages.h"
#include "aisbx/sys/error_pipe.h"
#include "aisbx/sys/fd.h"
#include "aisbx/sys/spawn.h"
#include "supervise/cgroup.h"
#include "supervise/descendants.h"
#include "supervise/pty_relay.h"

namespace aisbx::supervise {
namespace {

constexpr int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                              SIGCONT, SIGWINCH, SIGALRM};

// Sent to the guard by the kernel when the launcher dies; any signal the
// guard takes is followed by a look at its parent, so a SIGTERM from a
// user is still forwarded.
constexpr int kLauncherDied = SIGTERM;

// What ends the run: the cgroup's kill first (everything at once), then the
// walk, which also reaps.
void end_run(const RunCgroup* cg) {
  if (cg != nullptr) cg->kill_all();
  end_descendants();
}

[[noreturn]] void target_main(const plan::Plan& p, const Pty* pty, const RunCgroup* cg,
                              int err_fd, const sigset_t& old_mask) {
  auto run = [&]() -> Error {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return errno_error(errno, "prctl(PR_SET_PDEATHSIG)");
    if (auto e = enter_session(pty)) return *e;
    // Best effort: should it fail, the /proc walk still ends the run.
    if (cg != nullptr) (void)cg->join();
    if (::sigprocmask(SIG_SETMASK, &old_mask, nullptr) != 0) return errno_error(errno, "sigprocmask");
    if (auto r = stage::restrict_for_exec(p); !r) return r.error();
    // err_fd is close-on-exec: it closes when exec succeeds.
    if (::fcntl(err_fd, F_SETFD, FD_CLOEXEC) != 0) return errno_error(errno, "fcntl(err_fd)");
    return stage::exec(p);
  };
  const Error e = run();
  sys::send_error(err_fd, e);
  ::_exit(e.exit_code);
}

[[noreturn]] void guard_main(const plan::Plan& p, pid_t launcher, const Pty* pty,
                             const RunCgroup* cg, int err_fd, const sigset_t& set,
                             const sigset_t& old_mask, RawMode& raw) {
  auto fail_out = [&](const Error& e) {
    sys::send_error(err_fd, e);
    ::_exit(kExitLauncherFailure);
  };
  if (::prctl(PR_SET_PDEATHSIG, kLauncherDied) != 0) fail_out(errno_error(errno, "prctl(PR_SET_PDEATHSIG)"));
  if (::getppid() != launcher) ::_exit(kExitLauncherFailure);  // died before the line above
  // Not inherited from the launcher: every orphan of the run comes here.
  if (auto r = become_subreaper(); !r) fail_out(r.error());
  // Out of the launcher's process group: the terminal signals the launcher,
  // which forwards once. Restoring the terminal from here (launcher dead)
  // must not stop this process: SIGTTOU stays blocked.
  (void)::setpgid(0, 0);
  sigset_t guard_set = set;
  sigaddset(&guard_set, SIGTTOU);
  (void)::sigprocmask(SIG_BLOCK, &guard_set, nullptr);

  // Nothing to copy for a process that execs next (sys/spawn.h).
  auto child = [&] { target_main(p, pty, cg, err_fd, old_mask); };
  const pid_t target = sys::spawn_shared(child);
  if (target < 0) fail_out(errno_error(errno, "fork of the target"));
  ::close(err_fd);
  if (pty != nullptr) {
    ::close(pty->slave.get());
    ::close(pty->master.get());
  }
  int status = 0;
  for (bool running = true; running;) {
    siginfo_t si{};
    if (::sigwaitinfo(&set, &si) < 0) continue;
    if (si.si_signo != SIGCHLD) {
      if (::getppid() != launcher) {  // the launcher is gone: so is the run
        end_run(cg);
        if (cg != nullptr) cg->remove();
        raw.restore();
        ::_exit(kExitLauncherFailure);
      }
      ::kill(target, si.si_signo);
      continue;
    }
    for (;;) {  // the target, and orphans re-parented here
      int st = 0;
      const pid_t w = ::waitpid(-1, &st, WNOHANG);
      if (w <= 0) break;
      if (w == target) {
        status = st;
        running = false;
      }
    }
  }
  end_run(cg);
  ::_exit(sys::status_to_exit(status));
}

// The launcher while the guard runs: signals, and the pty's relay. Returns
// the guard's wait status.
int wait_for_guard(pid_t guard, const sigset_t& set, Pty* pty, Relay* relay) {
  auto on_signal = [&](int signo, std::optional<int>& status) {
    if (signo == SIGCHLD) {
      for (;;) {  // the guard, and the run's orphans should the guard die
        int st = 0;
        const pid_t w = ::waitpid(-1, &st, WNOHANG);
        if (w <= 0) break;
        if (w == guard) status = st;
      }
    } else if (signo == SIGWINCH && pty != nullptr) {
      copy_window_size(*pty);
    } else {
      ::kill(guard, signo);
    }
  };
  std::optional<int> status;
  if (relay == nullptr) {
    while (!status) {
      siginfo_t si{};
      if (::sigwaitinfo(&set, &si) >= 0) on_signal(si.si_signo, status);
    }
    return *status;
  }
  sys::UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  while (!status) {
    pollfd fds[3];
    fds[0] = {sfd.get(), POLLIN, 0};
    const int n = 1 + relay->want(fds + 1);
    if (::poll(fds, static_cast<nfds_t>(n), -1) < 0) continue;
    relay->on_ready(fds + 1, n - 1);
    if (!(fds[0].revents & POLLIN)) continue;
    signalfd_siginfo si{};
    while (::read(sfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si))
      on_signal(static_cast<int>(si.ssi_signo), status);
  }
  return *status;
}

}  // namespace

sigset_t forwarded_set() {
  sigset_t s;
  sigemptyset(&s);
  for (int sig : kForwarded) sigaddset(&s, sig);
  sigaddset(&s, SIGCHLD);
  return s;
}

Expected<void> become_subreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return sys_fail("prctl(PR_SET_CHILD_SUBREAPER)");
  return {};
}

Expected<int> run(const plan::Plan& p) {
  AISBX_TRY(become_subreaper());
  AISBX_ASSIGN(pty, open_pty());
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return sys_fail("pipe2");
  sys::UniqueFd err_r(err_pipe[0]), err_w(err_pipe[1]);

  // Blocked before the fork, taken with sigwaitinfo or a signalfd: none is
  // lost between fork and the wait loop.
  const sigset_t set = forwarded_set();
  sigset_t old_mask;
  if (::sigprocmask(SIG_BLOCK, &set, &old_mask) != 0) return sys_fail("sigprocmask");
  std::optional<RunCgroup> cg;
  if (!p.processes.cgroup_parent.empty()) cg = RunCgroup::make(p.processes.cgroup_parent);
  RawMode raw;
  if (pty && pty->is_tty[0]) raw.enter();
  const pid_t launcher = ::getpid();
  // Without a pty the launcher only waits for signals while the guard runs,
  // so the guard may run beside it on its memory (sys/spawn.h: handed off
  // at the start, the launcher makes system calls only until the guard is
  // reaped), which spares a fork. The pty's relay reads errno beside the
  // guard's, so with a pty the guard is forked.
  // The entry and what it refers to live in this frame until the guard is
  // reaped: the guard reads them while this process goes on.
  std::optional<sys::ChildStack> guard_stack;
  const int err_read = err_r.get(), err_write = err_w.get();
  RunCgroup* const guard_cg = cg ? &*cg : nullptr;
  auto guard_entry = [&] {
    ::close(err_read);
    guard_main(p, launcher, nullptr, guard_cg, err_write, set, old_mask, raw);
  };
  pid_t guard = -1;
  if (!pty) {
    guard_stack.emplace();
    guard = sys::start_beside(guard_entry, *guard_stack);
  } else {
    guard = ::fork();
    if (guard == 0) {
      err_r.reset();
      guard_main(p, launcher, &*pty, cg ? &*cg : nullptr, err_w.get(), set, old_mask, raw);
    }
  }
  if (guard < 0) {
    const Error e = errno_error(errno, "start of the run's guard");
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    return std::unexpected(e);
  }
  err_w.reset();
  std::optional<Relay> relay;
  if (pty) {
    pty->slave.reset();
    relay.emplace(*pty, raw.active());
  }
  const int status = wait_for_guard(guard, set, pty ? &*pty : nullptr, relay ? &*relay : nullptr);
  // The guard ended the run; should it have been killed, its orphans are
  // the launcher's.
  end_run(cg ? &*cg : nullptr);
  if (cg) cg->remove();
  if (relay) relay->drain();
  raw.restore();
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  if (auto e = sys::receive_error(err_r.get())) return std::unexpected(*e);
  return sys::status_to_exit(status);
}

}  // namespace aisbx::supervise
