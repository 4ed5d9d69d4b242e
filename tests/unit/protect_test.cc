// `deny`, `readonly` and `git: worktree` in planning: glob expansion over a
// FakeFs, then resolve() in both walls. Every expectation is written by hand
// from DESIGN.md and the comments of src/plan/protect_plan.cc:
//
// - the namespace wall masks: an empty read-only tmpfs over a denied
//   directory (mask_dir), an empty read-only file over a denied file
//   (mask_file), a read-only bind for a readonly subpath; never a mount over
//   a symlink; the Landlock rules stay whole (one rule for the root);
// - without the namespace wall the Landlock rules are split: the root keeps
//   what cannot reach the protected path, every sibling keeps the root's
//   rights (a file only file rights), a symlink gets no rule, a denied path
//   gets nothing, a readonly path gets the root's rights minus the
//   write-type rights;
// - `git: worktree` adds the worktree's gitdir and the repository's common
//   dir with the project's rights, and `.git/...` patterns name the common
//   dir.
#include <fnmatch.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aisbx/features.h"
#include "aisbx/host.h"
#include "aisbx/options.h"
#include "aisbx/plan.h"
#include "aisbx/profile.h"
#include "aisbx/rights.h"
#include "plan/glob.h"
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

// clang-format off
// Rights spelled out by hand, not asked of the code under test.
constexpr AccessMask kAbi1 = fs::kExecute | fs::kWriteFile | fs::kReadFile | fs::kReadDir |
                             fs::kRemoveDir | fs::kRemoveFile | fs::kMakeChar | fs::kMakeDir |
                             fs::kMakeReg | fs::kMakeSock | fs::kMakeFifo | fs::kMakeBlock |
                             fs::kMakeSym;
// What a root granting everything gets at ABI 7 (the World's kernel):
// resolve_unix (ABI 9) is not handled.
constexpr AccessMask kAll7 = kAbi1 | fs::kRefer | fs::kTruncate | fs::kIoctlDev;
// DESIGN.md: write-type rights are `write_file remove_* make_* truncate refer`.
constexpr AccessMask kWriteType = fs::kWriteFile | fs::kRemoveDir | fs::kRemoveFile |
                                  fs::kMakeChar | fs::kMakeDir | fs::kMakeReg |
                                  fs::kMakeSock | fs::kMakeFifo | fs::kMakeBlock |
                                  fs::kMakeSym | fs::kTruncate | fs::kRefer;
// What a rule on a regular file can hold (the kernel's ACCESS_FILE).
constexpr AccessMask kFileOnly = fs::kExecute | fs::kWriteFile | fs::kReadFile |
                                 fs::kTruncate | fs::kIoctlDev;
// clang-format on

// The protected path must not be reachable through read_file, read_dir or
// anything else a denied path may not have.
constexpr AccessMask kReadOnly7 = kAll7 & ~kWriteType;  // execute read_* ioctl_dev

std::string all_rights(const std::string& indent) {
  std::string s;
  for (const char* n :
       {"execute", "write_file", "read_file", "read_dir", "remove_dir", "remove_file",
        "make_char", "make_dir", "make_reg", "make_sock", "make_fifo", "make_block",
        "make_sym", "refer", "truncate", "ioctl_dev", "resolve_unix"})
    s += indent + n + ": true\n";
  return s;
}

// A YAML flow list of double-quoted strings: ["**/.env", "secrets"].
std::string flow(const Strings& v) {
  std::string s = "[";
  for (const auto& x : v) s += (s.size() > 1 ? ", \"" : "\"") + x + "\"";
  return s + "]";
}

// One profile `p`: the project (group `proj`) granted and controlling every
// right, with the given deny/readonly lists; `extra` holds more profile keys
// indented by 4 (e.g. "    git: worktree\n") and `groups` more groups
// indented by 6.
std::string protect_doc(const Strings& deny, const Strings& readonly,
                        const std::string& extra = "", const std::string& groups = "") {
  std::string y =
      "version: 1\nprofiles:\n  p:\n    access_roots:\n      proj:\n        paths:\n"
      "          - ${PROJECT}\n        permissions:\n" +
      all_rights("          ");
  if (!deny.empty()) y += "        deny: " + flow(deny) + "\n";
  if (!readonly.empty()) y += "        readonly: " + flow(readonly) + "\n";
  y += groups;
  y +=
      "    control_access:\n" + all_rights("      ") + "    command:\n      binary: sh\n";
  return y + extra;
}

constexpr const char* kProj = "/home/u/dev/myproj";

std::string in_proj(const std::string& rel) { return std::string(kProj) + "/" + rel; }

// A host: HOME /home/u, the project at /home/u/dev/myproj (the cwd), merged
// /usr. Each test adds the project's content it needs.
struct World : test::TestWorld {
  World() : TestWorld(kProj) {
    host.env["PATH"] = "/usr/bin:/bin";
    fs.dir("/usr/bin").dir("/usr/lib").file("/usr/bin/sh");
    fs.symlink("/bin", "usr/bin").symlink("/lib", "usr/lib");
    fs.dir("/etc").file("/etc/hosts");
    fs.dir("/proc").dir("/dev").dir("/tmp");
    fs.dir(kProj).dir("/srv/data");
  }

  Expected<Plan> run(const std::string& yaml) const {
    return resolve_yaml(yaml);
  }
};

std::string err(const Expected<Plan>& r) { return r ? "<resolved>" : r.error().what; }

const LandlockRule* rule_at(const Plan& p, const std::string& path) {
  for (const auto& r : p.landlock.rules)
    if (r.path == path) return &r;
  return nullptr;
}

// Rule paths, sorted.
Strings rule_paths(const Plan& p) {
  Strings v;
  for (const auto& r : p.landlock.rules) v.push_back(r.path);
  return sorted(v);
}

bool within(const std::string& path, const std::string& dir) {
  return path == dir ||
         (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
          path[dir.size()] == '/');
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

// Every mount op whose target is `path` or beneath it, as "kind target";
// the built-in masks and git metadata (tests/unit/masks_test.cc) left out.
Strings ops_within(const Plan& p, const std::string& path) {
  Strings v;
  for (const auto& op : p.ns.mounts)
    if (within(op.target, path) && !op.origin.starts_with("mask "))
      v.push_back(std::string(to_string(op.kind)) + " " + op.target);
  return v;
}

const ProtectedPath* prot_at(const Plan& p, const std::string& path) {
  for (const auto& x : p.protected_paths)
    if (x.path == path) return &x;
  return nullptr;
}

// The profile's own protected paths (not the built-in ones).
Strings prot_paths(const Plan& p) {
  Strings v;
  for (const auto& x : p.protected_paths)
    if (x.mask.empty()) v.push_back(x.path);
  return sorted(v);
}

int warnings_with(const Plan& p, std::initializer_list<std::string_view> parts) {
  int n = 0;
  for (const auto& w : p.warnings) {
    bool all = true;
    for (auto part : parts) all = all && w.find(part) != std::string::npos;
    n += all ? 1 : 0;
  }
  return n;
}

std::string all_warnings(const Plan& p) {
  std::string s;
  for (const auto& w : p.warnings) s += "\n  " + w;
  return s;
}

// "read_file, read_dir" for failure messages: masks are unreadable as numbers.
std::string names(AccessMask m) { return join_fs_rights(m); }

#define EXPECT_RIGHTS(actual, expected) \
  EXPECT_EQ((actual), (expected))       \
      << "actual: " << names(actual) << "\nexpected: " << names(expected)

// ===========================================================================
// expand_glob

TEST(GlobExpand, LiteralPatternYieldsRootSlashPatternEvenIfMissing) {
  FakeFs fs;
  fs.dir("/p/.git/hooks");
  auto missing = expand_glob(fs, "/p", "nope/deeper");
  ASSERT_TRUE(missing.has_value()) << missing.error().what;
  EXPECT_EQ(*missing, (Strings{"/p/nope/deeper"}));
  auto present = expand_glob(fs, "/p", ".git/hooks");
  ASSERT_TRUE(present.has_value()) << present.error().what;
  EXPECT_EQ(*present, (Strings{"/p/.git/hooks"}));
  auto dotted = expand_glob(fs, "/p", "./.git//hooks/");
  ASSERT_TRUE(dotted.has_value()) << dotted.error().what;
  EXPECT_EQ(*dotted, (Strings{"/p/.git/hooks"}));
}

TEST(GlobExpand, StarMatchesWithinOneDirectoryOnly) {
  FakeFs fs;
  fs.file("/p/a.env").file("/p/b.env").file("/p/c.txt").file("/p/sub/d.env");
  fs.dir("/p/dir.env");  // a directory matches a last component too
  auto r = expand_glob(fs, "/p", "*.env");
  ASSERT_TRUE(r.has_value()) << r.error().what;
  EXPECT_EQ(*r, (Strings{"/p/a.env", "/p/b.env", "/p/dir.env"}));
  auto deeper = expand_glob(fs, "/p", "*/*.env");
  ASSERT_TRUE(deeper.has_value()) << deeper.error().what;
  EXPECT_EQ(*deeper, (Strings{"/p/sub/d.env"}));
}

// Security patterns are not shell globs: a leading dot is not special, or
// `*.env` would leave `.env` itself readable.
TEST(GlobExpand, StarMatchesALeadingDot) {
  FakeFs fs;
  fs.file("/p/.env").file("/p/x.env");
  auto r = expand_glob(fs, "/p", "*.env");
  ASSERT_TRUE(r.has_value()) << r.error().what;
  EXPECT_EQ(*r, (Strings{"/p/.env", "/p/x.env"}));
}

TEST(GlobExpand, DoubleStarMatchesAtEveryDepthIncludingTheRoot) {
  FakeFs fs;
  fs.file("/p/.env").file("/p/a/.env").file("/p/a/b/c/.env").file("/p/a/b/x");
  fs.file("/p/a/not.env").dir("/p/empty");
  auto r = expand_glob(fs, "/p", "**/.env");
  ASSERT_TRUE(r.has_value()) << r.error().what;
  EXPECT_EQ(*r, (Strings{"/p/.env", "/p/a/.env", "/p/a/b/c/.env"}));
  // `**` in the middle: zero or more directories between.
  fs.file("/p/a/cfg/k").file("/p/a/b/cfg/k");
  auto mid = expand_glob(fs, "/p", "a/**/cfg/k");
  ASSERT_TRUE(mid.has_value()) << mid.error().what;
  EXPECT_EQ(*mid, (Strings{"/p/a/b/cfg/k", "/p/a/cfg/k"}));
}

TEST(GlobExpand, BracketsAndQuestionMark) {
  FakeFs fs;
  fs.file("/p/a1").file("/p/b1").file("/p/c1").file("/p/a22");
  auto br = expand_glob(fs, "/p", "[ab]1");
  ASSERT_TRUE(br.has_value()) << br.error().what;
  EXPECT_EQ(*br, (Strings{"/p/a1", "/p/b1"}));
  auto q1 = expand_glob(fs, "/p", "?1");
  ASSERT_TRUE(q1.has_value()) << q1.error().what;
  EXPECT_EQ(*q1, (Strings{"/p/a1", "/p/b1", "/p/c1"}));
  auto q2 = expand_glob(fs, "/p", "a??");
  ASSERT_TRUE(q2.has_value()) << q2.error().what;
  EXPECT_EQ(*q2, (Strings{"/p/a22"}));
  auto none = expand_glob(fs, "/p", "[!abc]?");
  ASSERT_TRUE(none.has_value()) << none.error().what;
  EXPECT_EQ(*none, Strings{});
}

TEST(GlobExpand, SymlinkedDirectoriesAreMatchedButNotDescended) {
  FakeFs fs;
  fs.file("/p/real/.env").symlink("/p/link", "real");
  fs.file("/etc/.env").symlink("/p/out", "/etc");
  auto deep = expand_glob(fs, "/p", "**/.env");
  ASSERT_TRUE(deep.has_value()) << deep.error().what;
  EXPECT_EQ(*deep, (Strings{"/p/real/.env"}));
  auto one = expand_glob(fs, "/p", "*/.env");
  ASSERT_TRUE(one.has_value()) << one.error().what;
  EXPECT_EQ(*one, (Strings{"/p/real/.env"}));
  // The link itself is a match, so the caller can refuse it.
  auto links = expand_glob(fs, "/p", "l*");
  ASSERT_TRUE(links.has_value()) << links.error().what;
  EXPECT_EQ(*links, (Strings{"/p/link"}));
  auto all = expand_glob(fs, "/p", "**/*");
  ASSERT_TRUE(all.has_value()) << all.error().what;
  EXPECT_EQ(*all, (Strings{"/p/link", "/p/out", "/p/real", "/p/real/.env"}));
}

TEST(GlobExpand, DotDotIsAnError) {
  FakeFs fs;
  fs.file("/p/a/x").file("/x");
  for (const char* pattern : {"../x", "a/../../x", "**/../x", "..", "a/.."}) {
    auto r = expand_glob(fs, "/p", pattern);
    ASSERT_FALSE(r.has_value()) << pattern << " expanded to " << r->size() << " paths";
    EXPECT_TRUE(has(r.error().what, "..")) << pattern;
    EXPECT_TRUE(has(r.error().what, pattern)) << pattern;
  }
  // A name that merely contains two dots is a name.
  fs.file("/p/a..b");
  auto ok = expand_glob(fs, "/p", "a..*");
  ASSERT_TRUE(ok.has_value()) << ok.error().what;
  EXPECT_EQ(*ok, (Strings{"/p/a..b"}));
}

// A wide tree made up on the fly, for the scan limit: a FakeFs holding
// kMaxGlobScan nodes takes seconds to build and walk in a Debug build.
//   ROOT/f0 .. f<top-1>           regular files
//   ROOT/<extra...>               regular files with the names given
//   ROOT/d0 .. d<dirs-1>/f0 .. f<per_dir-1>
class WideFs final : public Fs {
 public:
  WideFs(std::string root, std::size_t top, Strings extra, std::size_t dirs = 0,
         std::size_t per_dir = 0)
      : root_(std::move(root)),
        top_(top),
        extra_(std::move(extra)),
        dirs_(dirs),
        per_dir_(per_dir) {}
  void add_top_file() { ++top_; }

  FileKind kind(const std::string& path) const override {
    if (path == root_) return FileKind::directory;
    if (!path.starts_with(root_ + "/")) return FileKind::missing;
    const std::string rest = path.substr(root_.size() + 1);
    const auto slash = rest.find('/');
    if (slash == std::string::npos) {
      if (std::find(extra_.begin(), extra_.end(), rest) != extra_.end())
        return FileKind::regular;
      if (numbered(rest, 'f', top_)) return FileKind::regular;
      if (numbered(rest, 'd', dirs_)) return FileKind::directory;
      return FileKind::missing;
    }
    if (numbered(rest.substr(0, slash), 'd', dirs_) &&
        numbered(rest.substr(slash + 1), 'f', per_dir_))
      return FileKind::regular;
    return FileKind::missing;
  }
  std::optional<std::string> realpath(const std::string& path) const override {
    if (kind(path) == FileKind::missing) return std::nullopt;
    return path;
  }
  std::optional<std::string> readlink(const std::string&) const override {
    return std::nullopt;
  }
  std::vector<std::string> list(const std::string& dir) const override {
    Strings out;
    if (dir == root_) {
      for (std::size_t i = 0; i < top_; ++i) out.push_back("f" + std::to_string(i));
      out.insert(out.end(), extra_.begin(), extra_.end());
      for (std::size_t i = 0; i < dirs_; ++i) out.push_back("d" + std::to_string(i));
    } else if (kind(dir) == FileKind::directory) {
      for (std::size_t i = 0; i < per_dir_; ++i) out.push_back("f" + std::to_string(i));
    }
    return out;
  }

 private:
  // `name` is PREFIX followed by a decimal number below `count`.
  static bool numbered(const std::string& name, char prefix, std::size_t count) {
    if (name.size() < 2 || name[0] != prefix) return false;
    if (name.find_first_not_of("0123456789", 1) != std::string::npos) return false;
    return std::stoull(name.substr(1)) < count;
  }
  std::string root_;
  std::size_t top_;
  Strings extra_;
  std::size_t dirs_, per_dir_;
};

// The limit is "more than kMaxGlobScan entries": exactly that many is fine,
// one more is an error, never a partial list.
TEST(GlobExpand, ScanLimitIsExactAndFailsWholly) {
  WideFs fs("/big", kMaxGlobScan - 1, {"x.env"});  // kMaxGlobScan entries in all
  ASSERT_EQ(fs.list("/big").size(), kMaxGlobScan);
  auto at_limit = expand_glob(fs, "/big", "*.env");
  ASSERT_TRUE(at_limit.has_value()) << at_limit.error().what;
  EXPECT_EQ(*at_limit, (Strings{"/big/x.env"}));

  fs.add_top_file();  // one more
  auto over = expand_glob(fs, "/big", "*.env");
  ASSERT_FALSE(over.has_value()) << "expanded to " << over->size() << " paths";
  EXPECT_TRUE(has(over.error().what, std::to_string(kMaxGlobScan)));
  EXPECT_TRUE(has(over.error().what, "*.env"));
  EXPECT_TRUE(has(over.error().what, "/big"));

  auto deep = expand_glob(fs, "/big", "**/.env");
  ASSERT_FALSE(deep.has_value()) << "expanded to " << deep->size() << " paths";
  EXPECT_TRUE(has(deep.error().what, "**/.env"));

  // A literal pattern scans nothing and is never limited.
  auto literal = expand_glob(fs, "/big", "x.env");
  ASSERT_TRUE(literal.has_value()) << literal.error().what;
  EXPECT_EQ(*literal, (Strings{"/big/x.env"}));
}

// The scan counts entries over the whole tree, not per directory: many
// small directories add up.
TEST(GlobExpand, ScanLimitCountsTheWholeTree) {
  const std::size_t per_dir = 1000;
  const std::size_t dirs = kMaxGlobScan / per_dir;  // dirs + dirs*per_dir > the limit
  WideFs fs("/t", 0, {".env"}, dirs, per_dir);
  ASSERT_EQ(fs.kind("/t/d0/f999"), FileKind::regular);
  auto r = expand_glob(fs, "/t", "**/.env");
  EXPECT_FALSE(r.has_value()) << "a tree of " << dirs * (per_dir + 1)
                              << " entries was scanned without error";
  // The same tree, one directory fewer, is within the limit.
  WideFs smaller("/t", 0, {".env"}, dirs - 1, per_dir);
  auto ok = expand_glob(smaller, "/t", "**/.env");
  ASSERT_TRUE(ok.has_value()) << ok.error().what;
  EXPECT_EQ(*ok, (Strings{"/t/.env"}));
}

// Through resolve(): a `**` deny over a huge project is an error naming
// the profile's line, not a run with part of the tree protected.
TEST(GlobExpand, ScanLimitFailsResolve) {
  World w;
  WideFs big(kProj, kMaxGlobScan + 1, {});
  struct Both final : Fs {
    const Fs& a;
    const Fs& b;
    std::string b_root;
    Both(const Fs& a_, const Fs& b_, std::string root)
        : a(a_), b(b_), b_root(std::move(root)) {}
    const Fs& pick(const std::string& p) const {
      return p == b_root || p.starts_with(b_root + "/") ? b : a;
    }
    FileKind kind(const std::string& p) const override { return pick(p).kind(p); }
    std::optional<std::string> realpath(const std::string& p) const override {
      return pick(p).realpath(p);
    }
    std::optional<std::string> readlink(const std::string& p) const override {
      return pick(p).readlink(p);
    }
    std::vector<std::string> list(const std::string& d) const override {
      return pick(d).list(d);
    }
  } both(w.fs, big, kProj);
  auto set = profile::parse_profiles(protect_doc({"**/.env"}, {}), "test.yaml");
  ASSERT_TRUE(set.has_value()) << set.error().what;
  auto prof = profile::flatten(*set, "p");
  ASSERT_TRUE(prof.has_value()) << prof.error().what;
  auto r = resolve(Inputs{*prof, "test.yaml", w.opt, w.feat, w.host, both});
  ASSERT_FALSE(r.has_value()) << "resolved with " << r->protected_paths.size()
                              << " protected paths";
  EXPECT_TRUE(has(r.error().what, std::to_string(kMaxGlobScan)));
  EXPECT_TRUE(has(r.error().what, "test.yaml:"));
}

// ===========================================================================
// resolve(): the namespace wall masks (layered, user namespaces available)

// A project with secrets at several depths:
//   .env  sub/.env  secrets/key  .git/hooks/pre-commit  .git/config
//   README  src/main.c
struct ProjectWorld : World {
  ProjectWorld() {
    fs.file(in_proj(".env"), "SECRET=1\n").file(in_proj("sub/.env"), "SECRET=2\n");
    fs.file(in_proj("secrets/key"), "k");
    fs.file(in_proj(".git/hooks/pre-commit"), "#!/bin/sh\n").file(in_proj(".git/config"));
    fs.file(in_proj("README")).file(in_proj("src/main.c"));
  }
};

TEST(ProtectLayered, DenyMasksAndReadonlyBindsAfterTheRootsBind) {
  ProjectWorld w;
  auto r = w.run(protect_doc({"**/.env", "secrets"}, {".git/hooks"}));
  ASSERT_TRUE(r.has_value()) << err(r);
  ASSERT_TRUE(r->ns.enabled);
  const int bind = op_index(*r, MountKind::bind, kProj);
  ASSERT_GE(bind, 0);

  struct Want {
    std::string path;
    MountKind kind;
  };
  const Want wants[] = {
      {in_proj(".env"), MountKind::mask_file},
      {in_proj("sub/.env"), MountKind::mask_file},
      {in_proj("secrets"), MountKind::mask_dir},
      {in_proj(".git/hooks"), MountKind::readonly},
  };
  for (const auto& want : wants) {
    const int i = op_index(*r, want.kind, want.path);
    ASSERT_GE(i, 0) << to_string(want.kind) << " " << want.path << " missing; ops:\n"
                    << testing::PrintToString(ops_within(*r, kProj));
    EXPECT_GT(i, bind) << want.path << " is mounted before the project's bind hides it";
    const MountOp& op = r->ns.mounts[static_cast<std::size_t>(i)];
    EXPECT_TRUE(op.read_only) << want.path;
    if (want.kind == MountKind::readonly) {
      EXPECT_EQ(op.source, want.path);
    }
  }
  // Nothing else beneath the project: one bind, four protections.
  EXPECT_EQ(ops_within(*r, kProj).size(), 5u)
      << testing::PrintToString(ops_within(*r, kProj));

  EXPECT_EQ(prot_paths(*r), (Strings{in_proj(".env"), in_proj(".git/hooks"),
                                     in_proj("secrets"), in_proj("sub/.env")}));
  for (const auto& p : r->protected_paths) {
    if (!p.mask.empty()) continue;
    EXPECT_TRUE(p.masked) << p.path;
    EXPECT_FALSE(p.split) << p.path;
    EXPECT_EQ(p.group, "proj") << p.path;
    EXPECT_EQ(p.deny, p.path != in_proj(".git/hooks")) << p.path;
  }
  EXPECT_EQ(prot_at(*r, in_proj(".env"))->kind, FileKind::regular);
  EXPECT_EQ(prot_at(*r, in_proj("secrets"))->kind, FileKind::directory);
  EXPECT_EQ(prot_at(*r, in_proj(".git/hooks"))->kind, FileKind::directory);
}

TEST(ProtectLayered, LandlockRulesAreNotSplitWithTheNamespaceWall) {
  ProjectWorld w;
  auto r = w.run(protect_doc({"**/.env", "secrets"}, {".git/hooks"}));
  ASSERT_TRUE(r.has_value()) << err(r);
  ASSERT_TRUE(r->landlock.enabled);
  const LandlockRule* proj = rule_at(*r, kProj);
  ASSERT_NE(proj, nullptr);
  EXPECT_RIGHTS(proj->access, kAll7);
  for (const auto& rule : r->landlock.rules)
    EXPECT_FALSE(rule.path != kProj && within(rule.path, kProj))
        << "a rule beneath the project: " << rule.path;
}

TEST(ProtectLayered, MissingLiteralPathIsListedButNotMounted) {
  ProjectWorld w;
  auto r = w.run(protect_doc({".env.local", "nothere/key"}, {".vscode"}));
  ASSERT_TRUE(r.has_value()) << err(r);
  const ProtectedPath* local = prot_at(*r, in_proj(".env.local"));
  ASSERT_NE(local, nullptr) << testing::PrintToString(prot_paths(*r));
  EXPECT_EQ(local->kind, FileKind::missing);
  EXPECT_TRUE(local->deny);
  EXPECT_FALSE(local->masked);
  const ProtectedPath* vscode = prot_at(*r, in_proj(".vscode"));
  ASSERT_NE(vscode, nullptr) << testing::PrintToString(prot_paths(*r));
  EXPECT_EQ(vscode->kind, FileKind::missing);
  EXPECT_FALSE(vscode->deny);
  // Beneath a missing directory: nothing to list.
  EXPECT_EQ(prot_at(*r, in_proj("nothere/key")), nullptr);
  EXPECT_EQ(ops_within(*r, kProj), (Strings{"bind " + std::string(kProj)}));
}

// Issue 17 item 9: a symlink where a protected path should be (a run may
// have made one) is never mounted over and never refuses the run: it is
// said once, and its target, outside every root here, stays out of reach.
void expect_link_not_mounted(const Expected<Plan>& r, const std::string& link,
                             const std::string& target) {
  ASSERT_TRUE(r.has_value()) << err(r);
  const ProtectedPath* p = prot_at(*r, link);
  ASSERT_NE(p, nullptr) << testing::PrintToString(prot_paths(*r));
  EXPECT_EQ(p->link, target);
  EXPECT_FALSE(p->masked);
  EXPECT_EQ(warnings_with(*r, {"symlink", link, "outside every root"}), 1) << all_warnings(*r);
  for (const auto& op : r->ns.mounts) EXPECT_NE(op.target, link) << "a mount over a symlink";
  for (const auto& op : r->ns.mounts) EXPECT_FALSE(within(target, op.target) && op.target != "/")
      << "the target is mounted: " << op.target;
}

TEST(ProtectLayered, DeniedSymlinkIsNotMountedOver) {
  ProjectWorld w;
  w.fs.file("/home/u/secret.env", "S")
      .symlink(in_proj(".env.link"), "/home/u/secret.env");
  expect_link_not_mounted(w.run(protect_doc({".env.link"}, {})), in_proj(".env.link"),
                          "/home/u/secret.env");
}

TEST(ProtectLayered, ReadonlySymlinkIsNotMountedOverEither) {
  ProjectWorld w;
  w.fs.symlink(in_proj(".vscode"), "/srv/data");
  expect_link_not_mounted(w.run(protect_doc({}, {".vscode"})), in_proj(".vscode"), "/srv/data");
}

TEST(ProtectLayered, GlobMatchingASymlinkIsNotMountedOver) {
  ProjectWorld w;
  w.fs.file("/srv/data/.env").symlink(in_proj("lib/.env"), "/srv/data/.env");
  expect_link_not_mounted(w.run(protect_doc({"**/.env"}, {})), in_proj("lib/.env"),
                          "/srv/data/.env");
}

TEST(ProtectLayered, PathUnderASymlinkedDirectoryIsNotMountedOver) {
  ProjectWorld w;
  w.fs.file("/srv/data/key").symlink(in_proj("conf"), "/srv/data");
  expect_link_not_mounted(w.run(protect_doc({"conf/key"}, {})), in_proj("conf/key"),
                          "/srv/data/key");
}

// A symlink whose target a root holds: the target is protected instead.
TEST(ProtectLayered, SymlinkIntoTheProjectProtectsTheTarget) {
  ProjectWorld w;
  w.fs.dir(in_proj("tools/hooks")).symlink(in_proj(".vscode"), "tools/hooks");
  auto r = w.run(protect_doc({}, {".vscode"}));
  ASSERT_TRUE(r.has_value()) << err(r);
  const ProtectedPath* t = prot_at(*r, in_proj("tools/hooks"));
  ASSERT_NE(t, nullptr) << testing::PrintToString(prot_paths(*r));
  EXPECT_FALSE(t->deny);
  EXPECT_TRUE(t->masked);
  EXPECT_NE(op_at(*r, MountKind::readonly, in_proj("tools/hooks")), nullptr);
  EXPECT_EQ(warnings_with(*r, {"symlink", "read-only instead"}), 1) << all_warnings(*r);
}

TEST(ProtectLayered, AbsolutePatternInsideTheGroupIsAccepted) {
  ProjectWorld w;
  auto r = w.run(protect_doc({"${PROJECT}/.env", in_proj("secrets")}, {}));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(prot_paths(*r), (Strings{in_proj(".env"), in_proj("secrets")}));
  EXPECT_NE(op_at(*r, MountKind::mask_file, in_proj(".env")), nullptr);
  EXPECT_NE(op_at(*r, MountKind::mask_dir, in_proj("secrets")), nullptr);
}

// BUG (found at commit 4651aac; a fix is under way in the working tree, turn
// this into "Was a bug, fixed" once it is committed): src/plan/protect_plan.cc,
// collect(), the is_pattern_path branch: an absolute pattern was only
// expand_path()ed, never glob-expanded, so `${PROJECT}/**/.env` became the
// literal path `.../**/.env`, missing with a missing parent and dropped
// without a word, and `${PROJECT}/*.env` a missing literal `.../*.env` that
// nothing masks. Either way `.env` stayed readable while the profile says it
// is denied. Expected: the glob expanded beneath the group's root (as the
// relative form is), or an error naming the pattern; never silence.
TEST(ProtectLayered, AbsoluteGlobPatternIsExpandedOrRefused) {
  for (const char* pattern : {"${PROJECT}/**/.env", "${PROJECT}/*.env"}) {
    ProjectWorld w;
    auto r = w.run(protect_doc({pattern}, {}));
    if (!r.has_value()) {
      EXPECT_TRUE(has(r.error().what, pattern)) << pattern;
      continue;
    }
    const ProtectedPath* env = prot_at(*r, in_proj(".env"));
    EXPECT_NE(env, nullptr) << pattern << " left `.env` unprotected; protected: "
                            << testing::PrintToString(prot_paths(*r));
    EXPECT_NE(op_at(*r, MountKind::mask_file, in_proj(".env")), nullptr) << pattern;
  }
}

TEST(ProtectLayered, AbsolutePatternOutsideTheGroupsRootsIsAnError) {
  ProjectWorld w;
  auto r = w.run(protect_doc({"/etc/hosts"}, {}));
  ASSERT_FALSE(r.has_value()) << "deny outside the group's roots was accepted";
  EXPECT_TRUE(has(r.error().what, "/etc/hosts"));
  EXPECT_TRUE(has(r.error().what, "not inside"));

  // Inside a root of another group is still outside this group's roots.
  w.fs.file("/srv/data/key");
  auto other =
      w.run(protect_doc({"/srv/data/key"}, {}, "",
                        "      data:\n        paths: [/srv/data]\n"
                        "        permissions: {read_file: true, read_dir: true}\n"));
  ASSERT_FALSE(other.has_value()) << "deny in another group's root was accepted";
  EXPECT_TRUE(has(other.error().what, "/srv/data/key"));

  // A `~` pattern is absolute too.
  auto tilde = w.run(protect_doc({"~/.ssh"}, {}));
  ASSERT_FALSE(tilde.has_value()) << "deny of ~/.ssh outside the project was accepted";
}

TEST(ProtectLayered, DenyWinsOverReadonlyOnTheSamePath) {
  ProjectWorld w;
  auto r = w.run(protect_doc({".git/hooks", "README"}, {".git/hooks", "README", "src"}));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(prot_paths(*r),
            (Strings{in_proj(".git/hooks"), in_proj("README"), in_proj("src")}));
  EXPECT_TRUE(prot_at(*r, in_proj(".git/hooks"))->deny);
  EXPECT_TRUE(prot_at(*r, in_proj("README"))->deny);
  EXPECT_FALSE(prot_at(*r, in_proj("src"))->deny);
  EXPECT_NE(op_at(*r, MountKind::mask_dir, in_proj(".git/hooks")), nullptr);
  EXPECT_EQ(op_at(*r, MountKind::readonly, in_proj(".git/hooks")), nullptr);
  EXPECT_NE(op_at(*r, MountKind::mask_file, in_proj("README")), nullptr);
  EXPECT_EQ(op_at(*r, MountKind::readonly, in_proj("README")), nullptr);
  EXPECT_NE(op_at(*r, MountKind::readonly, in_proj("src")), nullptr);
}

TEST(ProtectLayered, DenyInAReadOnlyGroupStillMasks) {
  ProjectWorld w;
  const std::string y =
      "version: 1\nprofiles:\n  p:\n    access_roots:\n      proj:\n"
      "        paths: [\"${PROJECT}\"]\n"
      "        permissions: {read_file: true, read_dir: true}\n"
      "        deny: [\".env\"]\n"
      "    control_access: {read_file: true, read_dir: true}\n"
      "    command: {binary: sh}\n";
  auto r = w.run(y);
  ASSERT_TRUE(r.has_value()) << err(r);
  const MountOp* m = op_at(*r, MountKind::mask_file, in_proj(".env"));
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->read_only);
}

// ===========================================================================
// resolve(): the Landlock rules are split (no namespace wall)

struct SplitCase {
  Mode mode;
  bool userns;
};

class ProtectSplit : public ::testing::TestWithParam<SplitCase> {
 protected:
  // The project: README, src/main.c, sub/, link -> src, plus what a test adds.
  World world() const {
    World w;
    w.opt.mode = GetParam().mode;
    w.feat.userns = GetParam().userns;
    w.fs.file(in_proj("README")).file(in_proj("src/main.c")).dir(in_proj("sub"));
    w.fs.symlink(in_proj("link"), "src");
    return w;
  }
};

std::string split_name(const ::testing::TestParamInfo<SplitCase>& info) {
  return info.param.mode == Mode::landlock ? "LandlockMode" : "LayeredWithoutUserns";
}

TEST_P(ProtectSplit, DeniedFileAtTheTop) {
  World w = world();
  w.fs.file(in_proj(".env"), "SECRET");
  auto r = w.run(protect_doc({".env"}, {}));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_FALSE(r->ns.enabled);
  EXPECT_TRUE(ops_within(*r, kProj).empty());
  // The project keeps make_*/remove_*/read_dir but loses file rights and
  // refer, which would reach .env by inheritance (or move it out).
  EXPECT_EQ(rule_paths(*r),
            (Strings{kProj, in_proj("README"), in_proj("src"), in_proj("sub")}));
  const LandlockRule* root = rule_at(*r, kProj);
  ASSERT_NE(root, nullptr);
  EXPECT_TRUE(root->is_dir);
  EXPECT_RIGHTS(root->access, kAll7 & ~kFileOnly & ~fs::kRefer);
  const LandlockRule* readme = rule_at(*r, in_proj("README"));
  ASSERT_NE(readme, nullptr);
  EXPECT_FALSE(readme->is_dir);
  EXPECT_RIGHTS(readme->access, kFileOnly);
  for (const char* d : {"src", "sub"}) {
    const LandlockRule* x = rule_at(*r, in_proj(d));
    ASSERT_NE(x, nullptr) << d;
    EXPECT_TRUE(x->is_dir) << d;
    EXPECT_RIGHTS(x->access, kAll7);
  }
  const ProtectedPath* env = prot_at(*r, in_proj(".env"));
  ASSERT_NE(env, nullptr);
  EXPECT_TRUE(env->split);
  EXPECT_FALSE(env->masked);
}

TEST_P(ProtectSplit, DeniedDirectoryTakesEverythingFromItsAncestors) {
  World w = world();
  w.fs.file(in_proj("config/app.yaml")).file(in_proj("config/secrets/key"));
  w.fs.dir(in_proj("config/public"));
  auto r = w.run(protect_doc({"config/secrets"}, {}));
  ASSERT_TRUE(r.has_value()) << err(r);
  // A denied directory may have nothing, so its ancestors keep nothing:
  // every right on them would be inherited by it.
  EXPECT_EQ(rule_paths(*r),
            (Strings{in_proj("README"), in_proj("config/app.yaml"),
                     in_proj("config/public"), in_proj("src"), in_proj("sub")}));
  for (const auto& rule : r->landlock.rules) {
    EXPECT_FALSE(within(in_proj("config/secrets"), rule.path) && rule.access != 0)
        << rule.path << " grants " << names(rule.access)
        << " reaching the denied directory";
  }
  EXPECT_RIGHTS(rule_at(*r, in_proj("config/app.yaml"))->access, kFileOnly);
  EXPECT_RIGHTS(rule_at(*r, in_proj("config/public"))->access, kAll7);
  EXPECT_RIGHTS(rule_at(*r, in_proj("README"))->access, kFileOnly);
}

TEST_P(ProtectSplit, ReadonlyDirectoryGetsTheRootsRightsMinusWrites) {
  World w = world();
  w.fs.file(in_proj(".git/hooks/pre-commit")).file(in_proj(".git/config"));
  w.fs.file(in_proj(".git/HEAD")).dir(in_proj(".git/objects"));
  auto r = w.run(protect_doc({}, {".git/hooks"}));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(rule_paths(*r),
            (Strings{kProj, in_proj(".git"), in_proj(".git/HEAD"), in_proj(".git/config"),
                     in_proj(".git/hooks"), in_proj(".git/objects"), in_proj("README"),
                     in_proj("src"), in_proj("sub")}));
  // On the way down: everything but what would make hooks writable.
  EXPECT_RIGHTS(rule_at(*r, kProj)->access, kReadOnly7);
  EXPECT_RIGHTS(rule_at(*r, in_proj(".git"))->access, kReadOnly7);
  const LandlockRule* hooks = rule_at(*r, in_proj(".git/hooks"));
  EXPECT_TRUE(hooks->is_dir);
  EXPECT_RIGHTS(hooks->access, kReadOnly7);
  EXPECT_FALSE(hooks->access & kWriteType);
  // Siblings keep everything.
  EXPECT_RIGHTS(rule_at(*r, in_proj(".git/objects"))->access, kAll7);
  EXPECT_RIGHTS(rule_at(*r, in_proj(".git/config"))->access, kFileOnly);
  EXPECT_RIGHTS(rule_at(*r, in_proj(".git/HEAD"))->access, kFileOnly);
  EXPECT_RIGHTS(rule_at(*r, in_proj("src"))->access, kAll7);
  EXPECT_FALSE(prot_at(*r, in_proj(".git/hooks"))->deny);
  EXPECT_TRUE(prot_at(*r, in_proj(".git/hooks"))->split);
}

TEST_P(ProtectSplit, ReadonlyFileKeepsReadsAndItsDirectoriesKeepMakeButCannotRemove) {
  World w = world();
  w.fs.file(in_proj(".git/config")).dir(in_proj(".git/objects"));
  auto r = w.run(protect_doc({}, {".git/config"}));
  ASSERT_TRUE(r.has_value()) << err(r);
  // A regular file only has file rights: its ancestors lose the write-type
  // file rights (write_file, truncate) and refer; and the rights to remove,
  // so that neither the file nor a directory on the way can be moved out
  // and replaced (rights add up along the path: every level loses them).
  const AccessMask lost =
      fs::kWriteFile | fs::kTruncate | fs::kRefer | fs::kRemoveFile | fs::kRemoveDir;
  EXPECT_RIGHTS(rule_at(*r, kProj)->access, kAll7 & ~lost);
  EXPECT_RIGHTS(rule_at(*r, in_proj(".git"))->access, kAll7 & ~lost);
  const LandlockRule* config = rule_at(*r, in_proj(".git/config"));
  ASSERT_NE(config, nullptr);
  EXPECT_FALSE(config->is_dir);
  EXPECT_RIGHTS(config->access, fs::kExecute | fs::kReadFile | fs::kIoctlDev);
  EXPECT_RIGHTS(rule_at(*r, in_proj(".git/objects"))->access, kAll7);
}

TEST_P(ProtectSplit, NestedDeniedFilesAtEveryDepth) {
  World w = world();
  w.fs.file(in_proj(".env")).file(in_proj("sub/.env")).file(in_proj("sub/code.c"));
  w.fs.dir(in_proj("sub/deeper"));
  auto r = w.run(protect_doc({"**/.env"}, {}));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(rule_paths(*r),
            (Strings{kProj, in_proj("README"), in_proj("src"), in_proj("sub"),
                     in_proj("sub/code.c"), in_proj("sub/deeper")}));
  const AccessMask dir_keeps = kAll7 & ~kFileOnly & ~fs::kRefer;
  EXPECT_RIGHTS(rule_at(*r, kProj)->access, dir_keeps);
  EXPECT_RIGHTS(rule_at(*r, in_proj("sub"))->access, dir_keeps);
  EXPECT_RIGHTS(rule_at(*r, in_proj("sub/code.c"))->access, kFileOnly);
  EXPECT_RIGHTS(rule_at(*r, in_proj("sub/deeper"))->access, kAll7);
  EXPECT_EQ(rule_at(*r, in_proj(".env")), nullptr);
  EXPECT_EQ(rule_at(*r, in_proj("sub/.env")), nullptr);
}

TEST_P(ProtectSplit, SymlinkSiblingsGetNoRule) {
  World w = world();
  w.fs.file(in_proj(".env")).symlink(in_proj("out"), "/srv/data");
  w.fs.symlink(in_proj("dangling"), "/nope");
  auto r = w.run(protect_doc({".env"}, {}));
  ASSERT_TRUE(r.has_value()) << err(r);
  for (const char* l : {"link", "out", "dangling"})
    EXPECT_EQ(rule_at(*r, in_proj(l)), nullptr) << l;
  EXPECT_EQ(rule_at(*r, "/srv/data"), nullptr);
}

TEST_P(ProtectSplit, MissingPathIsNotSplitAround) {
  // A path missing now is listed but not split around (as the namespace
  // wall does not mask it): its parent keeps the root's rule whole.
  World w = world();
  auto r = w.run(protect_doc({".env"}, {}));
  ASSERT_TRUE(r.has_value()) << err(r);
  const ProtectedPath* env = prot_at(*r, in_proj(".env"));
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(env->kind, FileKind::missing);
  EXPECT_FALSE(env->split);
  ASSERT_NE(rule_at(*r, kProj), nullptr);
  EXPECT_RIGHTS(rule_at(*r, kProj)->access, kAll7);
}

TEST_P(ProtectSplit, OtherRootsAreUntouched) {
  World w = world();
  w.fs.file(in_proj(".env")).file("/srv/data/.env");
  auto r = w.run(protect_doc({".env"}, {}, "",
                             "      data:\n        paths: [/srv/data]\n"
                             "        permissions: {read_file: true, read_dir: true}\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  const LandlockRule* data = rule_at(*r, "/srv/data");
  ASSERT_NE(data, nullptr);
  EXPECT_RIGHTS(data->access, fs::kReadFile | fs::kReadDir);
  // The pattern is the project group's: /srv/data/.env is not protected.
  EXPECT_EQ(prot_at(*r, "/srv/data/.env"), nullptr);
  EXPECT_EQ(rule_at(*r, "/srv/data/.env"), nullptr);
}

INSTANTIATE_TEST_SUITE_P(ProtectWalls, ProtectSplit,
                         ::testing::Values(SplitCase{Mode::landlock, true},
                                           SplitCase{Mode::layered, false}),
                         split_name);

TEST(ProtectNoWall, NeitherWallIsWarnedAboutPerPath) {
  World w;
  w.feat = Features::full(0);
  w.feat.userns = false;
  w.fs.file(in_proj(".env"));
  auto r = w.run(protect_doc({".env"}, {}));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_FALSE(r->ns.enabled);
  EXPECT_FALSE(r->landlock.enabled);
  EXPECT_EQ(warnings_with(*r, {in_proj(".env"), "not protected"}), 1) << all_warnings(*r);
}

// ===========================================================================
// git: worktree

// /home/u/dev/wt is a worktree of /repo: its .git is a `gitdir:` file; the
// gitdir's `commondir` says `../..`, i.e. /repo/.git.
struct GitWorld : World {
  static constexpr const char* kWt = "/home/u/dev/wt";
  GitWorld() {
    host.cwd = kWt;
    fs.file(std::string(kWt) + "/.git", "gitdir: /repo/.git/worktrees/wt\n");
    fs.file(std::string(kWt) + "/.env", "S").file(std::string(kWt) + "/main.c");
    fs.file("/repo/.git/worktrees/wt/commondir", "../..\n");
    fs.file("/repo/.git/worktrees/wt/gitdir", std::string(kWt) + "/.git\n");
    fs.file("/repo/.git/worktrees/wt/HEAD", "ref: refs/heads/wt\n");
    fs.file("/repo/.git/worktrees/wt/.env", "not the project's");
    fs.file("/repo/.git/hooks/pre-commit").file("/repo/.git/config");
    fs.file("/repo/.git/.env", "not the project's").dir("/repo/.git/objects");
    fs.file("/repo/.env", "the main checkout's");
  }
};

TEST(ProtectGit, WorktreeAddsGitdirAndCommondirWithTheProjectsRights) {
  GitWorld w;
  auto r = w.run(protect_doc({}, {}, "    git: worktree\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  const LandlockRule* proj = rule_at(*r, GitWorld::kWt);
  ASSERT_NE(proj, nullptr);
  for (const char* d : {"/repo/.git", "/repo/.git/worktrees/wt"}) {
    const LandlockRule* x = rule_at(*r, d);
    ASSERT_NE(x, nullptr) << d << " has no rule; rules: "
                          << testing::PrintToString(rule_paths(*r));
    EXPECT_TRUE(x->is_dir) << d;
    EXPECT_RIGHTS(x->access, proj->access);
    const MountOp* bind = op_at(*r, MountKind::bind, d);
    ASSERT_NE(bind, nullptr) << d;
    EXPECT_FALSE(bind->read_only) << d;
    EXPECT_FALSE(bind->noexec) << d;
    EXPECT_EQ(bind->source, d);
  }
  // Only the git dirs: not the main checkout, not /repo.
  EXPECT_EQ(rule_at(*r, "/repo"), nullptr);
  EXPECT_EQ(op_at(*r, MountKind::bind, "/repo"), nullptr);
  // The worktree's gitdir is beneath the common dir: mounted after it.
  EXPECT_LT(op_index(*r, MountKind::bind, "/repo/.git"),
            op_index(*r, MountKind::bind, "/repo/.git/worktrees/wt"));
}

TEST(ProtectGit, WorktreeDirsAreAddedInLandlockModeToo) {
  GitWorld w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(protect_doc({}, {}, "    git: worktree\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(rule_paths(*r),
            (Strings{GitWorld::kWt, "/repo/.git", "/repo/.git/worktrees/wt"}));
}

TEST(ProtectGit, RelativeGitdirIsResolvedFromTheProject) {
  GitWorld w;
  w.fs.file(std::string(GitWorld::kWt) + "/.git",
            "gitdir: ../../../../repo/.git/worktrees/wt\n");
  w.opt.mode = Mode::landlock;
  auto r = w.run(protect_doc({}, {}, "    git: worktree\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(rule_paths(*r),
            (Strings{GitWorld::kWt, "/repo/.git", "/repo/.git/worktrees/wt"}));
}

TEST(ProtectGit, DotGitPatternsNameTheCommonDir) {
  GitWorld w;
  auto r = w.run(
      protect_doc({"**/.env"}, {".git/hooks", ".git/config"}, "    git: worktree\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  // .env is searched in the project only, not in the git dirs.
  EXPECT_EQ(prot_paths(*r), (Strings{std::string(GitWorld::kWt) + "/.env",
                                     "/repo/.git/config", "/repo/.git/hooks"}));
  const int common = op_index(*r, MountKind::bind, "/repo/.git");
  ASSERT_GE(common, 0);
  const int hooks = op_index(*r, MountKind::readonly, "/repo/.git/hooks");
  ASSERT_GE(hooks, 0) << testing::PrintToString(ops_within(*r, "/repo"));
  EXPECT_GT(hooks, common);
  EXPECT_TRUE(r->ns.mounts[static_cast<std::size_t>(hooks)].read_only);
  EXPECT_NE(op_at(*r, MountKind::readonly, "/repo/.git/config"), nullptr);
  EXPECT_NE(op_at(*r, MountKind::mask_file, std::string(GitWorld::kWt) + "/.env"),
            nullptr);
  EXPECT_TRUE(ops_within(*r, std::string(GitWorld::kWt) + "/.git").empty());
  for (const char* other :
       {"/repo/.git/.env", "/repo/.git/worktrees/wt/.env", "/repo/.env"})
    EXPECT_EQ(prot_at(*r, other), nullptr) << other;
}

TEST(ProtectGit, DotGitPatternsAreSplitInTheCommonDirWithoutTheNamespaceWall) {
  GitWorld w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(protect_doc({}, {".git/hooks"}, "    git: worktree\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_RIGHTS(rule_at(*r, "/repo/.git")->access, kReadOnly7);
  EXPECT_RIGHTS(rule_at(*r, "/repo/.git/hooks")->access, kReadOnly7);
  EXPECT_RIGHTS(rule_at(*r, "/repo/.git/objects")->access, kAll7);
  EXPECT_RIGHTS(rule_at(*r, "/repo/.git/config")->access, kFileOnly);
  // The worktree's own gitdir is a root of its own, beneath the common dir:
  // it keeps its rights (its index, HEAD and logs are written by commits).
  const LandlockRule* gitdir = rule_at(*r, "/repo/.git/worktrees/wt");
  ASSERT_NE(gitdir, nullptr);
  EXPECT_RIGHTS(gitdir->access, kAll7);
  EXPECT_RIGHTS(rule_at(*r, GitWorld::kWt)->access, kAll7);
}

TEST(ProtectGit, PlainRepositoryAddsNothing) {
  World with, without;
  for (World* w : {&with, &without}) {
    w->fs.file(in_proj(".git/config")).dir(in_proj(".git/hooks"));
    w->fs.file("/repo/.git/config");
  }
  auto a = with.run(protect_doc({}, {".git/hooks"}, "    git: worktree\n"));
  auto b = without.run(protect_doc({}, {".git/hooks"}));
  ASSERT_TRUE(a.has_value()) << err(a);
  ASSERT_TRUE(b.has_value()) << err(b);
  EXPECT_EQ(rule_paths(*a), rule_paths(*b));
  EXPECT_EQ(a->ns.mounts.size(), b->ns.mounts.size());
  EXPECT_EQ(prot_paths(*a), (Strings{in_proj(".git/hooks")}));
  EXPECT_EQ(warnings_with(*a, {"git"}), 0) << all_warnings(*a);
}

TEST(ProtectGit, DotGitFileWithoutGitdirWarnsAndAddsNothing) {
  World w;
  w.fs.file(in_proj(".git"), "this is not a gitdir link\n");
  w.opt.mode = Mode::landlock;
  auto r = w.run(protect_doc({}, {}, "    git: worktree\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(warnings_with(*r, {in_proj(".git"), "gitdir:"}), 1) << all_warnings(*r);
  EXPECT_EQ(rule_paths(*r), (Strings{kProj}));
}

TEST(ProtectGit, GitdirThatDoesNotExistWarns) {
  World w;
  w.fs.file(in_proj(".git"), "gitdir: /gone/.git/worktrees/x\n");
  w.opt.mode = Mode::landlock;
  auto r = w.run(protect_doc({}, {}, "    git: worktree\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(warnings_with(*r, {"/gone/.git/worktrees/x"}), 1) << all_warnings(*r);
  EXPECT_EQ(rule_paths(*r), (Strings{kProj}));
}

TEST(ProtectGit, GitOffIgnoresTheGitdirFile) {
  GitWorld w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(protect_doc({}, {".git/hooks"}));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(rule_paths(*r), (Strings{GitWorld::kWt}));
  EXPECT_TRUE(prot_paths(*r).empty()) << testing::PrintToString(prot_paths(*r));
}

// star_match against fnmatch(3), the oracle, over every pattern of `*` and
// a few letters and every name of up to four letters from a small alphabet
// (both cases): the built-in environment patterns rely on it.
TEST(StarMatch, AgreesWithFnmatchOnEveryShortPatternAndName) {
  const std::string alphabet = "aB_*";
  std::vector<std::string> patterns{""}, names{""};
  for (std::size_t len = 1; len <= 4; ++len) {
    const std::size_t before = patterns.size();
    for (std::size_t i = 0; i < before; ++i)
      if (patterns[i].size() == len - 1)
        for (char c : alphabet) patterns.push_back(patterns[i] + c);
  }
  for (const auto& p : patterns)
    if (p.find('*') == std::string::npos) names.push_back(p);
  for (const auto& n : std::vector<std::string>(names))
    for (const char* extra : {"A", "b", "ab_AB", "_b_a"}) names.push_back(n + extra);
  std::size_t compared = 0;
  for (const auto& p : patterns)
    for (const auto& n : names)
      for (bool fold : {false, true}) {
        const bool want = ::fnmatch(p.c_str(), n.c_str(), fold ? FNM_CASEFOLD : 0) == 0;
        ASSERT_EQ(star_match(p, n, fold), want) << "pattern `" << p << "`, name `" << n
                                                 << "`, casefold " << fold;
        ++compared;
      }
  EXPECT_GT(compared, 10000u);
}

}  // namespace
}  // namespace aisbx::plan
