// flatten(): `extends` applied depth-first, parents in list order, then the
// profile itself; and RightMap::override_with.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aisbx/profile.h"
#include "aisbx/rights.h"

namespace aisbx::profile {
namespace {

ProfileSet load(const std::string& yaml, const std::string& file = "t.yaml") {
  auto r = parse_profiles(yaml, file);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().what);
  return r ? *r : ProfileSet{};
}

Profile flat(const ProfileSet& s, const std::string& name,
             const ProfileSet* fallback = nullptr) {
  auto r = flatten(s, name, fallback);
  if (!r) {
    ADD_FAILURE() << r.error().what;
    return {};
  }
  return *r;
}

std::string flatten_error(const ProfileSet& s, const std::string& name,
                          const ProfileSet* fallback = nullptr) {
  auto r = flatten(s, name, fallback);
  return r ? "<no error>" : r.error().what;
}

std::vector<std::string> group_names(const Profile& p) {
  std::vector<std::string> out;
  for (const auto& g : p.access_roots) out.push_back(g.name);
  return out;
}

std::vector<std::string> paths_of(const RootGroup& g) {
  std::vector<std::string> out;
  for (const auto& p : g.paths) out.push_back(p.value);
  return out;
}

std::vector<std::string> env_keys(const Profile& p) {
  std::vector<std::string> out;
  for (const auto& kv : p.command.env) out.push_back(kv.first + "=" + kv.second.value);
  return out;
}

// ---------------------------------------------------------------------------
// RightMap::override_with

RightMap rights(AccessMask granted, AccessMask denied, int line) {
  RightMap r;
  r.granted = granted;
  r.denied = denied;
  r.where = Where{"t.yaml", line, 5};
  r.present = true;
  return r;
}

TEST(RightMapOverride, ChildTrueGrantsAndFalseDenies) {
  RightMap base = rights(fs::kReadFile | fs::kExecute, fs::kWriteFile, 1);
  base.override_with(rights(fs::kWriteFile, fs::kExecute, 9));
  EXPECT_EQ(base.granted, fs::kReadFile | fs::kWriteFile);
  EXPECT_EQ(base.denied, fs::kExecute);
  EXPECT_TRUE(base.present);
  EXPECT_EQ(base.where.line, 9);
}

TEST(RightMapOverride, AbsentChildChangesNothing) {
  RightMap base = rights(fs::kReadFile, fs::kWriteFile, 1);
  base.override_with(RightMap{});
  EXPECT_EQ(base.granted, fs::kReadFile);
  EXPECT_EQ(base.denied, fs::kWriteFile);
  EXPECT_EQ(base.where.line, 1);
}

TEST(RightMapOverride, EmptyPresentChildKeepsBitsTakesWhere) {
  RightMap base = rights(fs::kReadFile, fs::kWriteFile, 1);
  base.override_with(rights(0, 0, 7));
  EXPECT_EQ(base.granted, fs::kReadFile);
  EXPECT_EQ(base.denied, fs::kWriteFile);
  EXPECT_EQ(base.where.line, 7);
}

TEST(RightMapOverride, OntoAbsentParent) {
  RightMap base;
  base.override_with(rights(fs::kTruncate, fs::kRefer, 3));
  EXPECT_TRUE(base.present);
  EXPECT_EQ(base.granted, fs::kTruncate);
  EXPECT_EQ(base.denied, fs::kRefer);
}

// ---------------------------------------------------------------------------
// flatten

const char* const kFamily =
    "version: 1\n"
    "profiles:\n"
    "  base:\n"  // 3
    "    description: base profile\n"
    "    access_roots:\n"
    "      system: {paths: [/usr], permissions: {read_file: true, execute: true}}\n"
    "      cache: {paths: [/cache], permissions: {read_file: true, write_file: true}}\n"
    "    control_access: {read_file: true, write_file: true, execute: true}\n"
    "    command: {binary: /bin/sh, args: [-l], working_dir: /w, env: {A: a, B: b}}\n"
    "    home: /h\n"
    "    network: {mode: none, connect_tcp: [443], unix_sockets: [/s]}\n"
    "    scope: {signal: true}\n"
    "    seccomp: {preset: default, deny: [ptrace]}\n"
    "    landlock_abi: 3\n"
    "    env_policy: {mode: clean, keep: [PATH]}\n"
    "    log_level: warn\n"
    "    dry_run: false\n"
    "    git: worktree\n"
    "  child:\n"  // 19
    "    extends: base\n"
    "    access_roots:\n"
    "      cache: {paths: [/other-cache], permissions: {read_file: true}}\n"
    "      project: {paths: [/p], permissions: {write_file: true}}\n"
    "    control_access: {write_file: false, truncate: true}\n"
    "    command: {args: [-c, x], env: {B: child-b, C: c}}\n"
    "    network: {connect_tcp: [80]}\n"
    "    scope: {abstract_unix_socket: true}\n"
    "    seccomp: {allow_nested_userns: true}\n"
    "    env_policy: {keep: [TERM]}\n"
    "    log_level: debug\n"
    "  override:\n"  // 31
    "    extends: [child]\n"
    "    description: mine\n"
    "    command: {binary: /bin/bash, args: [], working_dir: /x}\n"
    "    home: /h2\n"
    "    network: host\n"
    "    seccomp: off\n"
    "    landlock_abi: 6\n"
    "    env_policy: inherit\n"
    "    dry_run: true\n"
    "    git: off\n";

TEST(ProfileFlatten, NoExtendsIsTheProfileItself) {
  const ProfileSet s = load(kFamily);
  const Profile p = flat(s, "base");
  EXPECT_EQ(p.name, "base");
  EXPECT_EQ(p.description, "base profile");
  EXPECT_EQ(group_names(p), (std::vector<std::string>{"system", "cache"}));
  EXPECT_EQ(p.log_level, LogLevel::warn);
  EXPECT_TRUE(p.extends.empty());
}

TEST(ProfileFlatten, ChildInheritsAndOverridesFieldByField) {
  const ProfileSet s = load(kFamily);
  const Profile p = flat(s, "child");
  EXPECT_EQ(p.name, "child");
  EXPECT_EQ(p.where.line, 19);
  EXPECT_EQ(p.extends, std::vector<std::string>{"base"});
  EXPECT_EQ(p.description, "base profile");  // the child has none

  // Same-named group replaced whole and in place, new group appended.
  EXPECT_EQ(group_names(p), (std::vector<std::string>{"system", "cache", "project"}));
  EXPECT_EQ(paths_of(p.access_roots[1]), std::vector<std::string>{"/other-cache"});
  EXPECT_EQ(p.access_roots[1].permissions.granted,
            fs::kReadFile);  // not the parent's write_file
  EXPECT_EQ(p.access_roots[1].where.line, 22);
  EXPECT_EQ(p.access_roots[0].permissions.granted, fs::kReadFile | fs::kExecute);

  EXPECT_EQ(p.control_access.granted, fs::kReadFile | fs::kExecute | fs::kTruncate);
  EXPECT_EQ(p.control_access.denied, fs::kWriteFile);
  EXPECT_EQ(p.control_access.where.line, 24);

  ASSERT_TRUE(p.command.binary && p.command.args && p.command.working_dir);
  EXPECT_EQ(p.command.binary->value, "/bin/sh");
  EXPECT_EQ(*p.command.args, (std::vector<std::string>{"-c", "x"}));
  EXPECT_EQ(p.command.working_dir->value, "/w");
  EXPECT_EQ(env_keys(p), (std::vector<std::string>{"A=a", "B=child-b", "C=c"}));
  EXPECT_EQ(p.home->value, "/h");

  EXPECT_EQ(p.network.mode, NetMode::none);
  EXPECT_EQ(p.network.connect_tcp, std::vector<std::uint16_t>{80});
  ASSERT_TRUE(p.network.unix_sockets);
  EXPECT_EQ(p.network.unix_sockets->size(), 1U);
  EXPECT_EQ(p.network.where.line, 26);
  EXPECT_EQ(p.scope.signal, true);
  EXPECT_EQ(p.scope.abstract_unix_socket, true);
  EXPECT_EQ(p.seccomp.preset, SeccompPreset::default_);
  ASSERT_TRUE(p.seccomp.deny);
  EXPECT_EQ(p.seccomp.deny->at(0).value, "ptrace");
  EXPECT_EQ(p.seccomp.allow_nested_userns, true);
  EXPECT_FALSE(p.seccomp.allow.has_value());
  EXPECT_EQ(p.landlock_abi->value, 3);
  EXPECT_EQ(p.env_policy.mode, EnvMode::clean);
  EXPECT_EQ(p.env_policy.keep, std::vector<std::string>{"TERM"});
  EXPECT_EQ(p.log_level, LogLevel::debug);
  EXPECT_EQ(p.dry_run, false);
  EXPECT_EQ(p.git, GitMode::worktree);
}

TEST(ProfileFlatten, GrandchildOverridesScalars) {
  const ProfileSet s = load(kFamily);
  const Profile p = flat(s, "override");
  EXPECT_EQ(p.extends, std::vector<std::string>{"child"});  // its own list, not base's
  EXPECT_EQ(p.description, "mine");
  EXPECT_EQ(p.command.binary->value, "/bin/bash");
  ASSERT_TRUE(p.command.args.has_value());
  EXPECT_TRUE(p.command.args->empty());  // `args: []` overrides
  EXPECT_EQ(p.command.working_dir->value, "/x");
  EXPECT_EQ(env_keys(p), (std::vector<std::string>{"A=a", "B=child-b", "C=c"}));
  EXPECT_EQ(p.home->value, "/h2");
  EXPECT_EQ(p.network.mode, NetMode::host);
  EXPECT_EQ(p.network.connect_tcp, std::vector<std::uint16_t>{80});  // from child
  EXPECT_EQ(p.seccomp.preset, SeccompPreset::off);
  EXPECT_EQ(p.seccomp.allow_nested_userns, true);
  EXPECT_EQ(p.landlock_abi->value, 6);
  EXPECT_EQ(p.env_policy.mode, EnvMode::inherit);
  EXPECT_EQ(p.env_policy.keep, std::vector<std::string>{"TERM"});
  EXPECT_EQ(p.dry_run, true);
  EXPECT_EQ(p.git, GitMode::off);
  EXPECT_EQ(p.log_level, LogLevel::debug);
  EXPECT_EQ(group_names(p), (std::vector<std::string>{"system", "cache", "project"}));
}

TEST(ProfileFlatten, ParentsApplyInListOrder) {
  const ProfileSet s = load(
      "version: 1\nprofiles:\n"
      "  b: {home: /b, log_level: warn, access_roots: {g: {paths: [/b]}}}\n"
      "  c: {log_level: info, access_roots: {g: {paths: [/c]}, h: {paths: [/h]}}}\n"
      "  a: {extends: [b, c], dry_run: true}\n"
      "  a2: {extends: [c, b]}\n");
  const Profile a = flat(s, "a");
  EXPECT_EQ(a.log_level, LogLevel::info);  // c comes later
  EXPECT_EQ(a.home->value, "/b");
  EXPECT_EQ(group_names(a), (std::vector<std::string>{"g", "h"}));
  EXPECT_EQ(paths_of(a.access_roots[0]), std::vector<std::string>{"/c"});
  EXPECT_EQ(a.dry_run, true);

  const Profile a2 = flat(s, "a2");
  EXPECT_EQ(a2.log_level, LogLevel::warn);
  EXPECT_EQ(group_names(a2), (std::vector<std::string>{"g", "h"}));
  EXPECT_EQ(paths_of(a2.access_roots[0]), std::vector<std::string>{"/b"});
}

TEST(ProfileFlatten, DepthFirst) {
  const ProfileSet s = load(
      "version: 1\nprofiles:\n"
      "  a: {extends: [b, c], access_roots: {ga: {paths: [/a]}}}\n"
      "  b: {extends: d, access_roots: {gb: {paths: [/b]}}, log_level: warn}\n"
      "  c: {access_roots: {gc: {paths: [/c]}}}\n"
      "  d: {access_roots: {gd: {paths: [/d]}}, log_level: error, home: /d}\n");
  const Profile a = flat(s, "a");
  EXPECT_EQ(group_names(a), (std::vector<std::string>{"gd", "gb", "gc", "ga"}));
  EXPECT_EQ(a.log_level, LogLevel::warn);
  EXPECT_EQ(a.home->value, "/d");
}

TEST(ProfileFlatten, DiamondIsNotACycle) {
  const ProfileSet s = load(
      "version: 1\nprofiles:\n"
      "  a: {extends: [b, c]}\n"
      "  b: {extends: d, access_roots: {gb: {paths: [/b]}}}\n"
      "  c: {extends: d, access_roots: {gc: {paths: [/c]}}}\n"
      "  d: {access_roots: {gd: {paths: [/d]}}}\n");
  const Profile a = flat(s, "a");
  EXPECT_EQ(group_names(a), (std::vector<std::string>{"gd", "gb", "gc"}));
}

TEST(ProfileFlatten, WideDiamondsStayFast) {
  // Ten levels of eight parents that all extend the next level: 8^10 walks
  // without memoisation.
  std::string y = "version: 1\nprofiles:\n";
  for (int level = 0; level < 10; ++level) {
    const std::string l = "l" + std::to_string(level);
    const std::string next = "l" + std::to_string(level + 1);
    y += "  " + l + ": {extends: [";
    for (int k = 0; k < 8; ++k) y += (k ? ", " : "") + l + "p" + std::to_string(k);
    y += "], access_roots: {" + l + ": {paths: [/x]}}}\n";
    for (int k = 0; k < 8; ++k)
      y += "  " + l + "p" + std::to_string(k) + ": {extends: " + next + "}\n";
  }
  y += "  l10: {access_roots: {l10: {paths: [/x]}}}\n";
  const ProfileSet s = load(y);
  const Profile p = flat(s, "l0");
  EXPECT_EQ(p.access_roots.size(), 11U);
  EXPECT_EQ(p.access_roots.front().name, "l10");
  EXPECT_EQ(p.access_roots.back().name, "l0");
}

const char* const kCycle =
    "version: 1\n"
    "profiles:\n"
    "  a:\n"
    "    extends: b\n"  // 4:14
    "  b:\n"
    "    extends: [a]\n"  // 6:15
    "  c:\n"
    "    extends: a\n"
    "  s:\n"
    "    extends: [c, s]\n"  // 10:18
    "  x: {}\n";

TEST(ProfileFlatten, CycleNamesTheExtendsWhereItStarts) {
  const ProfileSet s = load(kCycle);
  EXPECT_EQ(flatten_error(s, "a"), "t.yaml:4:14: profiles.a.extends: cycle a -> b -> a");
  EXPECT_EQ(flatten_error(s, "b"), "t.yaml:6:15: profiles.b.extends: cycle b -> a -> b");
  // Reached through a profile outside the cycle.
  EXPECT_EQ(flatten_error(s, "c"), "t.yaml:4:14: profiles.a.extends: cycle a -> b -> a");
}

TEST(ProfileFlatten, SelfCycle) {
  const ProfileSet s = load(
      "version: 1\nprofiles:\n"
      "  x: {}\n"
      "  a:\n"
      "    extends: [x, a]\n");
  EXPECT_EQ(flatten_error(s, "a"), "t.yaml:5:18: profiles.a.extends: cycle a -> a");
}

TEST(ProfileFlatten, UnknownParent) {
  const ProfileSet s = load(
      "version: 1\nprofiles:\n"
      "  a:\n"
      "    extends: [b, nope]\n"
      "  b: {}\n");
  EXPECT_EQ(flatten_error(s, "a"),
            "t.yaml:4:18: profiles.a.extends: unknown profile `nope` (available: a, b)");
}

TEST(ProfileFlatten, UnknownTopLevelNameHasNoPosition) {
  const ProfileSet s = load("version: 1\nprofiles: {b: {}, a: {}}\n");
  const auto r = flatten(s, "zzz");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().what, "unknown profile `zzz` (available: b, a)");
  EXPECT_EQ(r.error().exit_code, kExitLauncherFailure);
  EXPECT_EQ(flatten_error(ProfileSet{}, "a"), "unknown profile `a` (available: none)");
}

TEST(ProfileFlatten, HandBuiltProfileWithoutPositions) {
  ProfileSet s;
  s.source = "built-in";
  Profile p;
  p.name = "a";
  p.where = Where{"built-in", 0, 0};
  p.extends = {"zz"};
  s.profiles.emplace("a", p);
  s.order = {"a"};
  EXPECT_EQ(flatten_error(s, "a"),
            "built-in: profiles.a.extends: unknown profile `zz` (available: a)");
}

TEST(ProfileFlatten, ChainDepthIsBounded) {
  const auto chain = [](int n) {
    std::string y = "version: 1\nprofiles:\n";
    for (int i = 0; i + 1 < n; ++i)
      y += "  p" + std::to_string(i) + ": {extends: p" + std::to_string(i + 1) + "}\n";
    y += "  p" + std::to_string(n - 1) + ": {home: /deep}\n";
    return y;
  };
  const ProfileSet ok = load(chain(32));
  EXPECT_EQ(flat(ok, "p0").home->value, "/deep");
  const ProfileSet deep = load(chain(33));
  const std::string e = flatten_error(deep, "p0");
  EXPECT_NE(e.find("t.yaml:34:"), std::string::npos) << e;  // p31's line
  EXPECT_NE(e.find("profiles.p31.extends: `extends` chain deeper than 32 profiles"),
            std::string::npos)
      << e;
}

// ---------------------------------------------------------------------------
// A fallback set: user files may extend built-in profiles.

const char* const kBuiltin =
    "version: 1\n"
    "profiles:\n"
    "  base: {home: /builtin-home, log_level: error}\n"
    "  minimal: {extends: base, dry_run: true}\n"
    "  loop:\n"
    "    extends: loop\n";

const char* const kUser =
    "version: 1\n"
    "profiles:\n"
    "  mine: {extends: minimal, log_level: debug}\n"
    "  base: {home: /user-home}\n"
    "  broken:\n"
    "    extends: [mine, nowhere]\n"
    "  uses-loop: {extends: loop}\n";

TEST(ProfileFlatten, FallbackSetProvidesParents) {
  const ProfileSet builtin = load(kBuiltin, "built-in");
  const ProfileSet user = load(kUser, "user.yaml");
  const Profile p = flat(user, "mine", &builtin);
  EXPECT_EQ(p.name, "mine");
  EXPECT_EQ(p.where.file, "user.yaml");
  EXPECT_EQ(p.log_level, LogLevel::debug);
  EXPECT_EQ(p.dry_run, true);
  // The built-in `minimal` extends the built-in `base`, not the user's.
  EXPECT_EQ(p.home->value, "/builtin-home");
}

TEST(ProfileFlatten, FallbackForTopLevelAndShadowing) {
  const ProfileSet builtin = load(kBuiltin, "built-in");
  const ProfileSet user = load(kUser, "user.yaml");
  EXPECT_EQ(flat(user, "minimal", &builtin).home->value, "/builtin-home");
  EXPECT_EQ(flat(user, "base", &builtin).home->value, "/user-home");
  EXPECT_EQ(
      flatten_error(user, "zzz", &builtin),
      "unknown profile `zzz` (available: mine, base, broken, uses-loop, minimal, loop)");
}

TEST(ProfileFlatten, FallbackErrorsNameTheirFile) {
  const ProfileSet builtin = load(kBuiltin, "built-in");
  const ProfileSet user = load(kUser, "user.yaml");
  EXPECT_EQ(flatten_error(user, "broken", &builtin),
            "user.yaml:6:21: profiles.broken.extends: unknown profile `nowhere` "
            "(available: mine, "
            "base, broken, uses-loop, minimal, loop)");
  EXPECT_EQ(flatten_error(user, "uses-loop", &builtin),
            "built-in:6:14: profiles.loop.extends: cycle loop -> loop");
  // Without the fallback, the built-in parent is unknown.
  EXPECT_EQ(flatten_error(user, "mine"),
            "user.yaml:3:19: profiles.mine.extends: unknown profile `minimal` "
            "(available: mine, "
            "base, broken, uses-loop)");
}

}  // namespace
}  // namespace aisbx::profile
