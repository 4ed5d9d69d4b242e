// Plan: everything a run will do, fully resolved, printable before anything
// happens. resolve() is pure; the stages only read the Plan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aisbx/error.h"
#include "aisbx/features.h"
#include "aisbx/host.h"
#include "aisbx/net_rules.h"
#include "aisbx/options.h"
#include "aisbx/profile.h"
#include "aisbx/rights.h"

namespace aisbx::plan {

// What planning saw at a path a stage will open (plan/identity_plan.cc):
// the stage opens it without following symlinks and refuses the run when
// the opened file is not this one. Not checked: trees the sandbox makes
// itself (its /proc, /dev, /tmp, masks) and paths made at launch.
struct PlannedId {
  bool checked = false;
  std::optional<FileId> id;  // nullopt: nothing was there
};

struct LandlockRule {
  std::string path;      // as the sandbox sees it (roots keep their paths)
  bool is_dir = true;
  AccessMask requested = 0;  // what the profile grants
  AccessMask access = 0;     // what is added: masked to handled (and file rights)
  std::string origin;        // root group name, or what made it implicit
  bool implicit = false;
};

struct PortRule {
  std::uint16_t port = 0;
  AccessMask access = 0;  // net:: bits
};

enum class Enforcement { full, partial, none };

struct LandlockPlan {
  bool enabled = false;        // the wall will be applied
  int kernel_abi = 0;          // as reported by the kernel
  int abi = 0;                 // used: min(kernel, kMaxKnownAbi, profile pin)
  std::optional<int> required_abi;  // --require-landlock / strict
  AccessMask requested_fs = 0;  // control_access as written
  AccessMask handled_fs = 0;    // what the ruleset handles
  AccessMask ignored_fs = 0;    // requested but this ABI lacks
  AccessMask handled_net = 0;
  AccessMask ignored_net = 0;
  std::vector<PortRule> net_rules;
  AccessMask scoped = 0;
  AccessMask ignored_scopes = 0;
  std::vector<LandlockRule> rules;
  // rule_seen[i]: rules[i].path as planning saw it. Filled last, by the
  // identity post-pass (beside the rules rather than in them, so that the
  // planners that make rules need not know); empty in a Plan made by hand,
  // where nothing is compared.
  std::vector<PlannedId> rule_seen;
  // Indices, ascending, of the rules whose path an overlay's merged view
  // provides (--overlay, `overlay: true`): filled with rule_seen. Their
  // inode numbers there are overlayfs's, so the stage opens them before
  // pivot_root, each tied to the host path planning saw
  // (stage::open_merged_rules), and adds those fds.
  std::vector<std::size_t> merged_rules;
  Enforcement enforcement = Enforcement::none;
};

enum class MountKind {
  tmpfs_root,  // the fresh, empty root everything else is mounted into
  host_root,   // reads are not controlled: the host tree, bound read-only
  bind,        // a root of the profile at its own path
  home,        // the private HOME, bound read-write
  proc,        // a new procfs for the sandbox's pid namespace
  dev,         // minimal /dev
  tmp,         // private /tmp (tmpfs)
  symlink,     // a symlink recreated inside (merged /usr, symlinked roots)
  readonly,    // a `readonly` subpath bound onto itself, read-only
  mask_dir,    // a denied directory: an empty read-only tmpfs over it
  mask_file,   // a denied file: an empty read-only file bound over it
  overlay,     // a root seen through overlayfs: `source` is the lower dir,
               // writes go to its NamespacePlan::overlays entry's upper dir
  pin,         // a directory of the new root bound onto itself with all it
               // holds (after the binds): a mount point cannot be renamed
               // or removed, so what is mounted beneath stays where it is
};

struct MountOp {
  MountKind kind = MountKind::bind;
  std::string source;  // host path for bind/home; link text for symlink
  std::string target;  // path inside the sandbox
  bool read_only = true;
  bool noexec = true;  // nosuid and nodev are always set
  std::string origin;  // root group, or "implicit"
  bool implicit = false;
};

// A `deny` or `readonly` subpath, after glob expansion, a built-in mask
// (secret stores, start-up files) or git metadata, and how each wall
// enforces it.
struct ProtectedPath {
  std::string path;
  bool deny = true;           // else read-only
  FileKind kind = FileKind::missing;
  std::string group;          // the profile's group; "built-in" for the rest
  bool masked = false;        // the namespace wall masks / remounts it
  bool split = false;         // the Landlock rules were split around it
  std::string mask;           // built-in mask name (`ssh`), "git" for git metadata
  std::string why;            // what it is, for --dry-run
  // A directory bound onto itself (MountKind::pin), so it can be neither
  // renamed nor replaced: `.git` while git still writes inside, and every
  // directory between a writable root and a protected path (a mount moves
  // with its directory: `mv ~/.config ~/.c2` would take the masks along
  // and leave a fresh, unprotected `~/.config` for the host's tools).
  bool pin = false;
  // Missing or a symlink now, in a directory the sandbox may create in:
  // no mount can cover it, so the Landlock wall takes the make_* rights
  // from its nearest existing directory (and the run is refused when
  // there is no Landlock wall).
  bool creatable = false;
  std::string link;           // a symlink stands here (to this): never mounted over
  // Held by the namespace wall only: splitting Landlock rules around git
  // metadata would take from `.git` what git needs to write there.
  bool ns_only = false;
  // ns_only without the namespace wall: read before the command and put
  // back after it (src/stages/git_restore.cc); not held while it runs.
  bool restored = false;
};

// One root seen through overlayfs (--overlay, `overlay: true`).
struct OverlayDirs {
  std::string lower;  // the root, canonical: its overlay op's source and target
  std::string upper;  // on the host, in the run's directory
  std::string work;
};

struct NamespacePlan {
  bool enabled = false;
  bool empty_root = true;  // reads controlled: only the roots are visible
  profile::NetMode net = profile::NetMode::host;
  std::vector<MountOp> mounts;  // in the order they are made
  // mount_seen[i]: for mounts[i], a bind's source or a mask's target as
  // planning saw it (as LandlockPlan::rule_seen).
  std::vector<PlannedId> mount_seen;
  std::string home;             // private HOME on the host, "" = none
  bool home_shared = false;     // one HOME for every project (--home, `shared: true`)
  // The stage opens every component of `home` below this one with
  // O_NOFOLLOW and requires it to be the caller's and not group/world
  // writable: the real HOME, or the parent of a HOME written outside it.
  std::string home_checked_below;
  std::string home_where;  // where it was named (file:line:col, --home), for messages
  // Features::mount_setattr: each bind flagged on its whole tree before it
  // is attached; false: all binds, then the mount table read and remounts.
  bool flag_detached = false;
  // tmpfs size= of the private /tmp and /dev/shm (LimitsPlan), 0 = the
  // kernel's default, half the RAM.
  std::uint64_t tmp_size = 0;
  std::uint64_t shm_size = 0;
  // Each MountKind::overlay op's upper and work directories on the host
  // (below RunPlan::dir, run_layer_dir), made by runs::create_run before
  // the namespaces; in the run's layer order (the project first).
  std::vector<OverlayDirs> overlays;
  // Host device nodes bound into the minimal /dev as they are (device
  // access on, unlike every other mount): `desktop: {gpu: true}`.
  std::vector<std::string> dev_nodes;
};

// --overlay: the run that keeps the project's writes for review
// (src/plan/run_plan.cc, src/runs/).
struct RunPlan {
  bool enabled = false;
  std::string name;
  std::string dir;            // <real HOME>/.ai-sandbox/runs/<name>
  std::string checked_below;  // the real HOME: components below it are opened O_NOFOLLOW
  std::string project;        // the project, canonical (its roots: NamespacePlan::overlays)
};

// What `desktop:` grants (src/plan/desktop_plan.cc): the sockets, devices
// and bus names, each one line for --dry-run ("x11 socket /tmp/.X11-unix/X0").
// The mounts and rules themselves are in NamespacePlan and LandlockPlan.
struct DesktopPlan {
  bool enabled = false;
  std::vector<std::string> grants;
  // Copied at launch (src/desktop/xauth.cc): the cookies of X display
  // `x11_display` from the host's Xauthority file into the private HOME.
  std::string xauth_source;
  std::string xauth_target;
  std::string x11_display;  // "0" for DISPLAY=:0
  std::string x11_inner;    // its number inside the sandbox (the cookies say so)
  // `dbus: {talk: [...]}`: xdg-dbus-proxy, started by the launcher on the
  // host (src/desktop/dbus_proxy.cc), listens at `dbus_socket` (in
  // `dbus_dir`, made 0700 at launch) and lets through only `dbus_talk`.
  // Empty `dbus_socket`: no proxy.
  std::string dbus_proxy;    // the xdg-dbus-proxy binary
  std::string dbus_address;  // the host's session bus (DBUS_SESSION_BUS_ADDRESS)
  std::string dbus_dir;
  std::string dbus_socket;
  std::vector<std::string> dbus_talk;
};

struct SeccompPlan {
  bool enabled = false;
  // The default preset's argument-checked rules: nested user namespaces
  // (unless allowed), personality changes, MPTCP sockets, TIOCSTI/TIOCLINUX.
  bool preset = false;
  bool allow_nested_userns = false;
  // TIOCSTI/TIOCLINUX refused even when seccomp is otherwise off: the target
  // shares the caller's controlling terminal (tty signals reach it), and
  // TIOCSTI there would type commands into the caller's shell once the
  // sandbox exits (CVE-2017-5226). On whenever the kernel has seccomp.
  bool tty_guard = false;
  // network.allow or the default preset: sockets that would go round the
  // allowlist's relays or Landlock's TCP rules, or reach the kernel's
  // network configuration, are refused (AF_PACKET, raw IP, SCTP, MPTCP,
  // netlink other than route; io_uring_setup is in `deny`).
  bool net_guard = false;
  std::vector<std::string> deny;   // syscall names: groups expanded, `allow` removed
  std::vector<std::string> allow;  // as written (names or @groups), for the record
};

// `limits:` resolved: values (0 = unlimited) and what enforces each.
struct LimitLine {
  std::string name;   // pids, memory, tmp_size, shm_size, nofile, cpu_seconds
  std::string value;  // `4096`, `1G`, `unlimited`
  std::string by;     // what enforces it, or "not enforced: why"
  bool enforced = true;
};

struct LimitsPlan {
  std::uint64_t pids = 0, memory = 0, tmp_size = 0, shm_size = 0, nofile = 0, cpu_seconds = 0;
  // Rlimits the target sets on itself before exec (inside the user
  // namespace, where RLIMIT_NPROC counts the sandbox's processes only).
  bool rlimit_nproc = false;
  // The run's own cgroup, made by the host process around the sandbox's
  // init: a v2 directory to make it in, or v1 hierarchies.
  std::string cgroup2_dir;
  std::string cgroup1_pids_dir;
  std::string cgroup1_memory_dir;
  bool cgroup_pids = false;
  bool cgroup_memory = false;
  std::vector<LimitLine> lines;  // in limit_keys() order, for --dry-run
};

struct ExecPlan {
  std::vector<std::string> argv;  // argv[0] may be a bare name (PATH lookup)
  std::string cwd;
  // Where cwd came from: "cwd" (the caller's), "chdir" (--chdir),
  // "working_dir" (command.working_dir).
  std::string cwd_source;
  std::vector<std::pair<std::string, std::string>> env;  // the whole env
  std::vector<std::string> env_dropped;  // names only, never values
  std::vector<int> keep_fds;
  // Without the namespace wall there is no private /tmp, and the host's is
  // shared with every user: TMPDIR points here instead, a directory in the
  // private HOME made at launch. Empty when not needed.
  std::string tmpdir;
};

// The egress allowlist (network.allow, host_ports; net_plan.cc). The
// sandbox gets its own network namespace in which every address is local:
// the launcher makes the listening sockets there and hands them to the
// proxy, a child it forks outside the sandbox before entering the
// namespaces (src/net/). The proxy is the only enforcement point.
struct NetAllowPlan {
  bool enabled = false;
  // --mode landlock with network.landlock_mode: best_effort: no namespace,
  // no relays or DNS stub; the proxy at the host's 127.0.0.1 on a port
  // chosen at run time, Landlock TCP connect limited to it.
  bool best_effort = false;
  std::vector<net::AllowEntry> allow;
  std::vector<std::uint16_t> host_ports;  // 127.0.0.1:PORT inside -> the host's
  // network.publish: the host's 127.0.0.1:PORT -> 127.0.0.1:PORT inside
  // (src/net/publish.cc), listened on by the launcher before the sandbox
  // starts, so a port in use is an error before anything runs.
  std::vector<std::uint16_t> publish;
  std::vector<net::Cidr> deny_resolved;
  // TCP ports listened on at every address inside (the entries' ports, the
  // default ports, host_ports, the proxy's and 53): a connection to any
  // other port finds nothing.
  std::vector<std::uint16_t> relay_ports;
  std::uint16_t proxy_port = 0;  // the HTTP proxy inside, at 127.0.0.1
  net::Cidr pool;                // the DNS stub's addresses for allowed names
};
// What --dry-run shows of it, one fact per line.
std::vector<std::string> net_allow_lines(const NetAllowPlan& n);

// Landlock-only runs (no pid namespace): the launcher ends them
// (src/supervise/), by the cgroup.kill of a cgroup of the run's own made in
// `cgroup_parent` when one is delegated, and by killing every descendant it
// finds in /proc.
struct ProcessPlan {
  bool supervised = false;
  std::string cgroup_parent;  // empty: the /proc walk alone
};

struct Plan {
  std::string profile;
  std::string source;  // the file it came from, or "built-in"
  Mode mode = Mode::layered;
  profile::LogLevel log_level = profile::LogLevel::warn;
  bool dry_run = false;
  bool trace = false;  // --trace or learn: the target runs under the tracer
  std::string project;
  // How the project was chosen: "option" (--project), "git" (the top of the
  // git work tree holding the cwd), "cwd".
  std::string project_source;

  // Why the run would refuse to start (the project or the working
  // directory): the plan is still whole, for --dry-run, --print-ruleset and
  // --check to show; a run stops with this error before anything happens.
  // A malformed profile is an error of resolve() instead.
  std::optional<Error> refusal;

  NamespacePlan ns;
  LandlockPlan landlock;
  SeccompPlan seccomp;
  LimitsPlan limits;
  NetAllowPlan net;
  ExecPlan exec;
  ProcessPlan processes;
  RunPlan run;
  DesktopPlan desktop;

  std::vector<ProtectedPath> protected_paths;
  // Built-in masks the profile lifted with `unmask:`: "ssh: ~/.ssh (why)".
  std::vector<std::string> unmasked;
  // The search for nested git repositories stopped early: where and why.
  std::vector<std::string> git_scan_limits;
  // Files found at launch that git never writes where they are and that
  // make the host's git follow another directory (a `commondir` in a
  // repository's own `.git`): a run planted them, so the launch moves them
  // aside before the command starts (src/stages/git_guard.cc).
  std::vector<std::string> git_planted;

  // Run-time warnings: a wall degraded, a request not honoured, something
  // the user must know on every run. A run prints them.
  std::vector<std::string> warnings;
  // Advice about the profile (rights granted but not controlled, refer not
  // controlled, a root reached through a symlink, ...): --dry-run shows
  // them and --check reports them, but a run prints them only at
  // log_level info or debug, so that a normal run is quiet.
  std::vector<std::string> notes;
  // One line per wall: "namespace: on", "landlock: ABI 7, partial — ...".
  std::vector<std::string> status;
};

// Best effort (--mode landlock): the launcher has bound the proxy's port at
// run time; it goes into the Landlock rule and the proxy variables.
void with_proxy_port(Plan& p, std::uint16_t port);

// Inputs of resolve(), all plain data.
struct Inputs {
  const profile::Profile& profile;
  std::string source;
  const Options& options;
  const Features& features;
  const HostFacts& host;
  const Fs& fs;
};

Expected<Plan> resolve(const Inputs& in);

// 16 hex digits naming a project's private HOME (FNV-1a 64 of its
// canonical path): stable across runs and builds.
std::string home_hash(const std::string& text);

// Why `name` cannot name a run, or nullopt: 1-64 of [A-Za-z0-9._-], not
// starting with `.` or `-` (it becomes a directory name and a CLI word).
std::optional<std::string> run_name_problem(const std::string& name);
// A group of the profile says `overlay: true` (the launcher then names a
// run, as for --overlay).
bool profile_wants_overlay(const profile::Profile& p);
// Where runs are kept: `real_home`/.ai-sandbox/runs.
std::string runs_dir(const std::string& real_home);
// The name, in a run's directory, of the `kind` ("upper", "work") dir of
// its overlaid root `i` (0-based, the project first when it is one):
// `upper` for the first, `upper.2` for the second, and so on.
std::string run_layer_dir(const std::string& kind, std::size_t i);
// The overlaid root of `ns` at `lower` (an overlay op's target), or nullptr.
const OverlayDirs* overlay_dirs(const NamespacePlan& ns, const std::string& lower);
// The overlay mount a bind or readonly op at `i` takes its source from,
// when its source lies in an overlaid root: the stage binds it from the
// merged view (writes beneath it stay in the upper dir too), never from the
// host. nullptr otherwise.
const MountOp* overlay_holding(const NamespacePlan& ns, std::size_t i);
// The overlay mount whose merged view holds `path` (a path in the new
// root), or nullptr: a mask there covers what the merged view shows.
const MountOp* overlay_covering(const NamespacePlan& ns, const std::string& path);
// overlay_holding() of every mount, in mount order: linear when no overlay
// is planned (asked op by op, 10 000 roots were 50 million comparisons).
std::vector<const MountOp*> overlays_holding(const NamespacePlan& ns);

// What to print: the whole Plan (--dry-run) or the Landlock ruleset and
// the status lines (--print-ruleset).
enum class Section { all, ruleset };

std::string render_text(const Plan& plan, Section section = Section::all);
std::string render_json(const Plan& plan, Section section = Section::all);

const char* to_string(MountKind k);
const char* to_string(Enforcement e);

}  // namespace aisbx::plan
