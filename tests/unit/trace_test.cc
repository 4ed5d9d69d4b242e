// --trace and learn, without a kernel: the syscall table, the tracer's
// first cut, aggregation, the text form events travel in, classification
// (which wall, which line) over Plans that resolve() makes from YAML on a
// FakeFs, the summary, and learn's proposal loaded back as a profile.
#include "aisbx/trace.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <set>
#include <string>

#include "aisbx/features.h"
#include "aisbx/options.h"
#include "aisbx/oracle.h"
#include "aisbx/profile.h"
#include "plan/expand.h"
#include "unit/fake_fs.h"
#include "unit/test_profile.h"
#include "unit/text_assertions.h"

namespace aisbx::trace {
namespace {

using test::FakeFs;
using test::has;

FakeFs host() {
  FakeFs fs;
  fs.dir("/usr/bin").file("/usr/bin/tool").file("/usr/lib/libc.so.6");
  fs.symlink("/lib", "usr/lib");
  fs.dir("/etc").file("/etc/ld.so.cache").file("/etc/hosts");
  fs.dir("/home/u/proj").file("/home/u/proj/README");
  fs.dir("/home/u/proj/bin").file("/home/u/proj/bin/run");
  fs.file("/home/u/.ssh/id_rsa").file("/home/u/.gitconfig");
  fs.dir("/home/u/.ai-sandbox/p-home");
  fs.file("/opt/lib/libfoo.so.1").file("/opt/data/file");
  fs.dir("/proc").dir("/dev").dir("/tmp");
  return fs;
}

const std::string kBase = R"(version: 1
profiles:
  p:
    description: "trace test"
    access_roots:
      system:
        paths: [/usr]
        permissions: {read_file: true, read_dir: true, execute: true}
      config:
        paths: [/etc/ld.so.cache]
        permissions: {read_file: true}
      project:
        paths: ["${PROJECT}"]
        permissions: {read_file: true, read_dir: true}
    control_access: {read_file: true, read_dir: true, execute: true, write_file: true,
                     make_reg: true, make_dir: true, remove_file: true, truncate: true,
                     refer: true}
    command: {binary: /usr/bin/tool}
)";

struct World {
  FakeFs fs = host();
  HostFacts h;
  Options opt;
  Features feat = Features::full(7);
  World() {
    h.uid = h.gid = 1000;
    h.home = "/home/u";
    h.cwd = "/home/u/proj";
  }
  // The profile `name` of `yaml`, with built-ins absent.
  std::optional<plan::Plan> plan(const std::string& yaml, const std::string& name = "p") const {
    auto prof = test::test_profile(yaml, "t.yaml", name);
    if (!prof) return std::nullopt;
    auto p = plan::resolve(plan::Inputs{*prof, "t.yaml", opt, feat, h, fs});
    if (!p) {
      ADD_FAILURE() << p.error().what << "\n" << yaml;
      return std::nullopt;
    }
    return *p;
  }
  std::optional<Denial> classify(const plan::Plan& p, const Event& e) const {
    return trace::classify(p, fs, h.home, e);
  }
};

Event ev(const std::string& syscall, int err, const std::string& path, std::uint64_t flags = 0) {
  Event e;
  e.syscall = syscall;
  e.err = err;
  e.path = path;
  e.flags = flags;
  e.programs = {"/usr/bin/tool"};
  return e;
}

Event net(const std::string& syscall, int err, const std::string& addr, int port) {
  Event e;
  e.syscall = syscall;
  e.err = err;
  e.family = 2;  // AF_INET
  e.address = addr;
  e.port = port;
  return e;
}

// ---------------------------------------------------------------------------

TEST(TraceTable, NamesAreUniqueAndArgumentsInRange) {
  std::set<std::string> names;
  for (const auto& s : traced_syscalls()) {
    EXPECT_TRUE(names.insert(s.name).second) << s.name;
    for (int i : {s.dirfd, s.path, s.dirfd2, s.path2, s.flags}) {
      EXPECT_GE(i, -1) << s.name;
      EXPECT_LT(i, 6) << s.name;
    }
    if (s.kind != Kind::signal) {
      EXPECT_GE(s.path, 0) << s.name;
    }
    if (s.skip_if) {
      EXPECT_GE(s.flags, 0) << s.name;
    }
  }
  ASSERT_NE(shape_of("openat"), nullptr);
  EXPECT_EQ(shape_of("openat")->flags, 2);
  EXPECT_EQ(shape_of("renameat2")->path2, 3);
  EXPECT_EQ(shape_of("read"), nullptr);
}

TEST(TraceEvents, SerializeAndParseRoundTrip) {
  Batch b;
  b.total = 7;
  b.dropped = 2;
  Event a = ev("openat", EACCES, "/a\tb\nc\\d", O_RDONLY);
  a.programs = {"/usr/bin/x", "/usr/bin/y"};
  a.count = 3;
  a.last = 9;
  Event c = net("connect", ENETUNREACH, "127.0.0.1", 8080);
  Event s;
  s.syscall = "keyctl";
  s.err = EPERM;
  s.seccomp = true;
  b.events = {a, c, s};
  const Batch back = parse(serialize(b));
  EXPECT_EQ(back.total, 7u);
  EXPECT_EQ(back.dropped, 2u);
  ASSERT_EQ(back.events.size(), 3u);
  EXPECT_EQ(back.events[0].path, a.path);
  EXPECT_EQ(back.events[0].programs, a.programs);
  EXPECT_EQ(back.events[0].count, 3u);
  EXPECT_EQ(back.events[0].last, 9u);
  EXPECT_EQ(back.events[0].flags, static_cast<std::uint64_t>(O_RDONLY));
  EXPECT_EQ(back.events[1].port, 8080);
  EXPECT_EQ(back.events[1].address, "127.0.0.1");
  EXPECT_TRUE(back.events[2].seccomp);
  EXPECT_EQ(back.events[0].key(), a.key());
}

TEST(TraceEvents, GarbledTextIsSkipped) {
  EXPECT_TRUE(parse("").events.empty());
  EXPECT_TRUE(parse("not a trace\nopenat\t13").events.empty());
  const Batch b = parse("aisbx-trace 1\t1\t0\nopenat\t13\nkeyctl\t1\t1\t\t\t0\t0\t\t-1\t0\t\t1\t1\n");
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(b.events[0].syscall, "keyctl");
}

TEST(TraceEvents, AggregateCountsMergesAndBounds) {
  Aggregate agg(2);
  agg.add(ev("openat", EACCES, "/a"));
  agg.add(ev("openat", EACCES, "/b"));
  Event again = ev("openat", EACCES, "/a");
  again.programs = {"/usr/bin/other"};
  agg.add(again);
  agg.add(ev("openat", EACCES, "/c"));  // over the limit
  const auto events = agg.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].path, "/a");  // newest first
  EXPECT_EQ(events[0].count, 2u);
  EXPECT_EQ(events[0].programs, (std::vector<std::string>{"/usr/bin/tool", "/usr/bin/other"}));
  EXPECT_EQ(agg.dropped(), 1u);
  EXPECT_EQ(agg.total(), 4u);
}

TEST(TraceEvents, TheTracerKeepsOnlyWhatAWallCanCause) {
  World w;
  const auto p = w.plan(kBase);
  ASSERT_TRUE(p);
  EXPECT_FALSE(interesting_errno(EBADF));
  EXPECT_FALSE(worth_keeping(*p, ev("openat", EBADF, "/x")));
  EXPECT_TRUE(worth_keeping(*p, ev("openat", EACCES, "/usr/bin/tool")));
  // ENOENT where the sandbox shows the host's directory: missing there too.
  EXPECT_FALSE(worth_keeping(*p, ev("openat", ENOENT, "/usr/bin/nosuch")));
  EXPECT_FALSE(worth_keeping(*p, ev("openat", ENOENT, "/home/u/proj/nosuch")));
  // Under no root: maybe the host has it.
  EXPECT_TRUE(worth_keeping(*p, ev("openat", ENOENT, "/opt/data/file")));
  EXPECT_TRUE(worth_keeping(*p, ev("openat", ENOENT, "/home/u/.ssh/id_rsa")));
  Event trapped;
  trapped.syscall = "keyctl";
  trapped.seccomp = true;
  EXPECT_TRUE(worth_keeping(*p, trapped));
  w.opt.mode = Mode::landlock;
  const auto ll = w.plan(kBase);
  ASSERT_TRUE(ll);
  EXPECT_FALSE(worth_keeping(*ll, ev("openat", ENOENT, "/opt/data/file")));
}

// ---------------------------------------------------------------------------
// Classification, layered (both walls).

TEST(TraceClassify, AFileUnderNoRootIsTheNamespaceWall) {
  World w;
  const auto p = w.plan(kBase);
  ASSERT_TRUE(p);
  const auto d = w.classify(*p, ev("openat", ENOENT, "/opt/data/file", O_RDONLY));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->wall, Wall::namespace_);
  EXPECT_EQ(d->operation, "read");
  EXPECT_EQ(d->proposal.kind, Proposal::Kind::root);
  EXPECT_EQ(d->proposal.path, "/opt/data/file");
  EXPECT_EQ(d->proposal.rights, fs::kReadFile);
  EXPECT_EQ(d->section, "access_roots");
  EXPECT_TRUE(has(d->yaml, R"(paths: ["/opt/data/file"])"));
  EXPECT_TRUE(has(d->why, "lies under no root"));
  EXPECT_TRUE(has(d->fix, "/opt/data/file"));
  EXPECT_FALSE(d->proposal.secret);
}

TEST(TraceClassify, MissingOnTheHostTooIsNoDenial) {
  World w;
  const auto p = w.plan(kBase);
  ASSERT_TRUE(p);
  EXPECT_FALSE(w.classify(*p, ev("openat", ENOENT, "/opt/data/nosuch")));
  EXPECT_FALSE(w.classify(*p, ev("openat", ENOENT, "/usr/bin/nosuch")));
  EXPECT_FALSE(w.classify(*p, ev("openat", EBADF, "/opt/data/file")));
  // A create where the host lacks the directory as well.
  EXPECT_FALSE(w.classify(*p, ev("openat", ENOENT, "/nodir/x", O_CREAT | O_WRONLY)));
}

TEST(TraceClassify, ListingADirectoryWithoutReadDirIsLandlock) {
  World w;
  const auto p = w.plan(kBase);
  ASSERT_TRUE(p);
  const auto d = w.classify(*p, ev("openat", EACCES, "/etc", O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->wall, Wall::landlock);
  EXPECT_EQ(d->operation, "list");
  EXPECT_EQ(d->proposal.path, "/etc");
  EXPECT_EQ(d->proposal.rights, fs::kReadDir);
  EXPECT_TRUE(has(d->why, "lacks read_dir"));
}

TEST(TraceClassify, CreatingInAReadOnlyRootIsTheMount) {
  World w;
  const auto p = w.plan(kBase);
  ASSERT_TRUE(p);
  const auto d = w.classify(*p, ev("openat", EROFS, "/home/u/proj/x", O_CREAT | O_WRONLY));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->wall, Wall::read_only);
  EXPECT_EQ(d->operation, "create");
  EXPECT_EQ(d->proposal.path, "/home/u/proj");
  EXPECT_EQ(d->proposal.rights, fs::kMakeReg | fs::kWriteFile);
  EXPECT_TRUE(has(d->fix, "access_roots.project.permissions"));
}

TEST(TraceClassify, ExecOnANoexecRootAndALibraryNeedExecute) {
  World w;
  const auto p = w.plan(kBase);
  ASSERT_TRUE(p);
  const auto d = w.classify(*p, ev("execve", EACCES, "/home/u/proj/bin/run"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->wall, Wall::noexec);
  EXPECT_EQ(d->proposal.rights, fs::kReadFile | fs::kExecute);
  // A library the loader would map executable: read_file is not enough.
  const auto lib = w.classify(*p, ev("openat", ENOENT, "/opt/lib/libfoo.so.1", O_RDONLY));
  ASSERT_TRUE(lib);
  EXPECT_EQ(lib->wall, Wall::namespace_);
  EXPECT_EQ(lib->proposal.rights, fs::kReadFile | fs::kExecute);
}

TEST(TraceClassify, SecretStoresAreFlagged) {
  World w;
  const auto p = w.plan(kBase);
  ASSERT_TRUE(p);
  const auto d = w.classify(*p, ev("openat", ENOENT, "/home/u/.ssh/id_rsa", O_RDONLY));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->proposal.secret);
  EXPECT_TRUE(is_secret_path("/home/u/.gnupg/x", "/home/u"));
  EXPECT_TRUE(is_secret_path("/home/u/.local/share/keyrings", "/home/u"));
  EXPECT_TRUE(is_secret_path("/home/u", "/home/u"));  // contains them
  EXPECT_TRUE(is_secret_path("/", "/home/u"));
  EXPECT_FALSE(is_secret_path("/home/u/proj", "/home/u"));
  EXPECT_FALSE(is_secret_path("/home/u/.sshd", "/home/u"));
}

TEST(TraceClassify, APrivateHomeLackingWhatTheRealOneHas) {
  World w;
  const auto p = w.plan(kBase + "    home: {path: ~/.ai-sandbox/p-home, shared: true}\n");
  ASSERT_TRUE(p);
  const auto d = w.classify(*p, ev("openat", ENOENT, "/home/u/.ai-sandbox/p-home/.gitconfig"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->wall, Wall::namespace_);
  EXPECT_TRUE(d->proposal.private_home);
  EXPECT_EQ(d->proposal.path, "/home/u/.gitconfig");
  EXPECT_TRUE(has(d->why, "private HOME"));
  EXPECT_FALSE(w.classify(*p, ev("openat", ENOENT, "/home/u/.ai-sandbox/p-home/.nosuch")));
}

TEST(TraceClassify, NetworkNoneIsTheNetworkNamespaceOrLandlock) {
  World w;
  const auto p = w.plan(kBase + "    network: none\n");
  ASSERT_TRUE(p);
  const auto d = w.classify(*p, net("connect", ENETUNREACH, "127.0.0.1", 8080));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->wall, Wall::netns);
  EXPECT_EQ(d->section, "network");
  EXPECT_EQ(d->yaml, "{mode: host, connect_tcp: [8080]}");
  EXPECT_EQ(d->subject, "tcp 127.0.0.1:8080");
  EXPECT_FALSE(w.classify(*p, net("connect", EBADF, "127.0.0.1", 8080)));

  w.opt.mode = Mode::landlock;
  const auto ll = w.plan(kBase + "    network: {mode: host, connect_tcp: [443]}\n");
  ASSERT_TRUE(ll);
  const auto l = w.classify(*ll, net("connect", EACCES, "10.0.0.1", 80));
  ASSERT_TRUE(l);
  EXPECT_EQ(l->wall, Wall::landlock);
  EXPECT_EQ(l->yaml, "{mode: host, connect_tcp: [80, 443]}");
  // A refused connection on the host's network is no wall of ours.
  EXPECT_FALSE(w.classify(*ll, net("connect", ECONNREFUSED, "127.0.0.1", 443)));
}

TEST(TraceClassify, SeccompAndScopes) {
  World w;
  const auto p = w.plan(kBase + "    seccomp: default\n");
  ASSERT_TRUE(p);
  Event k;
  k.syscall = "keyctl";
  k.err = EPERM;
  k.seccomp = true;
  const auto d = w.classify(*p, k);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->wall, Wall::seccomp);
  EXPECT_EQ(d->section, "seccomp");
  EXPECT_EQ(d->yaml, "{preset: default, allow: [keyctl]}");
  EXPECT_EQ(d->proposal.kind, Proposal::Kind::seccomp_allow);
  Event clone3 = k;
  clone3.syscall = "clone3";
  clone3.err = ENOSYS;
  EXPECT_FALSE(w.classify(*p, clone3)) << "libc's fallback to clone is no denial";
  Event unshare = k;
  unshare.syscall = "unshare";
  const auto u = w.classify(*p, unshare);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->proposal.kind, Proposal::Kind::nested_userns);
  Event ioctl = k;
  ioctl.syscall = "ioctl";
  const auto i = w.classify(*p, ioctl);
  ASSERT_TRUE(i);
  EXPECT_TRUE(i->section.empty());  // nothing allows TIOCSTI

  Event sig = ev("kill", EPERM, "");
  sig.target_pid = 1;
  const auto s = w.classify(*p, sig);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->wall, Wall::scope);
  EXPECT_EQ(s->yaml, "{signal: false}");
}

TEST(TraceClassify, LandlockModeSeesOnlyTheRules) {
  World w;
  w.opt.mode = Mode::landlock;
  const auto p = w.plan(kBase);
  ASSERT_TRUE(p);
  const auto d = w.classify(*p, ev("openat", EACCES, "/opt/data/file", O_RDONLY));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->wall, Wall::landlock);
  EXPECT_TRUE(has(d->why, "no Landlock rule covers it"));
  EXPECT_FALSE(w.classify(*p, ev("openat", EROFS, "/home/u/proj/x", O_CREAT | O_WRONLY)))
      << "without the namespace wall a read-only mount is the host's";
  const auto exdev = w.classify(*p, ev("renameat2", EXDEV, "/home/u/proj/README"));
  EXPECT_FALSE(exdev) << "no destination: nothing to say";
  Event mv = ev("renameat2", EXDEV, "/home/u/proj/README");
  mv.path2 = "/home/u/proj/bin/README";
  const auto across = w.classify(*p, mv);
  ASSERT_TRUE(across);
  EXPECT_EQ(across->wall, Wall::landlock);
  EXPECT_TRUE(across->proposal.rights & fs::kRefer);
}

// ---------------------------------------------------------------------------
// Report, summary, JSON.

TEST(TraceReport, MergesSortsAndBoundsTheSummary) {
  World w;
  const auto p = w.plan(kBase);
  ASSERT_TRUE(p);
  Batch b;
  b.total = 5;
  Event a = ev("openat", EACCES, "/etc", O_DIRECTORY);
  a.last = 1;
  Event c = ev("openat", EROFS, "/home/u/proj/x", O_CREAT | O_WRONLY);
  c.last = 3;
  Event noise = ev("openat", ENOENT, "/usr/bin/nosuch");
  noise.last = 4;
  Event a2 = a;  // the same denial through another syscall shape: merged by subject
  a2.syscall = "openat";
  a2.flags = O_DIRECTORY | O_CLOEXEC;
  a2.last = 2;
  b.events = {a, c, noise, a2};
  const Report r = classify_all(*p, w.fs, w.h.home, b);
  ASSERT_EQ(r.denials.size(), 2u);
  EXPECT_EQ(r.denials[0].wall, Wall::read_only);  // newest first
  EXPECT_EQ(r.denials[1].count, 2u);
  const std::string text = render_text(r);
  EXPECT_TRUE(has(text, "refused 2 accesses (3 calls)"));
  EXPECT_TRUE(has(text, "1. create `/home/u/proj/x`: EROFS, read-only mount"));
  EXPECT_TRUE(has(text, "2. list `/etc`: EACCES, Landlock (2x)"));
  EXPECT_TRUE(has(text, "fix: "));
  const std::string bounded = render_text(r, 1);
  EXPECT_TRUE(has(bounded, "... and 1 more"));
  EXPECT_FALSE(has(bounded, "2. list"));
  const std::string json = render_json(r);
  EXPECT_TRUE(has(json, R"("wall": "read_only")") || has(json, R"("wall":"read_only")")) << json;
  EXPECT_TRUE(has(json, "profile_line"));
  EXPECT_TRUE(has(render_text(Report{}), "refused nothing"));
}

// network.allow's denials come from the proxy, counted per destination and
// reason, and are shown after the refused calls, also when there are none.
TEST(TraceReport, NetworkDenialsAreCountedPerDestination) {
  Batch b;
  b.network = {{"denied.test:443", "not in network.allow", 3},
               {"loop.allowed.test:80", "resolves to a loopback address: 127.0.0.1", 1}};
  const Report r = classify_all(plan::Plan{}, test::FakeFs{}, "/home/u", b);
  ASSERT_EQ(r.network, b.network);
  const std::string text = render_text(r);
  EXPECT_TRUE(has(text, "refused nothing")) << text;
  EXPECT_TRUE(has(text, "network.allow denied 2 destinations (4 times):")) << text;
  EXPECT_TRUE(has(text, "  denied.test:443: not in network.allow (3x)")) << text;
  EXPECT_TRUE(has(text, "  loop.allowed.test:80: resolves to a loopback address: 127.0.0.1 (1x)"))
      << text;
  const std::string json = render_json(r);
  EXPECT_TRUE(has(json, "network_denials")) << json;
  EXPECT_TRUE(has(json, "denied.test:443")) << json;
  EXPECT_FALSE(has(render_text(Report{}), "network.allow"));
}

// ---------------------------------------------------------------------------
// learn: the proposal loads as a profile and allows what was refused.

TEST(TraceLearn, TheProposalLoadsAndAllowsWhatWasRefused) {
  World w;
  const auto before = w.plan(kBase + "    network: none\n    seccomp: default\n");
  ASSERT_TRUE(before);
  Event keyctl;
  keyctl.syscall = "keyctl";
  keyctl.err = EPERM;
  keyctl.seccomp = true;
  Batch b;
  b.events = {ev("openat", ENOENT, "/opt/data/file", O_RDONLY),
              ev("openat", EACCES, "/etc", O_DIRECTORY),
              ev("openat", EROFS, "/home/u/proj/x", O_CREAT | O_WRONLY),
              ev("openat", ENOENT, "/home/u/.ssh/id_rsa", O_RDONLY),
              net("connect", ENETUNREACH, "127.0.0.1", 8080), keyctl};
  const Report r = classify_all(*before, w.fs, w.h.home, b);
  ASSERT_EQ(r.denials.size(), 6u);

  auto base_set = profile::parse_profiles(kBase + "    network: none\n    seccomp: default\n", "t.yaml");
  ASSERT_TRUE(base_set);
  auto base = profile::flatten(*base_set, "p");
  ASSERT_TRUE(base);
  auto embedded = embed_profiles(kBase + "    network: none\n    seccomp: default\n", "t.yaml");
  ASSERT_TRUE(embedded) << embedded.error().what;
  LearnInput in{"p-learned", "p", "tool --flag", "/home/u/proj", "/home/u", &*base, *embedded,
                &w.fs};
  const std::string yaml = propose_profile(in, r);
  EXPECT_TRUE(has(yaml, "extends: p"));
  EXPECT_TRUE(has(yaml, "# used by /usr/bin/tool: read /opt/data/file (namespace)"));
  EXPECT_TRUE(has(yaml, R"(paths: ["${PROJECT}"])"));
  EXPECT_TRUE(has(yaml, "# WARNING: ~/.ssh/id_rsa"));
  EXPECT_TRUE(has(yaml, R"(#   paths: ["~/.ssh/id_rsa"])")) << "secrets only commented out";
  EXPECT_TRUE(has(yaml, "connect_tcp: [8080]"));
  EXPECT_TRUE(has(yaml, "allow: [keyctl]"));

  const auto after = w.plan(yaml, "p-learned");
  ASSERT_TRUE(after) << yaml;
  const plan::Oracle o(*after);
  const auto allowed = [&](const std::string& path, AccessMask rights) {
    const plan::Resolution res = o.resolve(w.fs, path);
    if (!res.target) return false;
    return o.check(*res.target, {rights, false}).ok();
  };
  EXPECT_TRUE(allowed("/opt/data/file", fs::kReadFile));
  EXPECT_TRUE(allowed("/etc", fs::kReadDir));
  EXPECT_TRUE(allowed("/home/u/proj", fs::kMakeReg | fs::kWriteFile));
  EXPECT_FALSE(allowed("/home/u/.ssh/id_rsa", fs::kReadFile));
  EXPECT_EQ(after->ns.net, profile::NetMode::host);
  EXPECT_TRUE(std::find(after->seccomp.deny.begin(), after->seccomp.deny.end(), "keyctl") ==
              after->seccomp.deny.end());
  EXPECT_TRUE(after->seccomp.enabled) << "the base's preset stays";
  // Nothing left to refuse: the same events classify to no denial.
  Batch again;
  again.events = {b.events[0], b.events[1]};
  EXPECT_TRUE(classify_all(*after, w.fs, w.h.home, again).denials.empty());
}

TEST(TraceLearn, NothingRefusedStillLoads) {
  World w;
  LearnInput in{"p-learned", "p", "true", "/home/u/proj", "/home/u", nullptr, "", &w.fs};
  auto embedded = embed_profiles(kBase, "t.yaml");
  ASSERT_TRUE(embedded);
  in.embedded = *embedded;
  const std::string yaml = propose_profile(in, Report{});
  EXPECT_TRUE(has(yaml, "nothing to add"));
  EXPECT_TRUE(w.plan(yaml, "p-learned")) << yaml;
  EXPECT_FALSE(embed_profiles("version: 1\n", "t.yaml"));
}

// The project is writable by what ran in it: a directory literally named
// `${HOME}` and a `home -> /home` link are names an attacker chose. learn
// writes paths a profile takes literally, judges secrets where a path
// leads, and proposes nothing that leads out of the project.
TEST(TraceLearn, ProposesNothingOutsideTheProjectThroughItsNames) {
  World w;
  w.fs.dir("/home/u/proj/${HOME}/cache").symlink("/home/u/proj/home", "/home");
  w.fs.symlink("/opt/keys", "/home/u/.ssh");
  auto root = [](const std::string& path, AccessMask rights) {
    Denial d;
    d.operation = "write";
    d.subject = path;
    d.proposal.kind = Proposal::Kind::root;
    d.proposal.path = path;
    d.proposal.rights = rights;
    d.proposal.secret = is_secret_path(path, "/home/u");
    return d;
  };
  Report r;
  const AccessMask rw = fs::kReadFile | fs::kWriteFile;
  r.denials = {root("/home/u/proj/${HOME}/cache/x", rw),
               root("/home/u/proj/home/u/.ssh/authorized_keys", rw),
               root("/home/u/proj/home/u/.ssh/new_key", rw | fs::kMakeReg),
               root("/opt/keys/id_rsa", fs::kReadFile),
               root("/home/u/proj/bin/run", rw)};
  for (const auto& d : r.denials) ASSERT_FALSE(d.proposal.secret) << d.subject;
  LearnInput in{"p-learned", "p", "tool", "/home/u/proj", "/home/u", nullptr, "", &w.fs};
  auto embedded = embed_profiles(kBase, "t.yaml");
  ASSERT_TRUE(embedded);
  in.embedded = *embedded;
  const std::string yaml = propose_profile(in, r);
  // Every active (uncommented) line is literal.
  std::size_t at = 0;
  while (at < yaml.size()) {
    const auto nl = yaml.find('\n', at);
    const std::string line = yaml.substr(at, nl - at);
    at = nl == std::string::npos ? yaml.size() : nl + 1;
    const auto first = line.find_first_not_of(' ');
    if (first == std::string::npos || line[first] == '#') continue;
    if (line.find("paths:") == std::string::npos) continue;
    EXPECT_FALSE(has(line, "${HOME}")) << line;
    EXPECT_FALSE(has(line, "proj/home")) << line;
    EXPECT_FALSE(has(line, "/opt/keys")) << line;
  }
  EXPECT_TRUE(has(yaml, R"(paths: ["${PROJECT}/bin/run"])")) << yaml;
  EXPECT_TRUE(has(yaml, "# WARNING: /opt/keys/id_rsa")) << yaml;
  EXPECT_TRUE(has(yaml, "outside the project: not proposed")) << yaml;
  EXPECT_TRUE(has(yaml, "which a profile would expand: not proposed")) << yaml;
  // Loaded, the proposal grants nothing in ~/.ssh.
  const auto after = w.plan(yaml, "p-learned");
  ASSERT_TRUE(after) << yaml;
  for (const auto& rule : after->landlock.rules)
    EXPECT_FALSE(plan::is_within(rule.path, "/home/u/.ssh")) << rule.path << "\n" << yaml;
}

TEST(TraceCli, LearnIsASubcommandAndOutputIsItsOwn) {
  const char* learn[] = {"aisbx-ns", "learn", "--profile", "p", "-o", "f.yaml", "--", "make", "-o", "x"};
  const ParsedCli l = parse_cli(10, learn);
  ASSERT_FALSE(l.exit_now);
  EXPECT_TRUE(l.options.learn);
  EXPECT_EQ(l.options.learn_output, "f.yaml");
  EXPECT_EQ(l.options.command, (std::vector<std::string>{"make", "-o", "x"}));
  const char* misplaced[] = {"aisbx-ns", "--profile", "p", "-o", "f.yaml", "--", "true"};
  EXPECT_EQ(parse_cli(7, misplaced).exit_now, kExitLauncherFailure);
  const char* trace[] = {"aisbx-ns", "--profile", "p", "--trace-output", "t.json", "--", "true"};
  const ParsedCli t = parse_cli(7, trace);
  ASSERT_FALSE(t.exit_now);
  EXPECT_TRUE(t.options.trace);
  EXPECT_FALSE(t.options.learn);
}

}  // namespace
}  // namespace aisbx::trace
