// The Oracle over hand-built Plans (and, for the round trip, over Plans that
// resolve() makes from YAML on a FakeFs). Every expectation is written from
// how the stages build the sandbox (DESIGN.md, src/stages/mounts.cc and
// special_fs.cc): the deepest mount decides the flags, `deny` masks cover
// everything beneath them, the sandbox's /tmp and /dev are its own, a
// Landlock directory rule covers its subtree and a file rule only the file,
// and rights the ruleset does not handle are never missing.
#include "aisbx/oracle.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aisbx/features.h"
#include "aisbx/host.h"
#include "aisbx/options.h"
#include "aisbx/plan.h"
#include "aisbx/profile.h"
#include "aisbx/rights.h"
#include "unit/fake_fs.h"
#include "unit/test_profile.h"
#include "unit/text_assertions.h"

namespace aisbx::plan {
namespace {

using test::FakeFs;
using test::has;

constexpr AccessMask kRead = fs::kReadFile | fs::kReadDir;
constexpr AccessMask kReadExec = kRead | fs::kExecute;
// clang-format off
constexpr AccessMask kHandled = fs::kExecute | fs::kWriteFile | fs::kReadFile | fs::kReadDir |
                                fs::kRemoveDir | fs::kRemoveFile | fs::kMakeDir | fs::kMakeReg |
                                fs::kMakeSym | fs::kTruncate;
// clang-format on

LandlockRule rule(const std::string& path, AccessMask a, const std::string& origin,
                  bool is_dir = true, bool implicit = false) {
  return {path, is_dir, a, a, origin, implicit};
}

MountOp op(MountKind k, const std::string& target, bool ro, bool noexec,
           const std::string& origin) {
  return {k, k == MountKind::symlink ? "" : target, target, ro, noexec, origin, false};
}

// Landlock alone: the whole host tree is there, only the rules decide.
Plan landlock_only() {
  Plan p;
  p.mode = Mode::landlock;
  p.landlock.enabled = true;
  p.landlock.abi = 7;
  p.landlock.handled_fs = kHandled;
  p.landlock.rules = {rule("/usr", kReadExec, "system"),
                      rule("/home/u/p", kRead, "project"),
                      rule("/home/u/p/bin", fs::kExecute, "tools"),
                      rule("/etc/ld.so.cache", fs::kReadFile, "config", false)};
  return p;
}

// Both walls, reads controlled: an empty root with the roots bound into it.
Plan layered() {
  Plan p = landlock_only();
  p.mode = Mode::layered;
  p.ns.enabled = true;
  p.ns.empty_root = true;
  p.ns.mounts = {
      op(MountKind::tmpfs_root, "/", false, true, "implicit"),
      op(MountKind::tmp, "/tmp", false, false, "implicit"),
      op(MountKind::bind, "/usr", true, false, "system"),
      op(MountKind::bind, "/home/u/p", true, true, "project"),
      op(MountKind::bind, "/home/u/p/bin", true, false, "tools"),
      op(MountKind::bind, "/tmp/t/proj", false, true, "scratch"),
      op(MountKind::bind, "/etc/ld.so.cache", true, true, "config"),
      op(MountKind::symlink, "/lib", true, true, "implicit"),
      op(MountKind::proc, "/proc", false, true, "implicit"),
      op(MountKind::dev, "/dev", false, true, "implicit"),
      op(MountKind::mask_dir, "/home/u/p/secrets", true, true, "project"),
      op(MountKind::mask_file, "/home/u/p/.env", true, true, "project"),
  };
  p.ns.mounts[7].source = "usr/lib";
  p.landlock.rules.push_back(
      rule("/tmp/t/proj", kRead | fs::kWriteFile | fs::kMakeReg, "scratch"));
  return p;
}

// ---------------------------------------------------------------------------
// The namespace wall's view.

TEST(OracleSeen, EverythingIsThereWithoutTheNamespaceWall) {
  const Plan p = landlock_only();
  const Oracle o(p);
  for (const char* path :
       {"/", "/opt/tool", "/tmp/x", "/dev/sda", "/home/u/p/secrets/key"})
    EXPECT_EQ(o.seen(path), Seen::visible) << path;
  EXPECT_EQ(o.mount_of("/usr/bin/sh"), nullptr);
}

TEST(OracleSeen, OnlyRootsTheWayToThemAndTheSandboxsOwnTreesExist) {
  const Plan p = layered();
  const Oracle o(p);
  EXPECT_EQ(o.seen("/"), Seen::visible);
  EXPECT_EQ(o.seen("/home/u"), Seen::visible) << "a directory on the way to a bind";
  EXPECT_EQ(o.seen("/home/u/p/src/main.c"), Seen::visible);
  EXPECT_EQ(o.seen("/home/u/other"), Seen::absent);
  EXPECT_EQ(o.seen("/opt"), Seen::absent);
  EXPECT_EQ(o.seen("/etc"), Seen::visible);
  EXPECT_EQ(o.seen("/etc/passwd"), Seen::absent);
  EXPECT_EQ(o.seen("/lib"), Seen::visible) << "a recreated symlink";
  EXPECT_EQ(o.seen("/lib64"), Seen::absent);
}

TEST(OracleSeen, TmpAndDevAreTheSandboxsOwn) {
  const Plan p = layered();
  const Oracle o(p);
  EXPECT_EQ(o.seen("/tmp"), Seen::visible);
  EXPECT_EQ(o.seen("/tmp/t"), Seen::visible) << "on the way to the bind of /tmp/t/proj";
  EXPECT_EQ(o.seen("/tmp/t/proj/x"), Seen::visible);
  EXPECT_EQ(o.seen("/tmp/t/other"), Seen::private_fs);
  EXPECT_EQ(o.seen("/tmp/host-file"), Seen::private_fs);
  EXPECT_EQ(o.seen("/dev/null"), Seen::visible);
  EXPECT_EQ(o.seen("/dev/pts/0"), Seen::visible);
  EXPECT_EQ(o.seen("/dev/sda"), Seen::private_fs);
  EXPECT_EQ(o.seen("/proc/self/status"), Seen::visible);
}

TEST(OracleSeen, DenyMasksHideWhatLiesBeneath) {
  const Plan p = layered();
  const Oracle o(p);
  EXPECT_EQ(o.seen("/home/u/p/secrets"), Seen::visible)
      << "the mask itself is an empty dir";
  EXPECT_EQ(o.seen("/home/u/p/secrets/key"), Seen::hidden);
  EXPECT_EQ(o.seen("/home/u/p/secrets/a/b"), Seen::hidden);
  EXPECT_EQ(o.seen("/home/u/p/.env"), Seen::hidden);
  EXPECT_EQ(o.seen("/home/u/p/.envrc"), Seen::visible);
}

TEST(OracleSeen, TheDeepestMountDecides) {
  const Plan p = layered();
  const Oracle o(p);
  ASSERT_NE(o.mount_of("/home/u/p/bin/tool"), nullptr);
  EXPECT_EQ(o.mount_of("/home/u/p/bin/tool")->origin, "tools");
  EXPECT_EQ(o.mount_of("/home/u/p/src")->origin, "project");
  EXPECT_EQ(o.mount_of("/home/u"), nullptr)
      << "the empty root has no mount op of its own";
}

// ---------------------------------------------------------------------------
// Landlock rights.

TEST(OracleLandlock, DirectoryRulesCoverTheirSubtreeAndAddUp) {
  const Plan p = landlock_only();
  const Oracle o(p);
  EXPECT_EQ(o.landlock_rights("/home/u/p/src/a.c"), kRead);
  EXPECT_EQ(o.landlock_rights("/home/u/p/bin/tool"), kRead | fs::kExecute);
  EXPECT_EQ(o.landlock_rights("/home/u/pp"), 0u) << "a sibling with a common prefix";
  EXPECT_EQ(o.landlock_rights("/etc/ld.so.cache"), fs::kReadFile);
  EXPECT_EQ(o.landlock_rights("/etc/ld.so.cache.d/x"), 0u)
      << "a file rule covers only itself";
}

TEST(OracleCheck, ExecNeedsReadFileAndExecuteFromLandlock) {
  const Plan p = landlock_only();
  const Oracle o(p);
  EXPECT_TRUE(o.check("/usr/bin/sh", need_exec()).ok());
  EXPECT_TRUE(o.check("/home/u/p/bin/tool", need_exec()).ok());
  const Verdict v = o.check("/home/u/p/tool", need_exec());
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.missing_landlock, fs::kExecute);
  EXPECT_EQ(v.missing_mount, 0u) << "no namespace wall";
  ASSERT_FALSE(v.rule_groups.empty());
  EXPECT_EQ(v.rule_groups.front(), "project");
  const Verdict outside = o.check("/opt/tool", need_exec());
  EXPECT_EQ(outside.missing_landlock, fs::kExecute | fs::kReadFile);
  EXPECT_EQ(outside.seen, Seen::visible);
}

TEST(OracleCheck, RightsTheRulesetDoesNotHandleAreNeverMissing) {
  Plan p = landlock_only();
  p.landlock.handled_fs = kRead;  // execute not controlled
  const Oracle o(p);
  EXPECT_TRUE(o.check("/home/u/p/tool", need_exec()).ok());
  EXPECT_FALSE(o.check("/opt/tool", need_exec()).ok()) << "read_file is still handled";
  p.landlock.enabled = false;
  EXPECT_TRUE(Oracle(p).check("/opt/tool", need_exec()).ok());
}

TEST(OracleCheck, TheNamespaceWallRefusesExecOnNoexecAndWritesOnReadOnly) {
  const Plan p = layered();
  const Oracle o(p);
  const Verdict lib = o.check("/home/u/p/lib/libx.so", need_load());
  EXPECT_EQ(lib.missing_mount, fs::kExecute) << "a library is mapped PROT_EXEC";
  EXPECT_EQ(lib.missing_landlock, 0u) << "Landlock does not check mmap";
  EXPECT_TRUE(o.check("/usr/lib/libc.so.6", need_load()).ok());
  const Verdict home = o.check("/usr/share", need_home());
  EXPECT_EQ(home.missing_mount & fs::kWriteFile, fs::kWriteFile);
  EXPECT_EQ(home.mount_origin, "system");
  const Verdict root_dir = o.check("/home/u", need_home());
  EXPECT_NE(root_dir.missing_mount & fs::kMakeReg, 0u) << "the empty root is read-only";
  const Verdict hidden = o.check("/home/u/p/secrets/key", need_read());
  EXPECT_EQ(hidden.seen, Seen::hidden);
  EXPECT_EQ(hidden.deny_group, "project");
  EXPECT_FALSE(hidden.ok());
}

// ---------------------------------------------------------------------------
// The walk through symlinks, component by component.

FakeFs host() {
  FakeFs fs;
  fs.dir("/usr/bin").file("/usr/bin/sh").dir("/usr/lib/x86_64-linux-gnu");
  fs.file("/usr/lib/x86_64-linux-gnu/libc.so.6");
  fs.symlink("/lib", "usr/lib").symlink("/lib64", "usr/lib64");
  fs.dir("/usr/lib64").symlink("/usr/lib64/ld.so", "../lib/x86_64-linux-gnu/ld.so");
  fs.file("/usr/lib/x86_64-linux-gnu/ld.so");
  fs.dir("/home/u/p/bin").file("/home/u/p/bin/tool").file("/home/u/p/tool");
  fs.symlink("/home/u/p/passwd", "/etc/passwd").file("/etc/passwd");
  fs.symlink("/home/u/p/up", "../../../opt/tool/bin/tool").file("/opt/tool/bin/tool");
  fs.symlink("/home/u/p/loop-a", "loop-b").symlink("/home/u/p/loop-b", "loop-a");
  fs.dir("/home/u/p/secrets").file("/home/u/p/secrets/key");
  fs.file("/tmp/x/tool");
  return fs;
}

TEST(OracleResolve, FollowsRecreatedLinksIntoVisibleTrees) {
  const Plan p = layered();
  const FakeFs fs = host();
  const Resolution r = Oracle(p).resolve(fs, "/lib/x86_64-linux-gnu/libc.so.6");
  ASSERT_TRUE(r.target) << Oracle(p).explain(r);
  EXPECT_EQ(*r.target, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(r.links, std::vector<std::string>{"/lib"});
}

TEST(OracleResolve, StopsAtTheFirstComponentTheSandboxLacks) {
  const Plan p = layered();
  const FakeFs fs = host();
  const Oracle o(p);
  const Resolution abs = o.resolve(fs, "/opt/tool/bin/tool");
  EXPECT_FALSE(abs.target);
  EXPECT_EQ(abs.blocked, "/opt");
  EXPECT_EQ(abs.blocked_why, Seen::absent);
  EXPECT_EQ(abs.reached, "/opt/tool/bin/tool");
  // /lib64 is not recreated in this plan, although the host has it.
  const Resolution ld = o.resolve(fs, "/lib64/ld.so");
  EXPECT_EQ(ld.blocked, "/lib64");
  // Through a link inside a root to a place outside every root.
  const Resolution out = o.resolve(fs, "/home/u/p/up");
  EXPECT_EQ(out.blocked, "/opt");
  EXPECT_EQ(out.reached, "/opt/tool/bin/tool");
  EXPECT_EQ(out.links, std::vector<std::string>{"/home/u/p/up"});
  const Resolution hidden = o.resolve(fs, "/home/u/p/secrets/key");
  EXPECT_EQ(hidden.blocked, "/home/u/p/secrets/key");
  EXPECT_EQ(hidden.blocked_why, Seen::hidden);
}

TEST(OracleResolve, WithoutTheNamespaceWallOnlyTheHostDecides) {
  const Plan p = landlock_only();
  const FakeFs fs = host();
  const Oracle o(p);
  const Resolution r = o.resolve(fs, "/lib64/ld.so");
  ASSERT_TRUE(r.target);
  EXPECT_EQ(*r.target, "/usr/lib/x86_64-linux-gnu/ld.so");
  EXPECT_EQ(r.links.size(), 2u);
  const Resolution missing = o.resolve(fs, "/usr/bin/nosuch");
  EXPECT_FALSE(missing.target);
  EXPECT_EQ(missing.missing, "/usr/bin/nosuch");
  EXPECT_TRUE(missing.blocked.empty());
  const Resolution loop = o.resolve(fs, "/home/u/p/loop-a");
  EXPECT_TRUE(loop.loop);
  EXPECT_FALSE(loop.target);
}

// ---------------------------------------------------------------------------
// What it says, and what it suggests.

TEST(OracleExplain, NamesThePathTheRightAndTheWall) {
  const Plan p = layered();
  const Oracle o(p);
  const std::string s = o.explain(o.check("/home/u/p/tool", need_exec()));
  EXPECT_TRUE(has(s, "`/home/u/p/tool` lacks execute"));
  EXPECT_TRUE(has(s, "grant only read_file, read_dir"));
  EXPECT_TRUE(has(s, "mounts it noexec (group project)"));
  EXPECT_EQ(o.explain(o.check("/usr/bin/sh", need_exec())), "");
  const FakeFs fs = host();
  EXPECT_TRUE(
      has(o.explain(o.resolve(fs, "/opt/tool/bin/tool")),
          "`/opt/tool/bin/tool` is not in the sandbox: `/opt` lies under no root"));
  EXPECT_TRUE(has(o.explain(o.resolve(fs, "/tmp/x/tool")), "sandbox's own `/tmp`"));
  EXPECT_TRUE(has(o.explain(o.check("/home/u/p/secrets/key", need_read())),
                  "hidden by access_roots.project.deny"));
}

TEST(OracleSuggest, ExtendsTheCoveringGroupOrAddsAGroup) {
  const Plan p = layered();
  const Oracle o(p);
  const Verdict v = o.check("/home/u/p/tool", need_exec());
  const std::string s = o.suggest("/home/u/p", need_exec(), &v);
  EXPECT_TRUE(has(s, "add `execute: true` to access_roots.project.permissions"));
  EXPECT_TRUE(has(
      s, "`p: {paths: [\"/home/u/p\"], permissions: {execute: true, read_file: true}}`"));
  // A name a group of the profile already has would be a duplicate key.
  EXPECT_TRUE(
      has(o.suggest("/x/project", need_read()), "`project-2: {paths: [\"/x/project\"]"));
  // Not covered at all: only the new group.
  const std::string add = o.suggest("/opt/my tool", need_exec());
  EXPECT_EQ(
      add,
      "add `/opt/my tool` to a group with `execute: true, read_file: true`, e.g. under "
      "access_roots: `my-tool: {paths: [\"/opt/my tool\"], permissions: {execute: true, "
      "read_file: true}}`");
  // A library needs execute only for the mount, and only with the namespace wall.
  EXPECT_TRUE(
      has(o.suggest("/opt/lib", need_load()), "{execute: true, read_file: true}"));
  EXPECT_TRUE(has(Oracle(landlock_only()).suggest("/opt/lib", need_load()),
                  "permissions: {read_file: true}}"));
  const Verdict hidden = o.check("/home/u/p/.env", need_read());
  EXPECT_TRUE(has(o.suggest("/home/u/p", need_read(), &hidden),
                  "from access_roots.project.deny"));
}

TEST(OracleSuggest, AddsTheRootThatLetsABlockedWalkThrough) {
  const Plan p = layered();
  const FakeFs fs = host();
  const Oracle o(p);
  // A directory the walk stopped in: the directory of what it was reaching.
  EXPECT_EQ(o.root_to_add(fs, o.resolve(fs, "/opt/tool/bin/tool")), "/opt/tool/bin");
  EXPECT_EQ(o.root_to_add(fs, o.resolve(fs, "/home/u/p/up")), "/opt/tool/bin");
  // A symlink the sandbox lacks: only a root written through it recreates it.
  EXPECT_EQ(o.root_to_add(fs, o.resolve(fs, "/lib64/ld.so")), "/lib64");
  // Inside the sandbox the host's link is not there to see: a merged-/usr
  // name is taken for one.
  const FakeFs empty;
  EXPECT_EQ(o.root_to_add(empty, o.resolve(empty, "/lib64/ld.so")), "/lib64");
  EXPECT_TRUE(has(o.suggest(fs, o.resolve(fs, "/lib64/ld.so"), need_exec()),
                  "add `/lib64` to a group with `execute: true, read_file: true`"));
  // A `deny` mask stopped it: the pattern is what to change.
  EXPECT_TRUE(has(o.suggest(fs, o.resolve(fs, "/home/u/p/secrets/key"), need_read()),
                  "from access_roots.project.deny"));
}

TEST(OracleSuggest, RightsAreWrittenAsTheProfileWritesThem) {
  EXPECT_EQ(rights_yaml(fs::kReadFile | fs::kExecute), "execute: true, read_file: true");
  EXPECT_EQ(rights_yaml(0), "");
}

// The suggestion, pasted into the profile, is a profile that parses, and
// the Plan resolved from it allows what was refused: in both modes.
struct RoundTrip : ::testing::TestWithParam<Mode> {};

TEST_P(RoundTrip, TheSuggestedGroupMakesTheRefusedUseAllowed) {
  FakeFs fs = host();
  fs.dir("/home/u/proj");
  HostFacts h;
  h.uid = h.gid = 1000;
  h.home = "/home/u";
  h.cwd = "/home/u/proj";
  Options opt;
  opt.mode = GetParam();
  const Features feat = Features::full(7);
  const std::string head = R"(version: 1
profiles:
  p:
    access_roots:
      system:
        paths: [/usr]
        permissions: {read_file: true, read_dir: true, execute: true}
      project:
        paths: ["${PROJECT}"]
        permissions: {read_file: true, read_dir: true}
)";
  const std::string tail =
      R"(    control_access: {read_file: true, read_dir: true, execute: true}
    command: {binary: /opt/tool/bin/tool}
)";
  auto plan_of = [&](const std::string& yaml) -> std::optional<Plan> {
    auto prof = test::test_profile(yaml, "t.yaml");
    if (!prof) return std::nullopt;
    auto plan = resolve(Inputs{*prof, "t.yaml", opt, feat, h, fs});
    if (!plan) {
      ADD_FAILURE() << plan.error().what;
      return std::nullopt;
    }
    return *plan;
  };
  const auto before = plan_of(head + tail);
  ASSERT_TRUE(before);
  const Oracle o1(*before);
  const std::string tool = "/opt/tool/bin/tool";
  const Resolution r = o1.resolve(fs, tool);
  const bool refused = !r.target || !o1.check(*r.target, need_exec()).ok();
  ASSERT_TRUE(refused) << "the fixture must start refused";
  const std::string fix = o1.suggest("/opt/tool/bin", need_exec());
  const std::string marker = "under access_roots: `";
  const auto at = fix.find(marker);
  ASSERT_NE(at, std::string::npos) << fix;
  const std::string group =
      fix.substr(at + marker.size(), fix.rfind('`') - at - marker.size());
  const auto after = plan_of(head + "      " + group + "\n" + tail);
  ASSERT_TRUE(after);
  const Oracle o2(*after);
  const Resolution r2 = o2.resolve(fs, tool);
  ASSERT_TRUE(r2.target) << o2.explain(r2);
  EXPECT_TRUE(o2.check(*r2.target, need_exec()).ok())
      << o2.explain(o2.check(*r2.target, need_exec()));
}

INSTANTIATE_TEST_SUITE_P(Modes, RoundTrip,
                         ::testing::Values(Mode::layered, Mode::landlock),
                         [](const ::testing::TestParamInfo<Mode>& p) {
                           return std::string(to_string(p.param));
                         });

// ---------------------------------------------------------------------------
// Nested roots.

TEST(OverlappingRoots, AnInnerRootLackingTheOuterRootsRightsIsReported) {
  Plan p = layered();
  p.landlock.rules = {
      rule("/home/u/p", kRead | fs::kWriteFile | fs::kMakeReg | fs::kExecute, "project"),
      rule("/home/u/p/vendor", kRead, "vendor")};
  const auto o = overlapping_roots(p);
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o[0].inner, "/home/u/p/vendor");
  EXPECT_EQ(o[0].outer, "/home/u/p");
  EXPECT_EQ(o[0].inner_groups, "vendor");
  EXPECT_EQ(o[0].outer_groups, "project");
  EXPECT_EQ(o[0].lost, fs::kWriteFile | fs::kMakeReg | fs::kExecute);
}

TEST(OverlappingRoots, WideningSharedGroupsAndImplicitRulesAreNot) {
  Plan p = layered();
  p.landlock.rules = {
      rule("/home/u/p", kRead, "project"),
      rule("/home/u/p/build", kRead | fs::kWriteFile,
           "build"),                                     // wider: both walls agree
      rule("/home/u/p/docs", fs::kReadFile, "project"),  // the Landlock split's kind
      rule("/home/u/p/.cache", fs::kReadFile, "private HOME", true, true),
      rule("/home/u/p/a.txt", fs::kReadFile, "files", false),  // a file: read_dir is moot
  };
  EXPECT_TRUE(overlapping_roots(p).empty());
}

TEST(OverlappingRoots, OnlyRightsAWallEnforcesCount) {
  Plan p = landlock_only();
  p.landlock.handled_fs = kRead;  // execute not controlled, no namespace wall
  p.landlock.rules = {rule("/home/u/p", kReadExec, "project"),
                      rule("/home/u/p/x", kRead, "x")};
  EXPECT_TRUE(overlapping_roots(p).empty());
  p.ns.enabled = true;  // a noexec mount for the inner root: now the walls disagree
  ASSERT_EQ(overlapping_roots(p).size(), 1u);
  EXPECT_EQ(overlapping_roots(p)[0].lost, fs::kExecute);
}

// Suggested lines quote paths so that no name can break the YAML: quotes,
// backslashes and control characters (a newline in a file name) escaped.
TEST(YamlQuote, EscapesWhatWouldEndOrBreakTheScalar) {
  EXPECT_EQ(yaml_quote("/srv/data"), "\"/srv/data\"");
  EXPECT_EQ(yaml_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(yaml_quote("x\ny\x7f"), "\"x\\x0ay\\x7f\"");
}

// Group names suggested by --check, exec errors, --trace and learn.
TEST(YamlQuote, KeysFromPathsNeedNoQuoting) {
  EXPECT_EQ(yaml_key_of("/opt/My Tool--v2.1/"), "");
  EXPECT_EQ(yaml_key_of("/opt/My Tool--v2.1"), "my-tool-v2-1");
  EXPECT_EQ(yaml_key_of("/etc/.env"), "env");
  EXPECT_EQ(yaml_key_of("/x/../"), "");
}

}  // namespace
}  // namespace aisbx::plan
