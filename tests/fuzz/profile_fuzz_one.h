// One fuzz input through the whole pure pipeline a run goes through before
// any syscall: parse_profiles() → flatten() (with the built-in profiles as
// the fallback for `extends`, as launch.cc does) → resolve() against a fake
// host → render_text()/render_json() → the Oracle on a few paths.
//
// "Clean" means: either a Plan, or an Error with a message and exit status
// 125. Anything else (a crash, an exception escaping, a sanitizer report, a
// hang) is a finding. Shared by the libFuzzer target (profile_fuzz.cc) and
// the unit test that replays the seeds and every past finding
// (tests/unit/fuzz_replay_test.cc), so a finding stays fixed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "aisbx/builtin.h"
#include "aisbx/features.h"
#include "aisbx/host.h"
#include "aisbx/options.h"
#include "aisbx/oracle.h"
#include "aisbx/plan.h"
#include "aisbx/profile.h"
#include "aisbx/rights.h"
#include "unit/fake_fs.h"

namespace aisbx::test::fuzz {

// What the fuzz loop found wrong without crashing by itself.
[[noreturn]] inline void finding(const char* what) {
  std::fprintf(stderr, "profile fuzz: %s\n", what);
  std::abort();
}

inline void expect_clean(const Error& e, const char* stage) {
  if (e.what.empty()) finding(stage);
  if (e.exit_code != kExitLauncherFailure) finding(stage);
}

// The built-in profiles, parsed once, as launch.cc merges them.
inline const profile::ProfileSet& builtin_set() {
  static const profile::ProfileSet set = [] {
    profile::ProfileSet s;
    s.source = "built-in";
    for (const auto& f : builtin_profile_files()) {
      auto one = profile::parse_profiles(std::string(f.text), std::string(f.name));
      if (!one) finding("a built-in profile file does not parse");
      for (const auto& name : one->order) {
        s.order.push_back(name);
        s.profiles.emplace(name, one->profiles.at(name));
      }
    }
    return s;
  }();
  return set;
}

// A Debian-like host: merged /usr, a project that is a git worktree with a
// `.env`, a HOME with secrets, symlinks that leave, a loop.
inline const FakeFs& host_fs() {
  static const FakeFs fs = [] {
    FakeFs f;
    f.dir("/usr/bin").dir("/usr/sbin").dir("/usr/lib/x86_64-linux-gnu").dir("/usr/lib64");
    f.file("/usr/bin/sh", "\x7f" "ELF").file("/usr/bin/env").file("/usr/bin/node");
    f.file("/usr/lib64/ld-linux-x86-64.so.2");
    f.symlink("/bin", "usr/bin").symlink("/sbin", "usr/sbin");
    f.symlink("/lib", "usr/lib").symlink("/lib64", "usr/lib64");
    f.file("/etc/ld.so.cache").file("/etc/ld.so.conf").dir("/etc/ld.so.conf.d");
    f.file("/etc/passwd").file("/etc/group").file("/etc/shadow").dir("/etc/ssl/certs");
    f.dir("/proc/self").other("/dev/null").other("/dev/zero").other("/dev/tty").dir("/dev/shm");
    f.dir("/tmp/build").dir("/var/tmp");
    f.file("/home/u/.ssh/id_rsa", "KEY").dir("/home/u/.cache").dir("/home/u/.config");
    f.dir("/home/u/dev/myproj/src").file("/home/u/dev/myproj/src/main.c");
    f.file("/home/u/dev/myproj/.env", "TOKEN=x").file("/home/u/dev/myproj/sub/.env");
    f.file("/home/u/dev/myproj/.git", "gitdir: /home/u/dev/repo/.git/worktrees/myproj\n");
    f.file("/home/u/dev/repo/.git/worktrees/myproj/commondir", "../..\n");
    f.file("/home/u/dev/repo/.git/worktrees/myproj/gitdir", "/home/u/dev/myproj/.git\n");
    f.dir("/home/u/dev/repo/.git/hooks").file("/home/u/dev/repo/.git/config");
    f.symlink("/home/u/dev/myproj/out", "/home/u/.ssh");
    f.symlink("/home/u/dev/myproj/up", "../../..");
    f.symlink("/home/u/dev/myproj/loop", "loop");
    f.dir("/home/u/dev/shared-lib").dir("/home/u/dev/test-project");
    f.dir("/home/u/.ai-sandbox/cache");
    f.dir("/srv/data");
    return f;
  }();
  return fs;
}

inline HostFacts host_facts() {
  HostFacts h;
  h.uid = 1000;
  h.gid = 1000;
  h.home = "/home/u";
  h.cwd = "/home/u/dev/myproj";
  h.env = {{"HOME", "/home/u"},          {"PATH", "/usr/local/bin:/usr/bin:/bin"},
           {"LANG", "C.UTF-8"},          {"TERM", "xterm"},
           {"GITHUB_TOKEN", "secret"},   {"AWS_SECRET_ACCESS_KEY", "secret"},
           {"SSH_AUTH_SOCK", "/run/a"},  {"XDG_CONFIG_HOME", "/home/u/.config"},
           {"XDG_CACHE_HOME", "/home/u/.cache"}};
  return h;
}

// Two (mode, ABI) variants per input, picked from its bytes so that each
// input is deterministic and the whole table is covered across inputs.
struct Variant {
  Mode mode;
  int abi;
  bool userns;
};

inline std::vector<Variant> variants_for(std::string_view data) {
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : data) h = (h ^ c) * 16777619u;
  static constexpr Mode kModes[] = {Mode::layered, Mode::strict, Mode::landlock, Mode::ns};
  const Variant a{kModes[h % 4], static_cast<int>((h >> 2) % (kMaxKnownAbi + 2)), true};
  const Variant b{kModes[(h >> 8) % 4], static_cast<int>((h >> 10) % (kMaxKnownAbi + 2)),
                  ((h >> 16) & 1) != 0};
  return {a, b};
}

inline void resolve_one(const profile::Profile& prof, const Variant& v) {
  Options opt;
  opt.profile = "fuzz";
  opt.mode = v.mode;
  opt.mode_given = true;
  Features feat = Features::full(v.abi);
  feat.userns = v.userns;
  if (!v.userns) feat.userns_why = "fuzz: no user namespaces";
  const HostFacts host = host_facts();
  auto plan = plan::resolve(plan::Inputs{prof, "fuzz.yaml", opt, feat, host, host_fs()});
  if (!plan) {
    expect_clean(plan.error(), "resolve() failed without a message or with another status");
    return;
  }
  // The renderers read every field of the Plan.
  if (plan::render_text(*plan).empty()) finding("render_text() printed nothing");
  if (plan::render_json(*plan).empty()) finding("render_json() printed nothing");
  (void)plan::render_text(*plan, plan::Section::ruleset);
  (void)plan::render_json(*plan, plan::Section::ruleset);
  // The Oracle, as --check and the exec diagnosis use it.
  const plan::Oracle oracle(*plan);
  for (const char* path : {"/usr/bin/sh", "/home/u/dev/myproj/.env", "/home/u/.ssh/id_rsa",
                           "/home/u/dev/myproj/up/u/.ssh", "/home/u/dev/myproj/loop",
                           "/opt/tool/bin/tool"}) {
    const auto r = oracle.resolve(host_fs(), path);
    (void)oracle.explain(r);
    const auto v1 = oracle.check(r.target.value_or(path), plan::need_exec());
    (void)oracle.explain(v1);
    (void)oracle.suggest(host_fs(), r, plan::need_exec());
  }
}

inline void fuzz_one(std::string_view data) {
  const std::string text(data);
  auto set = profile::parse_profiles(text, "fuzz.yaml");
  if (!set) {
    expect_clean(set.error(), "parse_profiles() failed without a message or with another status");
    return;
  }
  const auto variants = variants_for(data);
  std::size_t n = 0;
  for (const auto& name : set->order) {
    if (++n > 8) break;  // bounded work per input
    auto prof = profile::flatten(*set, name, &builtin_set());
    if (!prof) {
      expect_clean(prof.error(), "flatten() failed without a message or with another status");
      continue;
    }
    for (const auto& v : variants) resolve_one(*prof, v);
  }
}

}  // namespace aisbx::test::fuzz
