// Profile: exactly what the YAML file says, after `extends` is applied.
// Plain data; paths are still unexpanded (`~`, `${PROJECT}` ...): expansion
// needs the host's facts and happens in resolve(). Every value that can be
// wrong at run time keeps where it came from, so the error can name
// file:line:column.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aisbx/error.h"
#include "aisbx/rights.h"

namespace aisbx::profile {

// 1-based, as compilers print positions. line 0 = unknown (built from CLI).
struct Where {
  std::string file;
  int line = 0;
  int column = 0;
  std::string str() const;  // "file:line:column" or "file" or "command line"
};

template <class T>
struct Located {
  T value{};
  Where where;
};

// A right -> bool map as written: both true and false entries are kept,
// so `extends` can override a parent's true with false.
struct RightMap {
  AccessMask granted = 0;  // keys set to true
  AccessMask denied = 0;   // keys set to false
  Where where;
  bool present = false;    // the key appeared in the file
  void override_with(const RightMap& child);
};

struct RootGroup {
  std::string name;
  std::vector<Located<std::string>> paths;
  RightMap permissions;
  bool required = false;
  std::vector<Located<std::string>> deny;      // hidden subpaths / globs
  std::vector<Located<std::string>> readonly;  // read-only subpaths / globs
  // `overlay: true`: writes kept in a run for review, as --overlay
  // (src/plan/run_plan.cc; the project is the one root that may have it).
  std::optional<Located<bool>> overlay;
  Where where;
};

struct Command {
  std::optional<Located<std::string>> binary;
  std::optional<std::vector<std::string>> args;
  std::optional<Located<std::string>> working_dir;
  // Ordered as written; later entries of a child profile override.
  std::vector<std::pair<std::string, Located<std::string>>> env;
};

enum class NetMode { host, none, loopback };
// What network.allow does in --mode landlock, which has no network
// namespace: `refuse` (the default) or `best_effort` (proxy variables,
// Landlock TCP connect to the proxy's port only; names not enforced).
enum class AllowInLandlock { refuse, best_effort };

struct Network {
  std::optional<NetMode> mode;
  std::optional<std::vector<std::uint16_t>> connect_tcp;
  std::optional<std::vector<std::uint16_t>> bind_tcp;
  std::optional<std::vector<std::uint16_t>> connect_udp;
  std::optional<std::vector<std::uint16_t>> bind_udp;
  std::optional<std::vector<Located<std::string>>> unix_sockets;
  // The egress allowlist (src/net/, aisbx/net_rules.h): entries as
  // written, each checked by allow_entry_problem().
  std::optional<std::vector<Located<std::string>>> allow;
  std::optional<std::vector<std::uint16_t>> host_ports;
  std::optional<std::vector<std::uint16_t>> publish;  // sandbox listeners -> host 127.0.0.1
  std::optional<std::vector<Located<std::string>>> deny_resolved;  // CIDRs
  std::optional<AllowInLandlock> landlock_mode;
  Where where;
};

struct Scope {
  std::optional<bool> abstract_unix_socket;
  std::optional<bool> signal;
};

enum class SeccompPreset { off, default_ };

struct Seccomp {
  std::optional<SeccompPreset> preset;
  std::optional<std::vector<Located<std::string>>> deny;   // names or @groups
  std::optional<std::vector<Located<std::string>>> allow;
  std::optional<bool> allow_nested_userns;
  Where where;
};

enum class EnvMode { inherit, clean };

struct EnvPolicy {
  std::optional<EnvMode> mode;
  std::optional<std::vector<std::string>> keep;  // glob patterns
};

// `limits:` as written. 0 = unlimited; `limits: off` sets every one to 0.
// Sizes in bytes.
struct Limits {
  std::optional<Located<std::uint64_t>> pids;         // processes and threads
  std::optional<Located<std::uint64_t>> memory;       // bytes, cgroup only
  std::optional<Located<std::uint64_t>> tmp_size;     // private /tmp
  std::optional<Located<std::uint64_t>> shm_size;     // private /dev/shm
  std::optional<Located<std::uint64_t>> nofile;       // open files per process
  std::optional<Located<std::uint64_t>> cpu_seconds;  // CPU time per process
};

struct LimitKey {
  const char* name;
  bool size;  // `1G`, `512M` (else a plain count)
  std::optional<Located<std::uint64_t>> Limits::*field;
};
// Every key of `limits:`, in the order --dry-run shows them (limits.cc).
const std::vector<LimitKey>& limit_keys();
// network.allow / network.deny_resolved entries (network.cc): nullopt
// when well-formed, else why not.
std::optional<std::string> allow_entry_problem(const std::string& text);
std::optional<std::string> cidr_problem(const std::string& text);

// `1024`, `64K`, `512M`, `1G`, `2T` (binary units; `k` and `KiB`-style
// spellings too): bytes, or nullopt with `why` set.
std::optional<std::uint64_t> parse_size(const std::string& text, std::string& why);
// The text of a size for messages and --dry-run: `1G`, `512M`, `1000`.
std::string size_text(std::uint64_t bytes);

// `desktop:` as written (src/profile/desktop.cc): each part off unless set.
enum class Display { none, wayland, x11, both };
struct Desktop {
  std::optional<Located<Display>> display;
  std::optional<Located<bool>> gpu;    // /dev/dri/renderD*, NVIDIA nodes
  std::optional<Located<bool>> shm;    // a private /dev/shm
  std::optional<Located<bool>> audio;  // the PipeWire / PulseAudio socket
  // dbus.talk: bus names reachable through xdg-dbus-proxy.
  std::optional<std::vector<Located<std::string>>> dbus_talk;
  Where where;  // the `desktop:` key, "" when absent
};
std::optional<Display> display_by_name(const std::string& s);
const char* to_string(Display d);
// Why `name` is not a well-known D-Bus bus name (org.freedesktop.Notifications),
// nullopt when it is one.
std::optional<std::string> bus_name_problem(const std::string& name);

enum class LogLevel { error, warn, info, debug };
enum class GitMode { off, worktree };

struct Profile {
  std::string name;
  std::string description;
  Where where;                       // the profile's own key
  std::vector<std::string> extends;  // as written, for --list-profiles
  std::vector<Where> extends_where;  // one per `extends` entry, for messages

  std::vector<RootGroup> access_roots;  // in file order; children replace
                                        // a parent's group of the same name
  RightMap control_access;
  Command command;
  // `home: DIR` (or command.env.HOME): DIR holds one HOME per project,
  // DIR/<profile>-<hash of the project>. `home: {path: DIR, shared: true}`:
  // DIR itself, for every project.
  std::optional<Located<std::string>> home;
  std::optional<bool> home_shared;
  Limits limits;
  Desktop desktop;
  Network network;
  Scope scope;
  Seccomp seccomp;
  std::optional<Located<int>> landlock_abi;
  EnvPolicy env_policy;
  std::optional<LogLevel> log_level;
  std::optional<bool> dry_run;
  std::optional<GitMode> git;
  // Built-in masks lifted by name (src/plan/masks.cc); `extends` adds up.
  std::vector<Located<std::string>> unmask;
};

// One parsed file (or the built-in set): every profile, with `extends`
// not yet applied.
struct ProfileSet {
  std::string source;  // file name, or "built-in"
  std::map<std::string, Profile> profiles;
  std::vector<std::string> order;  // names in file order
};

// Limits for untrusted profile text.
inline constexpr std::size_t kMaxProfileBytes = 1 << 20;

// Parses YAML text. `file` is used in messages only. Errors: invalid UTF-8,
// more than one document, duplicate keys, unknown keys, wrong types, unknown
// right names, `version` missing or not 1, each as "file:line:col: ...".
Expected<ProfileSet> parse_profiles(const std::string& text,
                                    const std::string& file);

// Returns `name` with every `extends` applied (depth-first, parents in list
// order, then the profile itself). `fallback` is searched for parents that
// `set` lacks (a user file may extend a built-in profile). Cycles and
// unknown parents are errors naming the file position of the `extends`.
Expected<Profile> flatten(const ProfileSet& set, const std::string& name,
                          const ProfileSet* fallback = nullptr);

// True when `name` is in `set` and so is every profile its `extends` reach:
// flatten() will not look at a fallback, which then need not be parsed.
bool self_contained(const ProfileSet& set, const std::string& name);

const char* to_string(NetMode m);
const char* to_string(LogLevel l);
const char* to_string(EnvMode m);
std::optional<LogLevel> log_level_by_name(const std::string& s);
std::optional<NetMode> net_mode_by_name(const std::string& s);

// Why a path may not be used as written: NUL, a newline or another control
// character (0x00-0x1f, 0x7f) cuts a path short at the kernel, breaks
// mountinfo and every one-fact-per-line output. nullopt when it is clean;
// else e.g. "contains a newline (\\n) at byte 4".
std::optional<std::string> path_text_problem(std::string_view path);
// The path with control characters written as escapes (\\n, \\x1b), for
// messages.
std::string escaped_path(std::string_view path);

}  // namespace aisbx::profile
