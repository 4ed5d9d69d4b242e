// aisbx_sysprobe: one system call that a seccomp filter or a Landlock scope
// may refuse; exits 0 on success or with the errno (capped at 254). A
// process killed by the filter shows as 128+SIGSYS to the caller.
// The escape suite (tests/kernel/escape_test.cc) adds probes that would
// leave a sandbox: chroot-escape, ptrace-pid, openat-read through a
// caller's fd, tiocsti-fd on an inherited terminal, key-plant/key-read of
// the session keyring, euid-root of a setuid copy, mknod, pivot.
// Only ever run mount, umount and pivot inside a sandbox or a namespace of
// their own (unshare -Urm): as root on the host they would change the
// host's mount table.
// Standalone: no project headers, so it cannot share a bug with the code
// under test.
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

int result(long rc, const char* what) {
  if (rc >= 0) return 0;
  const int err = errno;
  std::fprintf(stderr, "aisbx_sysprobe: %s: %s\n", what, std::strerror(err));
  return err > 254 ? 254 : err;
}

int tiocsti(bool high_bits) {
  int master = -1, slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) return result(-1, "openpty");
  // TIOCSTI needs the terminal to be our controlling one (or CAP_SYS_ADMIN):
  // a new session takes the new pty as its controlling terminal.
  if (::setsid() < 0) return result(-1, "setsid");
  if (::ioctl(slave, TIOCSCTTY, 0) != 0) return result(-1, "ioctl(TIOCSCTTY)");
  char c = 'x';
  // The request is an int to the kernel: with the high bits set it still
  // means TIOCSTI, which a filter comparing 64 bits would miss.
  unsigned long req = TIOCSTI;
  if (high_bits) req |= 0xdead000000000000UL;
  return result(::syscall(SYS_ioctl, slave, req, &c), "ioctl(TIOCSTI)");
}

int ptrace_child() {
  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  const long rc = ::ptrace(PTRACE_ATTACH, child, nullptr, nullptr);
  const int err = errno;
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  errno = err;
  return result(rc, "ptrace(PTRACE_ATTACH)");
}

int clone_newuser() {
  // The raw clone syscall (x86_64 argument order: flags, stack, ptid, ctid, tls).
  const long pid = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid == 0) ::_exit(0);
  if (pid > 0) ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return result(pid, "clone(CLONE_NEWUSER)");
}

int connect_abstract(const char* name) {
  const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return result(-1, "socket(AF_UNIX)");
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  const std::size_t n = std::strlen(name);
  std::memcpy(a.sun_path + 1, name, n);  // sun_path[0] == 0: abstract
  return result(::connect(s, reinterpret_cast<sockaddr*>(&a),
                          static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n)),
                "connect(abstract)");
}

// i386 getpid through int 0x80: a foreign-architecture call.
int int80() {
#if defined(__x86_64__)
  long ret = 20;  // __NR_getpid on i386
  asm volatile("int $0x80" : "+a"(ret) : : "memory");
  if (ret < 0) {
    errno = static_cast<int>(-ret);
    return result(-1, "int 0x80 getpid");
  }
  return 0;
#else
  errno = ENOSYS;
  return result(-1, "int 0x80 (not x86_64)");
#endif
}

// Names a key of type "user" in the session keyring; see `key-plant`.
constexpr long kKeySpecSession = -3;         // KEY_SPEC_SESSION_KEYRING
constexpr long kKeyctlJoinSession = 1;       // KEYCTL_JOIN_SESSION_KEYRING
constexpr long kKeyctlSearch = 10;           // KEYCTL_SEARCH
constexpr long kKeyctlRead = 11;             // KEYCTL_READ

// A fresh anonymous session keyring holding one key, then exec: the way a
// user's login session holds credentials (Kerberos, ecryptfs) that a
// sandbox started from it must not read.
int key_plant(const char* secret, char** argv) {
  if (::syscall(SYS_keyctl, kKeyctlJoinSession, nullptr) < 0) return result(-1, "keyctl(JOIN_SESSION)");
  if (::syscall(SYS_add_key, "user", "aisbx-escape-secret", secret, std::strlen(secret),
                kKeySpecSession) < 0)
    return result(-1, "add_key");
  ::execv(argv[0], argv);
  return result(-1, "execv");
}

// Finds the key `key-plant` left and prints its payload.
int key_read(const char* name) {
  const long id = ::syscall(SYS_keyctl, kKeyctlSearch, kKeySpecSession, "user", name, 0);
  if (id < 0) return result(-1, "keyctl(SEARCH)");
  char buf[256] = {};
  const long n = ::syscall(SYS_keyctl, kKeyctlRead, id, buf, sizeof buf - 1);
  if (n < 0) return result(-1, "keyctl(READ)");
  std::fwrite(buf, 1, static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n) : sizeof buf - 1, stdout);
  return 0;
}

// The classic chroot escape: chroot into a subdirectory without entering
// it, walk `..` past the new root, chroot there, then open `path`.
int chroot_escape(const char* dir, const char* path) {
  if (::chroot(dir) != 0) return result(-1, "chroot(dir)");
  for (int i = 0; i < 64; ++i)
    if (::chdir("..") != 0) return result(-1, "chdir(..)");
  if (::chroot(".") != 0) return result(-1, "chroot(.)");
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return result(-1, "open after the escape");
  char c;
  const long n = ::read(fd, &c, 1);
  ::close(fd);
  return result(n, "read after the escape");
}

int openat_read(const char* fd_arg, const char* name) {
  const int fd = ::openat(std::atoi(fd_arg), name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return result(-1, "openat");
  char c;
  const long n = ::read(fd, &c, 1);
  ::close(fd);
  return result(n, "read");
}

int ptrace_pid(pid_t pid) {
  if (::ptrace(PTRACE_ATTACH, pid, nullptr, nullptr) != 0) return result(-1, "ptrace(PTRACE_ATTACH, pid)");
  ::waitpid(pid, nullptr, __WALL);
  ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
  return 0;
}

// Runs CMD as a container's default seccomp profile would (Docker's, and
// others after it): clone3 fails with ENOSYS, which glibc takes as "use
// clone". Not a probe: a wrapper, for the launcher's fallbacks.
int exec_without_clone3(char** cmd) {
#if defined(__x86_64__)
  constexpr unsigned kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  constexpr unsigned kArch = AUDIT_ARCH_AARCH64;
#endif
  sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof f / sizeof f[0]), f};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return result(-1, "prctl(PR_SET_NO_NEW_PRIVS)");
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return result(-1, "seccomp");
  ::execv(cmd[0], cmd);
  return result(-1, "execv");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("usage: aisbx_sysprobe mount DIR|umount DIR|unshare-user|clone-user|keyctl|ptrace|"
               "tiocsti|tiocsti-high|mptcp|packet|raw-ip|sctp|netlink-uevent|netlink-route|\n"
               "  personality-noaslr|io-uring|int80|x32|"
               "connect-abstract NAME|kill PID|pivot DIR|openat-read FD NAME|\n"
               "  ptrace-pid PID|mem-open PID|chroot-escape DIR PATH|mknod-char PATH|mknod-fifo PATH|\n"
               "  tiocsti-fd FD|euid-root|key-plant SECRET CMD...|key-read NAME|tty-grab FD|tty-pgrp FD|\n"
               "  no-clone3 CMD... (runs CMD where clone3 fails with ENOSYS)\n", stderr);
    return 255;
  }
  const std::string_view op = argv[1];
  if (op == "no-clone3" && argc >= 3) return exec_without_clone3(argv + 2);
  // Never run these outside a sandbox as root: they change the mount table.
  if (op == "mount" && argc == 3) return result(::mount("none", argv[2], "tmpfs", 0, nullptr), "mount");
  if (op == "umount" && argc == 3) return result(::umount2(argv[2], MNT_DETACH), "umount2");
  if (op == "unshare-user") return result(::unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)");
  if (op == "clone-user") return clone_newuser();
  if (op == "keyctl")  // KEYCTL_GET_KEYRING_ID of the session keyring, create=1
    return result(::syscall(SYS_keyctl, 0, -3, 1), "keyctl");
  if (op == "ptrace") return ptrace_child();
  if (op == "tiocsti") return tiocsti(false);
  if (op == "tiocsti-high") return tiocsti(true);
  if (op == "mptcp") return result(::socket(AF_INET, SOCK_STREAM, 262), "socket(IPPROTO_MPTCP)");
  // Sockets that go round network rules made for TCP and UDP.
  if (op == "packet") return result(::socket(AF_PACKET, SOCK_RAW, 0), "socket(AF_PACKET)");
  if (op == "raw-ip") return result(::socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), "socket(SOCK_RAW)");
  if (op == "sctp") return result(::socket(AF_INET, SOCK_STREAM, 132), "socket(IPPROTO_SCTP)");
  if (op == "netlink-uevent")
    return result(::socket(AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT), "socket(NETLINK_KOBJECT_UEVENT)");
  if (op == "netlink-route")
    return result(::socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), "socket(NETLINK_ROUTE)");
  if (op == "personality-noaslr") {
    const long rc = ::personality(ADDR_NO_RANDOMIZE);
    return result(rc == -1 ? -1 : 0, "personality(ADDR_NO_RANDOMIZE)");
  }
  if (op == "io-uring") {
    unsigned char params[120] = {};  // struct io_uring_params, zeroed
    return result(::syscall(SYS_io_uring_setup, 1, params), "io_uring_setup");
  }
  // UFFD_USER_MODE_ONLY (1): what an unprivileged caller may ask for when
  // vm.unprivileged_userfaultfd is 0.
  if (op == "userfaultfd")
    return result(::syscall(SYS_userfaultfd, O_CLOEXEC | 1), "userfaultfd");
  // A software counter on itself, user space only: allowed up to
  // perf_event_paranoid 2.
  if (op == "perf-event-open") {
    perf_event_attr a{};
    a.type = PERF_TYPE_SOFTWARE;
    a.size = sizeof a;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    return result(::syscall(SYS_perf_event_open, &a, 0, -1, -1, 0), "perf_event_open");
  }
  if (op == "int80") return int80();
  // An x32 call: the x86_64 syscall instruction with the x32 bit set.
  if (op == "x32") return result(::syscall(0x40000000L | SYS_getpid), "x32 getpid");
  if (op == "connect-abstract" && argc == 3) return connect_abstract(argv[2]);
  if (op == "kill" && argc == 3) return result(::kill(std::atoi(argv[2]), 0), "kill(pid, 0)");
  // pivot_root(".", ".") in DIR, which must be a mount point. Same warning
  // as mount: only in a namespace of its own.
  if (op == "pivot" && argc == 3) {
    if (::chdir(argv[2]) != 0) return result(-1, "chdir");
    return result(::syscall(SYS_pivot_root, ".", "."), "pivot_root");
  }
  if (op == "openat-read" && argc == 4) return openat_read(argv[2], argv[3]);
  if (op == "ptrace-pid" && argc == 3) return ptrace_pid(std::atoi(argv[2]));
  if (op == "mem-open" && argc == 3)  // another process's memory, for writing
  {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/mem", std::atoi(argv[2]));
    return result(::open(path, O_RDWR | O_CLOEXEC), "open /proc/PID/mem");
  }
  if (op == "chroot-escape" && argc == 4) return chroot_escape(argv[2], argv[3]);
  if (op == "mknod-char" && argc == 3)  // the null device's numbers: harmless if it works
    return result(::mknod(argv[2], S_IFCHR | 0600, makedev(1, 3)), "mknod(S_IFCHR)");
  if (op == "mknod-fifo" && argc == 3) return result(::mknod(argv[2], S_IFIFO | 0600, 0), "mknod(S_IFIFO)");
  if (op == "tiocsti-fd" && argc == 3) {
    char c = '#';
    return result(::ioctl(std::atoi(argv[2]), TIOCSTI, &c), "ioctl(fd, TIOCSTI)");
  }
  if (op == "euid-root") {
    if (::geteuid() == 0) return 0;
    errno = EPERM;
    return result(-1, "geteuid() is not 0");
  }
  if (op == "key-plant" && argc >= 4) return key_plant(argv[2], argv + 3);
  if (op == "key-read" && argc == 3) return key_read(argv[2]);
  if (op == "tty-grab" && argc == 3) {  // a process group of its own in the terminal's foreground
    ::signal(SIGTTOU, SIG_IGN);
    if (::setpgid(0, 0) != 0) return result(-1, "setpgid");
    return result(::tcsetpgrp(std::atoi(argv[2]), ::getpgrp()), "tcsetpgrp");
  }
  if (op == "tty-pgrp" && argc == 3) {  // the terminal's foreground process group
    const pid_t pgrp = ::tcgetpgrp(std::atoi(argv[2]));
    if (pgrp < 0) return result(-1, "tcgetpgrp");
    std::printf("%d\n", static_cast<int>(pgrp));
    return 0;
  }
  std::fprintf(stderr, "aisbx_sysprobe: unknown op %s\n", argv[1]);
  return 255;
}
