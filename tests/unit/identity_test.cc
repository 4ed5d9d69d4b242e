// The identity post-pass (src/plan/identity_plan.cc): what planning saw at
// every path a stage opens. Expectations written from its rules:
// - landlock mode: every rule is compared (split rules included), with the
//   identity lstat gives; an implicit path made at launch (private HOME)
//   only if it exists at planning;
// - layered mode: binds and readonly binds compare their source, masks their
//   target; Landlock rules are compared only where a bind of the same host
//   path provides them in the new root, never in the sandbox's own /proc,
//   /dev, /tmp or beneath a mask.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "aisbx/features.h"
#include "aisbx/host.h"
#include "aisbx/options.h"
#include "aisbx/plan.h"
#include "unit/fake_fs.h"
#include "unit/test_profile.h"

namespace aisbx::plan {
namespace {

constexpr const char* kProject = "/home/u/work/repo";

std::string at(const std::string& rel) { return std::string(kProject) + "/" + rel; }

// The project writable, with a read-only `.git/hooks` and a denied
// `secrets` beside `.git/objects`; `roots` adds groups (6 spaces in).
std::string doc(const std::string& roots = "", const std::string& extra = "") {
  return "version: 1\nprofiles:\n  p:\n    access_roots:\n"
         "      proj:\n        paths: [\"${PROJECT}\"]\n"
         "        permissions: {read_file: true, read_dir: true, write_file: true,"
         " make_reg: true, make_dir: true, remove_file: true}\n"
         "        deny: [\"secrets\"]\n        readonly: [\".git/hooks\"]\n" +
         roots +
         "    control_access: {read_file: true, read_dir: true, write_file: true,"
         " make_reg: true, make_dir: true, remove_file: true}\n"
         "    command:\n      binary: sh\n" +
         extra;
}

struct Host {
  test::FakeFs fs;
  HostFacts host;
  Options opt;
  Features feat = Features::full(7);

  Host() {
    host.uid = 1000;
    host.gid = 1000;
    host.home = "/home/u";
    host.cwd = kProject;
    host.env = {{"HOME", "/home/u"}};
    fs.dir("/usr/bin").file("/usr/bin/sh").dir("/proc").dir("/dev").file("/dev/null");
    fs.dir("/tmp/shared");
    fs.dir(at(".git/objects")).dir(at(".git/hooks")).file(at(".git/HEAD"));
    fs.dir(at("secrets")).file(at("secrets/key")).file(at("main.c"));
  }

  Plan plan(const std::string& yaml, Mode mode) {
    opt.mode = mode;
    auto prof = test::test_profile(yaml, "id.yaml");
    EXPECT_TRUE(prof.has_value());
    auto p = resolve(Inputs{*prof, "id.yaml", opt, feat, host, fs});
    EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().what);
    return p ? *p : Plan{};
  }
};

// What planning saw at the path of the rule for `path` (nullptr: no rule).
const PlannedId* rule(const Plan& p, const std::string& path) {
  EXPECT_EQ(p.landlock.rule_seen.size(), p.landlock.rules.size());
  for (std::size_t i = 0; i < p.landlock.rules.size() && i < p.landlock.rule_seen.size(); ++i)
    if (p.landlock.rules[i].path == path) return &p.landlock.rule_seen[i];
  return nullptr;
}

bool implicit_rule(const Plan& p, const std::string& path) {
  for (const auto& r : p.landlock.rules)
    if (r.path == path) return r.implicit;
  return false;
}

// What planning saw for the mount of `kind` at `target` (nullptr: none).
const PlannedId* op(const Plan& p, MountKind kind, const std::string& target) {
  EXPECT_EQ(p.ns.mount_seen.size(), p.ns.mounts.size());
  for (std::size_t i = 0; i < p.ns.mounts.size() && i < p.ns.mount_seen.size(); ++i)
    if (p.ns.mounts[i].kind == kind && p.ns.mounts[i].target == target)
      return &p.ns.mount_seen[i];
  return nullptr;
}

TEST(IdentityPlan, LandlockModeComparesEverySplitRule) {
  Host h;
  const Plan p = h.plan(doc(), Mode::landlock);
  ASSERT_FALSE(p.ns.enabled);
  // The split made rules for the siblings of the protected paths.
  for (const char* rel : {".git", ".git/objects", ".git/hooks", ".git/HEAD", "main.c"}) {
    const PlannedId* r = rule(p, at(rel));
    ASSERT_NE(r, nullptr) << rel;
    EXPECT_TRUE(r->checked) << rel;
    ASSERT_TRUE(r->id.has_value()) << rel;
    EXPECT_EQ(*r->id, *h.fs.identity(at(rel))) << rel;
  }
  // Distinct nodes, distinct identities: a swap would show.
  EXPECT_NE(rule(p, at(".git/objects"))->id, rule(p, at(".git/hooks"))->id);
  for (const auto& s : p.landlock.rule_seen) EXPECT_TRUE(s.checked);
}

TEST(IdentityPlan, PrivateHomeMadeAtLaunchIsNotCompared) {
  Host h;
  // Shared: the HOME is the path as written, not a per-project subdirectory.
  const std::string extra = "    home: {path: /home/u/.ai-sandbox/p-home, shared: true}\n";
  const Plan missing = h.plan(doc("", extra), Mode::landlock);
  const PlannedId* r = rule(missing, "/home/u/.ai-sandbox/p-home");
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(implicit_rule(missing, "/home/u/.ai-sandbox/p-home"));
  EXPECT_FALSE(r->checked) << "created at launch: nothing to compare with";

  h.fs.dir("/home/u/.ai-sandbox/p-home");
  const Plan there = h.plan(doc("", extra), Mode::landlock);
  r = rule(there, "/home/u/.ai-sandbox/p-home");
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->checked) << "it exists: it must stay what it is";
  EXPECT_EQ(r->id, h.fs.identity("/home/u/.ai-sandbox/p-home"));
  const Plan layered = h.plan(doc("", extra), Mode::layered);
  const PlannedId* home = op(layered, MountKind::home,
                           "/home/u/.ai-sandbox/p-home");
  ASSERT_NE(home, nullptr);
  EXPECT_TRUE(home->checked);
  EXPECT_EQ(home->id, h.fs.identity("/home/u/.ai-sandbox/p-home"));
}

TEST(IdentityPlan, LayeredModeComparesBindSourcesAndMaskTargets) {
  Host h;
  const Plan p = h.plan(doc(), Mode::layered);
  ASSERT_TRUE(p.ns.enabled);
  const PlannedId* bind = op(p, MountKind::bind, kProject);
  ASSERT_NE(bind, nullptr);
  EXPECT_TRUE(bind->checked);
  EXPECT_EQ(bind->id, h.fs.identity(kProject));
  const PlannedId* ro = op(p, MountKind::readonly, at(".git/hooks"));
  ASSERT_NE(ro, nullptr);
  EXPECT_TRUE(ro->checked);
  EXPECT_EQ(ro->id, h.fs.identity(at(".git/hooks")));
  const PlannedId* mask = op(p, MountKind::mask_dir, at("secrets"));
  ASSERT_NE(mask, nullptr);
  EXPECT_TRUE(mask->checked);
  EXPECT_EQ(mask->id, h.fs.identity(at("secrets")));
  // What the sandbox makes itself has nothing of the host's to compare.
  for (MountKind k : {MountKind::tmpfs_root, MountKind::tmp, MountKind::proc, MountKind::dev}) {
    const auto& m = p.ns.mounts;
    const auto it = std::find_if(m.begin(), m.end(), [&](const MountOp& o) { return o.kind == k; });
    ASSERT_NE(it, m.end()) << to_string(k);
    EXPECT_FALSE(p.ns.mount_seen[static_cast<std::size_t>(it - m.begin())].checked) << to_string(k);
  }
}

TEST(IdentityPlan, LayeredRulesComparedOnlyWhereABindProvidesThem) {
  Host h;
  // /tmp/shared: a host directory bound into the private /tmp (same inode
  // inside); /dev/null: the sandbox's own /dev; a root beneath the denied
  // `secrets`: inside the sandbox it lies in the mask's empty tmpfs.
  const std::string more =
      "      more:\n        paths: [\"/tmp/shared\", \"/dev/null\", \"" + at("secrets/key") +
      "\"]\n        permissions: {read_file: true}\n";
  const Plan p = h.plan(doc(more), Mode::layered);
  ASSERT_TRUE(p.landlock.enabled);
  const PlannedId* proj = rule(p, kProject);
  ASSERT_NE(proj, nullptr);
  EXPECT_TRUE(proj->checked);
  EXPECT_EQ(proj->id, h.fs.identity(kProject));
  const PlannedId* shared = rule(p, "/tmp/shared");
  ASSERT_NE(shared, nullptr);
  EXPECT_TRUE(shared->checked);
  EXPECT_EQ(shared->id, h.fs.identity("/tmp/shared"));
  for (const char* own : {"/proc", "/dev", "/dev/shm", "/tmp", "/dev/null"}) {
    const PlannedId* r = rule(p, own);
    ASSERT_NE(r, nullptr) << own;
    EXPECT_FALSE(r->checked) << own << " is the sandbox's own";
  }
  const PlannedId* key = rule(p, at("secrets/key"));
  ASSERT_NE(key, nullptr);
  EXPECT_FALSE(key->checked) << "beneath the mask, the sandbox sees its own empty tmpfs";
}

TEST(IdentityPlan, ASwapAfterPlanningShowsAsAnotherIdentity) {
  Host h;
  const Plan p = h.plan(doc(), Mode::landlock);
  const auto before = rule(p, at(".git/objects"))->id;
  // The concurrent writer: `.git/objects` replaced by a link to ~/.ssh.
  h.fs.dir("/home/u/.ssh").symlink(at(".git/objects"), "/home/u/.ssh");
  ASSERT_TRUE(before.has_value());
  EXPECT_NE(h.fs.identity(at(".git/objects")), before);
  EXPECT_NE(h.fs.identity("/home/u/.ssh"), before);
}

}  // namespace
}  // namespace aisbx::plan
