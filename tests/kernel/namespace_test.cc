// The namespace wall and the process model through the real binary:
// `aisbx-ns` in its default mode (layered: namespace + Landlock) and in
// `--mode ns` (the namespace wall alone, to show it holds by itself), with
// profiles the tests write and with the built-in ones.
//
// Exact errnos from the probe: ENOENT for what does not exist in the
// sandbox, EROFS for a write to a read-only bind while Landlock does not
// control writes, EACCES for an exec on a root mounted noexec, EPERM for
// mount/umount/pivot_root, ENETUNREACH / ECONNREFUSED for the network modes.
// Every denial is preceded by the same operation outside the sandbox, as the
// same user, where it must succeed: a probe that fails for another reason (a
// typo, DAC, a missing file) must not pass as a denial.
//
// Every test runs as the caller and, when the caller is root, as uid/gid
// 65534 (runner::users_to_test()).
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "aisbx/plan.h"
#include "kernel_gap.h"
#include "paths.h"
#include "profile_yaml.h"
#include "run_helpers.h"

extern char** environ;

namespace aisbx::test {
namespace {

using runner::eventually;
using runner::shell_quote;

// A name no other run (nor another test binary running in parallel) uses.
std::string unique(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

// ---------------------------------------------------------------------------
// Profiles, written as YAML text the way a user would write them.

struct ProfileSpec {
  std::string name;
  std::vector<Group> groups;         // after the system group
  std::vector<std::string> control;  // control_access: right -> true
  std::string home;                  // `home:` if not empty
};

// What the probe (dynamically linked, in the build tree), sh, perl and the
// coreutils need to load and run: the system directories and the probe's
// own directory.
Group system_group() {
  return {"system",
          {"/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache", dir_of(probe_path())},
          {"read_file", "read_dir", "execute"}};
}

std::string yaml(const std::vector<ProfileSpec>& profiles) {
  std::string y = "version: 1\nprofiles:\n";
  for (const auto& p : profiles) {
    y += "  " + p.name + ":\n";
    y += "    description: " + yq("namespace test profile " + p.name) + "\n";
    y += "    access_roots:\n";
    std::vector<Group> groups{system_group()};
    groups.insert(groups.end(), p.groups.begin(), p.groups.end());
    y += groups_yaml(groups);
    y += control_yaml(p.control);
    if (!p.home.empty()) y += "    home: " + yq(p.home) + "\n";
  }
  return y;
}

// Reads and exec controlled, writes not: Landlock never says no to a write,
// so a refused write is the read-only mount's doing (EROFS).
const std::vector<std::string> kControlReadExec = {"read_file", "read_dir", "execute"};
// Every right these tests use, all controlled.
const std::vector<std::string> kControlAll = {
    "read_file", "read_dir", "execute",  "write_file", "remove_file", "remove_dir",
    "make_reg",  "make_dir", "make_sym", "make_fifo",  "truncate",    "refer"};
const std::vector<std::string> kRead = {"read_file", "read_dir"};
const std::vector<std::string> kReadExec = {"read_file", "read_dir", "execute"};
const std::vector<std::string> kReadWrite = {"read_file",   "read_dir",   "write_file",
                                             "remove_file", "remove_dir", "make_reg",
                                             "make_dir",    "truncate"};

// ---------------------------------------------------------------------------
// Running the launcher in the background: the tests that signal it need its
// pid while it runs. Same environment rules as runner::run.

struct Background {
  pid_t pid = -1;
  std::string log;  // stdout and stderr of the launcher and its command
};

std::vector<std::string> child_env(const RunSpec& spec) {
  std::vector<std::pair<std::string, std::string>> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0 || kv.starts_with("AISBX_")) continue;
    env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  std::vector<std::pair<std::string, std::string>> set = {
      {"PATH", "/usr/local/bin:/usr/bin:/bin"}};
  set.insert(set.end(), spec.env.begin(), spec.env.end());
  for (const auto& [k, v] : set) {
    bool found = false;
    for (auto& [key, value] : env)
      if (key == k) value = v, found = true;
    if (!found) env.emplace_back(k, v);
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

Background start(const RunSpec& spec, const std::string& log) {
  Background b;
  b.log = log;
  std::vector<std::string> args = spec.argv, envs = child_env(spec);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || in < 0) {
    ADD_FAILURE() << "open " << log << ": " << std::strerror(errno);
    return b;
  }
  const bool drop = spec.as == As::nobody;
  b.pid = ::fork();
  if (b.pid == 0) {
    // Only async-signal-safe calls until execve.
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(250);
    if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) ::_exit(251);
    if (drop &&
        (::setgroups(0, nullptr) != 0 ||
         ::setresgid(runner::kNobodyGid, runner::kNobodyGid, runner::kNobodyGid) != 0 ||
         ::setresuid(runner::kNobodyUid, runner::kNobodyUid, runner::kNobodyUid) != 0))
      ::_exit(252);
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(253);
  }
  ::close(out);
  ::close(in);
  if (b.pid < 0) ADD_FAILURE() << "fork: " << std::strerror(errno);
  return b;
}

// Waits for the background launcher; the status as a shell shows it, or -1
// if it is still running after `seconds` (it is then killed and reaped).
int finish(Background& b, double seconds) {
  int status = 0;
  pid_t w = 0;
  const bool ended = eventually(seconds, [&] {
    w = ::waitpid(b.pid, &status, WNOHANG);
    return w == b.pid;
  });
  if (!ended) {
    ::kill(b.pid, SIGKILL);  // our own child, by its pid
    ::waitpid(b.pid, &status, 0);
    b.pid = -1;
    return -1;
  }
  b.pid = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -2;
}

// Every process's argv, by pid.
std::vector<std::pair<pid_t, std::vector<std::string>>> all_argvs() {
  std::vector<std::pair<pid_t, std::vector<std::string>>> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    const std::string cmdline = runner::read_text("/proc/" + name + "/cmdline");
    std::vector<std::string> argv;
    std::size_t start = 0;
    while (start < cmdline.size()) {
      auto end = cmdline.find('\0', start);
      if (end == std::string::npos) end = cmdline.size();
      argv.push_back(cmdline.substr(start, end - start));
      start = end + 1;
    }
    found.emplace_back(static_cast<pid_t>(std::stol(name)), std::move(argv));
  }
  return found;
}

// Pids of the processes whose argv holds `arg` as one whole argument (the
// launcher, its init, which is a fork of it, and the target).
std::vector<pid_t> processes_with_arg(const std::string& arg) {
  std::vector<pid_t> pids;
  for (const auto& [pid, argv] : all_argvs())
    for (const auto& a : argv)
      if (a == arg) {
        pids.push_back(pid);
        break;
      }
  return pids;
}

// Pids of the processes whose argv is exactly `want` (the target once it
// has been exec'd, not the launcher that names it).
std::vector<pid_t> processes_running(const std::vector<std::string>& want) {
  std::vector<pid_t> pids;
  for (const auto& [pid, argv] : all_argvs())
    if (argv == want) pids.push_back(pid);
  return pids;
}

// A TCP listener on 127.0.0.1, an ephemeral port, in the test process.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "listener on 127.0.0.1: " << std::strerror(errno);
      return;
    }
    port_ = ntohs(a.sin_port);
  }
  ~Listener() {
    if (fd_ >= 0) ::close(fd_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  std::string port() const { return std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// ---------------------------------------------------------------------------
// Parameters: who runs the launcher, and which walls.

enum class Walls { layered, ns };

struct Variant {
  As as;
  Walls walls;
};

const char* mode_name(Walls w) { return w == Walls::ns ? "ns" : "layered"; }

void PrintTo(const Variant& v, std::ostream* os) {
  *os << runner::name_of(v.as) << " --mode " << mode_name(v.walls);
}

std::vector<Variant> all_variants() {
  std::vector<Variant> v;
  for (As as : runner::users_to_test())
    for (Walls w : {Walls::layered, Walls::ns}) v.push_back({as, w});
  return v;
}

std::vector<Variant> layered_variants() {
  std::vector<Variant> v;
  for (As as : runner::users_to_test()) v.push_back({as, Walls::layered});
  return v;
}

std::string variant_name(const ::testing::TestParamInfo<Variant>& info) {
  return runner::name_of(info.param.as) + "_" + mode_name(info.param.walls);
}

// A temp tree owned by the user under test:
//   project/README           the project (the launcher's cwd)
//   other-project/secret     another project beside it
//   home/.ssh/id_rsa         the host HOME the launcher is given
//   out/                     a root the write tests grant
//   tools/                   a root granting execute
//   xdg/                     XDG_CONFIG_HOME (empty: no user config file)
class NamespaceWall : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    AISBX_SKIP_ON_KERNEL_GAP(Need::Userns);
    if (GetParam().walls == Walls::layered) AISBX_SKIP_ON_KERNEL_GAP(Need::Landlock);
    tree_ = std::make_unique<TempTree>(as(), "aisbx-ns");
    project_ = tree_->dir("project");
    readme_ = tree_->file("project/README", "inside\n");
    other_secret_ = tree_->file("other-project/secret", "OTHER\n");
    home_ = tree_->dir("home");
    ssh_key_ = tree_->file("home/.ssh/id_rsa", "PRIVATE KEY\n", 0600);
    out_ = tree_->dir("out");
    tools_ = tree_->dir("tools");
    xdg_ = tree_->dir("xdg");
    config_ = tree_->at("profiles.yaml");
    write_config({
        {"reader", {{"project", {project_}, kRead}}, kControlReadExec, ""},
        {"ro",
         {{"project", {project_}, kRead}, {"out", {out_}, kReadWrite}},
         kControlReadExec,
         ""},
        {"rw",
         {{"project", {project_}, kRead},
          {"out", {out_}, kReadWrite},
          {"tools", {tools_}, kReadExec}},
         kControlAll,
         ""},
    });
  }

  As as() const { return GetParam().as; }
  std::string mode() const { return mode_name(GetParam().walls); }

  void write_config(const std::vector<ProfileSpec>& profiles) {
    tree_->file("profiles.yaml", yaml(profiles));
  }

  Result run(std::vector<std::string> argv,
             std::vector<std::pair<std::string, std::string>> env = {}) const {
    RunSpec s;
    s.argv = std::move(argv);
    s.as = as();
    s.cwd = project_;
    s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", xdg_}};
    s.env.insert(s.env.end(), env.begin(), env.end());
    return runner::run(s);
  }

  // aisbx-ns --config C --profile P --mode M [options] -- command...
  std::vector<std::string> launcher(const std::string& profile,
                                    const std::vector<std::string>& options,
                                    const std::vector<std::string>& command) const {
    std::vector<std::string> v{binary_path(), "--config", config_, "--profile",
                               profile,       "--mode",   mode()};
    v.insert(v.end(), options.begin(), options.end());
    v.push_back("--");
    v.insert(v.end(), command.begin(), command.end());
    return v;
  }

  std::vector<std::string> probe(const std::vector<std::string>& args) const {
    std::vector<std::string> v{probe_path()};
    v.insert(v.end(), args.begin(), args.end());
    return v;
  }

  Result sandboxed(const std::string& profile, const std::vector<std::string>& args,
                   const std::vector<std::string>& options = {}) const {
    return run(launcher(profile, options, probe(args)));
  }

  // The probe must succeed without the sandbox, then end with `want` in it.
  void expect_probe(const std::string& profile, const std::vector<std::string>& args,
                    int want, const std::vector<std::string>& options = {}) {
    SCOPED_TRACE("aisbx_probe " + join(args) + " in profile " + profile + " " +
                 join(options));
    const Result d = run(probe(args));
    ASSERT_EQ(d.status, 0) << "the probe fails even without the sandbox, so a failure "
                              "inside it would prove nothing: "
                           << d.describe();
    const Result s = sandboxed(profile, args, options);
    EXPECT_EQ(s.status, want) << s.describe();
  }

  std::unique_ptr<TempTree> tree_;
  std::string project_, readme_, other_secret_, home_, ssh_key_, out_, tools_, xdg_,
      config_;
};

// ---------------------------------------------------------------------------
// What is not a root does not exist.

TEST_P(NamespaceWall, HostHomeShadowAndOtherProjectsAreAbsent) {
  expect_probe("reader", {"read", readme_}, 0);
  expect_probe("reader", {"list", project_}, 0);
  // The host's HOME, with a planted secret: not even the name exists.
  expect_probe("reader", {"read", ssh_key_}, ENOENT);
  expect_probe("reader", {"stat", ssh_key_}, ENOENT);
  expect_probe("reader", {"list", home_}, ENOENT);
  // stat, not read: 65534 may not read /etc/shadow on the host either, but
  // anyone can see that it is there.
  expect_probe("reader", {"stat", "/etc/shadow"}, ENOENT);
  expect_probe("reader", {"stat", "/etc/hostname"}, ENOENT);
  // Another project beside this one.
  expect_probe("reader", {"stat", other_secret_}, ENOENT);
  expect_probe("reader", {"read", other_secret_}, ENOENT);
  // `..` from the project leads into the empty root, not to the host.
  expect_probe("reader", {"read", project_ + "/../other-project/secret"}, ENOENT);
}

// ---------------------------------------------------------------------------
// Read-only and writable roots.

TEST_P(NamespaceWall, ReadOnlyRootRefusesWritesWithErofs) {
  // Profile `ro` controls reads and exec only: nothing but the mount can
  // refuse these writes, and the mount says EROFS.
  const std::string created = project_ + "/new";
  const std::string made_dir = project_ + "/newdir";
  const std::vector<std::pair<std::string, std::string>> ops = {{"write", readme_},
                                                                {"create", created},
                                                                {"mkdir", made_dir},
                                                                {"unlink", readme_},
                                                                {"truncate", readme_}};
  for (const auto& [op, path] : ops) {
    SCOPED_TRACE(op + " " + path);
    // Outside: the operation works (then the tree is put back).
    const Result d = run(probe({op, path}));
    ASSERT_EQ(d.status, 0) << d.describe();
    tree_->remove("project/new");
    tree_->remove("project/newdir");
    tree_->file("project/README", "inside\n");
    const Result s = sandboxed("ro", {op, path});
    EXPECT_EQ(s.status, EROFS) << s.describe();
  }
  EXPECT_EQ(runner::read_text(readme_), "inside\n") << "a refused write changed the file";
  EXPECT_FALSE(exists(created));
  EXPECT_FALSE(exists(made_dir));
}

// Kernels before 5.12 have no mount_setattr(2): each root is bound, then
// the mount table is read (libmount) and every mount beneath each bind is
// remounted. AISBX_FAKE_NO_MOUNT_SETATTR takes that path here. Both must
// give every mount of the sandbox its root's flags, a mount beneath a
// read-only root included: the run is wrapped in a user and mount
// namespace of its own where a writable tmpfs is mounted inside the project.
TEST_P(NamespaceWall, MountsBeneathARootTakeItsFlagsBothWays) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/unshare"), "needs /usr/bin/unshare (util-linux)");
  const std::string sub = tree_->dir("project/sub");
  auto with_submount = [&](const std::vector<std::string>& argv) {
    std::vector<std::string> v{"/usr/bin/unshare", "--user", "--map-root-user", "--mount",
                               "/bin/sh", "-c",
                               "mount -t tmpfs -o rw tmpfs \"$0\" && touch \"$0/writable\" && "
                               "exec \"$@\"",
                               sub};
    v.insert(v.end(), argv.begin(), argv.end());
    return v;
  };
  const Result control = run(with_submount({"/bin/true"}));
  ASSERT_EQ(control.status, 0) << "the writable tmpfs could not be made: " << control.describe();

  // mount point -> options, for the roots of profile `rw` and the mount below.
  auto flags = [&](std::vector<std::pair<std::string, std::string>> env) {
    const Result r =
        run(with_submount(launcher("rw", {}, probe({"cat", "/proc/self/mountinfo"}))), env);
    EXPECT_EQ(r.status, 0) << r.describe();
    std::map<std::string, std::string> m;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      std::istringstream f(line);
      std::string id, parent, dev, root, point, options;
      f >> id >> parent >> dev >> root >> point >> options;
      for (const std::string& at : {project_, out_, tools_})
        if (point == at || point.starts_with(at + "/")) m[point] = options;
    }
    return m;
  };
  const std::pair<std::string, std::string> legacy_path{"AISBX_FAKE_NO_MOUNT_SETATTR", "1"};
  const auto now = flags({});
  const auto legacy = flags({legacy_path});
  ASSERT_EQ(now.size(), 4u) << "one mount per root and the tmpfs beneath the project";
  EXPECT_EQ(now, legacy);
  EXPECT_TRUE(now.at(project_).starts_with("ro,nosuid,nodev")) << now.at(project_);
  EXPECT_TRUE(now.at(sub).starts_with("ro,nosuid,nodev")) << now.at(sub);
  EXPECT_TRUE(now.at(out_).starts_with("rw,nosuid,nodev")) << now.at(out_);

  // Writes into it are refused by the mount (profile `ro` leaves writes
  // to the namespace wall), either way.
  for (const auto& env : {std::vector<std::pair<std::string, std::string>>{},
                          std::vector<std::pair<std::string, std::string>>{legacy_path}}) {
    const Result w = run(with_submount(launcher("ro", {}, probe({"write", sub + "/writable"}))),
                         env);
    EXPECT_EQ(w.status, EROFS) << w.describe();
  }
}

TEST_P(NamespaceWall, WritableRootTakesWritesThatLandOnTheHost) {
  const std::string data = tree_->file("out/data", "host\n");
  for (const std::string profile : {"ro", "rw"}) {
    SCOPED_TRACE(profile);
    tree_->file("out/data", "host\n");
    tree_->remove("out/created");
    const Result w = sandboxed(profile, {"write", data});
    EXPECT_EQ(w.status, 0) << w.describe();
    EXPECT_EQ(runner::read_text(data), "host\nx")
        << "the write did not reach the host's file";
    const Result c = sandboxed(profile, {"create", out_ + "/created"});
    EXPECT_EQ(c.status, 0) << c.describe();
    EXPECT_TRUE(exists(out_ + "/created")) << "the new file is not on the host";
  }
}

// ---------------------------------------------------------------------------
// noexec unless the root grants execute.

TEST_P(NamespaceWall, ExecOnARootWithoutExecuteIsRefused) {
  const std::string program = runner::read_text(probe_path());
  ASSERT_FALSE(program.empty());
  const std::string script = "#!/bin/sh\nexit 0\n";
  // project: read only (noexec); tools: read + execute.
  const std::string bin_noexec = tree_->file("project/tool", program, 0755);
  const std::string sh_noexec = tree_->file("project/tool.sh", script, 0755);
  const std::string bin_exec = tree_->file("tools/tool", program, 0755);
  const std::string sh_exec = tree_->file("tools/tool.sh", script, 0755);
  // In profile `ro` Landlock controls execute too, but in --mode ns it is
  // off: there the mount's noexec alone gives the EACCES.
  write_config({
      {"ro",
       {{"project", {project_}, kRead}, {"tools", {tools_}, kReadExec}},
       kControlReadExec,
       ""},
      {"rw",
       {{"project", {project_}, kRead}, {"tools", {tools_}, kReadExec}},
       kControlAll,
       ""},
  });
  for (const std::string profile : {"ro", "rw"}) {
    expect_probe(profile, {"exec", bin_noexec, "exit", "0"}, EACCES);
    expect_probe(profile, {"exec", sh_noexec}, EACCES);
    expect_probe(profile, {"exec", bin_exec, "exit", "0"}, 0);
    expect_probe(profile, {"exec", sh_exec}, 0);
  }
}

// ---------------------------------------------------------------------------
// Private HOME.

TEST_P(NamespaceWall, PrivateHomeFromTheCommandLine) {
  // Neither it nor its parent exists yet.
  const std::string parent = tree_->at("homes");
  const std::string home = parent + "/sandbox-home";
  const std::vector<std::string> opts{"--home", home};
  const std::string write_it = "printf '%s\\n' \"$HOME\"; echo kept > \"$HOME/persist\"";
  const Result first = run(launcher("rw", opts, {"/bin/sh", "-c", write_it}));
  ASSERT_EQ(first.status, 0) << first.describe();
  EXPECT_EQ(first.out, home + "\n") << "HOME inside is not the private HOME";

  struct stat st {};
  ASSERT_EQ(::stat(home.c_str(), &st), 0)
      << "the private HOME was not created on the host";
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, runner::uid_of(as()));
  ASSERT_EQ(::stat(parent.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u) << "a missing parent of the private HOME";
  EXPECT_EQ(runner::read_text(home + "/persist"), "kept\n");

  // The next run finds what the first one left.
  const Result second = run(launcher("rw", opts, {"/bin/cat", home + "/persist"}));
  EXPECT_EQ(second.status, 0) << second.describe();
  EXPECT_EQ(second.out, "kept\n");

  // The real HOME is not there.
  expect_probe("rw", {"stat", ssh_key_}, ENOENT, opts);
  expect_probe("rw", {"list", home_}, ENOENT, opts);
}

TEST_P(NamespaceWall, PrivateHomeFromTheProfile) {
  // `home:` names the base of one HOME per profile and project.
  const std::string base = tree_->at("profile-home");
  const std::string home = base + "/homed-" + plan::home_hash(project_);
  ASSERT_FALSE(exists(base));
  write_config({{"homed", {{"project", {project_}, kRead}}, kControlAll, base}});
  const Result r = run(
      launcher("homed", {},
               {"/bin/sh", "-c", "printf '%s\\n' \"$HOME\"; echo kept > \"$HOME/p\""}));
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, home + "\n");
  struct stat st {};
  ASSERT_EQ(::stat(home.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat(base.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(runner::read_text(home + "/p"), "kept\n");
  const Result again = run(launcher("homed", {}, {"/bin/cat", home + "/p"}));
  EXPECT_EQ(again.out, "kept\n") << again.describe();
  expect_probe("homed", {"stat", ssh_key_}, ENOENT);
}

// ---------------------------------------------------------------------------
// /proc, /dev, /tmp are the sandbox's own.

TEST_P(NamespaceWall, ProcShowsOnlyTheSandboxProcesses) {
  const Result r = run(launcher("reader", {}, {"/bin/sh", "-c", "echo $$; ls /proc"}));
  ASSERT_EQ(r.status, 0) << r.describe();
  std::istringstream lines(r.out);
  std::string target_pid;
  std::getline(lines, target_pid);
  // init is 1, the target its first child.
  EXPECT_EQ(target_pid, "2") << r.describe();
  std::set<long> pids;
  for (std::string name; std::getline(lines, name);)
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
      pids.insert(std::stol(name));
  // init, the shell, ls (and nothing of the host).
  EXPECT_TRUE(pids.contains(1)) << r.out;
  EXPECT_TRUE(pids.contains(2)) << r.out;
  EXPECT_LE(pids.size(), 3u) << r.out;
  for (long pid : pids) EXPECT_LE(pid, 3) << r.out;
  // This test's own pid exists on the host, not in the sandbox.
  const std::string mine = "/proc/" + std::to_string(::getpid());
  if (::getpid() > 3) expect_probe("reader", {"stat", mine}, ENOENT);
}

TEST_P(NamespaceWall, DevHoldsOnlyTheHarmlessNodes) {
  for (const char* node : {"/dev/null", "/dev/zero", "/dev/tty", "/dev/pts", "/dev/shm"})
    expect_probe("reader", {"stat", node}, 0);
  expect_probe("reader", {"write", "/dev/null"}, 0);
  expect_probe("reader", {"read", "/dev/zero"}, 0);
  // A host device that is not in the minimal set.
  std::string host_only;
  for (const char* d :
       {"/dev/kmsg", "/dev/mem", "/dev/vda", "/dev/sda", "/dev/loop0", "/dev/tty0"})
    if (exists(d)) {
      host_only = d;
      break;
    }
  ASSERT_FALSE(host_only.empty()) << "no host device to look for";
  expect_probe("reader", {"stat", host_only}, ENOENT);
}

TEST_P(NamespaceWall, TmpIsPrivateExceptRootsBeneathIt) {
  // A file planted in the host's /tmp (not a root of the profile).
  TempTree planted(as(), "aisbx-ns-planted");
  const std::string secret = planted.file("secret", "PLANTED\n");
  expect_probe("reader", {"stat", secret}, ENOENT);
  expect_probe("reader", {"stat", planted.path()}, ENOENT);
  // The project lies under /tmp too, and is a root: bound into the private /tmp.
  ASSERT_TRUE(project_.starts_with("/tmp/"));
  expect_probe("reader", {"read", readme_}, 0);
  // What the sandbox writes into its /tmp stays there.
  const std::string outside = "/tmp/" + unique("aisbx-ns-direct");
  const Result d = run(probe({"create", outside}));
  ASSERT_EQ(d.status, 0) << d.describe();
  ::unlink(outside.c_str());
  const std::string inside = "/tmp/" + unique("aisbx-ns-private");
  const Result s = sandboxed("rw", {"create", inside});
  // Roots lie beneath /tmp (this project, `tools` read-only): the private
  // /tmp stays writable all the same, and private.
  EXPECT_EQ(s.status, 0) << s.describe();
  EXPECT_FALSE(exists(inside))
      << "a file made in the sandbox's /tmp appeared on the host";
  ::unlink(inside.c_str());
}

// Was a bug, fixed (issue 18): a read-only root beneath /tmp narrowed the
// private /tmp's Landlock rule to read-only (codex then died on "unable to
// open database file"). /tmp stays writable; the read-only root beneath it
// stays read-only by its mount (EROFS), and --dry-run says which wall holds it.
TEST_P(NamespaceWall, ReadOnlyRootBeneathTmpLeavesTmpWritable) {
  ASSERT_TRUE(tools_.starts_with("/tmp/"));
  const std::string tool = tree_->file("tools/tool", "#!/bin/sh\necho tool\n", 0755);
  const std::string scratch = "/tmp/" + unique("aisbx-ns-scratch");
  expect_probe("rw", {"create", scratch}, 0);
  ::unlink(scratch.c_str());
  // As a user launches it: `--ro DIR` beneath /tmp too.
  expect_probe("reader", {"create", scratch}, 0, {"--ro", tools_});
  ::unlink(scratch.c_str());
  const Result made = run(probe({"create", tools_ + "/new"}));  // the control
  ASSERT_EQ(made.status, 0) << made.describe();
  ::unlink((tools_ + "/new").c_str());
  const Result refused = sandboxed("rw", {"create", tools_ + "/new"});
  EXPECT_EQ(refused.status, EROFS) << refused.describe();
  EXPECT_FALSE(exists(tools_ + "/new"));
  expect_probe("rw", {"write", tool}, EROFS);
  expect_probe("rw", {"read", tool}, 0);
  if (GetParam().walls == Walls::layered) {
    const Result d = run(launcher("reader", {"--ro", tools_, "--dry-run"}, {"true"}));
    ASSERT_EQ(d.status, 0) << d.describe();
    EXPECT_TRUE(contains(d.out + d.err, "`" + tools_ + "` (ro) lies beneath the private /tmp: its read-only"))
        << d.describe();
  }
}

// ---------------------------------------------------------------------------
// Network.

TEST_P(NamespaceWall, NetworkModes) {
  Listener listener;
  const std::string port = listener.port();
  // Outside, as the same user: the listener answers.
  const Result d = run(probe({"connect-tcp", "127.0.0.1", port}));
  ASSERT_EQ(d.status, 0) << d.describe();
  // A fresh network namespace: `lo` is down, nothing is reachable.
  EXPECT_EQ(
      sandboxed("reader", {"connect-tcp", "127.0.0.1", port}, {"--net", "none"}).status,
      ENETUNREACH);
  // The host's network.
  EXPECT_EQ(
      sandboxed("reader", {"connect-tcp", "127.0.0.1", port}, {"--net", "host"}).status,
      0);
  // `lo` up in a namespace of its own: the port exists, nobody listens there.
  EXPECT_EQ(sandboxed("reader", {"connect-tcp", "127.0.0.1", port}, {"--net", "loopback"})
                .status,
            ECONNREFUSED);
  EXPECT_EQ(sandboxed("reader", {"bind-tcp", "0"}, {"--net", "loopback"}).status, 0);
}

// ---------------------------------------------------------------------------
// The target keeps no capability: no mount, umount or pivot_root, even when
// the caller is root.

// A perl script (perl and its syscall.ph are in /usr): the exact errno of
// mount(2), umount2(2) and pivot_root(2) as its exit status.
constexpr const char* kMountScript = R"(require "syscall.ph";
my ($op, $a, $b) = @ARGV;
my ($none, $fs) = ("none", "tmpfs");
my $r = -1;
if ($op eq "mount") { $r = syscall(&SYS_mount, $none, $a, $fs, 0, 0); }
elsif ($op eq "umount") { $r = syscall(&SYS_umount2, $a, 0); }
elsif ($op eq "pivot") { $r = syscall(&SYS_pivot_root, $a, $b); }
else { exit 255; }
exit($r == -1 ? $! + 0 : 0);
)";

TEST_P(NamespaceWall, TargetCannotMountUnmountOrPivot) {
  const bool have_perl = exists("/usr/bin/perl") &&
                         run({"/usr/bin/perl", "-e", "require 'syscall.ph'"}).status == 0;
  AISBX_SKIP_WITHOUT(have_perl, "needs /usr/bin/perl with syscall.ph (libperl)");
  AISBX_SKIP_WITHOUT(exists("/usr/bin/unshare"), "needs /usr/bin/unshare (util-linux)");
  const std::string script = tree_->file("project/mnt.pl", kMountScript);
  const std::string mnt = tree_->dir("project/mnt");
  const std::string perl = "/usr/bin/perl " + shell_quote(script);

  // With the capabilities of a user namespace of its own, the same script
  // mounts, unmounts and pivots: it is able to.
  const std::string able = perl + " mount " + shell_quote(mnt) + " || exit 101; " + perl +
                           " umount " + shell_quote(mnt) + " || exit 102; mount --bind " +
                           shell_quote(mnt) + " " + shell_quote(mnt) +
                           " || exit 103; cd " + shell_quote(mnt) + " && " + perl +
                           " pivot . . || exit 104";
  const Result control = run({"/usr/bin/unshare", "-Urm", "/bin/sh", "-c", able});
  ASSERT_EQ(control.status, 0) << control.describe();

  auto in_sandbox = [&](const std::string& sh) {
    return run(launcher("reader", {}, {"/bin/sh", "-c", sh}));
  };
  Result r = in_sandbox(perl + " mount " + shell_quote(mnt));
  EXPECT_EQ(r.status, EPERM) << r.describe();
  r = in_sandbox(perl + " umount /usr");
  EXPECT_EQ(r.status, EPERM) << r.describe();
  r = in_sandbox(perl + " umount " + shell_quote(project_));
  EXPECT_EQ(r.status, EPERM) << r.describe();
  // /usr is a mount point in the sandbox: pivot_root(".", ".") there.
  r = in_sandbox("cd /usr && " + perl + " pivot . .");
  EXPECT_EQ(r.status, EPERM) << r.describe();

  // util-linux's mount and umount: 32 is "mount failure" for both.
  r = in_sandbox("mount -t tmpfs none " + shell_quote(mnt));
  EXPECT_EQ(r.status, 32) << r.describe();
  r = in_sandbox("umount /usr");
  EXPECT_EQ(r.status, 32) << r.describe();
}

TEST_P(NamespaceWall, NestedNamespacesCannotMountIntoTheSandbox) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/unshare"), "needs /usr/bin/unshare (util-linux)");
  const std::string mnt = tree_->dir("project/mnt");
  // Outside, the same command mounts a tmpfs in a namespace of its own.
  const std::string nested = "mount -t tmpfs none " + shell_quote(mnt) + " && touch " +
                             shell_quote(mnt + "/inner") + " && echo mounted";
  const Result d = run({"/usr/bin/unshare", "-Urm", "/bin/sh", "-c", nested});
  ASSERT_EQ(d.status, 0) << d.describe();
  ASSERT_EQ(d.out, "mounted\n");
  ASSERT_FALSE(exists(mnt + "/inner"));

  const std::string script = "unshare -Urm sh -c " + shell_quote(nested) +
                             "; echo nested=$?; ls -A " + shell_quote(mnt);
  const Result r = run(launcher("reader", {}, {"/bin/sh", "-c", script}));
  ASSERT_EQ(r.status, 0) << r.describe();
  if (GetParam().walls == Walls::layered || runner::uid_of(as()) == 0) {
    // Landlock forbids any mount change; and a root caller's target lacks
    // CAP_SETFCAP, so it may not map uid 0 in a nested namespace.
    EXPECT_TRUE(contains(r.err, "Operation not permitted")) << r.describe();
    EXPECT_EQ(r.out, "nested=1\n") << r.describe();
  } else {
    // --mode ns has no seccomp filter: an unprivileged target may make a
    // nested user + mount namespace and mount in it (seccomp's job in
    // strict mode), but that mount is its own copy's.
    EXPECT_TRUE(r.out == "nested=1\n" || r.out == "mounted\nnested=0\n") << r.describe();
  }
  // Neither the sandbox (ls printed nothing) nor the host sees it.
  EXPECT_FALSE(exists(mnt + "/inner"));
}

// ---------------------------------------------------------------------------
// Exit status and signals.

TEST_P(NamespaceWall, ExitStatusIsTheCommands) {
  const std::string tool =
      tree_->file("project/tool", runner::read_text(probe_path()), 0755);
  Result r = sandboxed("reader", {"exit", "0"});
  EXPECT_EQ(r.status, 0) << r.describe();
  r = sandboxed("reader", {"exit", "7"});
  EXPECT_EQ(r.status, 7) << r.describe();
  // Killed by SIGTERM: 128+15, and the launcher itself exits normally.
  r = sandboxed("reader", {"signal-self", std::to_string(SIGTERM)});
  EXPECT_EQ(r.status, 128 + SIGTERM) << r.describe();
  EXPECT_FALSE(r.signaled) << r.describe();
  // Not found, and found but not executable (noexec project).
  r = run(launcher("reader", {}, {project_ + "/no-such-program"}));
  EXPECT_EQ(r.status, 127) << r.describe();
  r = run(launcher("reader", {}, {tool, "exit", "0"}));
  EXPECT_EQ(r.status, 126) << r.describe();
}

class NamespaceProcess : public NamespaceWall {
 protected:
  RunSpec spec(std::vector<std::string> argv) const {
    RunSpec s;
    s.argv = std::move(argv);
    s.as = as();
    s.cwd = project_;
    s.env = {{"HOME", home_}, {"XDG_CONFIG_HOME", xdg_}};
    return s;
  }
};

TEST_P(NamespaceProcess, SigtermToTheLauncherReachesTheTarget) {
  const std::string ready = out_ + "/ready", got = out_ + "/got-term";
  const std::string orphan = "4242." + std::to_string(::getpid()) + "1";
  const std::string script = "trap 'echo got-term > " + shell_quote(got) +
                             "; exit 3' TERM; " + "sleep " + orphan + " & echo ready > " +
                             shell_quote(ready) + "; wait";
  Background b =
      start(spec(launcher("rw", {}, {"/bin/sh", "-c", script})), tree_->at("log"));
  ASSERT_GT(b.pid, 0);
  const bool started = eventually(20, [&] {
    return exists(ready) && !processes_running({"sleep", orphan}).empty();
  });
  if (!started) finish(b, 0);
  ASSERT_TRUE(started) << "the target never started: "
                       << runner::read_text(tree_->at("log"));
  ASSERT_EQ(::kill(b.pid, SIGTERM), 0);
  const int status = finish(b, 20);
  EXPECT_EQ(status, 3) << runner::read_text(tree_->at("log"));
  EXPECT_EQ(runner::read_text(got), "got-term\n") << "the target's TERM trap did not run";
  // The shell's background child died with the sandbox.
  EXPECT_TRUE(eventually(3, [&] { return processes_with_arg(orphan).empty(); }))
      << "left running: sleep " << orphan;
}

TEST_P(NamespaceProcess, NothingIsLeftWhenTheLauncherIsKilled) {
  const std::string marker = "4243." + std::to_string(::getpid()) + "2";
  const std::vector<std::string> target{"/bin/sleep", marker};
  Background b = start(spec(launcher("reader", {}, target)), tree_->at("log"));
  ASSERT_GT(b.pid, 0);
  // The target runs (so that the scan below can find it, and there is an
  // init and a target that could outlive the launcher).
  const bool running = eventually(20, [&] { return !processes_running(target).empty(); });
  if (!running) finish(b, 0);
  ASSERT_TRUE(running) << runner::read_text(tree_->at("log"));
  ASSERT_EQ(::kill(b.pid, SIGKILL), 0);
  EXPECT_EQ(finish(b, 10), 128 + SIGKILL);
  std::vector<pid_t> left;
  const bool gone = eventually(3, [&] {
    left = processes_with_arg(marker);
    return left.empty();
  });
  EXPECT_TRUE(gone) << left.size() << " process(es) left running with " << marker;
  for (pid_t pid : left) ::kill(pid, SIGKILL);  // found by our unique marker
}

// ---------------------------------------------------------------------------
// Without user namespaces: strict refuses, layered falls back to Landlock.

TEST_P(NamespaceProcess, StrictRefusesWhenTheKernelRefusesUserNamespaces) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/unshare"), "needs /usr/bin/unshare (util-linux)");
  const std::string marker = out_ + "/ran";
  // A user namespace of our own where no further user namespace may be made:
  // a real kernel refusal, not the AISBX_FAKE_NO_USERNS hook.
  auto no_userns = [&](const std::string& mode, const std::vector<std::string>& command) {
    std::vector<std::string> argv{
        "/usr/bin/unshare",
        "--user",
        "--map-root-user",
        "/bin/sh",
        "-c",
        "echo 0 > /proc/sys/user/max_user_namespaces || exit 99; exec \"$@\"",
        "sh",
        binary_path(),
        "--config",
        config_,
        "--profile",
        "rw",
        "--mode",
        mode,
        "--"};
    argv.insert(argv.end(), command.begin(), command.end());
    return run(argv);
  };
  // The wrapper works here: the limit is 0 where the launcher runs.
  const Result limit =
      run({"/usr/bin/unshare", "--user", "--map-root-user", "/bin/sh", "-c",
           "echo 0 > /proc/sys/user/max_user_namespaces && "
           "cat /proc/sys/user/max_user_namespaces"});
  AISBX_SKIP_WITHOUT(
      limit.status == 0 && limit.out == "0\n",
      "cannot lower user.max_user_namespaces in a user namespace: " + limit.describe());
  const std::vector<std::string> touch{"/usr/bin/touch", marker};
  const Result strict = no_userns("strict", touch);
  EXPECT_EQ(strict.status, 125) << strict.describe();
  EXPECT_TRUE(contains(strict.err, "aisbx-ns: error: "));
  EXPECT_TRUE(contains(strict.err, "user namespace"));
  EXPECT_TRUE(contains(strict.err, "max_user_namespaces"));
  EXPECT_FALSE(exists(marker)) << "strict mode ran the command";

  // Layered: warns and runs with Landlock alone (the command can run there).
  const Result layered = no_userns("layered", touch);
  EXPECT_EQ(layered.status, 0) << layered.describe();
  EXPECT_TRUE(contains(layered.err, "namespace wall skipped"));
  EXPECT_TRUE(exists(marker)) << layered.describe();
  // Landlock holds: the host HOME is there (no namespace) but refused.
  const Result secret = no_userns("layered", probe({"read", ssh_key_}));
  EXPECT_EQ(secret.status, EACCES) << secret.describe();

  // --features names the cause and the remedy, in text and JSON.
  for (const char* format : {"text", "json"}) {
    const Result f = run({"/usr/bin/unshare", "--user", "--map-root-user", "/bin/sh", "-c",
                          "echo 0 > /proc/sys/user/max_user_namespaces || exit 99; exec \"$@\"",
                          "sh", binary_path(), "--features", "--format", format});
    EXPECT_EQ(f.status, 0) << f.describe();
    EXPECT_TRUE(contains(f.out, "user.max_user_namespaces is 0")) << f.describe();
    EXPECT_TRUE(contains(f.out, "sysctl -w user.max_user_namespaces=")) << f.describe();
  }
}

// A real run does not fork the user namespace probe: it assumes user
// namespaces work when no knob forbids them, and when its own unshare is
// refused it probes, plans again and falls back (layered) or refuses
// (strict). 33 nested user namespaces reach the kernel's nesting limit with
// every knob allowing them, which only that fallback can handle.
TEST_P(NamespaceProcess, FallsBackWhenItsOwnUnshareIsRefused) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/unshare"), "needs /usr/bin/unshare (util-linux)");
  const std::string marker = out_ + "/ran";
  auto nested = [](std::vector<std::string> command) {
    std::vector<std::string> argv;
    for (int i = 0; i < 33; ++i)
      argv.insert(argv.end(), {"/usr/bin/unshare", "--user", "--map-root-user"});
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  };
  const Result limit = run(nested({"/usr/bin/unshare", "--user", "/bin/true"}));
  AISBX_SKIP_WITHOUT(limit.status != 0 && contains(limit.err, "No space left on device"),
                     "33 nested user namespaces are not the limit here: " + limit.describe());
  auto sandboxed = [&](const std::string& mode, std::vector<std::string> command) {
    std::vector<std::string> argv{binary_path(), "--config", config_, "--profile", "rw",
                                  "--mode", mode, "--"};
    argv.insert(argv.end(), command.begin(), command.end());
    return run(nested(argv));
  };
  const Result strict = sandboxed("strict", {"/usr/bin/touch", marker});
  EXPECT_EQ(strict.status, 125) << strict.describe();
  EXPECT_TRUE(contains(strict.err, "strict mode needs an unprivileged user namespace"))
      << strict.describe();
  EXPECT_TRUE(contains(strict.err, "32 nested levels")) << strict.describe();
  EXPECT_FALSE(exists(marker)) << "strict mode ran the command";

  const Result layered = sandboxed("layered", {"/usr/bin/touch", marker});
  EXPECT_EQ(layered.status, 0) << layered.describe();
  EXPECT_TRUE(contains(layered.err, "namespace wall skipped")) << layered.describe();
  EXPECT_FALSE(contains(layered.err, "namespace: on")) << "the assumed plan was reported";
  EXPECT_TRUE(exists(marker)) << layered.describe();
  // Landlock holds in the fallback: the host HOME is there but refused.
  const Result secret = sandboxed("layered", probe({"read", ssh_key_}));
  EXPECT_EQ(secret.status, EACCES) << secret.describe();
}

TEST_P(NamespaceProcess, StrictRefusesWhenUserNamespacesAreFaked) {
  const std::string marker = out_ + "/ran";
  const std::vector<std::pair<std::string, std::string>> fake{
      {"AISBX_FAKE_NO_USERNS", "1"}};
  const Result strict = run({binary_path(), "--config", config_, "--profile", "rw",
                             "--mode", "strict", "--", "/usr/bin/touch", marker},
                            fake);
  EXPECT_EQ(strict.status, 125) << strict.describe();
  EXPECT_TRUE(contains(strict.err, "aisbx-ns: error: "));
  EXPECT_TRUE(contains(strict.err, "user namespace"));
  EXPECT_FALSE(exists(marker)) << "strict mode ran the command";

  const Result layered = run({binary_path(), "--config", config_, "--profile", "rw", "--",
                              "/usr/bin/touch", marker},
                             fake);
  EXPECT_EQ(layered.status, 0) << layered.describe();
  EXPECT_TRUE(contains(layered.err, "namespace wall skipped"));
  EXPECT_TRUE(exists(marker));
}

// ---------------------------------------------------------------------------
// The done criterion: a node server in the built-in copilot-backend profile,
// from the project directory, no --config (HOME and XDG_CONFIG_HOME are
// temp dirs with no config file).

constexpr const char* kServerJs = R"(const fs = require('fs');
const net = require('net');
const path = require('path');
function attempt(name, fn) {
  try {
    fn();
    console.log(name + ': ok');
  } catch (e) {
    console.log(name + ': ' + (e.code || e.message));
  }
}
attempt('read-project', () => fs.readFileSync(path.join(process.cwd(), 'README')));
const home = process.env.HOME;
attempt('read-ssh-key', () => fs.readFileSync(path.join(home, '.ssh', 'id_rsa')));
const written = path.join(process.cwd(), 'written.txt');
attempt('write-project', () => fs.writeFileSync(written, 'x'));
const s = net.connect({host: '127.0.0.1', port: Number(process.argv[2])}, () => {
  console.log('connect: ok');
  s.destroy();
});
s.on('error', (e) => console.log('connect: ' + e.code));
)";

TEST_P(NamespaceProcess, CopilotBackendServesNodeFromTheProjectOnly) {
  AISBX_SKIP_WITHOUT(exists("/usr/bin/node"), "needs /usr/bin/node");
  tree_->file("project/server.js", kServerJs);
  const std::string written = project_ + "/written.txt";
  Listener listener;

  const Result d = run({"/usr/bin/node", "server.js", listener.port()});
  ASSERT_EQ(d.status, 0) << d.describe();
  ASSERT_EQ(d.out, "read-project: ok\nread-ssh-key: ok\nwrite-project: ok\nconnect: ok\n")
      << "outside the sandbox every attempt must work: " << d.describe();
  ASSERT_TRUE(exists(written));
  ::unlink(written.c_str());

  const Result s = run({binary_path(), "--profile", "copilot-backend", "--", "node",
                        "server.js", listener.port()});
  ASSERT_EQ(s.status, 0) << s.describe();
  std::istringstream lines(s.out);
  std::vector<std::string> got;
  for (std::string l; std::getline(lines, l);) got.push_back(l);
  ASSERT_EQ(got.size(), 4u) << s.describe();
  EXPECT_EQ(got[0], "read-project: ok");
  EXPECT_EQ(got[1], "read-ssh-key: ENOENT");
  EXPECT_TRUE(got[2] == "write-project: EROFS" || got[2] == "write-project: EACCES")
      << got[2];
  EXPECT_EQ(got[3], "connect: ENETUNREACH");
  EXPECT_FALSE(exists(written)) << "the sandboxed server wrote into the project";
}

// ---------------------------------------------------------------------------
// Both walls at once: Landlock must hold by itself inside the namespace too.

class NamespaceLayered : public NamespaceWall {};

// Was a bug, fixed twice. A full Landlock rule on the private /tmp covers
// whatever is mounted beneath: a project under the host's /tmp granting
// write_file but not remove_file/make_reg/truncate has a read-write mount,
// so Landlock is the only wall that can withhold those, and the rule on
// /tmp would grant them (the file was deleted on the host). Narrowing /tmp
// to the project's rights then left no writable /tmp (issue 18). Such a
// root is refused at launch with what to do; nothing runs, nothing changes.
TEST_P(NamespaceLayered, WritableRootBeneathTmpThatLandlockAloneHoldsIsRefused) {
  ASSERT_TRUE(project_.starts_with("/tmp/"));
  write_config({{"writer",
                 {{"project", {project_}, {"read_file", "read_dir", "write_file"}}},
                 kControlAll,
                 ""}});
  const std::string victim = tree_->file("project/victim", "keep\n");
  for (const char* m : {"layered", "strict"}) {
    const Result r = run({binary_path(), "--config", config_, "--profile", "writer", "--mode", m,
                          "--", probe_path(), "unlink", victim});
    EXPECT_EQ(r.status, 125) << m << ": " << r.describe();
    EXPECT_TRUE(contains(r.err, "lies beneath the private /tmp")) << r.describe();
    EXPECT_TRUE(contains(r.err, "remove_file")) << r.describe();
    EXPECT_TRUE(contains(r.err, "/var/tmp")) << r.describe();
    EXPECT_TRUE(exists(victim)) << "the sandbox deleted a file of the project on the host";
  }
  // Landlock mode has no private /tmp: Landlock alone holds the project.
  Result r = run({binary_path(), "--config", config_, "--profile", "writer", "--mode",
                  "landlock", "--", probe_path(), "unlink", victim});
  EXPECT_EQ(r.status, EACCES) << "remove_file is not granted: " << r.describe();
  EXPECT_TRUE(exists(victim));
}

// The same fix in strict and landlock modes, as root and 65534: strict
// keeps the private /tmp writable with a read-only root beneath it (EROFS
// there); landlock mode has the host's /tmp, and the root keeps its rights
// (EACCES: Landlock).
TEST_P(NamespaceLayered, ReadOnlyRootBeneathTmpInStrictAndLandlockModes) {
  ASSERT_TRUE(tools_.starts_with("/tmp/"));
  const std::string tool = tree_->file("tools/tool", "data\n", 0644);
  const std::string scratch = "/tmp/" + unique("aisbx-ns-strict");
  auto in = [&](const char* m, const std::vector<std::string>& args) {
    std::vector<std::string> v{binary_path(), "--config", config_, "--profile", "rw",
                               "--mode",      m,        "--",     probe_path()};
    v.insert(v.end(), args.begin(), args.end());
    return run(v);
  };
  Result r = in("strict", {"create", scratch});
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_FALSE(exists(scratch));
  EXPECT_EQ(in("strict", {"write", tool}).status, EROFS);
  EXPECT_EQ(in("strict", {"read", tool}).status, 0);
  EXPECT_EQ(in("landlock", {"write", tool}).status, EACCES);
  EXPECT_EQ(in("landlock", {"read", tool}).status, 0);
  EXPECT_EQ(runner::read_text(tool), "data\n");
}

INSTANTIATE_TEST_SUITE_P(Namespace, NamespaceWall, ::testing::ValuesIn(all_variants()),
                         variant_name);
INSTANTIATE_TEST_SUITE_P(Namespace, NamespaceLayered,
                         ::testing::ValuesIn(layered_variants()), variant_name);
INSTANTIATE_TEST_SUITE_P(Namespace, NamespaceProcess,
                         ::testing::ValuesIn(layered_variants()), variant_name);

}  // namespace
}  // namespace aisbx::test
