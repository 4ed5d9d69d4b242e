#include "trace/tracer.h"

#include <arpa/inet.h>
#include <elf.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/user.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace aisbx::trace {
namespace {

constexpr int kSysSeccomp = 1;  // si_code of a SECCOMP_RET_TRAP SIGSYS

std::string read_link(const std::string& path) {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

bool stop_signal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

// The return value register, set at a signal-delivery-stop.
void set_return(pid_t pid, long value) {
  user_regs_struct regs{};
  iovec io{&regs, sizeof regs};
  if (::ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &io) != 0) return;
#if defined(__x86_64__)
  regs.rax = static_cast<unsigned long long>(value);
#elif defined(__aarch64__)
  regs.regs[0] = static_cast<unsigned long long>(value);
#else
#error "--trace: set the return register for this architecture"
#endif
  (void)::ptrace(PTRACE_SETREGSET, pid, NT_PRSTATUS, &io);
}

}  // namespace

Expected<void> Tracer::attach(pid_t pid) {
  const long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK |
                       PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC |
                       PTRACE_O_EXITKILL;
  if (::ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(options)) != 0)
    return sys_fail("trace: ptrace(PTRACE_SEIZE, " + std::to_string(pid) + ")",
                    "the kernel or a security module (Yama ptrace_scope 3) refuses ptrace; "
                    "run without --trace");
  threads_[pid] = {};
  return {};
}

void Tracer::resume(pid_t pid, int sig) {
  const auto it = threads_.find(pid);
  const bool in_syscall = it != threads_.end() && it->second.in_syscall;
  (void)::ptrace(in_syscall ? PTRACE_SYSCALL : PTRACE_CONT, pid, nullptr,
                 reinterpret_cast<void*>(static_cast<long>(sig)));
}

void Tracer::on_exit(pid_t pid) {
  threads_.erase(pid);
  programs_.erase(pid);
}

void Tracer::on_stop(pid_t pid, int status) {
  const int sig = WSTOPSIG(status);
  const int event = status >> 16;
  Thread& t = threads_[pid];  // a new child may stop before its parent's event
  if (event == PTRACE_EVENT_SECCOMP) {
    __ptrace_syscall_info info{};
    if (::ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof info, &info) > 0 &&
        info.op == PTRACE_SYSCALL_INFO_SECCOMP) {
      t.in_syscall = true;
      t.nr = info.seccomp.nr;
      for (int i = 0; i < 6; ++i) t.args[i] = info.seccomp.args[i];
    }
    resume(pid);
    return;
  }
  if (event == PTRACE_EVENT_STOP) {
    // A group stop (SIGSTOP and the tty stops) stays a stop; anything else
    // is a new child's first stop.
    if (stop_signal(sig))
      (void)::ptrace(PTRACE_LISTEN, pid, nullptr, nullptr);
    else
      resume(pid);
    return;
  }
  if (event != 0) {
    if (event == PTRACE_EVENT_EXEC) {
      // A thread that execs takes the leader's pid; the program changed.
      unsigned long former = 0;
      if (::ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &former) == 0 &&
          static_cast<pid_t>(former) != pid)
        on_exit(static_cast<pid_t>(former));
      programs_.erase(pid);
    }
    resume(pid);
    return;
  }
  if (sig == (SIGTRAP | 0x80)) {
    __ptrace_syscall_info info{};
    const bool exit_stop = ::ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof info, &info) > 0 &&
                           info.op == PTRACE_SYSCALL_INFO_EXIT;
    if (t.in_syscall && exit_stop) {
      t.in_syscall = false;
      if (info.exit.is_error && info.exit.rval < 0 &&
          interesting_errno(static_cast<int>(-info.exit.rval)))
        record_failure(pid, t, static_cast<int>(-info.exit.rval));
    }
    t.in_syscall = false;
    resume(pid);
    return;
  }
  if (sig == SIGSYS && (plan_.seccomp.enabled || plan_.seccomp.tty_guard)) {
    siginfo_t si{};
    if (::ptrace(PTRACE_GETSIGINFO, pid, nullptr, &si) == 0 && si.si_code == kSysSeccomp &&
        si.si_errno == 0) {
      emulate_trap(pid);
      return;
    }
  }
  resume(pid, sig);  // a signal for the tracee: deliver it
}

// A call the profile's seccomp filter denies: the trace filter trapped it
// before that filter's ERRNO could hide it. Record it, and fail it the way
// the target's own filter would have.
void Tracer::emulate_trap(pid_t pid) {
  siginfo_t si{};
  (void)::ptrace(PTRACE_GETSIGINFO, pid, nullptr, &si);
  const std::string name = syscall_name(static_cast<std::uint64_t>(si.si_syscall));
  const int err = name == "clone3" ? ENOSYS : EPERM;  // stage::apply_seccomp's actions
  set_return(pid, -err);
  Event e;
  e.syscall = name;
  e.err = err;
  e.seccomp = true;
  e.programs.push_back(program(pid));
  aggregate_.add(std::move(e));
  (void)::ptrace(PTRACE_CONT, pid, nullptr, nullptr);  // the SIGSYS is not delivered
}

std::string Tracer::syscall_name(std::uint64_t nr) {
  if (auto it = names_.find(nr); it != names_.end()) return it->second;
  std::unique_ptr<char, decltype(&std::free)> n(
      seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, static_cast<int>(nr)), &std::free);
  std::string name = n ? std::string(n.get()) : "syscall " + std::to_string(nr);
  names_.emplace(nr, name);
  return name;
}

// A NUL-terminated string from the tracee, read page by page (a read that
// crosses into an unmapped page fails as a whole).
std::string Tracer::read_string(pid_t pid, std::uint64_t addr) {
  std::string out;
  if (addr == 0) return out;
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  char buf[4096];
  while (out.size() < PATH_MAX) {
    const std::uint64_t room = std::min<std::uint64_t>(page - addr % page, sizeof buf);
    iovec local{buf, room};
    iovec remote{reinterpret_cast<void*>(addr), room};
    const ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) break;
    const auto len = static_cast<std::size_t>(n);
    const void* nul = std::memchr(buf, '\0', len);
    if (nul) {
      out.append(buf, static_cast<const char*>(nul) - buf);
      return out;
    }
    out.append(buf, len);
    addr += len;
  }
  return out;
}

std::string Tracer::absolute(pid_t pid, std::int64_t dirfd, const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  const std::string proc = "/proc/" + std::to_string(pid);
  if (dirfd < 0 && dirfd != AT_FDCWD) return {};
  const std::string base = dirfd == AT_FDCWD ? read_link(proc + "/cwd")
                                             : read_link(proc + "/fd/" + std::to_string(dirfd));
  if (base.empty() || base[0] != '/') return {};
  if (path.empty()) return base;  // AT_EMPTY_PATH: the fd itself
  return base == "/" ? "/" + path : base + "/" + path;
}

std::string Tracer::program(pid_t pid) {
  if (auto it = programs_.find(pid); it != programs_.end()) return it->second;
  std::string exe = read_link("/proc/" + std::to_string(pid) + "/exe");
  programs_.emplace(pid, exe);
  return exe;
}

void Tracer::record_failure(pid_t pid, const Thread& t, int err) {
  const std::string name = syscall_name(t.nr);
  const SyscallShape* s = shape_of(name);
  if (!s) return;
  // ENOENT without the namespace wall is the host's own answer.
  if (err == ENOENT && !plan_.ns.enabled) return;
  Event e;
  e.syscall = name;
  e.err = err;
  const auto arg = [&](int i) { return t.args[static_cast<std::size_t>(i)]; };
  switch (s->kind) {
    case Kind::signal:
      e.target_pid = static_cast<long>(static_cast<std::int64_t>(arg(0)));
      break;
    case Kind::connect:
    case Kind::bind: {
      sockaddr_storage sa{};
      const std::size_t len = std::min<std::size_t>(arg(2), sizeof sa);
      iovec local{&sa, len};
      iovec remote{reinterpret_cast<void*>(arg(1)), len};
      if (len < sizeof(sa_family_t) || ::process_vm_readv(pid, &local, 1, &remote, 1, 0) <= 0)
        return;
      e.family = sa.ss_family;
      char text[INET6_ADDRSTRLEN] = {};
      if (sa.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&sa);
        ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        e.address = text;
        e.port = ntohs(in->sin_port);
      } else if (sa.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&sa);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        e.address = text;
        e.port = ntohs(in6->sin6_port);
      } else if (sa.ss_family == AF_UNIX && len > sizeof(sa_family_t)) {
        const auto* un = reinterpret_cast<const sockaddr_un*>(&sa);
        const std::size_t n = len - offsetof(sockaddr_un, sun_path);
        if (un->sun_path[0] == '\0')
          e.address = "@" + std::string(un->sun_path + 1, strnlen(un->sun_path + 1, n - 1));
        else
          e.address = absolute(pid, AT_FDCWD, std::string(un->sun_path, strnlen(un->sun_path, n)));
      } else {
        return;  // netlink and others: no wall of ours names them
      }
      break;
    }
    default: {
      if (s->path < 0) return;
      const std::string raw = read_string(pid, arg(s->path));
      const std::int64_t dirfd =
          s->dirfd >= 0 ? static_cast<std::int32_t>(arg(s->dirfd)) : AT_FDCWD;
      if (raw.empty() && !(s->flags >= 0 && (arg(s->flags) & AT_EMPTY_PATH))) return;
      e.path = absolute(pid, dirfd, raw);
      if (e.path.empty()) return;
      if (s->path2 >= 0) {
        const std::int64_t dirfd2 =
            s->dirfd2 >= 0 ? static_cast<std::int32_t>(arg(s->dirfd2)) : AT_FDCWD;
        e.path2 = absolute(pid, dirfd2, read_string(pid, arg(s->path2)));
      }
      if (s->how) {
        std::uint64_t flags = 0;  // struct open_how starts with its flags
        iovec local{&flags, sizeof flags};
        iovec remote{reinterpret_cast<void*>(arg(s->flags)), sizeof flags};
        if (::process_vm_readv(pid, &local, 1, &remote, 1, 0) == sizeof flags) e.flags = flags;
      } else if (s->flags >= 0) {
        e.flags = arg(s->flags);
      }
      break;
    }
  }
  if (!worth_keeping(plan_, e)) return;
  e.programs.push_back(program(pid));
  aggregate_.add(std::move(e));
}

Batch Tracer::batch() const {
  return {aggregate_.events(), aggregate_.total(), aggregate_.dropped(), {}};
}

}  // namespace aisbx::trace
