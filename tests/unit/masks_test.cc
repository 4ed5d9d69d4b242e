// Built-in masks (secret stores hidden, start-up files read-only), `unmask:`
// and git metadata in planning, over a FakeFs. Expectations are written by
// hand from the comments of src/plan/masks_plan.cc, git_meta_plan.cc and
// protect_plan.cc:
//
// - every row of the table names a path relative to a home;
// - a root holding HOME gets the secret stores masked and the start-up
//   files read-only in the namespace wall, and the Landlock rules split
//   around them without it;
// - a mask missing now in a directory the sandbox may create in takes the
//   make_* rights from that directory in the Landlock wall, and refuses the
//   run when only the namespace wall is on;
// - a root inside a secret store is refused at its file:line:col unless
//   unmasked; an unmasked entry is listed and warned about;
// - every repository in a writable root (nested ones too) gets `.git`
//   bound onto itself and its config, hooks, info read-only in the
//   namespace wall; landlock mode says it cannot.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "aisbx/features.h"
#include "aisbx/host.h"
#include "aisbx/options.h"
#include "aisbx/plan.h"
#include "aisbx/profile.h"
#include "aisbx/rights.h"
#include "plan/masks.h"
#include "unit/fake_fs.h"
#include "unit/test_profile.h"
#include "unit/test_world.h"

namespace aisbx::plan {
namespace {

using test::FakeFs;
using Strings = std::vector<std::string>;

constexpr AccessMask kMake = fs::kMakeChar | fs::kMakeDir | fs::kMakeReg | fs::kMakeSock |
                             fs::kMakeFifo | fs::kMakeBlock | fs::kMakeSym;

std::string all_rights(const std::string& indent) {
  std::string s;
  for (const char* n : {"execute", "write_file", "read_file", "read_dir", "remove_dir",
                        "remove_file", "make_char", "make_dir", "make_reg", "make_sock",
                        "make_fifo", "make_block", "make_sym", "refer", "truncate", "ioctl_dev"})
    s += indent + n + ": true\n";
  return s;
}

// One profile `p` with one writable group `g` of `paths`; `extra` holds
// more profile keys indented by 4.
std::string doc(const std::string& paths, const std::string& extra = "") {
  return "version: 1\nprofiles:\n  p:\n    access_roots:\n      g:\n        paths: " + paths +
         "\n        permissions:\n" + all_rights("          ") + "    control_access:\n" +
         all_rights("      ") + "    command:\n      binary: sh\n" + extra;
}

struct World : test::TestWorld {
  World() : TestWorld("/home/u/dev/p") {
    fs.dir("/usr/bin").file("/usr/bin/sh").dir("/tmp").dir("/proc").dir("/dev");
    fs.file("/home/u/.ssh/id_rsa", "KEY").file("/home/u/.aws/credentials", "AWS");
    fs.file("/home/u/.bashrc", "# rc").dir("/home/u/.config/autostart");
    fs.file("/home/u/.docker/config.json", "{}").dir("/home/u/.local/bin");
    fs.file("/home/u/notes.txt");
    fs.file("/home/u/dev/p/main.c");
    fs.file("/home/u/dev/p/.git/config").file("/home/u/dev/p/.git/HEAD");
    fs.dir("/home/u/dev/p/.git/hooks").dir("/home/u/dev/p/.git/info");
    fs.dir("/home/u/dev/p/.git/objects");
    fs.file("/home/u/dev/p/vendor/x/.git/config").dir("/home/u/dev/p/vendor/x/.git/hooks");
    fs.file("/home/u/dev/p/sub/.git", "gitdir: ../.git/modules/sub\n");
    fs.file("/home/u/dev/p/.git/modules/sub/config").dir("/home/u/dev/p/.git/modules/sub/hooks");
  }

  Expected<Plan> run(const std::string& yaml) const {
    return resolve_yaml(yaml);
  }
};

std::string err(const Expected<Plan>& r) { return r ? "<resolved>" : r.error().what; }

const ProtectedPath* prot_at(const Plan& p, const std::string& path) {
  for (const auto& x : p.protected_paths)
    if (x.path == path) return &x;
  return nullptr;
}

const MountOp* op_at(const Plan& p, MountKind kind, const std::string& target) {
  for (const auto& op : p.ns.mounts)
    if (op.kind == kind && op.target == target) return &op;
  return nullptr;
}

// The rights a path gets from the rules: the union of every rule on the way.
AccessMask rights_at(const Plan& p, const std::string& path) {
  AccessMask a = 0;
  for (const auto& r : p.landlock.rules)
    if (path == r.path || (path.starts_with(r.path) && path[r.path.size()] == '/')) a |= r.access;
  return a;
}

int warnings_with(const Plan& p, const std::string& part) {
  return static_cast<int>(std::count_if(p.warnings.begin(), p.warnings.end(), [&](const auto& w) {
    return w.find(part) != std::string::npos;
  }));
}

// ===========================================================================
// The table

TEST(MaskTable, EveryRowIsARelativePathWithANameAndAReason) {
  std::set<std::string> paths;
  for (const auto& m : builtin_masks()) {
    EXPECT_FALSE(m.name.empty());
    EXPECT_FALSE(m.why.empty()) << m.name;
    EXPECT_FALSE(m.path.starts_with("/")) << m.path;
    EXPECT_FALSE(m.path.starts_with("~")) << m.path;
    EXPECT_EQ(m.path.find(".."), std::string_view::npos) << m.path;
    EXPECT_TRUE(paths.insert(std::string(m.path)).second) << "listed twice: " << m.path;
  }
}

TEST(MaskTable, NamesTheStoresAndStartUpFilesOfTheIssue) {
  auto kind_of = [](std::string_view path) -> std::string {
    for (const auto& m : builtin_masks())
      if (m.path == path) return m.kind == MaskKind::secret ? "secret" : "startup";
    return "none";
  };
  for (const char* s : {".ssh", ".gnupg", ".aws", ".config/gh", ".kube", ".docker/config.json",
                        ".netrc", ".git-credentials", ".config/git/credentials",
                        ".local/share/keyrings", ".password-store", ".config/gcloud", ".azure"}) {
    EXPECT_EQ(kind_of(s), "secret") << s;
  }
  for (const char* s : {".bashrc", ".bash_profile", ".bash_login", ".profile", ".bash_logout",
                        ".zshrc", ".zshenv", ".zprofile", ".zlogin", ".zlogout", ".config/fish",
                        ".config/autostart", ".config/systemd/user", ".config/environment.d",
                        ".gitconfig", ".config/git", ".local/bin", "bin", ".config/aisbx"}) {
    EXPECT_EQ(kind_of(s), "startup") << s;
  }
  EXPECT_TRUE(is_mask_name("ssh"));
  EXPECT_TRUE(is_mask_name("git-credentials"));
  EXPECT_FALSE(is_mask_name("sshh"));
  const auto names = mask_names();
  EXPECT_EQ(std::count(names.begin(), names.end(), "git-credentials"), 1);
}

// ===========================================================================
// unmask: parsing and extends

TEST(Unmask, UnknownNameIsAnErrorAtItsPosition) {
  auto set = profile::parse_profiles(doc("[\"~\"]", "    unmask: [ssh, gitconfg]\n"), "u.yaml");
  ASSERT_FALSE(set.has_value());
  EXPECT_NE(set.error().what.find("u.yaml:"), std::string::npos) << set.error().what;
  EXPECT_NE(set.error().what.find("unknown mask `gitconfg`"), std::string::npos)
      << set.error().what;
  EXPECT_NE(set.error().what.find("did you mean `gitconfig`"), std::string::npos)
      << set.error().what;
}

TEST(Unmask, ExtendsAddsUp) {
  const std::string y = doc("[\"~\"]", "    unmask: [ssh]\n") +
                        "  q:\n    extends: p\n    unmask: [gitconfig, ssh]\n";
  auto q = test::test_profile(y, "u.yaml", "q");
  ASSERT_TRUE(q.has_value());
  Strings names;
  for (const auto& u : q->unmask) names.push_back(u.value);
  EXPECT_EQ(names, (Strings{"ssh", "gitconfig"}));
}

// ===========================================================================
// Masks beneath a root that holds HOME

TEST(HomeMasks, LayeredMasksSecretsAndBindsStartUpFilesReadOnly) {
  World w;
  auto r = w.run(doc("[\"~\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_NE(op_at(*r, MountKind::mask_dir, "/home/u/.ssh"), nullptr);
  EXPECT_NE(op_at(*r, MountKind::mask_dir, "/home/u/.aws"), nullptr);
  EXPECT_NE(op_at(*r, MountKind::mask_file, "/home/u/.docker/config.json"), nullptr);
  const MountOp* rc = op_at(*r, MountKind::readonly, "/home/u/.bashrc");
  ASSERT_NE(rc, nullptr);
  EXPECT_TRUE(rc->read_only);
  EXPECT_NE(op_at(*r, MountKind::readonly, "/home/u/.config/autostart"), nullptr);
  // ~/.local/bin keeps the root's execute right: a read-only tool still runs.
  const MountOp* bin = op_at(*r, MountKind::readonly, "/home/u/.local/bin");
  ASSERT_NE(bin, nullptr);
  EXPECT_FALSE(bin->noexec);
  const ProtectedPath* ssh = prot_at(*r, "/home/u/.ssh");
  ASSERT_NE(ssh, nullptr);
  EXPECT_EQ(ssh->mask, "ssh");
  EXPECT_TRUE(ssh->deny);
  EXPECT_TRUE(ssh->masked);
  // The dry run says what is masked and why.
  const std::string text = render_text(*r);
  EXPECT_NE(text.find("deny /home/u/.ssh  # mask ssh: SSH keys"), std::string::npos) << text;
  EXPECT_NE(render_json(*r).find("\"mask\":\"ssh\""), std::string::npos);
}

TEST(HomeMasks, MissingStartUpFileTakesMakeRightsFromItsDirectoryInLayeredMode) {
  World w;
  auto r = w.run(doc("[\"~\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  const ProtectedPath* z = prot_at(*r, "/home/u/.zshrc");
  ASSERT_NE(z, nullptr);
  EXPECT_TRUE(z->creatable);
  EXPECT_FALSE(z->masked);
  // ~ itself cannot take a new entry; a sibling keeps everything.
  EXPECT_EQ(rights_at(*r, "/home/u") & kMake, 0u);
  EXPECT_EQ(rights_at(*r, "/home/u/dev/p") & kMake, kMake);
  EXPECT_NE(rights_at(*r, "/home/u/notes.txt") & fs::kWriteFile, 0u);
  // Missing ~/.config/gh under an existing ~/.config: that directory too.
  EXPECT_EQ(rights_at(*r, "/home/u/.config") & kMake, 0u);
}

TEST(HomeMasks, NamespaceOnlyRefusesWhatItCannotCover) {
  World w;
  w.opt.mode = Mode::ns;
  auto r = w.run(doc("[\"~\"]"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().what.find("could create `/home/u/.ai-sandbox/homes` (aisbx-homes)"),
            std::string::npos)
      << r.error().what;
  EXPECT_NE(r.error().hint.find("--mode layered"), std::string::npos) << r.error().hint;
}

TEST(HomeMasks, ReadOnlyHomeNeedsNothingForMissingFiles) {
  World w;
  w.opt.mode = Mode::ns;
  const std::string y =
      "version: 1\nprofiles:\n  p:\n    access_roots:\n      g:\n        paths: [\"~\"]\n"
      "        permissions: {read_file: true, read_dir: true}\n"
      "    control_access: {read_file: true, read_dir: true, write_file: true, make_reg: true}\n"
      "    command: {binary: sh}\n";
  auto r = w.run(y);
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(prot_at(*r, "/home/u/.zshrc"), nullptr);
  EXPECT_NE(op_at(*r, MountKind::mask_dir, "/home/u/.ssh"), nullptr);
}

// A mount moves with its directory: the parents of a mask in a writable
// root are pinned, or `mv ~/.config ~/.c2` would take the masks along.
TEST(HomeMasks, ParentsOfMasksInAWritableRootArePinned) {
  World w;
  w.fs.file("/home/u/music/a.ogg");
  auto r = w.run(doc("[\"~\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  for (const char* dir : {"/home/u/.config", "/home/u/.docker", "/home/u/.local"}) {
    EXPECT_NE(op_at(*r, MountKind::pin, dir), nullptr) << dir;
    const ProtectedPath* p = prot_at(*r, dir);
    ASSERT_NE(p, nullptr) << dir;
    EXPECT_TRUE(p->pin);
    EXPECT_TRUE(p->masked);
  }
  // Neither the root itself, nor a mask (already a mount point), nor what
  // leads to no protected path.
  EXPECT_EQ(op_at(*r, MountKind::pin, "/home/u"), nullptr);
  EXPECT_EQ(op_at(*r, MountKind::pin, "/home/u/.ssh"), nullptr);
  EXPECT_EQ(op_at(*r, MountKind::pin, "/home/u/.config/autostart"), nullptr);
  EXPECT_EQ(op_at(*r, MountKind::pin, "/home/u/music"), nullptr);
  // The way to the project's `.git` is pinned too.
  EXPECT_NE(op_at(*r, MountKind::pin, "/home/u/dev"), nullptr);
  EXPECT_NE(render_text(*r).find("pinned /home/u/.config  # built-in: on the way to a protected "
                                 "path"),
            std::string::npos);
}

TEST(HomeMasks, NoPinsInAReadOnlyRootOrWithoutTheNamespaceWall) {
  World w;
  const std::string ro =
      "version: 1\nprofiles:\n  p:\n    access_roots:\n      g:\n        paths: [\"~\"]\n"
      "        permissions: {read_file: true, read_dir: true}\n"
      "    control_access: {read_file: true, read_dir: true, write_file: true}\n"
      "    command: {binary: sh}\n";
  auto r = w.run(ro);
  ASSERT_TRUE(r.has_value()) << err(r);
  for (const auto& op : r->ns.mounts) EXPECT_NE(op.kind, MountKind::pin) << op.target;
  w.opt.mode = Mode::landlock;
  auto l = w.run(doc("[\"~\"]"));
  ASSERT_TRUE(l.has_value()) << err(l);
  for (const auto& p : l->protected_paths) EXPECT_FALSE(p.pin && p.mask != "git") << p.path;
}

// A profile's `deny` promises only that the file stays hidden, which a
// rename does not undo: its parents stay free to move.
TEST(HomeMasks, AProfilesDenyPinsNothing) {
  World w;
  w.fs.file("/home/u/dev/p/config/secrets/.env", "K=V");
  const std::string y = "version: 1\nprofiles:\n  p:\n    access_roots:\n      g:\n"
                        "        paths: [\"${PROJECT}\"]\n        deny: [\"config/secrets/.env\"]\n"
                        "        readonly: [\"docs/a/b.md\"]\n"
                        "        permissions:\n" + all_rights("          ") +
                        "    control_access:\n" + all_rights("      ") +
                        "    command:\n      binary: sh\n";
  w.fs.file("/home/u/dev/p/docs/a/b.md");
  auto d = w.run(y);
  ASSERT_TRUE(d.has_value()) << err(d);
  EXPECT_NE(op_at(*d, MountKind::mask_file, "/home/u/dev/p/config/secrets/.env"), nullptr);
  EXPECT_EQ(op_at(*d, MountKind::pin, "/home/u/dev/p/config"), nullptr);
  EXPECT_EQ(op_at(*d, MountKind::pin, "/home/u/dev/p/config/secrets"), nullptr);
  // A readonly path keeps the host's content at its place: pinned parents.
  EXPECT_NE(op_at(*d, MountKind::pin, "/home/u/dev/p/docs"), nullptr);
  EXPECT_NE(op_at(*d, MountKind::pin, "/home/u/dev/p/docs/a"), nullptr);
}

TEST(HomeMasks, LandlockModeSplitsAroundThem) {
  World w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(doc("[\"~\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_FALSE(r->ns.enabled);
  EXPECT_EQ(rights_at(*r, "/home/u/.ssh/id_rsa") & (fs::kReadFile | fs::kReadDir), 0u);
  EXPECT_EQ(rights_at(*r, "/home/u/.aws/credentials"), 0u);
  EXPECT_EQ(rights_at(*r, "/home/u/.bashrc") & fs::kWriteFile, 0u);
  EXPECT_NE(rights_at(*r, "/home/u/.bashrc") & fs::kReadFile, 0u);
  EXPECT_EQ(rights_at(*r, "/home/u/.config/autostart") & kMake, 0u);
  EXPECT_NE(rights_at(*r, "/home/u/notes.txt") & fs::kWriteFile, 0u);
  EXPECT_TRUE(prot_at(*r, "/home/u/.ssh")->split);
}

TEST(HomeMasks, RootInsideASecretStoreIsRefusedAtItsPosition) {
  World w;
  auto r = w.run(doc("[\"${PROJECT}\", \"~/.ssh\"]"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().what.find("test.yaml:"), std::string::npos) << r.error().what;
  EXPECT_NE(r.error().what.find("secret store"), std::string::npos) << r.error().what;
  EXPECT_NE(r.error().hint.find("unmask: [ssh]"), std::string::npos) << r.error().hint;
  auto r2 = w.run(doc("[\"${PROJECT}\", \"~/.aws/credentials\"]"));
  ASSERT_FALSE(r2.has_value());
}

TEST(HomeMasks, UnmaskShowsTheEntryAndSaysSo) {
  World w;
  auto r = w.run(doc("[\"~\"]", "    unmask: [ssh]\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(op_at(*r, MountKind::mask_dir, "/home/u/.ssh"), nullptr);
  EXPECT_NE(op_at(*r, MountKind::mask_dir, "/home/u/.aws"), nullptr);
  EXPECT_EQ(warnings_with(*r, "unmask: `ssh`"), 1);
  ASSERT_EQ(r->unmasked.size(), 1u);
  EXPECT_NE(render_text(*r).find("unmasked: ssh: ~/.ssh"), std::string::npos);
  auto inside = w.run(doc("[\"${PROJECT}\", \"~/.ssh\"]", "    unmask: [ssh]\n"));
  EXPECT_TRUE(inside.has_value()) << err(inside);
}

TEST(HomeMasks, RootInsideAStartUpDirectoryIsReadOnly) {
  World w;
  auto r = w.run(doc("[\"${PROJECT}\", \"~/.local/bin\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_NE(op_at(*r, MountKind::readonly, "/home/u/.local/bin"), nullptr);
}

TEST(HomeMasks, AProjectRootAloneGetsNone) {
  World w;
  auto r = w.run(doc("[\"${PROJECT}\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  for (const auto& p : r->protected_paths) EXPECT_EQ(p.mask == "ssh" || p.mask == "bashrc", false);
}

TEST(HomeMasks, SymlinkedStartUpFileProtectsItsTargetAndCannotBeReplaced) {
  World w;
  w.fs.file("/home/u/dotfiles/zshrc").symlink("/home/u/.zshrc", "dotfiles/zshrc");
  auto r = w.run(doc("[\"~\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  const ProtectedPath* link = prot_at(*r, "/home/u/.zshrc");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->link, "/home/u/dotfiles/zshrc");
  EXPECT_TRUE(link->creatable);
  EXPECT_NE(op_at(*r, MountKind::readonly, "/home/u/dotfiles/zshrc"), nullptr);
  EXPECT_EQ(rights_at(*r, "/home/u") & kMake, 0u);
}

TEST(HomeMasks, OtherHomesUnderARootGetTheirExistingEntries) {
  World w;
  w.fs.file("/home/v/.ssh/id_ed25519").file("/root/.bashrc");
  auto r = w.run(doc("[/]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_NE(op_at(*r, MountKind::mask_dir, "/home/v/.ssh"), nullptr);
  EXPECT_NE(op_at(*r, MountKind::readonly, "/root/.bashrc"), nullptr);
  EXPECT_EQ(prot_at(*r, "/home/v/.zshrc"), nullptr);  // missing in another home: not listed
}

// Reads not controlled: the namespace wall shows the host's tree read-only,
// where no root holds HOME. The secret stores are hidden there too, in
// every home; Landlock alone cannot hide them and says so.
std::string uncontrolled_reads() {
  return "version: 1\nprofiles:\n  p:\n    access_roots:\n      g:\n        paths: "
         "[\"${PROJECT}\"]\n        permissions: {write_file: true}\n"
         "    control_access: {write_file: true}\n    command: {binary: sh}\n";
}

TEST(Masks, TheHostsReadOnlyViewHidesTheSecretStores) {
  World w;
  w.fs.file("/home/v/.ssh/id_ed25519").file("/root/.aws/credentials");
  auto r = w.run(uncontrolled_reads());
  ASSERT_TRUE(r.has_value()) << err(r);
  ASSERT_FALSE(r->ns.empty_root);
  EXPECT_NE(op_at(*r, MountKind::mask_dir, "/home/u/.ssh"), nullptr);
  EXPECT_NE(op_at(*r, MountKind::mask_dir, "/home/u/.aws"), nullptr);
  EXPECT_NE(op_at(*r, MountKind::mask_dir, "/home/v/.ssh"), nullptr);
  EXPECT_NE(op_at(*r, MountKind::mask_dir, "/root/.aws"), nullptr);
  // Start-up files: the whole view is read-only already.
  EXPECT_EQ(op_at(*r, MountKind::readonly, "/home/u/.bashrc"), nullptr);
  EXPECT_NE(render_text(*r).find("deny /home/u/.ssh  # mask ssh"), std::string::npos);
}

TEST(Masks, LandlockAloneWithReadsNotControlledSaysTheStoresAreReadable) {
  World w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(uncontrolled_reads());
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(warnings_with(*r, "the secret stores `~/.ssh`, `~/.aws"), 1);
  // Controlled reads: nothing to say.
  w.fs.dir("/home/u/dev/p");
  auto c = w.run(doc("[\"${PROJECT}\"]"));
  ASSERT_TRUE(c.has_value()) << err(c);
  EXPECT_EQ(warnings_with(*c, "secret stores"), 0);
}

// ===========================================================================
// Git metadata

TEST(GitMeta, EveryRepositoryIsProtectedInTheNamespaceWall) {
  World w;
  auto r = w.run(doc("[\"${PROJECT}\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  // Bound onto itself with what is mounted in it: objects, refs, index
  // stay as writable as the project.
  ASSERT_NE(op_at(*r, MountKind::pin, "/home/u/dev/p/.git"), nullptr);
  // The parents of vendor/x/.git: `mv vendor v2` would take its masks along.
  EXPECT_NE(op_at(*r, MountKind::pin, "/home/u/dev/p/vendor"), nullptr);
  EXPECT_NE(op_at(*r, MountKind::pin, "/home/u/dev/p/vendor/x"), nullptr);
  for (const char* ro : {"/home/u/dev/p/.git/config", "/home/u/dev/p/.git/hooks",
                         "/home/u/dev/p/.git/info", "/home/u/dev/p/.git/modules/sub/config",
                         "/home/u/dev/p/.git/modules/sub/hooks", "/home/u/dev/p/sub/.git",
                         "/home/u/dev/p/vendor/x/.git/config",
                         "/home/u/dev/p/vendor/x/.git/hooks"})
    EXPECT_NE(op_at(*r, MountKind::readonly, ro), nullptr) << ro;
  EXPECT_EQ(op_at(*r, MountKind::readonly, "/home/u/dev/p/.git/objects"), nullptr);
  EXPECT_EQ(op_at(*r, MountKind::readonly, "/home/u/dev/p/.git/HEAD"), nullptr);
  EXPECT_NE(render_text(*r).find("pinned /home/u/dev/p/.git"), std::string::npos);
}

TEST(GitMeta, ReadOnlyRootsAreNotWalked) {
  World w;
  const std::string y =
      "version: 1\nprofiles:\n  p:\n    access_roots:\n      g:\n        paths: [\"${PROJECT}\"]\n"
      "        permissions: {read_file: true, read_dir: true}\n"
      "    control_access: {read_file: true, read_dir: true, write_file: true}\n"
      "    command: {binary: sh}\n";
  auto r = w.run(y);
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(prot_at(*r, "/home/u/dev/p/.git/config"), nullptr);
}

// A killed launcher could not move it aside after the run: the next
// launch does, before the command starts, instead of locking the user out.
TEST(GitMeta, PlantedCommondirIsListedToBeMovedAsideNotRefused) {
  World w;
  w.fs.file("/home/u/dev/p/vendor/x/.git/commondir", "/tmp/evil\n");
  auto r = w.run(doc("[\"${PROJECT}\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  ASSERT_EQ(r->git_planted, std::vector<std::string>{"/home/u/dev/p/vendor/x/.git/commondir"});
  // Nothing is mounted on what will be gone when the stages run.
  EXPECT_EQ(prot_at(*r, "/home/u/dev/p/vendor/x/.git/commondir"), nullptr);
  EXPECT_NE(prot_at(*r, "/home/u/dev/p/vendor/x/.git/config"), nullptr);
  EXPECT_NE(render_text(*r).find("moved aside before the command starts: "
                                 "/home/u/dev/p/vendor/x/.git/commondir"),
            std::string::npos);
}

// A worktree's gitdir holds a commondir by design: never "planted".
TEST(GitMeta, AWorktreesOwnCommondirIsNotPlanted) {
  World w;
  w.fs.file("/home/u/dev/p/.git/worktrees/wt/commondir", "../..\n");
  auto r = w.run(doc("[\"${PROJECT}\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_TRUE(r->git_planted.empty());
}

// node_modules holds thousands of directories and no checkout of the
// user's: not searched, and the plan says so.
TEST(GitMeta, DependencyTreesAreNotSearchedAndSaid) {
  World w;
  w.fs.file("/home/u/dev/p/node_modules/left-pad/.git/config");
  w.fs.file("/home/u/dev/p/lib/node_modules/x/.git/config");
  w.fs.file("/home/u/dev/p/third_party/y/.git/config");
  auto r = w.run(doc("[\"${PROJECT}\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(prot_at(*r, "/home/u/dev/p/node_modules/left-pad/.git/config"), nullptr);
  EXPECT_EQ(prot_at(*r, "/home/u/dev/p/lib/node_modules/x/.git/config"), nullptr);
  EXPECT_NE(prot_at(*r, "/home/u/dev/p/third_party/y/.git/config"), nullptr);
  int said = 0;
  for (const auto& g : r->git_scan_limits) said += g.find("`node_modules`") != std::string::npos;
  EXPECT_EQ(said, 1);  // once per root, however many there are
  EXPECT_EQ(warnings_with(*r, "node_modules"), 0);  // quiet: a fact of the plan
}

// Files cost the walk nothing; directories count towards its limit.
TEST(GitMeta, ManyFilesDoNotCutTheWalk) {
  World w;
  for (int i = 0; i < 25000; ++i) w.fs.file("/home/u/dev/p/data/f" + std::to_string(i));
  w.fs.file("/home/u/dev/p/zz/.git/config");
  auto r = w.run(doc("[\"${PROJECT}\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_NE(prot_at(*r, "/home/u/dev/p/zz/.git/config"), nullptr);
  EXPECT_EQ(warnings_with(*r, "stopped after"), 0);
}

TEST(GitMeta, HooksAsASymlinkIsSaidOnceAndNotRefused) {
  World w;
  w.fs.symlink("/home/u/dev/p/vendor/x/.git/hooks", "/srv/hooks");
  w.fs.dir("/srv/hooks");
  auto r = w.run(doc("[\"${PROJECT}\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(warnings_with(*r, "/home/u/dev/p/vendor/x/.git/hooks` is a symlink"), 1);
  for (const auto& op : r->ns.mounts) EXPECT_NE(op.target, "/home/u/dev/p/vendor/x/.git/hooks");
}

TEST(GitMeta, LandlockModeSaysItCannotAndKeepsGitWritable) {
  World w;
  w.opt.mode = Mode::landlock;
  auto r = w.run(doc("[\"${PROJECT}\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(warnings_with(*r, "git metadata"), 1);
  EXPECT_NE(rights_at(*r, "/home/u/dev/p/.git/index.lock") & fs::kWriteFile, 0u);
  const ProtectedPath* c = prot_at(*r, "/home/u/dev/p/.git/config");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->split);
  EXPECT_TRUE(c->restored);  // put back after the command (git_restore.cc)
  EXPECT_NE(render_text(*r).find("NOT read-only without the namespace wall: restored after the "
                                 "command"),
            std::string::npos);
}

TEST(GitMeta, DeepTreesAreCutAndSaid) {
  World w;
  std::string deep = "/home/u/dev/p";
  for (int i = 0; i < 9; ++i) deep += "/d";
  w.fs.file(deep + "/.git/config");
  auto r = w.run(doc("[\"${PROJECT}\"]"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(prot_at(*r, deep + "/.git/config"), nullptr);
  ASSERT_FALSE(r->git_scan_limits.empty());
  EXPECT_NE(render_text(*r).find("git repositories searched"), std::string::npos);
}

}  // namespace
}  // namespace aisbx::plan
