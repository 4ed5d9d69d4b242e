// --trace and `learn`: which access the sandbox refused, which wall refused
// it, and the profile line that would allow it.
//
//   tracer (init, or the launcher in landlock mode; outside the Landlock
//   domain) ──Event──► aggregate ──serialize──► host launcher
//        ──classify(Plan, host Fs)──► Denial ──► summary / JSON / learn
//
// Everything here is pure: the tracer (src/trace/tracer.cc) decodes system
// calls into Events with the table below, the host classifies them with the
// Oracle and the host's Fs (only the host can tell "not in the sandbox"
// from "does not exist").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aisbx/host.h"
#include "aisbx/oracle.h"
#include "aisbx/plan.h"

namespace aisbx::trace {

// What a traced system call does to its path, as far as the walls care.
enum class Kind {
  open,      // open/openat/openat2/creat: flags decide read, write, create, list
  exec,      // execve/execveat
  lookup,    // stat, access, readlink, chdir: only the namespace wall can refuse
  attr,      // chmod, chown, utimes: only a read-only mount can refuse
  mkdir,
  mknod,
  symlink,   // the new link's path
  unlink,    // unlinkat with AT_REMOVEDIR counts as rmdir
  rmdir,
  rename,    // path -> path2
  link,      // path -> path2
  truncate,
  connect,   // sockaddr
  bind,
  signal,    // kill, tkill, tgkill
  other,
};

// Where a traced call keeps its arguments (indices into args[6]; -1: none).
struct SyscallShape {
  const char* name;
  Kind kind;
  int dirfd = -1, path = -1;    // dirfd -1 with path >= 0: AT_FDCWD
  int dirfd2 = -1, path2 = -1;  // rename/link destination, symlink's link
  int flags = -1;               // open flags, AT_* flags, or mknod mode
  bool how = false;             // openat2: flags inside struct open_how at args[flags]
  // Not traced when args[flags] has one of these bits: fstat() is
  // newfstatat(fd, "", AT_EMPTY_PATH) in glibc, and names no path.
  std::uint64_t skip_if = 0;
};

// The system calls the tracer stops on (SECCOMP_RET_TRACE), by name.
const std::vector<SyscallShape>& traced_syscalls();
const SyscallShape* shape_of(const std::string& syscall);

// One refused call as the tracer saw it (inside the sandbox), or many of
// them: identical calls are counted once.
struct Event {
  std::string syscall;
  int err = 0;                  // errno the call returned
  bool seccomp = false;         // refused by the seccomp filter
  std::string path, path2;      // absolute, as the sandbox names them
  std::uint64_t flags = 0;
  int family = 0;               // connect/bind: AF_INET, AF_INET6, AF_UNIX
  std::string address;          // "127.0.0.1", a unix socket's path or "@name"
  int port = -1;
  long target_pid = 0;          // signal
  std::vector<std::string> programs;  // /proc/PID/exe of the callers, at most 4
  std::uint64_t count = 1;
  std::uint64_t last = 0;       // sequence number of the newest occurrence

  std::string key() const;  // identical calls share a key
};

// Errors worth looking at: what a wall returns (EACCES, EPERM, ENOENT,
// EROFS, EXDEV, ENETUNREACH, ...). A cheap first cut made in the tracer.
bool interesting_errno(int err);

// Whether the tracer should keep an event: ENOENT only where a component
// of the path is not shown by the namespace wall (a visible directory shows
// the host's files, so "missing" there is missing on the host too).
bool worth_keeping(const plan::Plan& plan, const Event& e);

// Identical events merged, newest sequence kept, at most `limit` distinct
// ones (the rest counted in `dropped`).
class Aggregate {
 public:
  explicit Aggregate(std::size_t limit = 4096) : limit_(limit) {}
  void add(Event e);
  std::vector<Event> events() const;  // newest first
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t total() const { return total_; }

 private:
  std::size_t limit_;
  std::map<std::string, Event> by_key_;
  std::uint64_t dropped_ = 0, total_ = 0, seq_ = 0;
};

// Events travel from the sandbox's init to the host launcher as text:
// one event a line, tab-separated fields, `\t` `\n` `\\` escaped. The
// first line carries the totals.
// network.allow: what the proxy outside the sandbox denied, counted per
// destination and reason (src/net/proxy.cc reports each once on stderr;
// the trace says how often).
struct NetDenial {
  std::string destination;  // `denied.test:443`, `203.0.113.9:80`, a name looked up
  std::string why;          // `not in network.allow`, `resolves to a loopback address: ...`
  std::uint64_t count = 0;
  friend bool operator==(const NetDenial&, const NetDenial&) = default;
};

struct Batch {
  std::vector<Event> events;
  std::uint64_t total = 0;
  std::uint64_t dropped = 0;
  std::vector<NetDenial> network;  // from the proxy, not from init's text
};
std::string serialize(const Batch& b);
// Garbled lines are skipped: the text comes from a process inside the
// sandbox's namespaces (though not from the traced program).
Batch parse(const std::string& text);

enum class Wall {
  namespace_,  // not visible through the mounts (absent, hidden, private /tmp)
  read_only,   // a read-only mount
  noexec,      // a noexec mount
  landlock,    // Landlock filesystem or TCP rules
  netns,       // the network namespace (network: none or loopback)
  scope,       // Landlock scopes: signals, abstract unix sockets
  seccomp,
};
const char* to_string(Wall w);     // "namespace", "read-only mount", ...
const char* wall_code(Wall w);     // "namespace", "read_only", ... for JSON

// What to add to the profile, as data (learn writes it, the summary prints it).
struct Proposal {
  enum class Kind { none, root, connect_tcp, bind_tcp, scope_signal, scope_abstract,
                    seccomp_allow, nested_userns, network_host };
  Kind kind = Kind::none;
  std::string path;       // root: a file or directory, as the host names it
  AccessMask rights = 0;  // root: rights to grant
  int port = -1;
  std::string syscall;
  bool secret = false;    // under a secret store (~/.ssh, ~/.gnupg, ...)
  // The file is in the real HOME, the tool looked in the private one: a
  // root shows it only at its real path (learn writes it commented out).
  bool private_home = false;
};

struct Denial {
  Wall wall = Wall::namespace_;
  std::string operation;   // "read", "list", "create", "exec", "connect", ...
  std::string syscall;
  std::string subject;     // path, "tcp 127.0.0.1:80", or the syscall name
  int err = 0;
  std::string why;         // one line, in the profile's terms
  std::string fix;         // the profile line that would allow it ("" if none)
  std::string section;     // profile key the line goes under: access_roots, network, ...
  std::string yaml;        // the line itself, to paste under `section`
  Proposal proposal;
  std::vector<std::string> programs;
  std::uint64_t count = 1;
  std::uint64_t last = 0;
};

// Paths of the user's secret stores under `home`.
bool is_secret_path(const std::string& path, const std::string& home);

// Which wall refused `e`, and the line that would allow it; nullopt when the
// sandbox did not cause the failure (the host lacks the file too, a file
// mode, a refused connection to a port nobody listens on).
std::optional<Denial> classify(const plan::Plan& plan, const Fs& host_fs,
                               const std::string& home, const Event& e);

struct Report {
  std::vector<Denial> denials;  // newest first, identical denials merged
  std::vector<NetDenial> network;  // network.allow's denials, as the proxy counted them
  std::uint64_t events = 0;     // refused calls seen (all of them)
  std::uint64_t dropped = 0;    // distinct calls not kept (over the limit)
};
Report classify_all(const plan::Plan& plan, const Fs& host_fs, const std::string& home,
                    const Batch& batch);

// The summary printed when the target exits: at most `limit` denials.
std::string render_text(const Report& r, std::size_t limit = 40);
std::string render_json(const Report& r);

// `learn`: a profile named `name` that extends `base` and adds what the
// denials need, each with a comment saying what used it. Secret stores are
// written commented out, under a WARNING line. `embedded` is YAML text of
// profiles to copy in (the base's own file, when it is not built in), each
// line already indented under `profiles:`; "" for a built-in base.
struct LearnInput {
  std::string name;
  std::string base;
  std::string command;   // for the header comment
  std::string project;   // written as ${PROJECT}
  std::string home;      // written as ~
  const profile::Profile* base_profile = nullptr;  // flattened: network lists to keep
  std::string embedded;
  // The host's tree, to judge each path where it really leads (a symlink
  // in the project may lead to ~/.ssh); nullptr: paths taken as written.
  const Fs* fs = nullptr;
};
std::string propose_profile(const LearnInput& in, const Report& r);

// The `profiles:` entries of a profile file's text, re-emitted and indented
// for LearnInput::embedded (comments are not kept).
Expected<std::string> embed_profiles(const std::string& yaml_text, const std::string& file);

}  // namespace aisbx::trace
