// The escape suite: secrets are planted outside the project (a sibling
// directory, the host HOME's ~/.ssh, the caller's session keyring, the
// environment, a masked `.env`) and a sandboxed program tries every known
// way out of the layered and the strict sandbox.
//
// Each probe first runs WITHOUT the sandbox, as the same user, on the same
// files, and must succeed there: a probe that fails for its own reasons
// (a typo, DAC, a missing tool) must never pass as "contained". Probes that
// change the mount table (mount, umount, pivot_root, the umount that would
// reveal a mask) are shown able to work inside a plain `unshare -Urm`, never
// on the host. Inside the sandbox the exact errno is asserted, and no
// output may contain a secret.
//
// Runs as the caller and, when the caller is root, as uid 65534 too
// (runner::users_to_test()); scripts/test.sh runs the whole binary again as
// 65534. Probes that need root to set up (a setuid-root program, a device
// node made on the host) run only where the test binary is root.
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pty.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "profile_yaml.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

using runner::shell_quote;
using runner::TcpListener;

// What every planted secret holds; no sandboxed output may contain it.
const std::string kSecret = "aisbx-escape-secret-7f3a";

enum class Walls { layered, strict };
const char* mode_name(Walls w) { return w == Walls::strict ? "strict" : "layered"; }

struct Variant {
  As as;
  Walls walls;
};

void PrintTo(const Variant& v, std::ostream* os) {
  *os << runner::name_of(v.as) << " --mode " << mode_name(v.walls);
}

std::vector<Variant> variants() {
  std::vector<Variant> v;
  for (As as : runner::users_to_test())
    for (Walls w : {Walls::layered, Walls::strict}) v.push_back({as, w});
  return v;
}

// Drops the calling (forked) process to `as`; async-signal-safe.
bool become(As as) {
  if (as != As::nobody) return true;
  return ::setgroups(0, nullptr) == 0 &&
         ::setresgid(runner::kNobodyGid, runner::kNobodyGid, runner::kNobodyGid) == 0 &&
         ::setresuid(runner::kNobodyUid, runner::kNobodyUid, runner::kNobodyUid) == 0;
}

// A process of the user under test outside the sandbox, that this user may
// trace and read through /proc (dumpable, any tracer allowed): the target
// of the /proc/PID/root, ptrace and kill probes.
class HostVictim {
 public:
  explicit HostVictim(As as) {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      if (!become(as)) ::_exit(1);
      ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
      ::prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
      (void)!::write(ready[1], "r", 1);
      for (;;) ::pause();
    }
    ::close(ready[1]);
    char c;
    ok_ = pid_ > 0 && ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
  }
  ~HostVictim() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);  // our own child, by its pid
      ::waitpid(pid_, nullptr, 0);
    }
  }
  HostVictim(const HostVictim&) = delete;
  HostVictim& operator=(const HostVictim&) = delete;
  bool ok() const { return ok_; }
  std::string pid() const { return std::to_string(pid_); }

 private:
  pid_t pid_ = -1;
  bool ok_ = false;
};

// Listeners of the host the sandbox must not reach.
class AbstractListener {
 public:
  explicit AbstractListener(const std::string& name) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path + 1, name.data(), name.size());
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) == 0 &&
          ::listen(fd_, 8) == 0;
  }
  ~AbstractListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  AbstractListener(const AbstractListener&) = delete;
  AbstractListener& operator=(const AbstractListener&) = delete;
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

// Closes an fd of the test process at the end of a scope.
struct ScopedFd {
  int fd = -1;
  ~ScopedFd() {
    if (fd >= 0) ::close(fd);
  }
};

// The temp tree, owned by the user under test:
//   project/             the project (cwd): README, data, sub/, tool (a copy
//                        of the probe), symlinks that lead out, .env (secret)
//   outside/secret       a secret beside the project
//   home/.ssh/id_rsa     a secret in the host HOME the launcher is given
//   xdg/                 XDG_CONFIG_HOME without a config file
class Escape : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock, Need::LandlockScope, Need::Seccomp);
    tree_ = std::make_unique<TempTree>(as(), "aisbx-esc");
    project_ = tree_->dir("project");
    tree_->file("project/README", "inside\n");
    tree_->file("project/data", "data\n");
    tree_->dir("project/sub");
    tree_->file("project/.env", kSecret + "\n");
    secret_ = tree_->file("outside/secret", kSecret + "\n");
    outside_ = tree_->at("outside");
    ssh_key_ = tree_->file("home/.ssh/id_rsa", kSecret + "\n", 0600);
    home_ = tree_->at("home");
    xdg_ = tree_->dir("xdg");
  }

  As as() const { return GetParam().as; }
  const char* mode() const { return mode_name(GetParam().walls); }
  bool strict() const { return GetParam().walls == Walls::strict; }
  // The errno of the layered run or of the strict one.
  int either(int layered, int strict_errno) const { return strict() ? strict_errno : layered; }

  RunSpec spec(std::vector<std::string> argv) const {
    RunSpec s;
    s.argv = std::move(argv);
    s.as = as();
    s.cwd = project_;
    s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", xdg_}};
    return s;
  }

  // Bare on the host, as the user under test.
  Result bare(const std::vector<std::string>& argv) const { return runner::run(spec(argv)); }

  // aisbx-ns --profile P --mode M --ro <probe dirs> [opts] -- argv
  std::vector<std::string> launcher(const std::string& profile, const std::vector<std::string>& argv,
                                    const std::vector<std::string>& opts = {}) const {
    std::vector<std::string> v{binary_path(), "--profile", profile, "--mode", mode(),
                               "--ro", dir_of(sysprobe_path()), "--ro", dir_of(probe_path())};
    v.insert(v.end(), opts.begin(), opts.end());
    v.push_back("--");
    v.insert(v.end(), argv.begin(), argv.end());
    return v;
  }

  Result boxed(const std::string& profile, const std::vector<std::string>& argv,
               const std::vector<std::string>& opts = {}) const {
    return runner::run(spec(launcher(profile, argv, opts)));
  }

  static std::vector<std::string> probe(std::vector<std::string> args) {
    args.insert(args.begin(), probe_path());
    return args;
  }
  static std::vector<std::string> sys(std::vector<std::string> args) {
    args.insert(args.begin(), sysprobe_path());
    return args;
  }

  // The probe works bare (status 0), and in the sandbox ends with `want`
  // without any secret in its output.
  void contained(const std::string& what, const Result& control, const Result& in, int want) {
    SCOPED_TRACE(what + " (" + runner::name_of(as()) + ", --mode " + mode() + ")");
    ASSERT_EQ(control.status, 0) << "the probe fails even without the sandbox, so its "
                                    "failure inside would prove nothing: "
                                 << control.describe();
    EXPECT_EQ(in.status, want) << in.describe();
    EXPECT_FALSE(contains(in.out, kSecret)) << "a secret reached the sandbox: " << in.describe();
    EXPECT_FALSE(contains(in.err, kSecret)) << "a secret reached the sandbox: " << in.describe();
    // The probes exit with an errno; 126 and up are exit statuses of ld.so
    // or unshare(1).
    if (in.status == want)
      std::printf("  escape probe: %-58s contained, status %d%s%s\n", what.c_str(), want,
                  want > 0 && want < 126 ? " " : "", want > 0 && want < 126 ? std::strerror(want) : "");
  }

  // Shorthand: the same argv bare and in `profile`.
  void probe_both(const std::string& what, const std::string& profile,
                  const std::vector<std::string>& argv, int want,
                  const std::vector<std::string>& opts = {}) {
    contained(what, bare(argv), boxed(profile, argv, opts), want);
  }

  std::unique_ptr<TempTree> tree_;
  std::string project_, secret_, outside_, ssh_key_, home_, xdg_;
};

// ---------------------------------------------------------------------------
// The filesystem.

TEST_P(Escape, DirectReads) {
  probe_both("read a file beside the project", "minimal", probe({"read", secret_}), ENOENT);
  probe_both("list the directory beside the project", "minimal", probe({"list", outside_}), ENOENT);
  probe_both("read the host HOME's ~/.ssh/id_rsa", "minimal", probe({"read", ssh_key_}), ENOENT);
  // stat: 65534 may not read /etc/shadow on the host either.
  probe_both("stat /etc/shadow", "minimal", probe({"stat", "/etc/shadow"}), ENOENT);
}

TEST_P(Escape, SymlinksAndDotDot) {
  tree_->symlink("project/link-abs", secret_);
  tree_->symlink("project/link-rel", "../outside/secret");
  tree_->symlink("project/link-root", "/");
  tree_->symlink("project/link-home", home_);
  probe_both("read through an absolute symlink out of the project", "minimal",
             probe({"read", project_ + "/link-abs"}), ENOENT);
  probe_both("read through a relative ../ symlink", "minimal",
             probe({"read", project_ + "/link-rel"}), ENOENT);
  probe_both("read through a symlink to /", "minimal",
             probe({"read", project_ + "/link-root" + secret_}), ENOENT);
  probe_both("read the host HOME through a symlink", "minimal",
             probe({"read", project_ + "/link-home/.ssh/id_rsa"}), ENOENT);
  probe_both("read project/../outside/secret", "minimal",
             probe({"read", project_ + "/../outside/secret"}), ENOENT);
  probe_both("read /../../<secret>", "minimal", probe({"read", "/../.." + secret_}), ENOENT);
  // A symlink to / made inside the (writable) project, then followed.
  const std::string made = project_ + "/made-link";
  const std::string script = shell_quote(probe_path()) + " symlink / " + shell_quote(made) +
                             " || exit 99; exec " + shell_quote(probe_path()) + " read " +
                             shell_quote(made + secret_);
  const Result control = bare({"/bin/sh", "-c", script});
  ::unlink(made.c_str());
  contained("make a symlink to / in the project and read through it", control,
            boxed("agent", {"/bin/sh", "-c", script}), ENOENT);
}

TEST_P(Escape, ProcRootOfSelfAndOfAHostProcess) {
  HostVictim victim(as());
  ASSERT_TRUE(victim.ok());
  probe_both("read /proc/self/root/<secret>", "minimal",
             probe({"read", "/proc/self/root" + secret_}), ENOENT);
  probe_both("read /proc/<host pid>/root/<secret>", "minimal",
             probe({"read", "/proc/" + victim.pid() + "/root" + secret_}), ENOENT);
  // pid 1 inside is the sandbox's init, in no Landlock domain: Landlock
  // refuses the target a look through its /proc entries (and its root is
  // the sandbox's anyway).
  contained("read /proc/1/root/<secret>", bare(probe({"read", "/proc/self/root" + secret_})),
            boxed("minimal", probe({"read", "/proc/1/root" + secret_})), EACCES);
}

TEST_P(Escape, FdsOfTheCaller) {
  ScopedFd file{::open(secret_.c_str(), O_RDONLY)};  // no O_CLOEXEC: inheritable
  ScopedFd dir{::open(outside_.c_str(), O_RDONLY | O_DIRECTORY)};
  ASSERT_GE(file.fd, 3);
  ASSERT_GE(dir.fd, 3);
  const std::string f = std::to_string(file.fd), d = std::to_string(dir.fd);
  auto with_fds = [&](std::vector<std::string> argv) {
    RunSpec s = spec(std::move(argv));
    s.inherit_fds = {file.fd, dir.fd};
    return runner::run(s);
  };
  // Opened by the caller without --keep-fd: closed before the command runs.
  contained("read an fd of the caller's, not kept", with_fds(probe({"readfd", f})),
            with_fds(launcher("minimal", probe({"readfd", f}))), EBADF);
  contained("openat() beneath a directory fd of the caller's, not kept",
            with_fds(sys({"openat-read", d, "secret"})),
            with_fds(launcher("minimal", sys({"openat-read", d, "secret"}))), EBADF);
  // Kept on purpose, a directory fd still opens nothing beneath it: Landlock
  // checks the path at open time, whatever fd it is reached through.
  contained("openat() beneath a kept directory fd (--keep-fd)",
            with_fds(sys({"openat-read", d, "secret"})),
            with_fds(launcher("minimal", sys({"openat-read", d, "secret"}), {"--keep-fd", d})),
            EACCES);
}

TEST_P(Escape, Hardlinks) {
  const std::string link = project_ + "/hardlink";
  auto control = [&](const std::string& from) {
    const Result r = bare(probe({"link", from, link}));
    ::unlink(link.c_str());
    return r;
  };
  contained("hardlink a file beside the project into it", control(secret_),
            boxed("agent", probe({"link", secret_, link})), ENOENT);
  contained("hardlink the host's ~/.ssh/id_rsa into the project", control(ssh_key_),
            boxed("agent", probe({"link", ssh_key_, link})), ENOENT);
  // The masked .env: a link to the mask is a link to an empty file of the
  // sandbox's, across mounts.
  contained("hardlink the masked .env to a readable name", control(project_ + "/.env"),
            boxed("agent", probe({"link", project_ + "/.env", link})), EXDEV);
  EXPECT_FALSE(contains(runner::read_text(link), kSecret));
}

TEST_P(Escape, RenameOutOfTheProject) {
  const std::string data = project_ + "/data";
  auto control = [&](const std::string& to) {
    const Result r = bare(probe({"rename", data, to}));
    ::rename(to.c_str(), data.c_str());
    return r;
  };
  contained("rename a project file beside the project", control(outside_ + "/moved"),
            boxed("agent", probe({"rename", data, outside_ + "/moved"})), ENOENT);
  // The host HOME's path exists inside only as the way to the private HOME
  // (~/.ai-sandbox/homes/agent-HASH), directories of the sandbox's own root.
  contained("rename a project file into the host HOME", control(home_ + "/moved"),
            boxed("agent", probe({"rename", data, home_ + "/moved"})), EXDEV);
  EXPECT_FALSE(exists(home_ + "/moved"));
  // The sandbox's /tmp is its own tmpfs: a rename there crosses mounts.
  contained("rename a project file into /tmp", control("/tmp/aisbx-esc-moved-" + std::to_string(::getpid())),
            boxed("agent", probe({"rename", data, "/tmp/moved"})), EXDEV);
  EXPECT_EQ(runner::read_text(data), "data\n");
  // Out of the masked .env (refer of a mount point).
  contained("rename the masked .env", control(project_ + "/renamed"),
            boxed("agent", probe({"rename", project_ + "/.env", project_ + "/renamed"})), EBUSY);
}

TEST_P(Escape, TruncateAndWriteOutside) {
  auto fresh = [&] { tree_->file("outside/secret", kSecret + "\n"); };
  for (const char* op : {"write", "truncate", "trunc-open"}) {
    const Result control = bare(probe({op, secret_}));
    fresh();
    contained(std::string(op) + " a file beside the project", control,
              boxed("agent", probe({op, secret_})), ENOENT);
    EXPECT_EQ(runner::read_text(secret_), kSecret + "\n");
  }
  // A read-only project: the mount and Landlock both refuse.
  const std::string readme = project_ + "/README";
  const Result control = bare(probe({"truncate", readme}));
  tree_->file("project/README", "inside\n");
  contained("truncate a file of the read-only project", control,
            boxed("minimal", probe({"truncate", readme})), EROFS);
  EXPECT_EQ(runner::read_text(readme), "inside\n");
}

TEST_P(Escape, Mknod) {
  const std::string fifo = project_ + "/fifo";
  auto control = [&](const std::string& op, const std::string& path) {
    const Result r = bare(sys({op, path}));
    ::unlink(path.c_str());
    return r;
  };
  contained("mknod a fifo beside the project", control("mknod-fifo", outside_ + "/fifo"),
            boxed("agent", sys({"mknod-fifo", outside_ + "/fifo"})), ENOENT);
  contained("mknod a fifo in the read-only project", control("mknod-fifo", fifo),
            boxed("minimal", sys({"mknod-fifo", fifo})), EROFS);
  // A device node: only root can make one on the host, the control needs it.
  if (runner::uid_of(as()) != 0) return;
  const std::string dev = project_ + "/null-device";
  // make_char is controlled and not granted (Landlock); the mount is nodev
  // and the target has no CAP_MKNOD either.
  contained("mknod a character device in the writable project", control("mknod-char", dev),
            boxed("agent", sys({"mknod-char", dev})), EACCES);
  EXPECT_FALSE(exists(dev));
}

// ---------------------------------------------------------------------------
// The mount table. Controls run only in a plain `unshare -Urm`.

TEST_P(Escape, MountUmountPivotRoot) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/unshare"), "needs /usr/bin/unshare (util-linux)");
  const std::string mnt = tree_->dir("project/mnt");
  const std::string sp = shell_quote(sysprobe_path());
  const Result control = bare(
      {"/usr/bin/unshare", "-Urm", "/bin/sh", "-c",
       sp + " mount " + shell_quote(mnt) + " || exit 101; " + sp + " umount " + shell_quote(mnt) +
           " || exit 102; mount --bind " + shell_quote(mnt) + " " + shell_quote(mnt) +
           " || exit 103; exec " + sp + " pivot " + shell_quote(mnt)});
  contained("mount a tmpfs", control, boxed("agent", sys({"mount", mnt})), EPERM);
  contained("umount /usr", control, boxed("agent", sys({"umount", "/usr"})), EPERM);
  contained("umount the project", control, boxed("agent", sys({"umount", project_})), EPERM);
  contained("pivot_root at /usr", control, boxed("agent", sys({"pivot", "/usr"})), EPERM);
}

TEST_P(Escape, NestedUserNamespaceUnmountsAMask) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/unshare"), "needs /usr/bin/unshare (util-linux)");
  // Able to: in a namespace of its own, a file covered by an empty one is
  // revealed by umount.
  const std::string env = project_ + "/.env", empty = tree_->file("empty", "");
  const std::string sp = shell_quote(sysprobe_path());
  const Result control =
      bare({"/usr/bin/unshare", "-Urm", "/bin/sh", "-c",
            "mount --bind " + shell_quote(empty) + " " + shell_quote(env) + " || exit 101; " +
                "test -s " + shell_quote(env) + " && exit 102; unshare -Urm " + sp + " umount " +
                shell_quote(env) + " 2>/dev/null; " + sp + " umount " + shell_quote(env) +
                " || exit 103; exec cat " + shell_quote(env)});
  ASSERT_TRUE(contains(control.out, kSecret)) << control.describe();
  // In the agent sandbox (nested user namespaces allowed for Electron):
  // unshare -Urm, then umount the mask and read.
  const std::string reveal = "unshare -Urm " + sp + " umount " + shell_quote(env) +
                             "; echo umount=$?; cat " + shell_quote(env);
  const Result in = boxed("agent", {"/bin/sh", "-c", reveal});
  contained("unshare -Urm, then umount the .env mask", control, in, 0);
  // Landlock refuses any mount change (EPERM), in the nested namespace too.
  EXPECT_TRUE(contains(in.out, "umount=" + std::to_string(EPERM))) << in.describe();
  // Same with a bind mount of / over the project to look around.
  const std::string look = "unshare -Urm sh -c 'mount --bind / " + project_ + " && ls " + project_ +
                           "/tmp' ; echo bind=$?";
  const Result in2 = boxed("agent", {"/bin/sh", "-c", look});
  EXPECT_TRUE(contains(in2.out, "bind=1")) << in2.describe();
}

TEST_P(Escape, ChrootTricks) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/unshare"), "needs /usr/bin/unshare (util-linux)");
  const std::string jail = project_ + "/sub";
  // Able to: root in a user namespace of its own chroots, walks `..` out of
  // the jail and reads the host's file.
  const Result control = bare({"/usr/bin/unshare", "-Ur", sysprobe_path(), "chroot-escape", jail, secret_});
  contained("chroot escape, no capabilities", control,
            boxed("agent", sys({"chroot-escape", jail, secret_})), EPERM);
  // The agent's seccomp filter refuses a nested user namespace: unshare(1)
  // exits 1.
  const std::vector<std::string> unshare{"/usr/bin/unshare", "-Ur", sysprobe_path(), "chroot-escape",
                                         jail, secret_};
  contained("chroot escape in a nested user namespace (agent)", control,
            boxed("agent", unshare), 1);
  // Where nested namespaces are allowed (vscode-copilot, for Electron),
  // chroot is too (Chromium's own sandbox chroots its zygote), and without
  // seccomp: the walk up ends at the sandbox's own root, where the secret
  // does not exist. A root caller's target lacks CAP_SETFCAP to map uid 0
  // in it: unshare(1) exits 1 there. (Strict mode cannot turn seccomp off.)
  const bool can_nest = runner::uid_of(as()) != 0;
  contained("chroot escape in a nested user namespace (vscode-copilot)", control,
            boxed("vscode-copilot", unshare), can_nest ? ENOENT : 1);
  if (!strict()) {
    contained("chroot escape in a nested user namespace, seccomp off", control,
              boxed("vscode-copilot", unshare, {"--seccomp", "off"}), can_nest ? ENOENT : 1);
  }
}

// ---------------------------------------------------------------------------
// Processes and IPC of the host.

TEST_P(Escape, PtraceAndKillOfAHostProcess) {
  HostVictim victim(as());
  ASSERT_TRUE(victim.ok());
  // The built-in seccomp filter refuses ptrace; where a profile allows it
  // (vscode-copilot, for debuggers), the host pid is no process at all
  // outside the sandbox's pid namespace.
  probe_both("ptrace a host process", "minimal", sys({"ptrace-pid", victim.pid()}), EPERM);
  probe_both("ptrace a host process", "vscode-copilot", sys({"ptrace-pid", victim.pid()}), ESRCH);
  probe_both("kill(0) a host process", "minimal", sys({"kill", victim.pid()}), ESRCH);
  probe_both("kill -CONT a host process", "minimal",
             probe({"kill", victim.pid(), std::to_string(SIGCONT)}), ESRCH);
}

// The sandbox's init runs on the launcher's own memory (sys/spawn.h): a
// command that could trace it or write its /proc/PID/mem would hold the
// launcher, outside the pid namespace. It keeps its capabilities and the
// command has none, so the kernel refuses both, also without Landlock
// (--mode ns) and with a profile whose seccomp lets ptrace through. The
// control: the same command may trace a child of its own.
TEST_P(Escape, InitIsOutOfReachOfTheCommand) {
  std::vector<std::string> modes{mode()};
  if (!strict()) modes.push_back("ns");
  for (const std::string& m : modes) {
    SCOPED_TRACE("--mode " + m);
    const auto in = [&](const std::vector<std::string>& argv) {
      std::vector<std::string> v{binary_path(), "--profile", "vscode-copilot", "--mode", m,
                                 "--ro", dir_of(sysprobe_path())};
      if (!strict()) v.insert(v.end(), {"--seccomp", "off"});
      v.push_back("--");
      v.insert(v.end(), argv.begin(), argv.end());
      return runner::run(spec(v));
    };
    const Result control = in(sys({"ptrace"}));
    ASSERT_EQ(control.status, 0) << "ptrace of its own child fails, so a refusal below "
                                    "would prove nothing: " << control.describe();
    const Result trace_init = in(sys({"ptrace-pid", "1"}));
    EXPECT_EQ(trace_init.status, EPERM) << trace_init.describe();
    const Result mem = in(sys({"mem-open", "1"}));
    EXPECT_EQ(mem.status, EACCES) << mem.describe();
  }
}

TEST_P(Escape, HostAbstractUnixSocket) {
  const std::string name = "aisbx-escape-" + std::to_string(::getpid());
  AbstractListener host(name);
  ASSERT_TRUE(host.ok());
  // No network: a network namespace of its own has its own abstract names.
  probe_both("connect to a host abstract unix socket (no network)", "minimal",
             sys({"connect-abstract", name}), ECONNREFUSED);
  // The host's network: Landlock's abstract-socket scope refuses.
  probe_both("connect to a host abstract unix socket (--net host)", "minimal",
             sys({"connect-abstract", name}), EPERM, {"--net", "host"});
}

TEST_P(Escape, TcpToAHostListenerWithoutNetwork) {
  TcpListener listener;
  ASSERT_TRUE(listener.ok());
  probe_both("TCP connect to 127.0.0.1 of the host (network: none)", "minimal",
             probe({"connect-tcp", "127.0.0.1", std::to_string(listener.port())}), ENETUNREACH);
}

TEST_P(Escape, TiocstiOnTheCallersTerminal) {
  // The launcher runs in a terminal (a pty whose slave is its controlling
  // terminal and stdin); a TIOCSTI there would type into the caller's shell
  // after the sandbox exits.
  auto on_tty = [&](std::vector<std::string> argv) {
    int master = -1, slave = -1;
    if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
      ADD_FAILURE() << "openpty: " << std::strerror(errno);
      return Result{};
    }
    if (as() == As::nobody) (void)!::fchown(slave, runner::kNobodyUid, runner::kNobodyGid);
    RunSpec s = spec(std::move(argv));
    s.stdin_fd = slave;
    s.controlling_tty = true;
    const Result r = runner::run(s);
    ::close(slave);
    ::close(master);
    return r;
  };
  for (const char* profile : {"minimal", "agent"})
    contained(std::string("TIOCSTI on the caller's terminal (") + profile + ")",
              on_tty(sys({"tiocsti-fd", "0"})), on_tty(launcher(profile, sys({"tiocsti-fd", "0"}))),
              EPERM);
}

TEST_P(Escape, KeyringOfTheCallersSession) {
  // The caller's session keyring holds a key (a fresh session keyring of
  // the probe's, so that the real one is left alone).
  const Result control = bare(sys({"key-plant", kSecret, sysprobe_path(), "key-read", "aisbx-escape-secret"}));
  ASSERT_TRUE(contains(control.out, kSecret)) << control.describe();
  auto from_minimal = [&](const std::vector<std::string>& opts) {
    std::vector<std::string> argv{sysprobe_path(), "key-plant", kSecret};
    for (const auto& a : launcher("minimal", sys({"key-read", "aisbx-escape-secret"}), opts))
      argv.push_back(a);
    return bare(argv);
  };
  // The built-in profiles' seccomp filter refuses keyctl altogether.
  contained("read a key of the caller's session keyring", control, from_minimal({}), EPERM);
  // Without it (strict mode cannot drop it), the target starts in a session
  // keyring of its own.
  if (!strict())
    contained("read a key of the caller's session keyring, seccomp off", control,
              from_minimal({"--seccomp", "off"}), ENOKEY);
}

// Planting a setuid-root program needs root; it is run by uid 65534. So
// this case exists only for uid 65534 under a root test binary (not as a
// skip: a run without root simply has no such case).
class EscapeSetuid : public Escape {};

std::vector<Variant> setuid_variants() {
  std::vector<Variant> v;
  if (::geteuid() != 0) return v;
  for (const Variant& x : variants())
    if (x.as == As::nobody) v.push_back(x);
  return v;
}

TEST_P(EscapeSetuid, SetuidRootProgram) {
  const std::string dir = tree_->dir("suid");
  const std::string prog = dir + "/suid-probe";
  {
    const std::string bytes = runner::read_text(sysprobe_path());
    ASSERT_FALSE(bytes.empty());
    const int fd = ::open(prog.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    ::close(fd);
    ASSERT_EQ(::chown(prog.c_str(), 0, 0), 0);
    ASSERT_EQ(::chmod(prog.c_str(), 04755), 0);
  }
  // nosuid mounts and no_new_privs: the program runs with the caller's ids.
  contained("a setuid-root program gains root", bare({prog, "euid-root"}),
            boxed("minimal", {prog, "euid-root"}, {"--ro", dir}), EPERM);
}

// ---------------------------------------------------------------------------
// What the agent profile protects inside the project.

TEST_P(Escape, GitHooksAndConfigOfTheAgentProfile) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/git"), "needs /usr/bin/git");
  const Result init = bare({"/usr/bin/git", "init", "-q", project_});
  ASSERT_EQ(init.status, 0) << init.describe();
  const std::string hooks = project_ + "/.git/hooks", config = project_ + "/.git/config";
  const std::string hook = hooks + "/pre-commit";
  const Result create = bare(probe({"create", hook}));
  ::unlink(hook.c_str());
  contained("create .git/hooks/pre-commit", create, boxed("agent", probe({"create", hook})), EROFS);
  EXPECT_FALSE(exists(hook));
  const std::string before = runner::read_text(config);
  const Result write = bare(probe({"write", config}));
  tree_->file("project/.git/config", before);
  contained("append to .git/config (core.hooksPath)", write, boxed("agent", probe({"write", config})),
            EROFS);
  EXPECT_EQ(runner::read_text(config), before);
  // Within `.git` (itself a mount, bound onto itself: a move out of it
  // would be EXDEV before anything else).
  const std::string moved = project_ + "/.git/hooks-moved";
  const Result rename = bare(probe({"rename", hooks, moved}));
  ::rename(moved.c_str(), hooks.c_str());
  contained("rename .git/hooks away", rename, boxed("agent", probe({"rename", hooks, moved})),
            EBUSY);
}

// ---------------------------------------------------------------------------
// Exec.

TEST_P(Escape, ExecFromANoexecRoot) {
  const std::string tool = tree_->file("project/tool", runner::read_text(probe_path()), 0755);
  probe_both("exec a program of the read-only project", "minimal", probe({"exec", tool, "exit", "0"}),
             EACCES);
  // The dynamic loader maps the program itself: a noexec mount refuses the
  // PROT_EXEC mapping and ld.so exits 127.
  std::string loader;
  for (const char* l : {"/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"})
    if (exists(l)) loader = l;
  AISBX_SKIP_WITHOUT(!loader.empty(), "no dynamic loader found");
  probe_both("run it through ld.so", "minimal", {loader, tool, "exit", "0"}, 127);
}

// ---------------------------------------------------------------------------
// The environment.

TEST_P(Escape, EnvironmentSecrets) {
  const std::vector<std::pair<std::string, std::string>> secrets = {
      {"GITHUB_TOKEN", kSecret + "-gh"}, {"AWS_SECRET_ACCESS_KEY", kSecret + "-aws"},
      {"OPENAI_API_KEY", kSecret + "-oai"}, {"DB_PASSWORD", kSecret + "-db"}};
  // env, and every environ of the sandbox's processes (init is a fork of
  // the launcher, which had them).
  const std::string dump = "env; for f in /proc/[0-9]*/environ; do cat \"$f\"; echo; done 2>/dev/null; true";
  RunSpec c = spec({"/bin/sh", "-c", dump});
  c.env.insert(c.env.end(), secrets.begin(), secrets.end());
  const Result control = runner::run(c);
  ASSERT_TRUE(contains(control.out, kSecret + "-gh")) << control.describe();
  RunSpec s = spec(launcher("minimal", {"/bin/sh", "-c", dump}));
  s.env.insert(s.env.end(), secrets.begin(), secrets.end());
  contained("environment secrets (env, /proc/*/environ)", control, runner::run(s), 0);
}

INSTANTIATE_TEST_SUITE_P(Kernel, Escape, ::testing::ValuesIn(variants()),
                         [](const ::testing::TestParamInfo<Variant>& p) {
                           return runner::name_of(p.param.as) + "_" + mode_name(p.param.walls);
                         });
INSTANTIATE_TEST_SUITE_P(Kernel, EscapeSetuid, ::testing::ValuesIn(setuid_variants()),
                         [](const ::testing::TestParamInfo<Variant>& p) {
                           return runner::name_of(p.param.as) + "_" + mode_name(p.param.walls);
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(EscapeSetuid);

}  // namespace
}  // namespace aisbx::test
