// aisbx_probe: does one operation and exits with its errno, so a test can
// assert the exact errno a wall gives (EACCES Landlock, EROFS read-only
// bind, EXDEV refer, ...), the way bubblewrap's tests/try-syscall.c does.
//
//   aisbx_probe OP ARGS...
//
// Exit status: 0 on success; the errno on failure (capped at 254), with the
// strerror on stderr; 255 for a usage error. Nothing is printed on success.
// Standalone on purpose: plain C++ and POSIX, no project headers, so the
// probe cannot share a bug with the code it tests.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace {

constexpr int kUsage = 255;

int usage() {
  std::fputs(
      "usage: aisbx_probe OP ARGS...\n"
      "  read PATH | write PATH | create PATH | truncate PATH | trunc-open PATH\n"
      "  list DIR | exec PATH [ARGS...] | unlink PATH | rmdir PATH | mkdir PATH\n"
      "  mkfifo PATH | symlink TARGET LINK | link OLD NEW | rename OLD NEW\n"
      "  readfd N | kill PID SIG | stat PATH | connect-tcp HOST PORT | bind-tcp PORT\n"
      "  sleep SECONDS | exit N | signal-self SIG\n"
      "  fill PATH MIB | forks N MARKER RELEASE\n"
      "exit status: 0 on success, the errno on failure (at most 254), 255 on usage "
      "errors\n",
      stderr);
  return kUsage;
}

// The errno of the failed call, as the exit status, with its message.
int failed(const char* op, const char* arg) {
  const int err = errno;
  std::fprintf(stderr, "aisbx_probe: %s %s: %s\n", op, arg, std::strerror(err));
  return err <= 0 ? kUsage : (err > 254 ? 254 : err);
}

// Whole decimal numbers only: a typo in a test must not become 0.
bool to_int(const char* s, long& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtol(s, &end, 10);
  return errno == 0 && end != s && *end == '\0';
}

int do_read(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failed("read: open", path);
  char c;
  if (::read(fd, &c, 1) < 0) return failed("read", path);
  ::close(fd);
  return 0;
}

// The whole file to stdout.
int do_cat(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failed("cat: open", path);
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    if (::write(1, buf, static_cast<size_t>(n)) != n) return failed("cat: write", "stdout");
  ::close(fd);
  return 0;
}

int do_write(const char* path) {
  const int fd = ::open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return failed("write: open", path);
  if (::write(fd, "x", 1) != 1) return failed("write", path);
  ::close(fd);
  return 0;
}

int do_list(const char* path) {
  DIR* d = ::opendir(path);
  if (d == nullptr) return failed("list: opendir", path);
  errno = 0;
  if (::readdir(d) == nullptr && errno != 0) return failed("list: readdir", path);
  ::closedir(d);
  return 0;
}

int do_readfd(const char* arg) {
  long fd;
  if (!to_int(arg, fd) || fd < 0) return usage();
  char c;
  if (::read(static_cast<int>(fd), &c, 1) < 0) return failed("readfd", arg);
  return 0;
}

int do_connect_tcp(const char* host, const char* port_arg) {
  long port;
  if (!to_int(port_arg, port) || port < 0 || port > 65535) return usage();
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host, &a.sin_addr) != 1) return usage();
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return failed("connect-tcp: socket", host);
  if (::connect(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0)
    return failed("connect-tcp", host);
  ::close(s);
  return 0;
}

int do_bind_tcp(const char* port_arg) {
  long port;
  if (!to_int(port_arg, port) || port < 0 || port > 65535) return usage();
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return failed("bind-tcp: socket", port_arg);
  if (::bind(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0)
    return failed("bind-tcp", port_arg);
  ::close(s);
  return 0;
}

// Writes up to `mib` MiB of zeros to a new file: a size limit shows as
// ENOSPC before the end.
int do_fill(const char* path, long mib) {
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return failed("fill: open", path);
  static char block[1 << 20];
  for (long i = 0; i < mib; ++i)
    for (std::size_t done = 0; done < sizeof block;) {
      const ssize_t w = ::write(fd, block + done, sizeof block - done);
      if (w < 0) return failed("fill: write", path);
      done += static_cast<std::size_t>(w);
    }
  ::close(fd);
  return 0;
}

// A bounded fork bomb: forks up to `n` children that wait to be killed,
// prints how many it made, creates MARKER, waits (without forking) until
// RELEASE exists, kills them. Exits with the errno of the first failed fork.
int do_forks(long n, const char* marker, const char* release) {
  std::vector<pid_t> kids;
  int err = 0;
  for (long i = 0; i < n; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      for (;;) ::pause();
    }
    if (pid < 0) {
      err = errno;
      break;
    }
    kids.push_back(pid);
  }
  std::printf("%zu\n", kids.size());
  std::fflush(stdout);
  const int m = ::open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (m >= 0) ::close(m);
  for (int i = 0; i < 3000 && ::access(release, F_OK) != 0; ++i) ::usleep(20000);
  for (const pid_t k : kids) ::kill(k, SIGKILL);
  for (const pid_t k : kids) ::waitpid(k, nullptr, 0);
  return err;
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// An AISBX_SANITIZE=ON build makes the probe an ASan program, and it runs
// in Landlock domains without /proc: LeakSanitizer's check at exit cannot
// read /proc/PID/task there and would turn every exit status into 1. The
// runtime reads ASAN_OPTIONS from /proc/self/environ, denied too, so the
// leak check can only be switched off from inside.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }
#endif

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string_view op = argv[1];
  const int n = argc - 2;  // operands
  char** a = argv + 2;

  if (op == "read" && n == 1) return do_read(a[0]);
  if (op == "cat" && n == 1) return do_cat(a[0]);
  if (op == "write" && n == 1) return do_write(a[0]);
  if (op == "create" && n == 1) {
    const int fd = ::open(a[0], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return failed("create", a[0]);
    ::close(fd);
    return 0;
  }
  if (op == "truncate" && n == 1)
    return ::truncate(a[0], 0) == 0 ? 0 : failed("truncate", a[0]);
  if (op == "trunc-open" && n == 1) {
    const int fd = ::open(a[0], O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return failed("trunc-open", a[0]);
    ::close(fd);
    return 0;
  }
  if (op == "list" && n == 1) return do_list(a[0]);
  if (op == "exec" && n >= 1) {
    ::execv(a[0], a);  // argv[0] of the new program is PATH itself
    return failed("exec", a[0]);
  }
  if (op == "unlink" && n == 1) return ::unlink(a[0]) == 0 ? 0 : failed("unlink", a[0]);
  if (op == "rmdir" && n == 1) return ::rmdir(a[0]) == 0 ? 0 : failed("rmdir", a[0]);
  if (op == "mkdir" && n == 1)
    return ::mkdir(a[0], 0700) == 0 ? 0 : failed("mkdir", a[0]);
  if (op == "mkfifo" && n == 1)
    return ::mkfifo(a[0], 0600) == 0 ? 0 : failed("mkfifo", a[0]);
  if (op == "symlink" && n == 2)
    return ::symlink(a[0], a[1]) == 0 ? 0 : failed("symlink", a[1]);
  if (op == "link" && n == 2) return ::link(a[0], a[1]) == 0 ? 0 : failed("link", a[1]);
  if (op == "rename" && n == 2)
    return ::rename(a[0], a[1]) == 0 ? 0 : failed("rename", a[0]);
  if (op == "readfd" && n == 1) return do_readfd(a[0]);
  if (op == "kill" && n == 2) {
    long pid, sig;
    if (!to_int(a[0], pid) || !to_int(a[1], sig)) return usage();
    return ::kill(static_cast<pid_t>(pid), static_cast<int>(sig)) == 0
               ? 0
               : failed("kill", a[0]);
  }
  if (op == "stat" && n == 1) {
    struct stat st {};
    return ::stat(a[0], &st) == 0 ? 0 : failed("stat", a[0]);
  }
  if (op == "connect-tcp" && n == 2) return do_connect_tcp(a[0], a[1]);
  if (op == "bind-tcp" && n == 1) return do_bind_tcp(a[0]);
  if (op == "sleep" && n == 1) {
    long s;
    if (!to_int(a[0], s) || s < 0) return usage();
    ::sleep(static_cast<unsigned>(s));
    return 0;
  }
  if (op == "fill" && n == 2) {
    long mib;
    if (!to_int(a[1], mib) || mib < 0) return usage();
    return do_fill(a[0], mib);
  }
  if (op == "forks" && n == 3) {
    long count;
    if (!to_int(a[0], count) || count < 0) return usage();
    return do_forks(count, a[1], a[2]);
  }
  if (op == "exit" && n == 1) {
    long code;
    if (!to_int(a[0], code)) return usage();
    return static_cast<int>(code & 0xff);
  }
  if (op == "signal-self" && n == 1) {
    long sig;
    if (!to_int(a[0], sig)) return usage();
    // Default action and unblocked, whatever the launcher's parent left.
    std::signal(static_cast<int>(sig), SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, static_cast<int>(sig));
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    if (std::raise(static_cast<int>(sig)) != 0) return failed("signal-self", a[0]);
    return 0;  // the signal's default action is to ignore it (SIGCHLD ...)
  }
  return usage();
}
