// seccomp, Landlock scopes, Landlock TCP rules and environment hygiene,
// through the real binary. Each refusal is shown against the same probe in
// the same sandbox with the layer off, where it must give another result:
// no assertion passes because the probe is broken or the kernel refuses on
// its own.
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernel_gap.h"
#include "paths.h"
#include "profile_yaml.h"
#include "run_helpers.h"

namespace aisbx::test {
namespace {

using runner::TcpListener;

constexpr int kSigsysStatus = 128 + SIGSYS;

class Layers : public ::testing::TestWithParam<As> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Userns, Need::Landlock, Need::Seccomp);
    tree_ = std::make_unique<TempTree>(GetParam(), "aisbx-sc");
    tree_->dir("home");
    tree_->dir("xdg");
    tree_->dir("project");
  }

  // aisbx-ns with the built-in profiles (or `config`), HOME and XDG in the
  // temp tree so that no user file is read, the sysprobe's directory added
  // read-only, then `cmd`.
  Result launch(std::vector<std::string> opts, const std::vector<std::string>& cmd,
                const std::vector<std::pair<std::string, std::string>>& env = {}) {
    std::vector<std::string> argv = wrap_;
    argv.push_back(binary_path());
    argv.insert(argv.end(), opts.begin(), opts.end());
    argv.insert(argv.end(), {"--ro", dir_of(sysprobe_path()), "--ro", dir_of(probe_path()), "--"});
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    RunSpec spec;
    spec.argv = argv;
    spec.as = GetParam();
    spec.env = {{"HOME", tree_->at("home")}, {"XDG_CONFIG_HOME", tree_->at("xdg")}};
    spec.env.insert(spec.env.end(), env.begin(), env.end());
    spec.cwd = tree_->at("project");
    return runner::run(spec);
  }

  Result sys(const std::string& seccomp, const std::vector<std::string>& op,
             std::vector<std::string> extra = {}) {
    std::vector<std::string> opts{"--profile", "minimal", "--seccomp", seccomp};
    opts.insert(opts.end(), extra.begin(), extra.end());
    std::vector<std::string> cmd{sysprobe_path()};
    cmd.insert(cmd.end(), op.begin(), op.end());
    return launch(opts, cmd);
  }

  std::string config(const std::string& body) {
    return tree_->file("profiles.yaml", "version: 1\nprofiles:\n" + body);
  }

  std::unique_ptr<TempTree> tree_;
  // Put before the launcher: e.g. a network namespace of the test's own.
  std::vector<std::string> wrap_;
};

struct Refused {
  std::vector<std::string> op;
  int without;  // the result in the same sandbox with seccomp off
};

TEST_P(Layers, DefaultPresetRefusesWithEperm) {
  const std::vector<Refused> cases = {
      {{"unshare-user"}, 0},   {{"clone-user"}, 0},
      {{"keyctl"}, 0},         {{"ptrace"}, 0},
      {{"personality-noaslr"}, 0},
  };
  for (const auto& c : cases) {
    const Result off = sys("off", c.op);
    ASSERT_EQ(off.status, c.without) << c.op[0] << " without seccomp: " << off.describe();
    const Result on = sys("default", c.op);
    EXPECT_EQ(on.status, EPERM) << c.op[0] << " with seccomp: " << on.describe();
  }
}

// TIOCSTI is refused with seccomp off too (SeccompPlan::tty_guard): the
// escape suite shows why. Able to: the same probe outside the sandbox.
TEST_P(Layers, TiocstiIsRefusedWithAndWithoutThePreset) {
  for (const char* op : {"tiocsti", "tiocsti-high"}) {  // high bits set: CVE-2019-10063
    RunSpec bare;
    bare.argv = {sysprobe_path(), op};
    bare.as = GetParam();
    const Result outside = runner::run(bare);
    ASSERT_EQ(outside.status, 0) << op << " outside the sandbox: " << outside.describe();
    for (const char* s : {"off", "default"}) {
      const Result r = sys(s, {op});
      EXPECT_EQ(r.status, EPERM) << op << " with --seccomp " << s << ": " << r.describe();
    }
  }
}

TEST_P(Layers, MptcpAndIoUringAreRefusedWhereTheKernelHasThem) {
  for (const char* op : {"mptcp", "io-uring"}) {
    const Result off = sys("off", {op});
    // Without seccomp the kernel may lack them (EPROTONOSUPPORT, ENOSYS) or
    // allow them; it must not already say EPERM, or nothing is shown.
    ASSERT_NE(off.status, EPERM) << op << ": " << off.describe();
    const Result on = sys("default", {op});
    EXPECT_EQ(on.status, EPERM) << op << ": " << on.describe();
  }
}

// Sockets that go round network rules made for TCP and UDP: refused by the
// preset in every mode. Shown against the same sandbox without seccomp:
// a uevent socket needs no privilege, and root in landlock mode (no user
// namespace) opens AF_PACKET, which Landlock's TCP rules never see.
TEST_P(Layers, ThePresetRefusesSocketsThatGoRoundTheNetworkRules) {
  // Landlock mode keeps the caller's network namespace: these sockets are
  // made in an empty one of the test's own, never the machine's.
  const bool root = GetParam() == As::self && ::geteuid() == 0;
  const std::vector<std::string> own_net =
      root ? std::vector<std::string>{"/usr/bin/unshare", "--net", "--"}
           : std::vector<std::string>{"/usr/bin/unshare", "--user", "--map-current-user", "--net",
                                      "--"};
  for (const char* mode : {"layered", "landlock"}) {
    wrap_ = std::string(mode) == "landlock" ? own_net : std::vector<std::string>{};
    const std::vector<std::string> m{"--mode", mode};
    for (const char* op : {"packet", "raw-ip", "sctp", "netlink-uevent"}) {
      const Result on = sys("default", {op}, m);
      EXPECT_EQ(on.status, EPERM) << op << " in " << mode << ": " << on.describe();
    }
    const Result uevent = sys("off", {"netlink-uevent"}, m);
    EXPECT_EQ(uevent.status, 0) << mode << " without seccomp: " << uevent.describe();
    // Route netlink stays: getifaddrs(3), `ip addr`.
    const Result route = sys("default", {"netlink-route"}, m);
    EXPECT_EQ(route.status, 0) << mode << ": " << route.describe();
  }
  if (root) {
    wrap_ = own_net;
    const Result packet = sys("off", {"packet"}, {"--mode", "landlock"});
    EXPECT_EQ(packet.status, 0) << "root without seccomp: " << packet.describe();
  }
}

TEST_P(Layers, ForeignArchitectureCallsKill) {
  const Result off = sys("off", {"x32"});
  ASSERT_EQ(off.status, ENOSYS) << off.describe();  // no x32 ABI: a plain error
  const Result on = sys("default", {"x32"});
  EXPECT_EQ(on.status, kSigsysStatus) << on.describe();
}

TEST_P(Layers, MountIsRefusedWithAndWithoutSeccomp) {
  // Landlock and the dropped capabilities already refuse it; seccomp is a
  // third stop. All three must say EPERM, as root too.
  for (const char* s : {"off", "default"}) {
    EXPECT_EQ(sys(s, {"mount", "/tmp"}).status, EPERM) << s;
    EXPECT_EQ(sys(s, {"umount", "/proc"}).status, EPERM) << s;
  }
}

TEST_P(Layers, StrictModeAppliesTheDefaultPreset) {
  const Result r = launch({"--mode", "strict", "--profile", "minimal"}, {sysprobe_path(), "keyctl"});
  EXPECT_EQ(r.status, EPERM) << r.describe();
}

// The built-in profiles apply the default preset without being asked:
// io_uring, userfaultfd and perf_event_open say EPERM where the same call
// with seccomp off gets another answer, and a nested user namespace is
// refused except in vscode-copilot (Electron's sandbox needs one).
TEST_P(Layers, BuiltInProfilesApplyTheDefaultPreset) {
  for (const char* mode : {"layered", "landlock"}) {
    for (const char* profile : {"agent", "build", "minimal"}) {
      SCOPED_TRACE(std::string(profile) + " in " + mode + " mode");
      for (const char* op : {"io-uring", "userfaultfd", "perf-event-open", "unshare-user",
                             "clone-user"}) {
        const Result off = launch({"--profile", profile, "--mode", mode, "--seccomp", "off"},
                                  {sysprobe_path(), op});
        ASSERT_NE(off.status, EPERM) << op << " with seccomp off: " << off.describe();
        const Result on = launch({"--profile", profile, "--mode", mode}, {sysprobe_path(), op});
        EXPECT_EQ(on.status, EPERM) << op << ": " << on.describe();
      }
    }
    const Result nested =
        launch({"--profile", "vscode-copilot", "--mode", mode}, {sysprobe_path(), "unshare-user"});
    EXPECT_EQ(nested.status, 0) << mode << ": " << nested.describe();
    const Result uring =
        launch({"--profile", "vscode-copilot", "--mode", mode}, {sysprobe_path(), "io-uring"});
    EXPECT_EQ(uring.status, EPERM) << mode << ": " << uring.describe();
    // The attack as typed: unshare(1) makes a user and a network namespace.
    if (!runner::exists("/usr/bin/unshare")) continue;
    const std::vector<std::string> nest{"/usr/bin/unshare", "-Urn", "/bin/true"};
    const Result agent = launch({"--profile", "agent", "--mode", mode}, nest);
    EXPECT_EQ(agent.status, 1) << mode << ": " << agent.describe();
    EXPECT_TRUE(contains(agent.err, "Operation not permitted")) << mode << ": " << agent.describe();
    // A root caller's target lacks CAP_SETFCAP to map uid 0 in a nested
    // namespace (unshare(1) fails there on its own): only 65534 shows it
    // works. In landlock mode the profile's /proc root is read-only, so
    // unshare(1) cannot write its uid_map (EACCES) whatever seccomp says.
    if (runner::uid_of(GetParam()) != 0 && std::string(mode) == "layered") {
      const Result ide = launch({"--profile", "vscode-copilot", "--mode", mode}, nest);
      EXPECT_EQ(ide.status, 0) << mode << ": " << ide.describe();
    }
  }
}

TEST_P(Layers, ProfileListsAllowNestedUsernsAndGroups) {
  const std::string cfg = config(
      "  nested:\n    extends: minimal\n    seccomp: {preset: default, allow_nested_userns: true}\n"
      "  keyring-only:\n    extends: minimal\n    seccomp: {preset: off, deny: ['@keyring']}\n"
      "  allow-ptrace:\n    extends: minimal\n    seccomp: {preset: default, allow: [ptrace]}\n");
  auto run = [&](const char* profile, const char* op) {
    return launch({"--config", cfg, "--profile", profile}, {sysprobe_path(), op});
  };
  EXPECT_EQ(run("nested", "unshare-user").status, 0);
  EXPECT_EQ(run("nested", "keyctl").status, EPERM);
  EXPECT_EQ(run("keyring-only", "keyctl").status, EPERM);
  EXPECT_EQ(run("keyring-only", "unshare-user").status, 0);  // no preset
  EXPECT_EQ(run("allow-ptrace", "ptrace").status, 0);
  EXPECT_EQ(run("allow-ptrace", "keyctl").status, EPERM);
}

TEST_P(Layers, UnknownSyscallNameIsAnErrorBeforeAnythingRuns) {
  const std::string marker = tree_->at("project/ran");
  const std::string cfg =
      config("  typo:\n    extends: minimal\n    seccomp: {deny: [kexec_lod]}\n");
  for (const char* flag : {"--dry-run", "--log-level=warn"}) {
    const Result r = launch({"--config", cfg, "--profile", "typo", flag},
                            {"/bin/sh", "-c", "echo > " + marker});
    EXPECT_EQ(r.status, 125) << r.describe();
    EXPECT_TRUE(contains(r.err, "kexec_lod"));
    EXPECT_FALSE(runner::exists(marker));
  }
}

// ---- Landlock scopes (ABI 6) ----

// A listener on an abstract unix socket in the test process, the way D-Bus
// or X11 listen on the host.
class AbstractListener {
 public:
  explicit AbstractListener(const std::string& name) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path + 1, name.data(), name.size());
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) == 0 && ::listen(fd_, 8) == 0;
  }
  ~AbstractListener() { if (fd_ >= 0) ::close(fd_); }
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

TEST_P(Layers, AbstractUnixSocketsOfTheHostAreOutOfReach) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::LandlockScope);
  const std::string name = "aisbx-test-" + std::to_string(::getpid());
  AbstractListener host(name);
  ASSERT_TRUE(host.ok());
  const std::string cfg = config(
      "  open:\n    extends: minimal\n    network: host\n    scope: {abstract_unix_socket: false}\n");
  // ns mode too: Landlock's scopes do not depend on its file rules.
  for (const char* mode : {"landlock", "layered", "ns"}) {
    const Result off = launch({"--config", cfg, "--profile", "open", "--mode", mode},
                              {sysprobe_path(), "connect-abstract", name});
    ASSERT_EQ(off.status, 0) << mode << ": " << off.describe();
    const Result on = launch({"--profile", "minimal", "--net", "host", "--mode", mode},
                             {sysprobe_path(), "connect-abstract", name});
    EXPECT_EQ(on.status, EPERM) << mode << ": " << on.describe();
  }
}

TEST_P(Layers, SignalsToHostProcessesAreRefused) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::LandlockScope);
  // A process of the same user outside the sandbox, so that only the scope
  // can say no.
  const pid_t victim = ::fork();
  if (victim == 0) {
    if (GetParam() == As::nobody) {
      // A victim left as root would refuse the signal for another reason;
      // gone instead, the control below fails (ESRCH).
      if (::setgroups(0, nullptr) != 0 ||
          ::setresgid(runner::kNobodyGid, runner::kNobodyGid, runner::kNobodyGid) != 0 ||
          ::setresuid(runner::kNobodyUid, runner::kNobodyUid, runner::kNobodyUid) != 0)
        ::_exit(3);
    }
    ::pause();
    ::_exit(0);
  }
  const std::string pid = std::to_string(victim);
  const std::string cfg =
      config("  open:\n    extends: minimal\n    scope: {signal: false}\n");
  const Result off = launch({"--config", cfg, "--profile", "open", "--mode", "landlock"},
                            {sysprobe_path(), "kill", pid});
  const Result on = launch({"--profile", "minimal", "--mode", "landlock"}, {sysprobe_path(), "kill", pid});
  ::kill(victim, SIGKILL);
  ::waitpid(victim, nullptr, 0);
  EXPECT_EQ(off.status, 0) << off.describe();
  EXPECT_EQ(on.status, EPERM) << on.describe();
}

// ---- Landlock TCP rules (ABI 4) ----

TEST_P(Layers, ConnectTcpAllowsOnlyTheListedPorts) {
  AISBX_SKIP_ON_KERNEL_GAP(Need::LandlockNet);
  TcpListener allowed, other;
  ASSERT_GT(allowed.port(), 0);
  ASSERT_GT(other.port(), 0);
  const std::string cfg = config("  web:\n    extends: minimal\n    network:\n      mode: host\n"
                                 "      connect_tcp: [" + std::to_string(allowed.port()) + "]\n");
  for (const char* mode : {"landlock", "layered"}) {
    auto connect = [&](int port) {
      return launch({"--config", cfg, "--profile", "web", "--mode", mode},
                    {probe_path(), "connect-tcp", "127.0.0.1", std::to_string(port)});
    };
    EXPECT_EQ(connect(allowed.port()).status, 0) << mode;
    EXPECT_EQ(connect(other.port()).status, EACCES) << mode;
  }
  // In landlock mode, `network: none` is Landlock's: no connect at all.
  const Result none = launch({"--profile", "minimal", "--mode", "landlock"},
                             {probe_path(), "connect-tcp", "127.0.0.1", std::to_string(allowed.port())});
  EXPECT_EQ(none.status, EACCES) << none.describe();
}

// ---- environment ----

TEST_P(Layers, SecretsAreNotPassedUnlessKept) {
  const std::vector<std::pair<std::string, std::string>> env = {
      {"GITHUB_TOKEN", "gh-secret"},     {"MY_API_KEY", "api-secret"},
      {"AWS_SECRET_ACCESS_KEY", "aws"},  {"SSH_AUTH_SOCK", "/run/agent.sock"},
      {"GIT_ASKPASS", "/usr/bin/askpass"}, {"KEEPME_TOKEN", "kept"},
      {"ORDINARY", "plain"}};
  const std::string cfg = config(
      "  keep:\n    extends: minimal\n    env_policy: {mode: inherit, keep: ['KEEPME_*']}\n");
  const Result r = launch({"--config", cfg, "--profile", "keep"}, {"/usr/bin/env"}, env);
  ASSERT_EQ(r.status, 0) << r.describe();
  for (const char* gone : {"GITHUB_TOKEN=", "MY_API_KEY=", "AWS_SECRET_ACCESS_KEY=",
                           "SSH_AUTH_SOCK=", "GIT_ASKPASS="})
    EXPECT_FALSE(contains(r.out, gone)) << gone;
  EXPECT_TRUE(contains(r.out, "KEEPME_TOKEN=kept"));
  EXPECT_TRUE(contains(r.out, "ORDINARY=plain"));
  EXPECT_TRUE(contains(r.out, "PATH="));

  // The plan names what it drops, never the values.
  const Result plan = launch({"--config", cfg, "--profile", "keep", "--dry-run"}, {"/usr/bin/env"}, env);
  ASSERT_EQ(plan.status, 0) << plan.describe();
  EXPECT_TRUE(contains(plan.out, "GITHUB_TOKEN"));
  EXPECT_FALSE(contains(plan.out, "gh-secret"));
  EXPECT_FALSE(contains(plan.out, "api-secret"));
}

// Issue 17: each variable the scrub list missed, by name or by value, is
// absent inside the built-in agent profile (in both walls' modes); OLDPWD
// is no secret.
TEST_P(Layers, DatabaseRegistryAndCiSecretsAreNotPassed) {
  const std::vector<std::pair<std::string, std::string>> env = {
      {"PGPASSWORD", "pg-secret"},
      {"MYSQL_PWD", "my-secret"},
      {"DATABASE_URL", "postgres://app:db-secret@db/app"},
      {"npm_config__authToken", "npm-secret"},
      {"GITHUB_PAT", "pat-secret"},
      {"CI_JOB_JWT", "jwt-secret"},
      {"DOCKER_AUTH_CONFIG", "{\"auths\":\"docker-secret\"}"},
      {"MIRROR", "https://me:url-secret@mirror.example/simple"},
      {"ORDINARY", "plain"},
      {"OLDPWD", "/old"}};
  for (const char* mode : {"layered", "landlock"}) {
    const Result r = launch({"--profile", "agent", "--mode", mode}, {"/usr/bin/env"}, env);
    ASSERT_EQ(r.status, 0) << mode << ": " << r.describe();
    EXPECT_FALSE(contains(r.out, "secret")) << mode << ": " << r.out;
    for (const auto& [k, v] : env) {
      if (k == "ORDINARY" || k == "OLDPWD") continue;
      EXPECT_FALSE(contains(r.out, k + "=")) << mode << ": " << k;
    }
    EXPECT_TRUE(contains(r.out, "ORDINARY=plain")) << mode;
    EXPECT_TRUE(contains(r.out, "OLDPWD=/old")) << mode << ": " << r.out;
  }
}

TEST_P(Layers, CleanEnvironmentKeepsOnlyTheBasics) {
  const std::string cfg = config("  clean:\n    extends: minimal\n    env_policy: clean\n");
  const Result r = launch({"--config", cfg, "--profile", "clean"}, {"/usr/bin/env"},
                          {{"ORDINARY", "plain"}, {"LANG", "C.UTF-8"}});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_FALSE(contains(r.out, "ORDINARY="));
  EXPECT_TRUE(contains(r.out, "LANG=C.UTF-8"));
  EXPECT_TRUE(contains(r.out, "PATH="));
}

INSTANTIATE_TEST_SUITE_P(Kernel, Layers, ::testing::ValuesIn(runner::users_to_test()),
                         [](const ::testing::TestParamInfo<As>& p) { return runner::name_of(p.param); });

}  // namespace
}  // namespace aisbx::test
