// resolve(): a Profile, Options, Features, HostFacts and a FakeFs in, a Plan
// out. Every expectation below is written from DESIGN.md by hand: the ABI
// table, the mount rules of the namespace wall, the warnings, the exec plan.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "aisbx/features.h"
#include "aisbx/host.h"
#include "aisbx/options.h"
#include "aisbx/plan.h"
#include "aisbx/profile.h"
#include "aisbx/rights.h"
#include "unit/fake_fs.h"
#include "unit/test_profile.h"
#include "unit/test_world.h"
#include "unit/text_assertions.h"

namespace aisbx::plan {
namespace {

using test::FakeFs;
using test::has;
using test::sorted;
using Strings = std::vector<std::string>;

// Plain gtest (unit_tests links no gmock): substring and membership checks
// that print what they looked in.
::testing::AssertionResult lacks(const std::string& text, const std::string& part) {
  if (text.find(part) == std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "`" << text << "` contains `" << part << "`";
}

::testing::AssertionResult in(const Strings& v, const std::string& x) {
  for (const auto& e : v)
    if (e == x) return ::testing::AssertionSuccess();
  ::testing::AssertionResult r = ::testing::AssertionFailure();
  r << "`" << x << "` is not among:";
  for (const auto& e : v) r << " `" << e << "`";
  return r;
}

::testing::AssertionResult not_in(const Strings& v, const std::string& x) {
  for (const auto& e : v)
    if (e == x) return ::testing::AssertionFailure() << "`" << x << "` is present";
  return ::testing::AssertionSuccess();
}

// clang-format off
// The 13 rights of ABI 1, spelled out rather than asked of fs_rights_at().
constexpr AccessMask kAbi1 = fs::kExecute | fs::kWriteFile | fs::kReadFile | fs::kReadDir |
                             fs::kRemoveDir | fs::kRemoveFile | fs::kMakeChar | fs::kMakeDir |
                             fs::kMakeReg | fs::kMakeSock | fs::kMakeFifo | fs::kMakeBlock |
                             fs::kMakeSym;
constexpr AccessMask kAbi2 = kAbi1 | fs::kRefer;
constexpr AccessMask kAbi3 = kAbi2 | fs::kTruncate;
constexpr AccessMask kAbi5 = kAbi3 | fs::kIoctlDev;
constexpr AccessMask kAbi9 = kAbi5 | fs::kResolveUnix;
constexpr AccessMask kAll = kAbi9;
// clang-format on
constexpr AccessMask kRead = fs::kReadFile | fs::kReadDir;

// Every right name, as a YAML block of `name: true` lines at `indent`.
std::string all_rights(const std::string& indent) {
  std::string s;
  for (const char* n :
       {"execute", "write_file", "read_file", "read_dir", "remove_dir", "remove_file",
        "make_char", "make_dir", "make_reg", "make_sock", "make_fifo", "make_block",
        "make_sym", "refer", "truncate", "ioctl_dev", "resolve_unix"})
    s += indent + n + ": true\n";
  return s;
}

// A file with the single profile `p`; `body` holds its keys, indented by 4.
// The body's first line is line 4 of the file.
std::string doc(std::string body) {
  if (!body.empty() && body[0] == '\n') body.erase(0, 1);
  return "version: 1\nprofiles:\n  p:\n" + body;
}

// The project read-only, reads controlled, `sh` as the command.
const std::string kReadProject = R"(
    access_roots:
      proj:
        paths:
          - ${PROJECT}
        permissions:
          read_file: true
          read_dir: true
    control_access:
      read_file: true
      read_dir: true
    command:
      binary: sh
)";

// The profile controls and grants everything.
std::string everything(const std::string& extra = "") {
  return doc(
      "    access_roots:\n      proj:\n        paths:\n          - ${PROJECT}\n"
      "        permissions:\n" +
      all_rights("          ") + "    control_access:\n" + all_rights("      ") +
      "    command:\n      binary: sh\n" + extra);
}

// A host: HOME /home/u, cwd the project, merged /usr, sandbox-owned trees.
struct World : test::TestWorld {
  World() : TestWorld("/home/u/dev/myproj") {
    host.env["PATH"] = "/usr/bin:/bin";
    host.env["LANG"] = "C.UTF-8";
    fs.dir("/usr/bin").dir("/usr/sbin").dir("/usr/lib").dir("/usr/lib64");
    fs.file("/usr/bin/sh").file("/usr/bin/env");
    fs.symlink("/bin", "usr/bin").symlink("/sbin", "usr/sbin");
    fs.symlink("/lib", "usr/lib").symlink("/lib64", "usr/lib64");
    fs.dir("/etc").file("/etc/hosts");
    fs.dir("/proc").dir("/dev/shm").other("/dev/null").dir("/tmp/build");
    fs.dir("/home/u/dev/myproj/sub").dir("/home/u/dev/shared-lib").dir("/home/u/.cache");
    fs.dir("/srv/data").dir("/var/cache/u");
  }

  Expected<Plan> run(const std::string& yaml, const std::string& name = "p") const {
    return resolve_yaml(yaml, name);
  }
};

std::string err(const Expected<Plan>& r) { return r ? "<resolved>" : r.error().what; }

const LandlockRule* rule_at(const Plan& p, const std::string& path) {
  for (const auto& r : p.landlock.rules)
    if (r.path == path) return &r;
  return nullptr;
}

int op_index(const Plan& p, MountKind kind, const std::string& target) {
  for (std::size_t i = 0; i < p.ns.mounts.size(); ++i)
    if (p.ns.mounts[i].kind == kind && p.ns.mounts[i].target == target)
      return static_cast<int>(i);
  return -1;
}

const MountOp* op_at(const Plan& p, MountKind kind, const std::string& target) {
  const int i = op_index(p, kind, target);
  return i < 0 ? nullptr : &p.ns.mounts[static_cast<std::size_t>(i)];
}

int lines_with(const std::vector<std::string>& lines,
               std::initializer_list<std::string_view> parts) {
  int n = 0;
  for (const auto& w : lines) {
    bool all = true;
    for (auto part : parts) all = all && w.find(part) != std::string::npos;
    n += all ? 1 : 0;
  }
  return n;
}

// The private HOME `base` gives profile `p` for the World's project.
std::string per_project(const std::string& base, const std::string& project = "/home/u/dev/myproj",
                        const std::string& profile = "p") {
  return base + "/" + profile + "-" + home_hash(project);
}

// How many run-time warnings contain every one of `parts`.
int warnings_with(const Plan& p, std::initializer_list<std::string_view> parts) {
  return lines_with(p.warnings, parts);
}
// How many notes (advice a run does not print) contain every one of `parts`.
int notes_with(const Plan& p, std::initializer_list<std::string_view> parts) {
  return lines_with(p.notes, parts);
}

// Both lists, for failure messages.
std::string all_warnings(const Plan& p) {
  std::string s;
  for (const auto& w : p.warnings) s += "\n  warning: " + w;
  for (const auto& n : p.notes) s += "\n  note: " + n;
  return s;
}

std::string env_value(const Plan& p, const std::string& key) {
  for (const auto& [k, v] : p.exec.env)
    if (k == key) return v;
  return "<unset>";
}

bool is_within(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir ||
         (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
          path[dir.size()] == '/');
}

// ---------------------------------------------------------------------------
// The fake filesystem itself: the kernel's path walk.

TEST(FakeFs, ResolvesRelativeLinksFromTheLinksDirectory) {
  FakeFs fs;
  fs.dir("/usr/bin").file("/usr/bin/sh").symlink("/bin", "usr/bin");
  fs.dir("/srv/data").symlink("/home/u/rel", "../../srv/data");
  EXPECT_EQ(fs.realpath("/bin/sh"), "/usr/bin/sh");
  EXPECT_EQ(fs.realpath("/bin"), "/usr/bin");
  EXPECT_EQ(fs.realpath("/home/u/rel"), "/srv/data");
  EXPECT_EQ(fs.realpath("/home/u/./rel/"), "/srv/data");
  EXPECT_EQ(fs.kind("/bin"), FileKind::symlink);
  EXPECT_EQ(fs.kind("/bin/sh"), FileKind::regular);
  EXPECT_EQ(fs.readlink("/home/u/rel"), "../../srv/data");
  EXPECT_EQ(fs.readlink("/usr/bin"), std::nullopt);
}

TEST(FakeFs, DotDotAfterALinkLeavesTheTargetNotTheLink) {
  FakeFs fs;
  fs.dir("/usr/bin").dir("/usr/lib").symlink("/bin", "usr/bin").dir("/lib");
  EXPECT_EQ(fs.realpath("/bin/../lib"), "/usr/lib");
}

TEST(FakeFs, MissingLoopsAndFilesUsedAsDirectories) {
  FakeFs fs;
  fs.file("/etc/hosts")
      .symlink("/a", "b")
      .symlink("/b", "a")
      .symlink("/dangling", "/nope");
  EXPECT_EQ(fs.realpath("/nope"), std::nullopt);
  EXPECT_EQ(fs.realpath("/a"), std::nullopt);
  EXPECT_EQ(fs.realpath("/etc/hosts/x"), std::nullopt);
  EXPECT_EQ(fs.realpath("/dangling"), std::nullopt);
  EXPECT_EQ(fs.kind("/dangling"), FileKind::symlink);
  EXPECT_EQ(fs.kind("/nope"), FileKind::missing);
  EXPECT_EQ(fs.realpath("relative"), std::nullopt);
}

TEST(FakeFs, ReadsSmallFilesThroughLinks) {
  FakeFs fs;
  fs.file("/p/.git", "gitdir: /r/.git/worktrees/p\n").symlink("/q", "p").dir("/d");
  EXPECT_EQ(fs.read_small("/q/.git"), "gitdir: /r/.git/worktrees/p\n");
  EXPECT_EQ(fs.read_small("/d"), std::nullopt);
  EXPECT_EQ(fs.read_small("/nope"), std::nullopt);
  fs.file("/big", std::string(5000, 'x'));
  EXPECT_EQ(fs.read_small("/big")->size(), 4096u);
}

TEST(FakeFs, ListsChildrenThroughLinks) {
  FakeFs fs;
  fs.dir("/usr/bin").dir("/usr/lib").file("/usr/bin/sh").symlink("/bin", "usr/bin");
  EXPECT_EQ(sorted(fs.list("/usr")), sorted(Strings{"bin", "lib"}));
  EXPECT_EQ(fs.list("/bin"), (Strings{"sh"}));
  EXPECT_EQ(sorted(fs.list("/")), sorted(Strings{"usr", "bin"}));
  EXPECT_TRUE(fs.list("/usr/bin/sh").empty());
}

// ---------------------------------------------------------------------------
// Landlock ABIs 0..10, and 11 (newer than the code knows).

struct AbiRow {
  int kernel;
  int used;
  AccessMask handled;
  Enforcement enforcement;
};

void PrintTo(const AbiRow& r, std::ostream* os) { *os << "ABI " << r.kernel; }

// clang-format off
const AbiRow kAbiRows[] = {
    {0,  0,  0,     Enforcement::none},
    {1,  1,  kAbi1, Enforcement::partial},
    {2,  2,  kAbi2, Enforcement::partial},
    {3,  3,  kAbi3, Enforcement::partial},
    {4,  4,  kAbi3, Enforcement::partial},
    {5,  5,  kAbi5, Enforcement::partial},
    {6,  6,  kAbi5, Enforcement::partial},
    {7,  7,  kAbi5, Enforcement::partial},
    {8,  8,  kAbi5, Enforcement::partial},
    {9,  9,  kAbi9, Enforcement::full},
    {10, 10, kAbi9, Enforcement::full},
    {11, 10, kAbi9, Enforcement::full},
};
// clang-format on

class ResolveEveryAbi : public ::testing::TestWithParam<AbiRow> {};

TEST_P(ResolveEveryAbi, HandlesWhatTheAbiKnowsAndReportsTheRest) {
  const AbiRow& row = GetParam();
  World w;
  w.feat = Features::full(row.kernel);
  if (row.kernel == 0) w.feat.landlock_why = "kernel built without Landlock";
  auto r = w.run(everything());
  ASSERT_TRUE(r.has_value()) << err(r);
  const LandlockPlan& l = r->landlock;
  EXPECT_EQ(l.kernel_abi, row.kernel);
  EXPECT_EQ(l.abi, row.used);
  EXPECT_EQ(l.requested_fs, kAll);
  EXPECT_EQ(l.handled_fs, row.handled);
  EXPECT_EQ(l.ignored_fs, kAll & ~row.handled);
  EXPECT_EQ(l.enforcement, row.enforcement);
  EXPECT_EQ(l.enabled, row.kernel > 0);
  const LandlockRule* proj = rule_at(*r, "/home/u/dev/myproj");
  ASSERT_NE(proj, nullptr);
  EXPECT_EQ(proj->requested, kAll);
  EXPECT_EQ(proj->access, row.handled);
  if (row.kernel == 0) {
    EXPECT_EQ(warnings_with(*r, {"landlock", "kernel built without Landlock"}), 1)
        << all_warnings(*r);
  }
  if (row.kernel == 11) {
    // A newer kernel than this build knows is no degradation: a note.
    EXPECT_EQ(notes_with(*r, {"11", "10"}), 1) << all_warnings(*r);
    EXPECT_EQ(warnings_with(*r, {"11", "10"}), 0) << all_warnings(*r);
  } else {
    EXPECT_EQ(warnings_with(*r, {"ABI 11"}), 0) << all_warnings(*r);
    EXPECT_EQ(notes_with(*r, {"ABI 11"}), 0) << all_warnings(*r);
  }
}

INSTANTIATE_TEST_SUITE_P(Abi0To11, ResolveEveryAbi, ::testing::ValuesIn(kAbiRows));

// How the namespace wall flags its binds is the kernel's to decide, and
// the plan's to say: mount_setattr where there is one.
TEST(ResolveNamespace, BindsAreFlaggedDetachedOnlyWithMountSetattr) {
  World w;
  auto with = w.run(everything());
  ASSERT_TRUE(with.has_value()) << err(with);
  EXPECT_TRUE(with->ns.flag_detached);
  w.feat.mount_setattr = false;
  auto without = w.run(everything());
  ASSERT_TRUE(without.has_value()) << err(without);
  EXPECT_TRUE(without->ns.enabled);
  EXPECT_FALSE(without->ns.flag_detached);
}

TEST(ResolveAbi, StatusLineNamesWhatIsIgnored) {
  World w;  // ABI 7: everything but resolve_unix
  auto r = w.run(everything());
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_TRUE(in(r->status, "landlock: ABI 7, partial — resolve_unix ignored"));
  EXPECT_TRUE(in(r->status, "namespace: on (user, mount, pid, ipc, uts)"));
  // No seccomp wall asked for, but the terminal guard is loaded: said so.
  EXPECT_TRUE(
      in(r->status, "seccomp: off (terminal guard only: ioctl TIOCSTI/TIOCLINUX denied)"));
  w.feat.seccomp = false;
  auto without = w.run(everything());
  ASSERT_TRUE(without.has_value()) << err(without);
  EXPECT_TRUE(in(without->status, "seccomp: off"));
}

// Without a pid namespace the launcher ends the run: the plan says how,
// from the probe's delegated cgroup; with the namespaces, it is not asked.
TEST(ResolveProcesses, LandlockOnlyRunsSayWhatEndsThem) {
  World w;
  auto layered = w.run(everything());
  ASSERT_TRUE(layered.has_value()) << err(layered);
  EXPECT_FALSE(layered->processes.supervised);
  for (const auto& s : layered->status) EXPECT_FALSE(s.starts_with("processes:")) << s;

  w.opt.mode = Mode::landlock;
  auto walk = w.run(everything());
  ASSERT_TRUE(walk.has_value()) << err(walk);
  EXPECT_TRUE(walk->processes.supervised);
  EXPECT_EQ(walk->processes.cgroup_parent, "");
  EXPECT_TRUE(in(walk->status, "processes: ended by the launcher, every descendant found in "
                               "/proc killed (no delegated cgroup)"));

  w.feat.run_cgroup = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice";
  auto cg = w.run(everything());
  ASSERT_TRUE(cg.has_value()) << err(cg);
  EXPECT_EQ(cg->processes.cgroup_parent, w.feat.run_cgroup);
  EXPECT_TRUE(in(cg->status, "processes: ended by the launcher, cgroup.kill of a cgroup in `" +
                                 w.feat.run_cgroup + "`, then every descendant found in /proc killed"));

  // Layered mode without user namespaces is a Landlock-only run too.
  w.opt.mode = Mode::layered;
  w.feat.userns = false;
  auto fallback = w.run(everything());
  ASSERT_TRUE(fallback.has_value()) << err(fallback);
  EXPECT_TRUE(fallback->processes.supervised);
}

TEST(ResolveAbi, StrictRefusesRightsTheAbiCannotEnforceAndNamesThem) {
  World w;
  w.feat = Features::full(2);
  w.opt.mode = Mode::strict;
  auto r = w.run(everything());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().exit_code, 125);
  EXPECT_TRUE(has(r.error().what, "truncate"));
  EXPECT_TRUE(has(r.error().what, "ioctl_dev"));
  EXPECT_TRUE(has(r.error().what, "resolve_unix"));
  EXPECT_TRUE(lacks(r.error().what, "refer"));  // ABI 2 has it
}

TEST(ResolveAbi, StrictRunsWhenEveryControlledRightIsSupported) {
  World w;
  w.feat = Features::full(2);
  w.opt.mode = Mode::strict;
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  // Default scopes need ABI 6; a default nobody wrote is not "ignored".
  EXPECT_EQ(r->landlock.enforcement, Enforcement::full);
  EXPECT_EQ(r->landlock.scoped, 0u);
  EXPECT_EQ(r->landlock.ignored_fs, 0u);
  EXPECT_EQ(r->landlock.required_abi, 1);
  EXPECT_TRUE(r->seccomp.enabled);
  EXPECT_TRUE(r->ns.enabled);
}

// The preset refuses the sockets that go round network rules made for TCP
// (AF_PACKET, raw IP, SCTP, netlink other than route), as network.allow
// does; a custom deny list alone does not.
TEST(ResolveSeccomp, ThePresetGuardsTheSocketsAndACustomListDoesNot) {
  World w;
  w.opt.mode = Mode::strict;  // applies at least the preset
  auto strict = w.run(doc(kReadProject));
  ASSERT_TRUE(strict.has_value()) << err(strict);
  EXPECT_TRUE(strict->seccomp.preset);
  EXPECT_TRUE(strict->seccomp.net_guard);
  w.opt.mode = Mode::layered;
  auto plain = w.run(doc(kReadProject));
  ASSERT_TRUE(plain.has_value()) << err(plain);
  EXPECT_FALSE(plain->seccomp.preset);
  EXPECT_FALSE(plain->seccomp.net_guard);
  w.opt.seccomp = "default";
  auto cli = w.run(doc(kReadProject));
  ASSERT_TRUE(cli.has_value()) << err(cli);
  EXPECT_TRUE(cli->seccomp.net_guard);
}

TEST(ResolveAbi, LayeredAcceptsTheSameProfileWithIgnoredRights) {
  World w;
  w.feat = Features::full(2);
  auto r = w.run(everything());
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->landlock.ignored_fs, fs::kTruncate | fs::kIoctlDev | fs::kResolveUnix);
  EXPECT_EQ(warnings_with(*r, {"truncate", "ioctl_dev", "resolve_unix"}), 1)
      << all_warnings(*r);
}

TEST(ResolveAbi, StrictWithoutLandlockIsAnError) {
  World w;
  w.feat = Features::full(0);
  w.feat.landlock_why = "Landlock is built into the kernel but disabled at boot";
  w.opt.mode = Mode::strict;
  auto r = w.run(doc(kReadProject));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().exit_code, 125);
  EXPECT_TRUE(has(r.error().what, "disabled at boot"));
}

TEST(ResolveAbi, RequireLandlockAboveTheKernelsAbiIsAnError) {
  World w;
  w.feat = Features::full(3);
  w.opt.require_landlock = 5;
  auto r = w.run(doc(kReadProject));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().exit_code, 125);
  EXPECT_TRUE(has(r.error().what, "ABI 5"));
  EXPECT_TRUE(has(r.error().what, "ABI 3"));
}

TEST(ResolveAbi, RequireLandlockMetIsRecorded) {
  World w;
  w.feat = Features::full(5);
  w.opt.require_landlock = 5;
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->landlock.required_abi, 5);
  EXPECT_TRUE(r->landlock.enabled);
}

TEST(ResolveAbi, RequireLandlockWithNoLandlockIsAnError) {
  World w;
  w.feat = Features::full(0);
  w.opt.mode = Mode::landlock;
  w.opt.require_landlock = 1;
  auto r = w.run(doc(kReadProject));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().exit_code, 125);
}

TEST(ResolveAbi, RequireLandlockAboveThePinNamesThePin) {
  World w;
  w.opt.require_landlock = 5;  // the kernel has 7, the profile pins 3
  auto r = w.run(doc(kReadProject + "    landlock_abi: 3\n"));
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(has(r.error().what, "pin"));
}

TEST(ResolveAbi, ProfilePinsTheAbi) {
  World w;  // kernel 7
  auto r = w.run(everything("    landlock_abi: 3\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->landlock.kernel_abi, 7);
  EXPECT_EQ(r->landlock.abi, 3);
  EXPECT_EQ(r->landlock.handled_fs, kAbi3);
  EXPECT_EQ(r->landlock.ignored_fs, fs::kIoctlDev | fs::kResolveUnix);
  EXPECT_EQ(r->landlock.scoped, 0u);  // scopes are ABI 6
}

TEST(ResolveAbi, PinAboveTheKernelUsesTheKernel) {
  World w;
  w.feat = Features::full(2);
  auto r = w.run(everything("    landlock_abi: 5\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->landlock.abi, 2);
  EXPECT_EQ(r->landlock.handled_fs, kAbi2);
}

// ns mode: no file or network rules, but the scopes (ABI 6), which the
// namespace wall cannot replace when the host's network namespace and pids
// are reachable: a ruleset that handles nothing else.
TEST(ResolveAbi, NsModeAppliesOnlyTheScopes) {
  World w;
  w.opt.mode = Mode::ns;
  w.feat = Features::full(7);
  auto r = w.run(doc(kReadProject + "    home: /srv/data\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_TRUE(r->ns.enabled);
  EXPECT_TRUE(r->landlock.enabled);
  EXPECT_EQ(r->landlock.handled_fs, 0u);
  EXPECT_EQ(r->landlock.handled_net, 0u);
  // The roots stay recorded, granting nothing; no implicit rule.
  ASSERT_FALSE(r->landlock.rules.empty());
  for (const auto& rule : r->landlock.rules) {
    EXPECT_EQ(rule.access, 0u) << rule.path;
    EXPECT_FALSE(rule.implicit) << rule.path;
  }
  EXPECT_TRUE(r->landlock.net_rules.empty());
  EXPECT_EQ(r->landlock.scoped, scope::kAbstractUnixSocket | scope::kSignal);
  EXPECT_EQ(r->landlock.enforcement, Enforcement::full);
  EXPECT_TRUE(std::any_of(r->status.begin(), r->status.end(), [](const std::string& l) {
    return l == "landlock: scopes only (ns mode), ABI 7";
  })) << testing::PrintToString(r->status);

  // Scopes off, or a kernel without them: no Landlock at all.
  auto off = w.run(doc(kReadProject +
                       "    scope:\n      abstract_unix_socket: false\n      signal: false\n"));
  ASSERT_TRUE(off.has_value()) << err(off);
  EXPECT_FALSE(off->landlock.enabled);
  EXPECT_EQ(off->landlock.enforcement, Enforcement::none);
  w.feat = Features::full(5);
  auto old = w.run(doc(kReadProject));
  ASSERT_TRUE(old.has_value()) << err(old);
  EXPECT_FALSE(old->landlock.enabled);

  w.opt.require_landlock = 1;
  EXPECT_FALSE(w.run(doc(kReadProject)).has_value());
}

// ---------------------------------------------------------------------------
// Network rules and scopes.

// Reads controlled, no scopes asked: the only thing an old ABI can lack is
// the network part.
std::string with_net(const std::string& network) {
  return doc(kReadProject +
             "    scope:\n      abstract_unix_socket: false\n      signal: false\n" +
             network);
}

TEST(ResolveNet, Abi4HandlesTcpPortRules) {
  World w;
  w.feat = Features::full(4);
  auto r = w.run(with_net("    network:\n      connect_tcp: [443]\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  const LandlockPlan& l = r->landlock;
  EXPECT_EQ(l.handled_net, net::kConnectTcp);
  EXPECT_EQ(l.ignored_net, 0u);
  ASSERT_EQ(l.net_rules.size(), 1u);
  EXPECT_EQ(l.net_rules[0].port, 443);
  EXPECT_EQ(l.net_rules[0].access, net::kConnectTcp);
  EXPECT_EQ(l.enforcement, Enforcement::full);
}

TEST(ResolveNet, Abi3IgnoresTcpPortRules) {
  World w;
  w.feat = Features::full(3);
  auto plain = w.run(with_net(""));
  ASSERT_TRUE(plain.has_value()) << err(plain);
  EXPECT_EQ(plain->landlock.enforcement, Enforcement::full);  // the control case

  auto r =
      w.run(with_net("    network:\n      connect_tcp: [443]\n      bind_tcp: [8080]\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  const LandlockPlan& l = r->landlock;
  EXPECT_EQ(l.handled_net, 0u);
  EXPECT_EQ(l.ignored_net, net::kConnectTcp | net::kBindTcp);
  EXPECT_TRUE(l.net_rules.empty());
  EXPECT_EQ(l.enforcement, Enforcement::partial);
  EXPECT_EQ(warnings_with(*r, {"TCP"}), 1) << all_warnings(*r);
}

TEST(ResolveNet, UdpOnlyFromAbi10) {
  World w;
  w.feat = Features::full(9);
  const std::string net =
      "    network:\n      connect_udp: [53]\n      bind_udp: [5353]\n";
  auto r9 = w.run(with_net(net));
  ASSERT_TRUE(r9.has_value()) << err(r9);
  EXPECT_EQ(r9->landlock.handled_net, 0u);
  EXPECT_EQ(r9->landlock.ignored_net, net::kConnectSendUdp | net::kBindUdp);
  EXPECT_TRUE(r9->landlock.net_rules.empty());

  w.feat = Features::full(10);
  auto r10 = w.run(with_net(net));
  ASSERT_TRUE(r10.has_value()) << err(r10);
  EXPECT_EQ(r10->landlock.handled_net, net::kConnectSendUdp | net::kBindUdp);
  EXPECT_EQ(r10->landlock.ignored_net, 0u);
  ASSERT_EQ(r10->landlock.net_rules.size(), 2u);
  EXPECT_EQ(r10->landlock.net_rules[0].port, 53);
  EXPECT_EQ(r10->landlock.net_rules[0].access, net::kConnectSendUdp);
  EXPECT_EQ(r10->landlock.net_rules[1].port, 5353);
  EXPECT_EQ(r10->landlock.net_rules[1].access, net::kBindUdp);
}

TEST(ResolveNet, OnePortBothWaysIsOneRule) {
  World w;
  auto r =
      w.run(with_net("    network:\n      connect_tcp: [443]\n      bind_tcp: [443]\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  ASSERT_EQ(r->landlock.net_rules.size(), 1u);
  EXPECT_EQ(r->landlock.net_rules[0].access, net::kConnectTcp | net::kBindTcp);
}

TEST(ResolveNet, LandlockModeNetworkNoneHandlesBindAndConnectWithNoRules) {
  World w;
  w.opt.mode = Mode::landlock;
  w.feat = Features::full(4);
  auto r4 = w.run(with_net("    network: none\n"));
  ASSERT_TRUE(r4.has_value()) << err(r4);
  EXPECT_EQ(r4->landlock.handled_net, net::kBindTcp | net::kConnectTcp);
  EXPECT_TRUE(r4->landlock.net_rules.empty());

  w.feat = Features::full(10);
  auto r10 = w.run(with_net("    network: none\n"));
  ASSERT_TRUE(r10.has_value()) << err(r10);
  EXPECT_EQ(r10->landlock.handled_net,
            net::kBindTcp | net::kConnectTcp | net::kBindUdp | net::kConnectSendUdp);
  EXPECT_TRUE(r10->landlock.net_rules.empty());
  EXPECT_EQ(r10->landlock.enforcement, Enforcement::full);
}

TEST(ResolveNet, LayeredModeNetworkNoneIsTheNetworkNamespace) {
  World w;
  auto r = w.run(with_net("    network: none\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->ns.net, profile::NetMode::none);
  EXPECT_EQ(r->landlock.handled_net, 0u);
}

TEST(ResolveNet, HostNetworkHandlesNothing) {
  World w;
  w.opt.mode = Mode::landlock;
  w.feat = Features::full(10);
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->landlock.handled_net, 0u);
  EXPECT_EQ(r->landlock.ignored_net, 0u);
}

// Was a bug, fixed: src/plan/landlock_plan.cc:129 — strict mode refuses fs rights the ABI
// lacks but not network rules: `--mode strict` at ABI 3 with
// `network: {connect_tcp: [443]}` runs with the port allow-list silently
// unenforced (only a warning). DESIGN: strict = "every controlled right must
// be supported: otherwise refuse to run".
TEST(ResolveNet, StrictRefusesNetworkRulesTheAbiCannotEnforce) {
  World w;
  w.feat = Features::full(3);
  w.opt.mode = Mode::strict;
  auto r = w.run(with_net("    network:\n      connect_tcp: [443]\n"));
  ASSERT_FALSE(r.has_value()) << "strict mode ran with an unenforced TCP rule";
  EXPECT_EQ(r.error().exit_code, 125);
  EXPECT_TRUE(has(r.error().what, "TCP"));
}

TEST(ResolveScope, OnByDefaultFromAbi6) {
  World w;
  w.feat = Features::full(6);
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->landlock.scoped, scope::kAbstractUnixSocket | scope::kSignal);
  EXPECT_EQ(r->landlock.ignored_scopes, 0u);

  w.feat = Features::full(5);
  auto r5 = w.run(doc(kReadProject));
  ASSERT_TRUE(r5.has_value()) << err(r5);
  EXPECT_EQ(r5->landlock.scoped, 0u);
  // Defaults are dropped quietly below ABI 6 ...
  EXPECT_EQ(r5->landlock.ignored_scopes, 0u);
  // ... while a scope the profile asks for is reported, and strict refuses it.
  auto asked = w.run(doc(kReadProject + "    scope:\n      signal: true\n"));
  ASSERT_TRUE(asked.has_value()) << err(asked);
  EXPECT_EQ(asked->landlock.ignored_scopes, scope::kSignal);
  EXPECT_EQ(asked->landlock.enforcement, Enforcement::partial);
  w.opt.mode = Mode::strict;
  auto strict = w.run(doc(kReadProject + "    scope:\n      signal: true\n"));
  ASSERT_FALSE(strict.has_value());
  EXPECT_TRUE(has(strict.error().what, "ABI 6"));
}

TEST(ResolveScope, OffWhenTheProfileSaysSo) {
  World w;
  w.feat = Features::full(6);
  auto r = w.run(doc(kReadProject + "    scope:\n      signal: false\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->landlock.scoped, scope::kAbstractUnixSocket);
  EXPECT_EQ(r->landlock.ignored_scopes, 0u);
}

// ---------------------------------------------------------------------------
// Roots: expansion, missing paths, symlinks, files.

// One group `g` with `path`, read rights, reads controlled, landlock mode
// (no namespace, so no cwd check and no implicit rules).
std::string one_root(const std::string& path, const std::string& group_extra = "") {
  return doc(
      "    access_roots:\n"
      "      g:\n"
      "        paths:\n"
      "          - " +
      path + "\n" + group_extra +
      "        permissions:\n"
      "          read_file: true\n"
      "          read_dir: true\n"
      "    control_access:\n"
      "      read_file: true\n"
      "      read_dir: true\n"
      "    command:\n"
      "      binary: sh\n");
}

std::vector<std::string> rule_paths(const Plan& p) {
  std::vector<std::string> v;
  for (const auto& r : p.landlock.rules) v.push_back(r.path);
  return v;
}

struct ExpandCase {
  const char* written;
  const char* expected;
};

TEST(ResolveRoots, Expansion) {
  // clang-format off
  const ExpandCase cases[] = {
      {"'~'",                      "/home/u"},
      {"~/dev/myproj",             "/home/u/dev/myproj"},
      {"${HOME}/dev/shared-lib",   "/home/u/dev/shared-lib"},
      {"${PROJECT}",               "/home/u/dev/myproj"},
      {"${CWD}/sub",               "/home/u/dev/myproj/sub"},
      {"${XDG_CACHE_HOME}",        "/home/u/.cache"},
      {"/usr/./bin/../lib/",       "/usr/lib"},
  };
  // clang-format on
  for (const auto& c : cases) {
    World w;
    w.opt.mode = Mode::landlock;
    auto r = w.run(one_root(c.written));
    ASSERT_TRUE(r.has_value()) << c.written << ": " << err(r);
    EXPECT_EQ(rule_paths(*r), (Strings{c.expected})) << c.written;
  }
}

TEST(ResolveRoots, ProjectOptionIsRelativeToTheCwd) {
  World w;
  w.opt.mode = Mode::landlock;
  w.host.cwd = "/home/u/dev";
  w.opt.project = "shared-lib";
  auto r = w.run(one_root("${PROJECT}"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->project, "/home/u/dev/shared-lib");
  EXPECT_EQ(rule_paths(*r), (Strings{"/home/u/dev/shared-lib"}));
}

TEST(ResolveRoots, XdgCacheHomeFromTheEnvironment) {
  World w;
  w.opt.mode = Mode::landlock;
  w.host.env["XDG_CACHE_HOME"] = "/var/cache/u";
  auto r = w.run(one_root("${XDG_CACHE_HOME}"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(rule_paths(*r), (Strings{"/var/cache/u"}));
}

// Was a bug, fixed: src/plan/resolve.cc:24-25 — a relative XDG_* variable in the caller's
// environment makes every profile fail, even one that never uses it. The
// XDG Base Directory Specification (which make_vars cites) says a relative
// path there is invalid and must be ignored, i.e. the default is used.
TEST(ResolveRoots, RelativeXdgVariableIsIgnoredAsTheXdgSpecSays) {
  World w;
  w.opt.mode = Mode::landlock;
  w.host.env["XDG_DATA_HOME"] = "relative/share";
  w.host.env["XDG_CACHE_HOME"] = "relative/cache";
  auto unused = w.run(one_root("~/dev/myproj"));
  EXPECT_TRUE(unused.has_value()) << err(unused);
  auto used = w.run(one_root("${XDG_CACHE_HOME}"));
  ASSERT_TRUE(used.has_value()) << err(used);
  EXPECT_EQ(rule_paths(*used), (Strings{"/home/u/.cache"}));
}

TEST(ResolveRoots, RelativeAfterExpansionIsAnErrorWithItsPosition) {
  World w;
  w.opt.mode = Mode::landlock;
  // "          - dev/x" is line 7; the scalar starts at column 13.
  auto r = w.run(one_root("dev/x"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().exit_code, 125);
  EXPECT_TRUE(has(r.error().what, "test.yaml:7:13"));
  EXPECT_TRUE(has(r.error().what, "dev/x"));
}

TEST(ResolveRoots, UnknownVariableIsAnError) {
  World w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(one_root("${FOO}/x"));
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(has(r.error().what, "test.yaml:7:13"));
  EXPECT_TRUE(has(r.error().what, "FOO"));
}

TEST(ResolveRoots, MissingPathIsWarnedAboutAndSkipped) {
  World w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(one_root("~/nowhere"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_TRUE(r->landlock.rules.empty());
  EXPECT_EQ(warnings_with(*r, {"/home/u/nowhere"}), 1) << all_warnings(*r);
}

TEST(ResolveRoots, MissingRequiredPathIsAnErrorNamingIt) {
  World w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(one_root("~/nowhere", "        required: true\n"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().exit_code, 125);
  EXPECT_TRUE(has(r.error().what, "nowhere"));
}

TEST(ResolveRoots, CommandLineRootsMustExist) {
  World w;
  w.opt.mode = Mode::landlock;
  w.opt.ro = {"/srv/data"};
  w.opt.rw = {"sub"};  // relative to the cwd
  auto r = w.run(one_root("~/dev/shared-lib"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(rule_paths(*r),
            (Strings{"/home/u/dev/shared-lib", "/srv/data", "/home/u/dev/myproj/sub"}));
  w.opt.ro = {"/srv/nowhere"};
  EXPECT_FALSE(w.run(one_root("~/dev/shared-lib")).has_value());
}

TEST(ResolveRoots, SymlinkedRootRuleOnTargetBindAtTargetLinkAtThePath) {
  World w;
  w.fs.symlink("/home/u/data", "/srv/data");
  w.host.cwd = "/srv/data";
  auto r = w.run(one_root("~/data"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_TRUE(in(rule_paths(*r), "/srv/data"));
  EXPECT_EQ(rule_at(*r, "/home/u/data"), nullptr);
  const MountOp* bind = op_at(*r, MountKind::bind, "/srv/data");
  ASSERT_NE(bind, nullptr);
  EXPECT_EQ(bind->source, "/srv/data");
  EXPECT_EQ(op_at(*r, MountKind::bind, "/home/u/data"), nullptr);
  const MountOp* link = op_at(*r, MountKind::symlink, "/home/u/data");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->source, "/srv/data");
  EXPECT_GT(op_index(*r, MountKind::symlink, "/home/u/data"),
            op_index(*r, MountKind::bind, "/srv/data"));
}

TEST(ResolveRoots, RelativeSymlinkKeepsItsText) {
  World w;
  w.fs.symlink("/home/u/rel", "../../srv/data");
  w.host.cwd = "/srv/data";
  auto r = w.run(one_root("~/rel"));
  ASSERT_TRUE(r.has_value()) << err(r);
  ASSERT_NE(rule_at(*r, "/srv/data"), nullptr);
  const MountOp* link = op_at(*r, MountKind::symlink, "/home/u/rel");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->source, "../../srv/data");
}

// Was a bug, fixed: src/plan/exec_plan.cc:96,105-116 — command.working_dir is expanded but
// not resolved, and the "cwd inside a root" check skips symlink ops, so a
// profile whose project root is a symlink (~/data -> /srv/data) and whose
// working_dir is that root is refused in layered mode ("not inside any
// root ... does not exist in the sandbox"), although the plan recreates
// ~/data as a link to the bound /srv/data. DESIGN: the Plan holds "absolute
// real paths".
TEST(ResolveRoots, WorkingDirThroughASymlinkedRootIsInsideTheSandbox) {
  World w;
  w.fs.symlink("/home/u/data", "/srv/data");
  w.host.cwd = "/home/u";  // outside, but working_dir decides
  auto r = w.run(doc(R"(
    access_roots:
      g:
        paths:
          - ~/data
        permissions:
          read_file: true
          read_dir: true
    control_access:
      read_file: true
      read_dir: true
    command:
      binary: sh
      working_dir: ~/data
)"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(w.fs.realpath(r->exec.cwd), "/srv/data");
}

TEST(ResolveRoots, FileRootGetsOnlyFileRights) {
  World w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(doc(R"(
    access_roots:
      hosts:
        paths:
          - /etc/hosts
        permissions:
          read_file: true
          read_dir: true
          write_file: true
          make_reg: true
          truncate: true
          execute: true
    control_access:
      read_file: true
      read_dir: true
      write_file: true
      make_reg: true
      truncate: true
      execute: true
    command:
      binary: sh
)"));
  ASSERT_TRUE(r.has_value()) << err(r);
  const LandlockRule* rule = rule_at(*r, "/etc/hosts");
  ASSERT_NE(rule, nullptr);
  EXPECT_FALSE(rule->is_dir);
  EXPECT_EQ(rule->access, fs::kReadFile | fs::kWriteFile | fs::kTruncate | fs::kExecute);
  EXPECT_EQ(rule->access & ~fs::kFileRights, 0u);
  EXPECT_EQ(rule->origin, "hosts");
  EXPECT_FALSE(rule->implicit);
}

TEST(ResolveRoots, RuleAccessIsMaskedToHandledRights) {
  World w;
  w.opt.mode = Mode::landlock;
  // The group grants execute, which is not controlled: not in the rule.
  auto r = w.run(doc(R"(
    access_roots:
      g:
        paths:
          - ~/dev/myproj
        permissions:
          read_file: true
          read_dir: true
          execute: true
    control_access:
      read_file: true
      read_dir: true
    command:
      binary: sh
)"));
  ASSERT_TRUE(r.has_value()) << err(r);
  const LandlockRule* rule = rule_at(*r, "/home/u/dev/myproj");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->requested, kRead | fs::kExecute);
  EXPECT_EQ(rule->access, kRead);
}

// ---------------------------------------------------------------------------
// Warnings.

// Landlock mode (no implicit /tmp rule), one root `g` granting `granted`,
// control_access `controlled`; each a list of right names.
std::string rights_profile(const std::vector<std::string>& granted,
                           const std::vector<std::string>& controlled) {
  std::string s =
      "    access_roots:\n      g:\n        paths:\n          - ~/dev/myproj\n"
      "        permissions:\n";
  for (const auto& n : granted) s += "          " + n + ": true\n";
  s += "    control_access:\n";
  for (const auto& n : controlled) s += "      " + n + ": true\n";
  s += "    command:\n      binary: sh\n";
  return doc(s);
}

TEST(ResolveWarnings, GrantedButNotControlled) {
  World w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(
      rights_profile({"read_file", "read_dir", "execute"}, {"read_file", "read_dir"}));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(notes_with(*r, {"execute", "control"}), 1) << all_warnings(*r);
  EXPECT_EQ(warnings_with(*r, {"execute", "control"}), 0) << all_warnings(*r);

  auto ok = w.run(rights_profile({"read_file", "read_dir", "execute"},
                                 {"read_file", "read_dir", "execute"}));
  ASSERT_TRUE(ok.has_value()) << err(ok);
  EXPECT_EQ(notes_with(*ok, {"execute"}), 0) << all_warnings(*ok);
}

TEST(ResolveWarnings, ControlledButNeverGranted) {
  World w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(
      rights_profile({"read_file", "read_dir"}, {"read_file", "read_dir", "make_dir"}));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(notes_with(*r, {"make_dir"}), 1) << all_warnings(*r);
  EXPECT_EQ(notes_with(*r, {"read_file"}), 0) << all_warnings(*r);
  EXPECT_EQ(warnings_with(*r, {"make_dir"}), 0) << all_warnings(*r);
}

TEST(ResolveWarnings, NotForRightsThePrivateTmpGrantsInNamespaceMode) {
  World w;  // layered: the implicit /tmp rule grants make_dir and truncate
  auto r = w.run(rights_profile({"read_file", "read_dir"},
                                {"read_file", "read_dir", "make_dir", "truncate"}));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(notes_with(*r, {"make_dir"}), 0) << all_warnings(*r);
  EXPECT_EQ(notes_with(*r, {"truncate"}), 0) << all_warnings(*r);
}

TEST(ResolveWarnings, TruncateControlledButGrantedNowhere) {
  World w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(
      rights_profile({"read_file", "read_dir"}, {"read_file", "read_dir", "truncate"}));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(notes_with(*r, {"truncate"}), 1) << all_warnings(*r);
  EXPECT_EQ(warnings_with(*r, {"truncate"}), 0) << all_warnings(*r);

  auto ok = w.run(rights_profile({"read_file", "read_dir", "truncate"},
                                 {"read_file", "read_dir", "truncate"}));
  ASSERT_TRUE(ok.has_value()) << err(ok);
  EXPECT_EQ(notes_with(*ok, {"truncate"}), 0) << all_warnings(*ok);
}

TEST(ResolveWarnings, WriteFileControlledWithoutMakeReg) {
  World w;
  w.opt.mode = Mode::landlock;
  const std::vector<std::string> rights = {"read_file", "read_dir", "write_file",
                                           "refer"};
  auto r = w.run(rights_profile(rights, rights));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(notes_with(*r, {"write_file", "make_reg"}), 1) << all_warnings(*r);
  EXPECT_EQ(warnings_with(*r, {"write_file", "make_reg"}), 0) << all_warnings(*r);

  std::vector<std::string> with_make_reg = rights;
  with_make_reg.push_back("make_reg");
  auto ok = w.run(rights_profile(with_make_reg, with_make_reg));
  ASSERT_TRUE(ok.has_value()) << err(ok);
  EXPECT_EQ(notes_with(*ok, {"make_reg"}), 0) << all_warnings(*ok);
}

// Landlock denies moving or linking a file to another directory (EXDEV)
// under any ruleset that does not handle refer, whatever else it handles.
TEST(ResolveWarnings, ReferNotControlled) {
  World w;
  w.opt.mode = Mode::landlock;
  const std::vector<std::string> rights = {"read_file", "read_dir", "write_file",
                                           "make_reg"};
  auto r = w.run(rights_profile(rights, rights));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(notes_with(*r, {"refer"}), 1) << all_warnings(*r);
  EXPECT_EQ(warnings_with(*r, {"refer"}), 0) << all_warnings(*r);

  std::vector<std::string> with_refer = rights;
  with_refer.push_back("refer");
  auto ok = w.run(rights_profile(with_refer, with_refer));
  ASSERT_TRUE(ok.has_value()) << err(ok);
  EXPECT_EQ(notes_with(*ok, {"refer"}), 0) << all_warnings(*ok);
}

// Run-time warnings (a run prints them every time) against notes (advice
// about the profile: --dry-run and --check show them, a run does not): one
// profile or host per kind, and the kind it lands in, never in both.
struct Classified {
  const char* name;
  std::string yaml;
  void (*tweak)(World&);
  Strings parts;  // what the one line holds
  bool note;      // true: a note; false: a run-time warning
};

TEST(ResolveWarnings, AdviceIsANoteAndRunTimeTroubleAWarning) {
  const std::string read_exec_usr = R"(
    access_roots:
      proj:
        paths: ["${PROJECT}"]
        permissions: {read_file: true, read_dir: true, write_file: true, make_reg: true, refer: true}
)";
  const std::string control = R"(
    control_access: {read_file: true, read_dir: true, write_file: true, make_reg: true, refer: true}
    command:
      binary: sh
)";
  auto noop = [](World&) {};
  const std::vector<Classified> cases = {
      // Advice: the run is exactly what the profile says.
      {"refer not controlled", doc(kReadProject), noop, {"refer is not controlled"}, true},
      {"granted, not controlled",
       doc(R"(
    access_roots:
      proj:
        paths: ["${PROJECT}"]
        permissions: {read_file: true, read_dir: true, execute: true, refer: true}
    control_access: {read_file: true, read_dir: true, refer: true}
    command:
      binary: sh
)"),
       noop, {"grants execute", "does not control"}, true},
      {"symlinked root",
       doc(read_exec_usr + "      data:\n        paths: [/srv/link]\n        permissions: "
                           "{read_file: true, read_dir: true}\n" + control),
       [](World& w) { w.fs.symlink("/srv/link", "data"); },
       {"/srv/link", "resolves through a symlink"}, true},
      {"read-only inside writable",
       doc(read_exec_usr + "      sub:\n        paths: [\"${PROJECT}/sub\"]\n        permissions: "
                           "{read_file: true, read_dir: true}\n" + control),
       noop, {"/home/u/dev/myproj/sub", "lies inside"}, true},
      {"roots beneath /tmp",
       doc(read_exec_usr + "      build:\n        paths: [/tmp/build]\n        permissions: "
                           "{read_file: true, read_dir: true}\n" + control),
       noop, {"beneath the private /tmp"}, true},
      {"/dev/null unwritable in landlock mode", doc(read_exec_usr + control),
       [](World& w) { w.opt.mode = Mode::landlock; }, {"/dev/null"}, true},
      {"newer kernel ABI", doc(kReadProject), [](World& w) { w.feat.landlock_abi = 99; },
       {"ABI 99"}, true},
      // Run-time: a wall degraded, a request not honoured.
      {"missing root",
       doc(read_exec_usr + "      gone:\n        paths: [/srv/gone]\n        permissions: "
                           "{read_file: true, read_dir: true}\n" + control),
       noop, {"/srv/gone", "skipped"}, false},
      {"no Landlock", doc(kReadProject),
       [](World& w) {
         w.feat.landlock_abi = 0;
         w.feat.landlock_why = "kernel built without Landlock";
       },
       {"landlock: not enforced"}, false},
      {"no user namespaces", doc(kReadProject),
       [](World& w) {
         w.feat.userns = false;
         w.feat.userns_why = "userns off";
       },
       {"namespace wall skipped"}, false},
      {"ABI too old for a controlled right",
       doc(R"(
    access_roots:
      proj:
        paths: ["${PROJECT}"]
        permissions: {read_file: true, read_dir: true, truncate: true}
    control_access: {read_file: true, read_dir: true, truncate: true}
    command:
      binary: sh
)"),
       [](World& w) { w.feat.landlock_abi = 2; }, {"cannot enforce", "truncate"}, false},
  };
  for (const auto& c : cases) {
    World w;
    c.tweak(w);
    auto r = w.run(c.yaml);
    ASSERT_TRUE(r.has_value()) << c.name << ": " << err(r);
    int as_note = 0, as_warning = 0;
    for (const auto* lines : {&r->notes, &r->warnings})
      for (const auto& l : *lines) {
        bool all = true;
        for (const auto& part : c.parts) all = all && l.find(part) != std::string::npos;
        if (all) ++(lines == &r->notes ? as_note : as_warning);
      }
    EXPECT_EQ(as_note, c.note ? 1 : 0) << c.name << all_warnings(*r);
    EXPECT_EQ(as_warning, c.note ? 0 : 1) << c.name << all_warnings(*r);
  }
}

// ---------------------------------------------------------------------------
// The namespace wall (layered mode, user namespaces available).

TEST(ResolveNamespace, ReadsControlledStartFromAnEmptyRoot) {
  World w;
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_TRUE(r->ns.enabled);
  EXPECT_TRUE(r->ns.empty_root);
  ASSERT_FALSE(r->ns.mounts.empty());
  EXPECT_EQ(r->ns.mounts[0].kind, MountKind::tmpfs_root);
  EXPECT_EQ(r->ns.mounts[0].target, "/");
}

TEST(ResolveNamespace, ReadsNotControlledKeepTheHostTree) {
  World w;
  auto r = w.run(rights_profile({"write_file", "make_reg"}, {"write_file", "make_reg"}));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_FALSE(r->ns.empty_root);
  ASSERT_FALSE(r->ns.mounts.empty());
  const MountOp& root = r->ns.mounts[0];
  EXPECT_EQ(root.kind, MountKind::host_root);
  EXPECT_EQ(root.target, "/");
  EXPECT_TRUE(root.read_only);  // write rights are controlled
  EXPECT_FALSE(root.noexec);    // execute is not
  EXPECT_EQ(op_index(*r, MountKind::tmpfs_root, "/"), -1);
  // The project grants write_file: bound read-write on top of the host tree.
  const MountOp* proj = op_at(*r, MountKind::bind, "/home/u/dev/myproj");
  ASSERT_NE(proj, nullptr);
  EXPECT_FALSE(proj->read_only);
}

TEST(ResolveNamespace, ReadWriteAndNoexecFollowTheRights) {
  World w;
  auto r = w.run(doc(R"(
    access_roots:
      proj:
        paths:
          - ${PROJECT}
        permissions:
          read_file: true
          read_dir: true
          write_file: true
      system:
        paths:
          - /usr
        permissions:
          read_file: true
          read_dir: true
          execute: true
      shared:
        paths:
          - ~/dev/shared-lib
        permissions:
          read_file: true
          read_dir: true
          make_dir: true
    control_access:
      read_file: true
      read_dir: true
      write_file: true
      execute: true
      make_dir: true
      make_reg: true
      refer: true
    command:
      binary: sh
)"));
  ASSERT_TRUE(r.has_value()) << err(r);
  const MountOp* proj = op_at(*r, MountKind::bind, "/home/u/dev/myproj");
  const MountOp* usr = op_at(*r, MountKind::bind, "/usr");
  const MountOp* shared = op_at(*r, MountKind::bind, "/home/u/dev/shared-lib");
  ASSERT_NE(proj, nullptr);
  ASSERT_NE(usr, nullptr);
  ASSERT_NE(shared, nullptr);
  EXPECT_FALSE(proj->read_only);
  EXPECT_TRUE(proj->noexec);
  EXPECT_EQ(proj->source, "/home/u/dev/myproj");
  EXPECT_EQ(proj->origin, "proj");
  EXPECT_FALSE(proj->implicit);
  EXPECT_TRUE(usr->read_only);
  EXPECT_FALSE(usr->noexec);
  EXPECT_FALSE(shared->read_only);  // make_dir is a write-type right
  EXPECT_TRUE(shared->noexec);
}

TEST(ResolveNamespace, ParentsAreMountedBeforeChildren) {
  World w;
  auto r = w.run(doc(R"(
    access_roots:
      inner:
        paths:
          - ${PROJECT}/sub
        permissions:
          read_file: true
          read_dir: true
      outer:
        paths:
          - ${PROJECT}
        permissions:
          read_file: true
          read_dir: true
    control_access:
      read_file: true
      read_dir: true
    command:
      binary: sh
)"));
  ASSERT_TRUE(r.has_value()) << err(r);
  const int outer = op_index(*r, MountKind::bind, "/home/u/dev/myproj");
  const int inner = op_index(*r, MountKind::bind, "/home/u/dev/myproj/sub");
  ASSERT_GE(outer, 0);
  ASSERT_GE(inner, 0);
  EXPECT_LT(outer, inner);
}

// Every mount that makes a tree (bind, home, tmp) comes after every mount
// of a tree that contains its target: a later parent would hide it.
void expect_parents_first(const Plan& p) {
  const auto& ops = p.ns.mounts;
  auto makes_tree = [](MountKind k) {
    return k == MountKind::bind || k == MountKind::home || k == MountKind::tmp;
  };
  for (std::size_t i = 0; i < ops.size(); ++i)
    for (std::size_t j = i + 1; j < ops.size(); ++j)
      if (makes_tree(ops[i].kind) && makes_tree(ops[j].kind) &&
          ops[i].target != ops[j].target && is_within(ops[i].target, ops[j].target))
        ADD_FAILURE() << to_string(ops[j].kind) << " " << ops[j].target << " (op " << j
                      << ") is mounted after " << to_string(ops[i].kind) << " "
                      << ops[i].target << " (op " << i << "), which it would hide";
}

// Was a bug, fixed: src/plan/namespace_plan.cc:112-132 — the private /tmp is mounted
// before the roots, so a root at `/` (e.g. `--ro /`) is bound on top of it
// and the sandbox sees the host's /tmp instead of its private one. DESIGN:
// "/tmp means the sandbox's own ... never a bind of the host's".
TEST(ResolveNamespace, PrivateTmpIsNotHiddenByARootAtSlash) {
  World w;
  w.opt.ro = {"/"};
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  const int slash = op_index(*r, MountKind::bind, "/");
  const int tmp = op_index(*r, MountKind::tmp, "/tmp");
  ASSERT_GE(slash, 0);
  ASSERT_GE(tmp, 0);
  EXPECT_LT(slash, tmp);
  expect_parents_first(*r);
}

// Was a bug, fixed: src/plan/namespace_plan.cc:143-144 — the private HOME is bound after
// every root, so a read-only root inside it is covered by the read-write
// HOME bind (same host files, now writable). Parents must come first.
TEST(ResolveNamespace, PrivateHomeIsMountedBeforeRootsInsideIt) {
  World w;
  w.fs.dir("/home/u/.sbx/home/.config");
  auto r2 = w.run(doc(R"(
    access_roots:
      proj:
        paths:
          - ${PROJECT}
        permissions:
          read_file: true
          read_dir: true
      config:
        paths:
          - ~/.sbx/home/.config
        permissions:
          read_file: true
          read_dir: true
    control_access:
      read_file: true
      read_dir: true
    home: {path: ~/.sbx/home, shared: true}
    command:
      binary: sh
)"));
  ASSERT_TRUE(r2.has_value()) << err(r2);
  const int home = op_index(*r2, MountKind::home, "/home/u/.sbx/home");
  const int config = op_index(*r2, MountKind::bind, "/home/u/.sbx/home/.config");
  EXPECT_TRUE(r2->ns.home_shared);
  ASSERT_GE(home, 0);
  ASSERT_GE(config, 0);
  EXPECT_LT(home, config);
}

TEST(ResolveNamespace, OrdinaryPlansMountParentsFirst) {
  World w;
  auto r = w.run(everything());
  ASSERT_TRUE(r.has_value()) << err(r);
  expect_parents_first(*r);
}

TEST(ResolveNamespace, ProcAndDevRootsAreTheSandboxsOwnButKeepTheirRules) {
  World w;
  auto r = w.run(doc(R"(
    access_roots:
      proj:
        paths:
          - ${PROJECT}
        permissions:
          read_file: true
          read_dir: true
      special:
        paths:
          - /proc
          - /dev/null
        permissions:
          read_file: true
          write_file: true
    control_access:
      read_file: true
      read_dir: true
      write_file: true
      make_reg: true
      refer: true
    command:
      binary: sh
)"));
  ASSERT_TRUE(r.has_value()) << err(r);
  for (const auto& op : r->ns.mounts) {
    if (op.kind == MountKind::bind) {
      EXPECT_FALSE(is_within(op.target, "/proc") || is_within(op.target, "/dev"))
          << "host tree bound at " << op.target;
    }
  }
  EXPECT_GE(op_index(*r, MountKind::proc, "/proc"), 0);
  EXPECT_GE(op_index(*r, MountKind::dev, "/dev"), 0);

  const LandlockRule* null = rule_at(*r, "/dev/null");
  ASSERT_NE(null, nullptr);
  EXPECT_FALSE(null->is_dir);
  EXPECT_FALSE(null->implicit);
  EXPECT_EQ(null->access, fs::kReadFile | fs::kWriteFile);
  bool proc_root_rule = false;
  for (const auto& rule : r->landlock.rules)
    if (rule.path == "/proc" && !rule.implicit && rule.origin == "special")
      proc_root_rule = true;
  EXPECT_TRUE(proc_root_rule);
}

TEST(ResolveNamespace, RootBeneathTmpIsBoundIntoThePrivateTmp) {
  World w;
  auto r2 = w.run(doc(R"(
    access_roots:
      proj:
        paths:
          - ${PROJECT}
        permissions:
          read_file: true
          read_dir: true
      build:
        paths:
          - /tmp/build
          - /tmp
        permissions:
          read_file: true
          read_dir: true
    control_access:
      read_file: true
      read_dir: true
    command:
      binary: sh
)"));
  ASSERT_TRUE(r2.has_value()) << err(r2);
  const int tmp = op_index(*r2, MountKind::tmp, "/tmp");
  const int build = op_index(*r2, MountKind::bind, "/tmp/build");
  ASSERT_GE(tmp, 0);
  ASSERT_GE(build, 0);
  EXPECT_LT(tmp, build);
  EXPECT_EQ(op_index(*r2, MountKind::bind, "/tmp"), -1);  // /tmp itself stays private
}

TEST(ResolveNamespace, MergedUsrLinksComeBackWhenUsrIsARoot) {
  World w;
  auto r = w.run(doc(R"(
    access_roots:
      proj:
        paths:
          - ${PROJECT}
        permissions:
          read_file: true
          read_dir: true
      system:
        paths:
          - /usr
        permissions:
          read_file: true
          read_dir: true
          execute: true
    control_access:
      read_file: true
      read_dir: true
      execute: true
    command:
      binary: sh
)"));
  ASSERT_TRUE(r.has_value()) << err(r);
  const MountOp* bin = op_at(*r, MountKind::symlink, "/bin");
  const MountOp* lib = op_at(*r, MountKind::symlink, "/lib");
  const MountOp* lib64 = op_at(*r, MountKind::symlink, "/lib64");
  ASSERT_NE(bin, nullptr);
  ASSERT_NE(lib, nullptr);
  ASSERT_NE(lib64, nullptr);
  EXPECT_EQ(bin->source, "usr/bin");
  EXPECT_EQ(lib->source, "usr/lib");
  EXPECT_EQ(lib64->source, "usr/lib64");
  EXPECT_GE(op_index(*r, MountKind::symlink, "/sbin"), 0);
  EXPECT_EQ(op_index(*r, MountKind::bind, "/bin"), -1);
  // And they come after the tree they point into.
  EXPECT_LT(op_index(*r, MountKind::bind, "/usr"),
            op_index(*r, MountKind::symlink, "/bin"));
}

// Only the multiarch directory a root: /lib -> usr/lib still comes back,
// since the loader is found through it; /bin, whose target shows nothing,
// does not.
TEST(ResolveNamespace, MergedUsrLinkComesBackWhenPartOfItsTargetIsARoot) {
  World w;
  w.fs.dir("/usr/lib/x86_64-linux-gnu");
  w.opt.ro = {"/usr/lib/x86_64-linux-gnu"};
  auto r = w.run(one_root("${PROJECT}"));
  ASSERT_TRUE(r.has_value()) << err(r);
  const MountOp* lib = op_at(*r, MountKind::symlink, "/lib");
  ASSERT_NE(lib, nullptr);
  EXPECT_EQ(lib->source, "usr/lib");
  EXPECT_EQ(op_at(*r, MountKind::symlink, "/bin"), nullptr);
}

TEST(ResolveNamespace, NoMergedUsrLinksWithoutUsr) {
  World w;
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  for (const auto& op : r->ns.mounts) EXPECT_NE(op.kind, MountKind::symlink) << op.target;
}

TEST(ResolveNamespace, SpecSystemRootsLibThroughItsLink) {
  World w;
  auto r = w.run(doc(R"(
    access_roots:
      proj:
        paths:
          - ${PROJECT}
        permissions:
          read_file: true
          read_dir: true
      system:
        paths:
          - /usr
          - /lib
          - /lib64
        permissions:
          read_file: true
          read_dir: true
          execute: true
    control_access:
      read_file: true
      read_dir: true
      execute: true
    command:
      binary: sh
)"));
  ASSERT_TRUE(r.has_value()) << err(r);
  // /usr grants /usr/lib and /usr/lib64 as much: no mount or rule of their
  // own, only the links.
  EXPECT_EQ(rule_at(*r, "/usr/lib"), nullptr);
  EXPECT_EQ(rule_at(*r, "/usr/lib64"), nullptr);
  EXPECT_EQ(op_at(*r, MountKind::bind, "/usr/lib"), nullptr);
  EXPECT_EQ(rule_at(*r, "/lib"), nullptr);
  int lib_links = 0;
  for (const auto& op : r->ns.mounts)
    if (op.target == "/lib") {
      EXPECT_EQ(op.kind, MountKind::symlink);
      ++lib_links;
    }
  EXPECT_EQ(lib_links, 1);
  // /lib -> usr/lib lies inside the /usr root: no "resolves through a symlink" warning.
  EXPECT_EQ(warnings_with(*r, {"/lib"}), 0) << all_warnings(*r);
  EXPECT_EQ(notes_with(*r, {"/lib"}), 0) << all_warnings(*r);
}

TEST(ResolveNamespace, ImplicitRulesForTheSandboxsOwnTrees) {
  World w;
  auto r = w.run(everything());
  ASSERT_TRUE(r.has_value()) << err(r);
  for (const char* path : {"/proc", "/dev", "/dev/shm", "/tmp"}) {
    const LandlockRule* rule = nullptr;
    for (const auto& x : r->landlock.rules)
      if (x.path == path && x.implicit) rule = &x;
    ASSERT_NE(rule, nullptr) << path;
    EXPECT_TRUE(rule->is_dir) << path;
    EXPECT_NE(rule->access & fs::kReadFile, 0u) << path;
    EXPECT_EQ(rule->access & ~r->landlock.handled_fs, 0u) << path;
  }
  const LandlockRule* tmp = rule_at(*r, "/tmp");
  ASSERT_NE(tmp, nullptr);
  EXPECT_NE(tmp->access & fs::kMakeReg, 0u);  // a private /tmp is writable
  EXPECT_NE(tmp->access & fs::kWriteFile, 0u);
  // Roots are not implicit.
  const LandlockRule* proj = rule_at(*r, "/home/u/dev/myproj");
  ASSERT_NE(proj, nullptr);
  EXPECT_FALSE(proj->implicit);
}

// Was a bug, fixed: a root beneath /tmp narrowed the private /tmp's rule to
// what that root grants, so `--ro /tmp/build` made /tmp read-only (issue 18:
// codex died on its sqlite file). /tmp keeps every right; the root's mount
// (read-only, noexec, nodev) guards it, and --dry-run says so.
TEST(ResolveNamespace, RootBeneathTmpLeavesThePrivateTmpWritable) {
  for (Mode mode : {Mode::layered, Mode::strict}) {
    World w;
    w.opt.mode = mode;
    w.feat = Features::full(kMaxKnownAbi);  // strict: every controlled right enforced
    w.opt.ro = {"/tmp/build"};
    auto r = w.run(everything());
    ASSERT_TRUE(r.has_value()) << err(r);
    const LandlockRule* tmp = rule_at(*r, "/tmp");
    ASSERT_NE(tmp, nullptr);
    // All but ioctl_dev, which `--ro` does not grant and no mount flag holds.
    EXPECT_EQ(tmp->access, r->landlock.handled_fs & ~fs::kIoctlDev);
    const int build = op_index(*r, MountKind::bind, "/tmp/build");
    ASSERT_GE(build, 0);
    EXPECT_TRUE(r->ns.mounts[static_cast<std::size_t>(build)].read_only);
    EXPECT_EQ(notes_with(*r, {"/tmp/build", "read-only", "guards it"}), 1)
        << all_warnings(*r);
    EXPECT_EQ(notes_with(*r, {"only the rights they all grant"}), 0) << all_warnings(*r);
  }
}

// A writable root beneath /tmp that withholds a right no mount flag can
// withhold (remove_file here) would get it from the rule on /tmp: refused,
// naming the root, the right and the way out, instead of silently widened.
TEST(ResolveNamespace, WritableRootBeneathTmpWithheldRightsAreRefused) {
  const std::string yaml = doc(R"(
    access_roots:
      build:
        paths: [/tmp/build]
        permissions: {read_file: true, read_dir: true, write_file: true}
    control_access: {read_file: true, read_dir: true, write_file: true, remove_file: true}
    command:
      binary: sh
)");
  World w;
  auto r = w.run(yaml);
  ASSERT_FALSE(r.has_value());
  for (const char* part : {"/tmp/build", "remove_file", "beneath the private /tmp"})
    EXPECT_NE(err(r).find(part), std::string::npos) << part << ": " << err(r);
  EXPECT_NE(r.error().hint.find("/var/tmp"), std::string::npos) << r.error().hint;
  // Withholding make_sym from /tmp as well leaves it a temp directory:
  // narrowed, and said.
  World narrow;
  auto n = narrow.run(doc(R"(
    access_roots:
      build:
        paths: [/tmp/build]
        permissions: {read_file: true, read_dir: true, write_file: true, make_reg: true,
                      make_dir: true, remove_file: true, remove_dir: true, truncate: true}
    control_access: {read_file: true, read_dir: true, write_file: true, make_reg: true,
                     make_dir: true, remove_file: true, remove_dir: true, truncate: true,
                     make_sym: true}
    command:
      binary: sh
)"));
  ASSERT_TRUE(n.has_value()) << err(n);
  const LandlockRule* tmp = rule_at(*n, "/tmp");
  ASSERT_NE(tmp, nullptr);
  EXPECT_EQ(tmp->access & fs::kMakeSym, 0u);
  EXPECT_NE(tmp->access & fs::kMakeReg, 0u);
  EXPECT_EQ(notes_with(*n, {"/tmp/build", "Landlock holds make_sym"}), 1) << all_warnings(*n);
  // No Landlock filesystem rule, nothing to widen (ns mode); and no private
  // /tmp in landlock mode: both run.
  for (Mode mode : {Mode::ns, Mode::landlock}) {
    w.opt.mode = mode;
    auto ok = w.run(yaml);
    EXPECT_TRUE(ok.has_value()) << err(ok);
  }
}

TEST(ResolveNamespace, NoImplicitRulesInLandlockMode) {
  World w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(everything());
  ASSERT_TRUE(r.has_value()) << err(r);
  for (const auto& x : r->landlock.rules) EXPECT_FALSE(x.implicit) << x.path;
  EXPECT_FALSE(r->ns.enabled);
  EXPECT_TRUE(r->ns.mounts.empty());
}

Features no_userns(int abi = 7) {
  Features f = Features::full(abi);
  f.userns = false;
  f.userns_why = "kernel.apparmor_restrict_unprivileged_userns is 1";
  f.userns_remedy = "load the AppArmor profile";
  return f;
}

TEST(ResolveNamespace, WithoutUserNamespacesLayeredWarnsAndSkipsTheWall) {
  World w;
  w.feat = no_userns();
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_FALSE(r->ns.enabled);
  EXPECT_TRUE(r->ns.mounts.empty());
  EXPECT_EQ(warnings_with(*r, {"apparmor_restrict_unprivileged_userns"}), 1)
      << all_warnings(*r);
  EXPECT_TRUE(r->landlock.enabled);  // the other wall still stands
}

TEST(ResolveNamespace, WithoutUserNamespacesStrictAndNsModeRefuse) {
  for (Mode m : {Mode::strict, Mode::ns}) {
    World w;
    w.feat = no_userns();
    w.opt.mode = m;
    auto r = w.run(doc(kReadProject));
    ASSERT_FALSE(r.has_value()) << to_string(m);
    EXPECT_EQ(r.error().exit_code, 125);
    EXPECT_TRUE(has(r.error().what, "apparmor_restrict_unprivileged_userns is 1"))
        << to_string(m);
  }
}

TEST(ResolveNamespace, LandlockModeNeedsNoUserNamespace) {
  World w;
  w.feat = no_userns();
  w.opt.mode = Mode::landlock;
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_FALSE(r->ns.enabled);
  EXPECT_EQ(warnings_with(*r, {"apparmor"}), 0) << all_warnings(*r);
}

// ---------------------------------------------------------------------------
// The private HOME.

void expect_private_home(const Plan& p, const std::string& home) {
  EXPECT_EQ(p.ns.home, home);
  const MountOp* op = op_at(p, MountKind::home, home);
  ASSERT_NE(op, nullptr);
  EXPECT_FALSE(op->read_only);
  const LandlockRule* rule = rule_at(p, home);
  ASSERT_NE(rule, nullptr);
  EXPECT_TRUE(rule->implicit);
  EXPECT_EQ(rule->access & (fs::kReadFile | fs::kWriteFile | fs::kMakeReg),
            fs::kReadFile | fs::kWriteFile | fs::kMakeReg);
  EXPECT_EQ(env_value(p, "HOME"), home);
}

const std::string kHomeProfile = R"(
    access_roots:
      proj:
        paths:
          - ${PROJECT}
        permissions:
          read_file: true
          read_dir: true
    control_access:
      read_file: true
      read_dir: true
      write_file: true
      make_reg: true
)";

TEST(ResolveHome, FromTheHomeKey) {
  World w;
  auto r = w.run(
      doc(kHomeProfile + "    home: ~/.sbx/home\n    command:\n      binary: sh\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  expect_private_home(*r, per_project("/home/u/.sbx/home"));
  EXPECT_FALSE(r->ns.home_shared);
}

TEST(ResolveHome, FromCommandEnvHome) {
  World w;
  auto r = w.run(
      doc(kHomeProfile +
          "    command:\n      binary: sh\n      env:\n        HOME: ~/.sbx/env-home\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  expect_private_home(*r, per_project("/home/u/.sbx/env-home"));
}

TEST(ResolveHome, FromTheOptionOverridingTheProfile) {
  World w;
  w.opt.home = "/srv/home-u";
  auto r = w.run(
      doc(kHomeProfile + "    home: ~/.sbx/home\n    command:\n      binary: sh\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  expect_private_home(*r, "/srv/home-u");
}

TEST(ResolveHome, HashIsStableFnv1a) {
  // FNV-1a 64 reference values: written down, not computed by the code.
  EXPECT_EQ(home_hash(""), "cbf29ce484222325");
  EXPECT_EQ(home_hash("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(home_hash("foobar"), "85944171f73967e8");
  EXPECT_NE(home_hash("/home/u/dev/a"), home_hash("/home/u/dev/b"));
}

// Two projects of one profile get two homes; the same project one home,
// however it is named (a link to it, a trailing slash).
TEST(ResolveHome, OnePerProjectNamedByTheCanonicalPath) {
  World w;
  w.fs.dir("/home/u/dev/other").symlink("/home/u/dev/alias", "/home/u/dev/myproj");
  const std::string yaml =
      doc(kHomeProfile + "    home: ~/.sbx/homes\n    command:\n      binary: sh\n");
  auto a = w.run(yaml);
  ASSERT_TRUE(a.has_value()) << err(a);
  w.opt.project = "/home/u/dev/other";
  w.host.cwd = "/home/u/dev/other";
  auto b = w.run(yaml);
  ASSERT_TRUE(b.has_value()) << err(b);
  w.host.cwd = "/home/u/dev/myproj";
  w.opt.project = "/home/u/dev/alias/";
  auto c = w.run(yaml);
  ASSERT_TRUE(c.has_value()) << err(c);
  EXPECT_EQ(a->ns.home, per_project("/home/u/.sbx/homes"));
  EXPECT_EQ(b->ns.home, per_project("/home/u/.sbx/homes", "/home/u/dev/other"));
  EXPECT_NE(a->ns.home, b->ns.home);
  EXPECT_EQ(c->ns.home, a->ns.home);
  EXPECT_EQ(a->ns.home_checked_below, "/home/u");
  // Another profile of the same project: another HOME.
  w.opt.project.reset();
  auto other = w.run(yaml, "p");
  ASSERT_TRUE(other.has_value()) << err(other);
  auto q = w.run("version: 1\nprofiles:\n  q:\n" +
                     kHomeProfile.substr(1) + "    home: ~/.sbx/homes\n    command:\n      binary: sh\n",
                 "q");
  ASSERT_TRUE(q.has_value()) << err(q);
  EXPECT_EQ(q->ns.home, per_project("/home/u/.sbx/homes", "/home/u/dev/myproj", "q"));
  EXPECT_NE(q->ns.home, other->ns.home);
}

TEST(ResolveHome, SharedWhenTheProfileSaysSoOrWithTheOption) {
  World w;
  auto r = w.run(doc(kHomeProfile +
                     "    home: {path: ~/.sbx/one, shared: true}\n    command:\n      binary: sh\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  expect_private_home(*r, "/home/u/.sbx/one");
  EXPECT_TRUE(r->ns.home_shared);
  EXPECT_TRUE(has(render_text(*r), "home: /home/u/.sbx/one (private, shared by every project"));
  auto per = w.run(doc(kHomeProfile +
                       "    home: {path: ~/.sbx/one, shared: false}\n    command:\n      binary: sh\n"));
  ASSERT_TRUE(per.has_value()) << err(per);
  EXPECT_EQ(per->ns.home, per_project("/home/u/.sbx/one"));
  EXPECT_TRUE(has(render_text(*per), "(private to this profile and project"));
  EXPECT_TRUE(has(render_json(*per), "\"home_shared\":false"));
  w.opt.home = "/srv/h";
  auto opt = w.run(doc(kHomeProfile + "    home: ~/.sbx/one\n    command:\n      binary: sh\n"));
  ASSERT_TRUE(opt.has_value()) << err(opt);
  EXPECT_EQ(opt->ns.home, "/srv/h");
  EXPECT_TRUE(opt->ns.home_shared);
  EXPECT_EQ(opt->ns.home_checked_below, "/srv");
}

// A link anywhere below the real HOME on the way to the private HOME: the
// next run would use whatever it points at (~/.ssh) as HOME.
TEST(ResolveHome, ALinkOnTheWayIsRefused) {
  const std::string yaml =
      doc(kHomeProfile + "    home: ~/.sbx/homes\n    command:\n      binary: sh\n");
  for (const std::string& link :
       {std::string("/home/u/.sbx"), std::string("/home/u/.sbx/homes"), per_project("/home/u/.sbx/homes")}) {
    World w;
    w.fs.dir("/home/u/.ssh");
    if (link != "/home/u/.sbx") w.fs.dir("/home/u/.sbx");
    if (link == per_project("/home/u/.sbx/homes")) w.fs.dir("/home/u/.sbx/homes");
    w.fs.symlink(link, "/home/u/.ssh");
    auto r = w.run(yaml);
    ASSERT_FALSE(r.has_value()) << link << ": " << r->ns.home;
    EXPECT_EQ(r.error().exit_code, 125);
    EXPECT_TRUE(has(r.error().what, "`" + link + "`, which is a symbolic link")) << r.error().what;
  }
}

TEST(ResolveHome, InsideAWritableRootIsRefused) {
  World w;
  // Read-only: the bind of the HOME makes it writable, nothing else can.
  auto ro = w.run(doc(kHomeProfile + "    home: ${PROJECT}/.h\n    command:\n      binary: sh\n"));
  ASSERT_TRUE(ro.has_value()) << err(ro);
  w.opt.rw = {"/home/u/dev"};
  auto rw = w.run(doc(kHomeProfile + "    home: ${PROJECT}/.h\n    command:\n      binary: sh\n"));
  ASSERT_FALSE(rw.has_value());
  EXPECT_EQ(rw.error().exit_code, 125);
  EXPECT_TRUE(has(rw.error().what, "lies inside `/home/u/dev`, which the sandbox may write"))
      << rw.error().what;
  w.opt.rw.clear();
  w.opt.home = "/home/u/dev/myproj/.h";
  w.opt.rw = {"/home/u/dev/myproj"};
  EXPECT_FALSE(w.run(doc(kReadProject)).has_value());
}

// ---------------------------------------------------------------------------
// Limits: what enforces each, per mode and caller.

const LimitLine* limit_line(const Plan& p, const std::string& name) {
  for (const auto& l : p.limits.lines)
    if (l.name == name) return &l;
  return nullptr;
}

const std::string kLimits =
    "    limits: {pids: 64, memory: 1G, tmp_size: 16M, shm_size: 8M, nofile: 512}\n";

TEST(ResolveLimits, DefaultsAreTmpfsSizesOnly) {
  World w;
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->limits.pids, 0U);
  EXPECT_FALSE(r->limits.rlimit_nproc);
  EXPECT_EQ(r->ns.tmp_size, 1ULL << 30);
  EXPECT_EQ(r->ns.shm_size, 1ULL << 30);
  EXPECT_TRUE(has(render_text(*r), "tmp_size: 1G  # tmpfs size= of the private /tmp"));
}

TEST(ResolveLimits, AUserGetsRlimitsInItsNamespaceAndNoCgroup) {
  World w;
  auto r = w.run(doc(kReadProject + kLimits));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_TRUE(r->limits.rlimit_nproc);
  EXPECT_EQ(r->limits.pids, 64U);
  EXPECT_EQ(r->limits.nofile, 512U);
  EXPECT_EQ(r->ns.tmp_size, 16ULL << 20);
  EXPECT_EQ(r->ns.shm_size, 8ULL << 20);
  EXPECT_FALSE(r->limits.cgroup_pids || r->limits.cgroup_memory);
  EXPECT_TRUE(has(limit_line(*r, "pids")->by, "inside the sandbox's user namespace"));
  EXPECT_FALSE(limit_line(*r, "memory")->enforced);
  EXPECT_TRUE(has(render_text(*r), "memory: 1G  # not enforced: no writable cgroup"));
  EXPECT_TRUE(has(render_json(*r), "\"name\":\"pids\",\"value\":\"64\""));
}

TEST(ResolveLimits, RootNeedsACgroupForPids) {
  World w;
  w.host.uid = 0;
  auto none = w.run(doc(kReadProject + kLimits));
  ASSERT_TRUE(none.has_value()) << err(none);
  EXPECT_FALSE(none->limits.rlimit_nproc);
  EXPECT_FALSE(limit_line(*none, "pids")->enforced);
  EXPECT_EQ(warnings_with(*none, {"pids 64", "RLIMIT_NPROC to uid 0"}), 1) << all_warnings(*none);

  w.feat.cgroup2_dir = "/sys/fs/cgroup/unified";  // hybrid: no controllers in v2
  w.feat.cgroup1_pids_dir = "/sys/fs/cgroup/pids";
  w.feat.cgroup1_memory_dir = "/sys/fs/cgroup/memory";
  auto v1 = w.run(doc(kReadProject + kLimits));
  ASSERT_TRUE(v1.has_value()) << err(v1);
  EXPECT_TRUE(v1->limits.cgroup_pids && v1->limits.cgroup_memory);
  EXPECT_EQ(v1->limits.cgroup1_pids_dir, "/sys/fs/cgroup/pids");
  EXPECT_EQ(v1->limits.cgroup2_dir, "");
  EXPECT_TRUE(has(limit_line(*v1, "pids")->by, "v1 pids"));

  w.feat.cgroup2_dir = "/sys/fs/cgroup";
  w.feat.cgroup2_pids = w.feat.cgroup2_memory = true;
  auto v2 = w.run(doc(kReadProject + kLimits));
  ASSERT_TRUE(v2.has_value()) << err(v2);
  EXPECT_EQ(v2->limits.cgroup2_dir, "/sys/fs/cgroup");
  EXPECT_EQ(v2->limits.cgroup1_pids_dir, "");
  EXPECT_TRUE(has(limit_line(*v2, "memory")->by, "memory.max"));
}

TEST(ResolveLimits, LandlockModeSaysWhatItCannotDo) {
  World w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(doc(kReadProject + kLimits));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_TRUE(r->limits.rlimit_nproc);
  EXPECT_TRUE(has(limit_line(*r, "pids")->by, "counts every process of uid 1000"));
  EXPECT_FALSE(limit_line(*r, "tmp_size")->enforced);
  EXPECT_FALSE(limit_line(*r, "memory")->enforced);
  EXPECT_EQ(r->ns.tmp_size, 0U);
}

TEST(ResolveLimits, OffAndExtends) {
  World w;
  auto r = w.run("version: 1\nprofiles:\n  base:\n" + kReadProject.substr(1) + kLimits +
                     "  p:\n    extends: base\n    limits: {pids: 0, tmp_size: 32M}\n"
                     "  q:\n    extends: base\n    limits: off\n",
                 "p");
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->limits.pids, 0U);
  EXPECT_EQ(r->limits.nofile, 512U);  // from base
  EXPECT_EQ(r->ns.tmp_size, 32ULL << 20);
  EXPECT_EQ(r->ns.shm_size, 8ULL << 20);
  auto q = w.run("version: 1\nprofiles:\n  base:\n" + kReadProject.substr(1) + kLimits +
                     "  q:\n    extends: base\n    limits: off\n",
                 "q");
  ASSERT_TRUE(q.has_value()) << err(q);
  EXPECT_EQ(q->ns.tmp_size, 0U);
  EXPECT_EQ(q->limits.pids, 0U);
  EXPECT_TRUE(has(render_text(*q), "tmp_size: unlimited  # the kernel's default"));
}

// Without the namespace wall /tmp is the host's, shared and not granted:
// TMPDIR points into the private HOME. With the wall, or with /tmp granted,
// nothing changes; --env TMPDIR wins.
TEST(ResolveHome, InLandlockModeTmpdirLivesInThePrivateHome) {
  World w;
  const std::string yaml =
      doc(kHomeProfile + "    home: ~/.sbx/home\n    command:\n      binary: sh\n");
  w.opt.mode = Mode::landlock;
  auto r = w.run(yaml);
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->exec.tmpdir, per_project("/home/u/.sbx/home") + "/.tmp");
  EXPECT_EQ(env_value(*r, "TMPDIR"), per_project("/home/u/.sbx/home") + "/.tmp");

  w.opt.env = {{"TMPDIR", "/srv/data"}};
  auto own = w.run(yaml);
  ASSERT_TRUE(own.has_value()) << err(own);
  EXPECT_EQ(env_value(*own, "TMPDIR"), "/srv/data");
  w.opt.env.clear();

  w.opt.rw = {"/tmp/build"};
  auto granted = w.run(yaml);
  ASSERT_TRUE(granted.has_value()) << err(granted);
  EXPECT_NE(granted->exec.tmpdir, "");  // a root beneath /tmp is not /tmp
  w.opt.rw = {"/tmp"};
  auto whole = w.run(yaml);
  ASSERT_TRUE(whole.has_value()) << err(whole);
  EXPECT_EQ(whole->exec.tmpdir, "");
  w.opt.rw.clear();

  w.opt.mode = Mode::layered;
  auto layered = w.run(yaml);
  ASSERT_TRUE(layered.has_value()) << err(layered);
  EXPECT_EQ(layered->exec.tmpdir, "");
  EXPECT_EQ(env_value(*layered, "TMPDIR"), "<unset>");
}

TEST(ResolveHome, InLandlockModeRuleAndEnvButNoMount) {
  World w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(
      doc(kHomeProfile + "    home: ~/.sbx/home\n    command:\n      binary: sh\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  const std::string home = per_project("/home/u/.sbx/home");
  EXPECT_EQ(r->ns.home, home);
  const LandlockRule* rule = rule_at(*r, home);
  ASSERT_NE(rule, nullptr);
  EXPECT_TRUE(rule->implicit);
  EXPECT_EQ(env_value(*r, "HOME"), home);
  EXPECT_TRUE(r->ns.mounts.empty());
}

TEST(ResolveHome, NoPrivateHomeKeepsTheCallersHome) {
  World w;
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->ns.home, "");
  for (const auto& op : r->ns.mounts) EXPECT_NE(op.kind, MountKind::home);
  EXPECT_EQ(env_value(*r, "HOME"), "/home/u");
}

TEST(ResolveHome, TheRealHomeIsRefused) {
  for (const char* home : {"'~'", "${HOME}", "/home/u", "/"}) {
    World w;
    auto r = w.run(
        doc(kHomeProfile + "    home: " + home + "\n    command:\n      binary: sh\n"));
    ASSERT_FALSE(r.has_value()) << home;
    EXPECT_EQ(r.error().exit_code, 125) << home;
  }
  World w;
  w.opt.home = "/home/u";
  EXPECT_FALSE(w.run(doc(kHomeProfile + "    command:\n      binary: sh\n")).has_value());
}

// Was a bug, fixed: src/plan/namespace_plan.cc:67-72 — the "real HOME" check compares the
// expanded path before realpath(); a private HOME that is a symlink to the
// real home passes, and ns.home then becomes the real home, bound
// read-write with every right.
TEST(ResolveHome, ASymlinkToTheRealHomeIsRefused) {
  World w;
  w.fs.dir("/home/u").symlink("/home/u-sandbox", "/home/u");
  auto r = w.run(
      doc(kHomeProfile + "    home: /home/u-sandbox\n    command:\n      binary: sh\n"));
  EXPECT_FALSE(r.has_value()) << "private HOME resolved to " << (r ? r->ns.home : "");
}

// Was a bug, fixed: src/plan/namespace_plan.cc:67 — `home == host.home` compares the
// normalized path with $HOME as given: with HOME=/home/u/ (trailing slash),
// `home: ~` expands to /home/u and is accepted as a "private" HOME.
TEST(ResolveHome, RealHomeWithATrailingSlashIsRefused) {
  World w;
  w.host.home = "/home/u/";
  w.host.env["HOME"] = "/home/u/";
  auto r = w.run(doc(kHomeProfile + "    home: '~'\n    command:\n      binary: sh\n"));
  EXPECT_FALSE(r.has_value()) << "private HOME " << (r ? r->ns.home : "");
}

// Was a bug, fixed: src/plan/namespace_plan.cc:67 — only `/` and the real HOME itself are
// refused; a private HOME that contains the real home (`/home`) binds it
// read-write with every right ("would expose the real home").
TEST(ResolveHome, AnAncestorOfTheRealHomeIsRefused) {
  World w;
  auto r = w.run(doc(kHomeProfile + "    home: /home\n    command:\n      binary: sh\n"));
  EXPECT_FALSE(r.has_value()) << "private HOME " << (r ? r->ns.home : "");
}

// ---------------------------------------------------------------------------
// Exec: argv, cwd, environment.

TEST(ResolveExec, ArgvFromTheCommandLineWins) {
  World w;
  w.opt.command = {"make", "-j2", "--keep-going"};
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->exec.argv, (Strings{"make", "-j2", "--keep-going"}));
  EXPECT_EQ(r->exec.cwd, "/home/u/dev/myproj");
}

TEST(ResolveExec, ArgvAndWorkingDirFromTheProfile) {
  World w;
  w.host.cwd = "/home/u";
  w.opt.mode = Mode::landlock;
  auto r = w.run(doc(R"(
    access_roots:
      proj:
        paths:
          - ~/dev/myproj
        permissions:
          read_file: true
          read_dir: true
    control_access:
      read_file: true
      read_dir: true
    command:
      binary: ~/bin/tool
      args: [--serve, ""]
      working_dir: ${HOME}/dev/myproj/sub
)"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->exec.argv, (Strings{"/home/u/bin/tool", "--serve", ""}));
  EXPECT_EQ(r->exec.cwd, "/home/u/dev/myproj/sub");
}

TEST(ResolveExec, BareBinaryStaysBareForPathLookup) {
  World w;
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->exec.argv, (Strings{"sh"}));
}

TEST(ResolveExec, NoCommandIsAnError) {
  World w;
  auto r = w.run(doc(R"(
    access_roots:
      proj:
        paths:
          - ${PROJECT}
        permissions:
          read_file: true
          read_dir: true
    control_access:
      read_file: true
      read_dir: true
)"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().exit_code, 125);
}

// A cwd the sandbox does not show is a refusal of the run (the plan is
// still made, for inspection): in namespace mode no mount shows it, in
// landlock mode no rule lets the sandbox list it (issue 16).
TEST(ResolveExec, CwdOutsideEveryRootIsARefusalInBothWalls) {
  World w;
  w.host.cwd = "/srv/data";
  auto r = w.run(doc(kReadProject));  // ${PROJECT} defaults to the cwd: use an option
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_FALSE(r->refusal.has_value());
  w.opt.project = "/home/u/dev/myproj";
  for (Mode m : {Mode::layered, Mode::landlock}) {
    w.opt.mode = m;
    auto bad = w.run(doc(kReadProject));
    ASSERT_TRUE(bad.has_value()) << err(bad);
    ASSERT_TRUE(bad->refusal.has_value()) << to_string(m);
    EXPECT_EQ(bad->refusal->exit_code, 125);
    EXPECT_TRUE(has(bad->refusal->what, "/srv/data"));
  }
}

TEST(ResolveExec, KeepFds) {
  World w;
  w.opt.keep_fds = {5, 7};
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->exec.keep_fds, (std::vector<int>{5, 7}));
  w.opt.keep_fds = {2};
  EXPECT_FALSE(w.run(doc(kReadProject)).has_value());
}

std::map<std::string, std::string> secret_env() {
  return {{"HOME", "/home/u"},
          {"PATH", "/usr/bin:/bin"},
          {"LANG", "C.UTF-8"},
          {"EDITOR", "vi"},
          {"GITHUB_TOKEN", "ghp_secret"},
          {"AWS_SECRET_ACCESS_KEY", "aws-secret"},
          {"SSH_AUTH_SOCK", "/run/user/1000/ssh.sock"},
          {"GIT_ASKPASS", "/usr/bin/askpass"},
          {"MY_API_KEY", "k-secret"}};
}

TEST(ResolveEnv, SecretsAreDroppedByName) {
  World w;
  w.host.env = secret_env();
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(sorted(r->exec.env_dropped),
            sorted(Strings{"GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "SSH_AUTH_SOCK",
                           "GIT_ASKPASS", "MY_API_KEY"}));
  for (const char* k : {"GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "SSH_AUTH_SOCK",
                        "GIT_ASKPASS", "MY_API_KEY"})
    EXPECT_EQ(env_value(*r, k), "<unset>") << k;
  EXPECT_EQ(env_value(*r, "PATH"), "/usr/bin:/bin");
  EXPECT_EQ(env_value(*r, "LANG"), "C.UTF-8");
  EXPECT_EQ(env_value(*r, "EDITOR"), "vi");
  // Names only: no value of a secret anywhere in the plan's dropped list.
  for (const auto& name : r->exec.env_dropped)
    EXPECT_EQ(name.find("secret"), std::string::npos);
}

// Issue 17: what the name patterns missed, and secrets by value.
TEST(ResolveEnv, DatabaseRegistryAndCiSecretsAreDropped) {
  const std::map<std::string, std::string> secrets = {
      {"PGPASSWORD", "pg"},
      {"MYSQL_PWD", "my"},
      {"DATABASE_URL", "postgres://app@db/app"},
      {"npm_config__authToken", "npm"},
      {"NPM_CONFIG__AUTH", "npm"},
      {"npm_config_//registry.example/:_authToken", "npm"},
      {"GITHUB_PAT", "ghp"},
      {"CI_JOB_JWT", "jwt"},
      {"CI_JOB_JWT_V2", "jwt"},
      {"DOCKER_AUTH_CONFIG", "{}"},
      {"REDIS_PASSWORD", "r"},
      {"SMTP_PWD", "s"},
      {"SENTRY_TOKEN", "t"},
      {"APP_SECRET", "s"},
      {"GITLAB_PAT", "p"},
      {"ID_JWT", "j"},
      {"github_token", "lower case"},
      {"MIRROR", "https://user:hunter2@mirror.example/simple"},
      {"http_proxy", "http://me:pw@proxy.example:3128"},
  };
  const std::map<std::string, std::string> harmless = {
      {"PWD", "/home/u/dev/myproj"},
      {"OLDPWD", "/home/u"},
      {"PATH", "/usr/bin:/bin"},
      {"LD_LIBRARY_PATH", "/opt/lib"},
      {"UPSTREAM", "https://user@git.example/repo.git"},    // a user, no password
      {"GIT_URL", "ssh://git@host:22/repo"},                  // a port, not a password
      {"NOTE", "see https://example.org/a:b@c"},             // not a URL value
      {"EMAIL", "u@example.org"},
  };
  for (const auto& [k, v] : secrets) {
    World w;
    w.host.env = {{"HOME", "/home/u"}, {k, v}};
    auto r = w.run(doc(kReadProject));
    ASSERT_TRUE(r.has_value()) << err(r);
    EXPECT_EQ(env_value(*r, k), "<unset>") << k;
    EXPECT_TRUE(in(r->exec.env_dropped, k)) << k;
  }
  World w;
  w.host.env = harmless;
  auto r = w.run(doc(kReadProject));
  ASSERT_TRUE(r.has_value()) << err(r);
  for (const auto& [k, v] : harmless) EXPECT_EQ(env_value(*r, k), v) << k;
  EXPECT_TRUE(r->exec.env_dropped.empty()) << testing::PrintToString(r->exec.env_dropped);
  // keep still wins, for a secret by value too.
  w.host.env = {{"MIRROR", "https://user:hunter2@mirror.example/simple"}};
  auto kept = w.run(doc(kReadProject + "    env_policy:\n      keep: [MIRROR]\n"));
  ASSERT_TRUE(kept.has_value()) << err(kept);
  EXPECT_EQ(env_value(*kept, "MIRROR"), "https://user:hunter2@mirror.example/simple");
}

TEST(ResolveEnv, KeepPatternKeepsASecret) {
  World w;
  w.host.env = secret_env();
  auto r = w.run(doc(kReadProject + "    env_policy:\n      keep: [GITHUB_*]\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(env_value(*r, "GITHUB_TOKEN"), "ghp_secret");
  EXPECT_EQ(env_value(*r, "MY_API_KEY"), "<unset>");
  EXPECT_TRUE(not_in(r->exec.env_dropped, "GITHUB_TOKEN"));
}

TEST(ResolveEnv, CleanKeepsOnlyTheBasics) {
  World w;
  w.host.env = secret_env();
  auto r = w.run(doc(kReadProject + "    env_policy: clean\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  std::vector<std::string> names;
  for (const auto& [k, v] : r->exec.env) names.push_back(k);
  EXPECT_EQ(sorted(names), sorted(Strings{"HOME", "PATH", "LANG"}));
  EXPECT_TRUE(in(r->exec.env_dropped, "EDITOR"));
  EXPECT_TRUE(in(r->exec.env_dropped, "GITHUB_TOKEN"));
}

TEST(ResolveEnv, CleanWithKeep) {
  World w;
  w.host.env = secret_env();
  auto r = w.run(
      doc(kReadProject + "    env_policy:\n      mode: clean\n      keep: [EDITOR]\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(env_value(*r, "EDITOR"), "vi");
  EXPECT_EQ(env_value(*r, "GITHUB_TOKEN"), "<unset>");
}

TEST(ResolveEnv, ProfileEnvSetsAndExpandsAndTheCommandLineOverrides) {
  World w;
  w.opt.env = {{"MODE", "cli"}, {"EXTRA", "x=y"}};
  auto r = w.run(doc(kReadProject + R"(      env:
        NODE_ENV: production
        CACHE: ~/.cache/tool
        WHERE: ${PROJECT}/out
        MODE: profile
        LANG: en_US.UTF-8
)"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(env_value(*r, "NODE_ENV"), "production");
  EXPECT_EQ(env_value(*r, "CACHE"), "/home/u/.cache/tool");
  EXPECT_EQ(env_value(*r, "WHERE"), "/home/u/dev/myproj/out");
  EXPECT_EQ(env_value(*r, "MODE"), "cli");
  EXPECT_EQ(env_value(*r, "EXTRA"), "x=y");
  EXPECT_EQ(env_value(*r, "LANG"), "en_US.UTF-8");  // the profile overrides the caller
  int langs = 0;
  for (const auto& [k, v] : r->exec.env) langs += k == "LANG" ? 1 : 0;
  EXPECT_EQ(langs, 1);
}

TEST(ResolveEnv, ASecretSetByTheProfileIsNotReportedDropped) {
  World w;
  w.host.env = secret_env();
  auto r = w.run(doc(kReadProject + "      env:\n        GITHUB_TOKEN: dummy\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(env_value(*r, "GITHUB_TOKEN"), "dummy");
  EXPECT_TRUE(not_in(r->exec.env_dropped, "GITHUB_TOKEN"));
}

// ---------------------------------------------------------------------------
// The spec's own file, unchanged.

std::string read_spec_file() {
  std::ifstream in(AISBX_SOURCE_DIR "/profiles/ai-sandbox-landlock.yaml",
                   std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct SpecWorld : World {
  SpecWorld() {
    fs.dir("/home/u/dev/myproj")
        .dir("/home/u/dev/shared-lib")
        .dir("/home/u/dev/test-project");
    fs.dir("/home/u/.ai-sandbox/cache");
    fs.file("/usr/bin/node").file("/usr/bin/bash");
    host.cwd = "/home/u/dev/test-project";  // `minimal` has no working_dir
  }
};

TEST(ResolveSpecProfiles, AllThreeResolveInLandlockAndLayeredMode) {
  const std::string text = read_spec_file();
  ASSERT_FALSE(text.empty());
  for (const char* name : {"vscode-copilot", "copilot-backend", "minimal"})
    for (Mode m : {Mode::landlock, Mode::layered}) {
      SpecWorld w;
      w.opt.mode = m;
      auto r = w.run(text, name);
      ASSERT_TRUE(r.has_value()) << name << " " << to_string(m) << ": " << err(r);
      EXPECT_EQ(r->profile, name);
      EXPECT_TRUE(r->landlock.enabled) << name;
      EXPECT_EQ(r->ns.enabled, m == Mode::layered) << name;
      EXPECT_FALSE(r->exec.argv.empty()) << name;
    }
}

TEST(ResolveSpecProfiles, VscodeCopilotAtAbi2IgnoresTruncate) {
  SpecWorld w;
  w.feat = Features::full(2);
  auto r = w.run(read_spec_file(), "vscode-copilot");
  ASSERT_TRUE(r.has_value()) << err(r);
  const LandlockPlan& l = r->landlock;
  EXPECT_EQ(l.requested_fs, fs::kReadFile | fs::kReadDir | fs::kExecute | fs::kWriteFile |
                                fs::kRemoveFile | fs::kTruncate);
  EXPECT_EQ(l.ignored_fs, fs::kTruncate);
  EXPECT_EQ(l.enforcement, Enforcement::partial);
  EXPECT_EQ(r->exec.argv, (Strings{"code", "."}));
  EXPECT_EQ(r->exec.cwd, "/home/u/dev/myproj");
  // command.env.HOME of the spec's file is the base of per-project homes.
  const std::string home = per_project("/home/u/.ai-sandbox/vscode-home",
                                       "/home/u/dev/test-project", "vscode-copilot");
  EXPECT_EQ(r->ns.home, home);
  EXPECT_EQ(env_value(*r, "HOME"), home);
  EXPECT_EQ(r->log_level, profile::LogLevel::info);
  const LandlockRule* proj = rule_at(*r, "/home/u/dev/myproj");
  ASSERT_NE(proj, nullptr);
  EXPECT_EQ(proj->access, fs::kReadFile | fs::kReadDir | fs::kExecute | fs::kWriteFile |
                              fs::kRemoveFile);
  const MountOp* bind = op_at(*r, MountKind::bind, "/home/u/dev/myproj");
  ASSERT_NE(bind, nullptr);
  EXPECT_FALSE(bind->read_only);
  EXPECT_FALSE(bind->noexec);
}

TEST(ResolveSpecProfiles, CopilotBackendProjectIsReadOnly) {
  SpecWorld w;
  auto r = w.run(read_spec_file(), "copilot-backend");
  ASSERT_TRUE(r.has_value()) << err(r);
  const LandlockRule* proj = rule_at(*r, "/home/u/dev/myproj");
  ASSERT_NE(proj, nullptr);
  EXPECT_EQ(proj->access, fs::kReadFile | fs::kReadDir);
  const LandlockRule* usr = rule_at(*r, "/usr");
  ASSERT_NE(usr, nullptr);
  EXPECT_EQ(usr->access, fs::kReadFile | fs::kReadDir | fs::kExecute);
  // /lib and /lib64 lead into /usr, which grants them as much: only links.
  EXPECT_EQ(rule_at(*r, "/usr/lib"), nullptr);
  EXPECT_EQ(rule_at(*r, "/usr/lib64"), nullptr);
  EXPECT_NE(op_at(*r, MountKind::symlink, "/lib64"), nullptr);
  EXPECT_EQ(r->exec.argv, (Strings{"/usr/bin/node", "/opt/copilot/server.js"}));
  EXPECT_EQ(env_value(*r, "NODE_ENV"), "production");
  const MountOp* bind = op_at(*r, MountKind::bind, "/home/u/dev/myproj");
  ASSERT_NE(bind, nullptr);
  EXPECT_TRUE(bind->read_only);
  EXPECT_TRUE(bind->noexec);
}

TEST(ResolveSpecProfiles, MinimalReadsOneProject) {
  SpecWorld w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(read_spec_file(), "minimal");
  ASSERT_TRUE(r.has_value()) << err(r);
  ASSERT_EQ(r->landlock.rules.size(), 1u);
  EXPECT_EQ(r->landlock.rules[0].path, "/home/u/dev/test-project");
  EXPECT_EQ(r->landlock.rules[0].access, fs::kReadFile | fs::kReadDir);
  EXPECT_EQ(r->landlock.handled_fs, fs::kReadFile | fs::kReadDir);
  EXPECT_EQ(r->exec.argv, (Strings{"/bin/bash"}));
}


// The private /tmp hides the host's: a working directory there is not in the
// sandbox, although a mount (the tmpfs) covers it.
TEST(ResolveRoots, WorkingDirInTheHostsTmpIsRefusedUnlessARootShowsIt) {
  World w;
  w.host.cwd = "/tmp/build";
  auto refused = w.run(one_root("/srv/data"));
  ASSERT_TRUE(refused.has_value()) << err(refused);
  ASSERT_TRUE(refused->refusal.has_value());
  EXPECT_TRUE(has(refused->refusal->what, "`/tmp/build` lies in /tmp"));

  auto shown = w.run(one_root("/tmp/build"));
  ASSERT_TRUE(shown.has_value()) << err(shown);
  EXPECT_FALSE(shown->refusal.has_value());
}

// /etc/localtime -> /usr/share/zoneinfo/UTC with /usr a root of more rights:
// the link is recreated, but the target gets no mount and no rule of its
// own, which would take `execute` from it in the namespace wall only.
TEST(ResolveRoots, SymlinkedFileWhoseTargetARootCoversIsOnlyALink) {
  World w;
  w.fs.dir("/usr/share/zoneinfo").file("/usr/share/zoneinfo/UTC");
  w.fs.symlink("/etc/localtime", "/usr/share/zoneinfo/UTC");
  auto r = w.run(doc(R"(
    access_roots:
      system:
        paths: [/usr, "${PROJECT}"]
        permissions: {read_file: true, read_dir: true, execute: true}
      config:
        paths: [/etc/localtime]
        permissions: {read_file: true}
    control_access: {read_file: true, read_dir: true, execute: true}
    command: {binary: sh}
)"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(rule_at(*r, "/usr/share/zoneinfo/UTC"), nullptr);
  EXPECT_EQ(op_at(*r, MountKind::bind, "/usr/share/zoneinfo/UTC"), nullptr);
  const MountOp* link = op_at(*r, MountKind::symlink, "/etc/localtime");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->source, "/usr/share/zoneinfo/UTC");

  // A covering root with fewer rights keeps the target's own rule.
  auto narrower = w.run(doc(R"(
    access_roots:
      system:
        paths: [/usr, "${PROJECT}"]
        permissions: {read_dir: true}
      config:
        paths: [/etc/localtime]
        permissions: {read_file: true}
    control_access: {read_file: true, read_dir: true}
    command: {binary: sh}
)"));
  ASSERT_TRUE(narrower.has_value()) << err(narrower);
  EXPECT_NE(rule_at(*narrower, "/usr/share/zoneinfo/UTC"), nullptr);
}

// ---------------------------------------------------------------------------
// --overlay (run_plan.cc): the project's bind becomes an overlay whose upper
// dir is a run's, kept outside every writable root.

TEST(ResolveRun, OverlayTurnsTheProjectBindIntoAnOverlayWithAnUpperDirInHome) {
  World w;
  w.opt.overlay = true;
  w.opt.run_name = "fix-1";
  auto r = w.run(everything());
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_TRUE(r->run.enabled);
  EXPECT_EQ(r->run.dir, "/home/u/.ai-sandbox/runs/fix-1");
  ASSERT_EQ(r->ns.overlays.size(), 1u);
  EXPECT_EQ(r->ns.overlays[0].upper, "/home/u/.ai-sandbox/runs/fix-1/upper");
  EXPECT_EQ(r->ns.overlays[0].work, "/home/u/.ai-sandbox/runs/fix-1/work");
  EXPECT_EQ(r->ns.overlays[0].lower, "/home/u/dev/myproj");
  EXPECT_EQ(r->run.project, "/home/u/dev/myproj");
  EXPECT_GE(op_index(*r, MountKind::overlay, "/home/u/dev/myproj"), 0);
  EXPECT_EQ(op_index(*r, MountKind::bind, "/home/u/dev/myproj"), -1);
  const std::string text = render_text(*r);
  EXPECT_TRUE(has(text, "overlay rw")) << text;
  EXPECT_TRUE(has(text, "run: fix-1  # writes to /home/u/dev/myproj go to "
                        "/home/u/.ai-sandbox/runs/fix-1/upper"))
      << text;
}

TEST(ResolveRun, BindsBeneathTheOverlayComeFromTheMergedViewAndAreCompared) {
  World w;
  w.fs.dir("/home/u/dev/myproj/.git/hooks").file("/home/u/dev/myproj/.git/config");
  w.opt.overlay = true;
  w.opt.run_name = "r";
  auto r = w.run(everything());
  ASSERT_TRUE(r.has_value()) << err(r);
  bool beneath = false;
  for (std::size_t i = 0; i < r->ns.mounts.size(); ++i) {
    const MountOp& op = r->ns.mounts[i];
    if (op.kind != MountKind::readonly && op.kind != MountKind::bind) continue;
    if (!op.source.starts_with("/home/u/dev/myproj/")) continue;
    beneath = true;
    EXPECT_NE(overlay_holding(r->ns, i), nullptr) << op.target;
    // The stage ties the merged view's file to the host's planning saw.
    EXPECT_TRUE(r->ns.mount_seen[i].checked) << op.target;
    EXPECT_TRUE(r->ns.mount_seen[i].id.has_value()) << op.target;
  }
  EXPECT_TRUE(beneath) << "the test expects git metadata bound read-only beneath the project";
}

// overlays_holding() is overlay_holding() of every mount in one pass (a
// 10 000-root plan asked op by op was quadratic): the same answers, with
// an overlay and without one.
TEST(ResolveRun, OverlaysHoldingAnswersAsOverlayHoldingForEveryMount) {
  for (const bool overlay : {true, false}) {
    World w;
    w.fs.dir("/home/u/dev/myproj/.git/hooks").file("/home/u/dev/myproj/.git/config");
    w.opt.overlay = overlay;
    if (overlay) w.opt.run_name = "r";
    auto r = w.run(everything());
    ASSERT_TRUE(r.has_value()) << err(r);
    const std::vector<const MountOp*> held = overlays_holding(r->ns);
    ASSERT_EQ(held.size(), r->ns.mounts.size());
    std::size_t beneath = 0;
    for (std::size_t i = 0; i < held.size(); ++i) {
      EXPECT_EQ(held[i], overlay_holding(r->ns, i)) << r->ns.mounts[i].target;
      if (held[i] != nullptr) ++beneath;
    }
    EXPECT_EQ(beneath > 0, overlay) << "overlay " << overlay;
  }
}

TEST(ResolveRun, OverlayIsRefusedWhereItCannotHold) {
  struct Case {
    std::string why;
    std::function<void(World&)> set;
    std::string yaml;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"landlock mode", [](World& w) { w.opt.mode = Mode::landlock; }, everything(),
       "no mount namespace"},
      {"no user namespace", [](World& w) { w.feat = no_userns(); }, everything(),
       "needs the namespace wall"},
      {"a read-only project", [](World&) {}, doc(kReadProject), "is not a writable root"},
      {"a bad name", [](World& w) { w.opt.run_name = "../x"; }, everything(), "the name"},
      {"a run dir in a writable root", [](World& w) { w.opt.rw = {"/home/u"}; }, everything(),
       "which the sandbox may write"},
      {"an existing run", [](World& w) { w.fs.dir("/home/u/.ai-sandbox/runs/r"); }, everything(),
       "already exists"},
      {"a link on the way", [](World& w) { w.fs.symlink("/home/u/.ai-sandbox", "/home/u/.ssh"); },
       everything(), "symbolic link"},
  };
  for (const auto& c : cases) {
    World w;
    w.opt.overlay = true;
    w.opt.run_name = "r";
    c.set(w);
    auto r = w.run(c.yaml);
    ASSERT_FALSE(r.has_value()) << c.why;
    EXPECT_EQ(r.error().exit_code, 125) << c.why;
    EXPECT_TRUE(has(r.error().what, c.says)) << c.why << ": " << r.error().what;
  }
  World w;
  w.opt.run_name = "r";  // --run without --overlay
  auto r = w.run(everything());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(has(r.error().what, "needs --overlay"));
}

// `overlay: true` on a group: its roots, the project or any other writable
// root, each with its own upper and work dir in the run (issue 21: "a root
// (or the whole project)").
const std::string kOverlayGroups = R"(
    access_roots:
      proj:
        paths: ["${PROJECT}"]
        permissions: {read_file: true, read_dir: true, write_file: true, make_reg: true}
      data:
        paths: ["/srv/data", "/var/cache/u"]
        permissions: {read_file: true, read_dir: true, write_file: true, make_reg: true}
        overlay: true
    control_access: {read_file: true, read_dir: true, write_file: true, make_reg: true}
    command: {binary: sh}
)";

TEST(ResolveRun, OverlayTrueInAGroupOverlaysTheProject) {
  const std::string group = R"(
    access_roots:
      proj:
        paths: ["${PROJECT}"]
        permissions: {read_file: true, read_dir: true, write_file: true, make_reg: true}
        overlay: true
    control_access: {read_file: true, read_dir: true, write_file: true, make_reg: true}
    command: {binary: sh}
)";
  World w;
  w.opt.run_name = "from-profile";
  auto r = w.run(doc(group));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_TRUE(r->run.enabled);
  EXPECT_GE(op_index(*r, MountKind::overlay, "/home/u/dev/myproj"), 0);
  ASSERT_EQ(r->ns.overlays.size(), 1u);
  EXPECT_EQ(r->ns.overlays[0].upper, "/home/u/.ai-sandbox/runs/from-profile/upper");
  World w3;
  auto unnamed = w3.run(doc(group));  // the launcher names the run; a plan without one refuses
  ASSERT_FALSE(unnamed.has_value());
  EXPECT_TRUE(has(unnamed.error().what, "no run name"));
}

TEST(ResolveRun, OverlayTrueOnAnyWritableRootGivesItItsOwnUpperDir) {
  World w;
  w.opt.run_name = "two";
  auto r = w.run(doc(kOverlayGroups));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_TRUE(r->run.enabled);
  EXPECT_EQ(r->run.project, "/home/u/dev/myproj");
  EXPECT_GE(op_index(*r, MountKind::bind, "/home/u/dev/myproj"), 0) << "the project is bound";
  EXPECT_GE(op_index(*r, MountKind::overlay, "/srv/data"), 0);
  EXPECT_GE(op_index(*r, MountKind::overlay, "/var/cache/u"), 0);
  ASSERT_EQ(r->ns.overlays.size(), 2u);
  const std::string run = "/home/u/.ai-sandbox/runs/two/";
  EXPECT_EQ(r->ns.overlays[0].lower, "/srv/data");
  EXPECT_EQ(r->ns.overlays[0].upper, run + "upper");
  EXPECT_EQ(r->ns.overlays[0].work, run + "work");
  EXPECT_EQ(r->ns.overlays[1].lower, "/var/cache/u");
  EXPECT_EQ(r->ns.overlays[1].upper, run + "upper.2");
  EXPECT_EQ(r->ns.overlays[1].work, run + "work.2");
  EXPECT_EQ(overlay_dirs(r->ns, "/var/cache/u"), &r->ns.overlays[1]);
  EXPECT_EQ(overlay_dirs(r->ns, "/srv"), nullptr);
  // The project is written directly, and the plan says so.
  bool said = false;
  for (const auto& n : r->notes) said = said || has(n, "/home/u/dev/myproj (proj) is written directly");
  EXPECT_TRUE(said);
  const std::string text = render_text(*r);
  EXPECT_TRUE(has(text, "writes to /srv/data go to " + run + "upper, to /var/cache/u go to " +
                            run + "upper.2"))
      << text;
  const std::string json = render_json(*r);
  EXPECT_TRUE(has(json, "\"lower\":\"/var/cache/u\",\"upper\":\"" + run + "upper.2\"")) << json;

  // With --overlay too: the project is the first root.
  World both;
  both.opt.run_name = "both";
  both.opt.overlay = true;
  auto b = both.run(doc(kOverlayGroups));
  ASSERT_TRUE(b.has_value()) << err(b);
  ASSERT_EQ(b->ns.overlays.size(), 3u);
  EXPECT_EQ(b->ns.overlays[0].lower, "/home/u/dev/myproj");
  EXPECT_EQ(b->ns.overlays[0].upper, "/home/u/.ai-sandbox/runs/both/upper");
  EXPECT_EQ(b->ns.overlays[2].upper, "/home/u/.ai-sandbox/runs/both/upper.3");
  EXPECT_EQ(run_layer_dir("work", 0), "work");
  EXPECT_EQ(run_layer_dir("committed", 1), "committed.2");
}

TEST(ResolveRun, OverlayTrueIsRefusedWhereARootCannotBeOverlaid) {
  struct Case {
    std::string why;
    std::string from, to;  // replaced in kOverlayGroups
    std::function<void(World&)> set;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"a read-only root", "data:\n        paths: [\"/srv/data\", \"/var/cache/u\"]\n        "
                           "permissions: {read_file: true, read_dir: true, write_file: true, make_reg: true}",
       "data:\n        paths: [\"/srv/data\"]\n        permissions: {read_file: true, read_dir: true}",
       [](World&) {}, "test.yaml:9:17: `overlay: true` in group `data`: the root `/srv/data` is not a "
                      "writable root"},
      {"a file", "/var/cache/u", "/etc/hosts", [](World&) {}, "is a file; overlayfs overlays directories only"},
      {"one inside another", "/var/cache/u", "${PROJECT}/sub", [](World& w) { w.opt.overlay = true; },
       "`/home/u/dev/myproj/sub` lies inside `/home/u/dev/myproj`, which is overlaid too"},
      {"the sandbox's own /tmp", "/var/cache/u", "/tmp", [](World&) {}, "bound from the host"},
      {"landlock mode", "", "", [](World& w) { w.opt.mode = Mode::landlock; }, "no mount namespace"},
  };
  for (const auto& c : cases) {
    std::string yaml = kOverlayGroups;
    if (!c.from.empty()) {
      ASSERT_NE(yaml.find(c.from), std::string::npos) << c.why;
      yaml.replace(yaml.find(c.from), c.from.size(), c.to);
    }
    World w;
    w.opt.run_name = "r";
    c.set(w);
    auto r = w.run(doc(yaml));
    ASSERT_FALSE(r.has_value()) << c.why;
    EXPECT_EQ(r.error().exit_code, 125) << c.why;
    EXPECT_TRUE(has(r.error().what, c.says)) << c.why << ": " << r.error().what;
  }
  // Roots none of which exists: nothing to keep, said, no run.
  std::string missing = kOverlayGroups;
  const std::string both = "[\"/srv/data\", \"/var/cache/u\"]";
  missing.replace(missing.find(both), both.size(), "[\"/srv/none\"]");
  World w;
  w.opt.run_name = "r";
  auto r = w.run(doc(missing));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_FALSE(r->run.enabled);
  bool said = false;
  for (const auto& n : r->notes) said = said || has(n, "none of its roots exists here");
  EXPECT_TRUE(said);
}

// Landlock rules an overlay provides beneath its root (those split around
// a secret store that may be created there) are compared with
// what planning saw, like rules beneath a bind: listed in merged_rules for
// the stage, which ties them to the host's path before pivot_root.
TEST(ResolveRun, RulesAnOverlayProvidesAreComparedBeforePivot) {
  const std::string yaml = R"(
    access_roots:
      proj:
        paths: ["${PROJECT}"]
        permissions: {read_file: true, read_dir: true}
      config:
        paths: ["/home/u/.config"]
        permissions: {read_file: true, read_dir: true, write_file: true, make_reg: true, make_dir: true}
        overlay: true
    control_access: {read_file: true, read_dir: true, write_file: true, make_reg: true, make_dir: true}
    command: {binary: sh}
)";
  World w;
  w.fs.dir("/home/u/.config/foo");  // ~/.config/gh is missing: creatable, the rules split
  w.opt.run_name = "r";
  auto r = w.run(doc(yaml));
  ASSERT_TRUE(r.has_value()) << err(r);
  const auto& l = r->landlock;
  std::vector<std::string> merged;
  for (const std::size_t i : l.merged_rules) {
    merged.push_back(l.rules[i].path);
    EXPECT_TRUE(l.rule_seen[i].checked) << l.rules[i].path;
    EXPECT_TRUE(l.rule_seen[i].id.has_value()) << l.rules[i].path;
  }
  EXPECT_TRUE(std::is_sorted(l.merged_rules.begin(), l.merged_rules.end()));
  // The overlay's root is its mount, not a host path: not compared.
  EXPECT_EQ(std::find(merged.begin(), merged.end(), "/home/u/.config"), merged.end());
  EXPECT_NE(std::find(merged.begin(), merged.end(), "/home/u/.config/foo"), merged.end())
      << "a rule split beneath the overlay";
  EXPECT_EQ(std::find(merged.begin(), merged.end(), "/home/u/dev/myproj"), merged.end())
      << "the project is a bind here";
  // Without the overlay none is.
  World plain;
  plain.fs.dir("/home/u/.config/foo");
  std::string bound = yaml;
  bound.erase(bound.find("        overlay: true\n"), 22);
  auto b = plain.run(doc(bound));
  ASSERT_TRUE(b.has_value()) << err(b);
  EXPECT_TRUE(b->landlock.merged_rules.empty());
}

TEST(ResolveRun, RunNames) {
  for (const std::string ok : {"a", "fix-tests", "2026-01-31a", "v1.2_b"})
    EXPECT_FALSE(run_name_problem(ok)) << ok;
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", ".hidden", "-x", "a/b", "a b", "x\n",
                                std::string(65, 'a')})
    EXPECT_TRUE(run_name_problem(bad)) << bad;
}

}  // namespace
}  // namespace aisbx::plan
