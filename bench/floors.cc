// Lower bounds for two of issue 20's goals, built static by bench/run.sh
// (not part of the product). Each does only the kernel work a goal cannot
// avoid, with no options, no profile and no plan, so that a run shows how
// much of a launch is the launcher's own and how much any launcher with the
// same walls pays on this machine.
//
//   floors model [--cgroup DIR] RULE... -- CMD ARGS...
//       landlock mode's process model: a guard started on the caller's
//       memory (subreaper, death signal, own process group), the target
//       started from it the same way; the target joins a cgroup of its own
//       under DIR (when given), builds the Landlock ruleset (the 16
//       filesystem rights, TCP bind/connect, both scopes handled), one
//       rule per RULE, loads the terminal guard filter (ioctl TIOCSTI and
//       TIOCLINUX refused), restricts itself and execs CMD. The guard reaps
//       everything, kills and removes the cgroup and exits with CMD's status.
//       RULE: all:PATH (every right), rx:PATH, r:PATH, dev:PATH (a device
//       file: read, write, truncate, ioctl).
//
//   floors binds N DIR TARGET -- CMD ARGS...
//       N bind mounts, the minimum layered mode makes per root: in a new
//       user and mount namespace, a tmpfs on TARGET, then for each of
//       DIR/d00000 ... the source opened O_PATH without following links,
//       fstat'ed, a mount point made, the tree cloned (open_tree), made
//       read-only, nosuid and nodev (mount_setattr), attached (move_mount)
//       and both fds closed; then exec of CMD in that namespace.
//
//   floors binds-by-path N DIR TARGET -- CMD ARGS...
//       the same roots bound the cheapest way found here: the same open,
//       fstat and mount point, then mount(2) MS_BIND|MS_REC from and to
//       /proc/self/fd magic links of the opened fds (no detached tree to
//       make and dissolve per root), and a single recursive mount_setattr
//       over all of them at the end (possible only where every root has
//       the same flags: a floor, not a way the wall could take).
//
//   floors binds-prepare N DIR TARGET -- CMD ARGS...
//       only what precedes each bind: open, fstat, mount point, close.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

// Landlock's ABI, as the kernel defines it (linux/landlock.h of Debian 12
// predates the network and scope fields).
struct RulesetAttr {
  std::uint64_t handled_access_fs;
  std::uint64_t handled_access_net;
  std::uint64_t scoped;
};
struct PathBeneath {
  std::uint64_t allowed_access;
  std::int32_t parent_fd;
} __attribute__((packed));
constexpr long kCreateRuleset = 444, kAddRule = 445, kRestrictSelf = 446;
constexpr std::uint64_t kExecute = 1 << 0, kWriteFile = 1 << 1, kReadFile = 1 << 2,
                        kReadDir = 1 << 3, kTruncate = 1 << 14, kIoctlDev = 1 << 15;
constexpr std::uint64_t kAllFs = (1 << 16) - 1;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "floors: %s: %s\n", what, std::strerror(errno));
  _exit(125);
}

struct Rule {
  std::uint64_t access;
  std::string path;
};

struct Model {
  std::vector<Rule> rules;
  std::string cgroup;  // empty: none
  char** argv = nullptr;
};

bool write_text(const std::string& path, const char* text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = write(fd, text, std::strlen(text)) == static_cast<ssize_t>(std::strlen(text));
  close(fd);
  return ok;
}

void terminal_guard() {
  // ioctl(fd, TIOCSTI | TIOCLINUX, ...) -> EPERM; x86-64 only (a floor).
  sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 4),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[1])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof f / sizeof f[0]), f};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) die("seccomp");
}

int target_main(void* arg) {
  const Model& m = *static_cast<const Model*>(arg);
  if (!m.cgroup.empty() && !write_text(m.cgroup + "/cgroup.procs", "0")) die("join the cgroup");
  RulesetAttr attr{kAllFs, 3, 3};
  const int rs = static_cast<int>(syscall(kCreateRuleset, &attr, sizeof attr, 0));
  if (rs < 0) die("landlock_create_ruleset");
  for (const Rule& r : m.rules) {
    PathBeneath pb{r.access, open(r.path.c_str(), O_PATH | O_CLOEXEC)};
    if (pb.parent_fd < 0) die(r.path.c_str());
    struct stat st {};
    if (fstat(pb.parent_fd, &st) != 0) die("fstat");
    if (!S_ISDIR(st.st_mode)) pb.allowed_access &= kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev;
    if (syscall(kAddRule, rs, 1, &pb, 0) != 0) die("landlock_add_rule");
    close(pb.parent_fd);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("no_new_privs");
  terminal_guard();
  if (syscall(kRestrictSelf, rs, 0) != 0) die("landlock_restrict_self");
  close(rs);
  execv(m.argv[0], m.argv);
  die(m.argv[0]);
}

alignas(16) char g_guard_stack[256 * 1024];
alignas(16) char g_target_stack[256 * 1024];

int guard_main(void* arg) {
  const Model& m = *static_cast<const Model*>(arg);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) die("PR_SET_PDEATHSIG");
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) die("PR_SET_CHILD_SUBREAPER");
  (void)setpgid(0, 0);
  const pid_t target = clone(target_main, g_target_stack + sizeof g_target_stack,
                             CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
  if (target < 0) die("clone target");
  int status = 0, code = 125;
  for (;;) {
    const pid_t p = waitpid(-1, &status, __WALL);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) break;
    if (p == target) code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  if (!m.cgroup.empty()) {
    (void)write_text(m.cgroup + "/cgroup.kill", "1");
    if (rmdir(m.cgroup.c_str()) != 0) die("rmdir cgroup");
  }
  _exit(code);
}

int cmd_model(int argc, char** argv) {
  Model m;
  int i = 2;
  if (i + 1 < argc && std::strcmp(argv[i], "--cgroup") == 0) {
    m.cgroup = std::string(argv[i + 1]) + "/floors-" + std::to_string(getpid());
    if (mkdir(m.cgroup.c_str(), 0755) != 0) die("mkdir cgroup");
    i += 2;
  }
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    const std::string a = argv[i];
    const auto colon = a.find(':');
    const std::string kind = a.substr(0, colon), path = a.substr(colon + 1);
    std::uint64_t access = kAllFs;
    if (kind == "rx") access = kExecute | kReadFile | kReadDir;
    else if (kind == "r") access = kReadFile | kReadDir;
    else if (kind == "dev") access = kReadFile | kWriteFile | kTruncate | kIoctlDev;
    else if (kind != "all") return 2;
    m.rules.push_back({access, path});
  }
  if (i + 1 >= argc) return 2;
  m.argv = argv + i + 1;
  const pid_t guard = clone(guard_main, g_guard_stack + sizeof g_guard_stack, CLONE_VM | SIGCHLD, &m);
  if (guard < 0) die("clone guard");
  int status = 0;
  while (waitpid(guard, &status, 0) < 0)
    if (errno != EINTR) die("waitpid");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 125;
}

void map_ids() {
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) die("unshare");
  char line[64];
  if (!write_text("/proc/self/setgroups", "deny")) die("setgroups");
  std::snprintf(line, sizeof line, "0 %u 1", uid);
  if (!write_text("/proc/self/uid_map", line)) die("uid_map");
  std::snprintf(line, sizeof line, "0 %u 1", gid);
  if (!write_text("/proc/self/gid_map", line)) die("gid_map");
}

enum class BindWay { OpenTree, ByPath, PrepareOnly };

int cmd_binds(int argc, char** argv, BindWay way) {
  if (argc < 7 || std::strcmp(argv[5], "--") != 0) return 2;
  const int n = std::atoi(argv[2]);
  map_ids();
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die("make / private");
  if (mount("tmpfs", argv[4], "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) die("tmpfs");
  const int into = open(argv[4], O_PATH | O_DIRECTORY | O_CLOEXEC);
  const int from = open(argv[3], O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (into < 0 || from < 0) die("open DIR or TARGET");
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  for (int i = 0; i < n; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "d%05d", i);
    const int src = openat(from, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0) die(name);
    struct stat st {};
    if (fstat(src, &st) != 0) die("fstat");
    if (mkdirat(into, name, 0755) != 0) die("mkdirat");
    if (way == BindWay::PrepareOnly) {
      close(src);
      continue;
    }
    if (way == BindWay::ByPath) {
      char from_link[64], to_link[64];
      std::snprintf(from_link, sizeof from_link, "/proc/self/fd/%d", src);
      std::snprintf(to_link, sizeof to_link, "/proc/self/fd/%d/%s", into, name);
      if (mount(from_link, to_link, nullptr, MS_BIND | MS_REC, nullptr) != 0) die("mount MS_BIND");
      close(src);
      continue;
    }
    const int tree = static_cast<int>(syscall(SYS_open_tree, src, "",
                                              OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH));
    if (tree < 0) die("open_tree");
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
      die("mount_setattr");
    if (syscall(SYS_move_mount, tree, "", into, name, MOVE_MOUNT_F_EMPTY_PATH) != 0) die("move_mount");
    close(tree);
    close(src);
  }
  if (way == BindWay::ByPath &&
      syscall(SYS_mount_setattr, into, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
    die("mount_setattr of all");
  execv(argv[6], argv + 6);
  die(argv[6]);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "model") == 0) return cmd_model(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "binds") == 0) return cmd_binds(argc, argv, BindWay::OpenTree);
  if (argc >= 2 && std::strcmp(argv[1], "binds-by-path") == 0)
    return cmd_binds(argc, argv, BindWay::ByPath);
  if (argc >= 2 && std::strcmp(argv[1], "binds-prepare") == 0)
    return cmd_binds(argc, argv, BindWay::PrepareOnly);
  std::fprintf(stderr,
               "usage: floors model [--cgroup DIR] RULE... -- CMD... | "
               "floors binds|binds-by-path|binds-prepare N DIR TARGET -- CMD...\n");
  return 2;
}
