// The host side of planning: the real filesystem, the caller's facts and
// the profile files. These read the host; they never change it.
#pragma once

#include <sys/types.h>

#include <map>
#include <unordered_map>
#include <optional>
#include <string>

#include "aisbx/error.h"
#include "aisbx/host.h"
#include "aisbx/options.h"
#include "aisbx/profile.h"

namespace aisbx {

class WalkCache;

class RealFs final : public Fs {
 public:
  FileKind kind(const std::string& path) const override;
  std::optional<std::string> realpath(const std::string& path) const override;
  std::optional<std::string> readlink(const std::string& path) const override;
  std::vector<std::string> list(const std::string& dir) const override;
  std::vector<DirEntry> entries(const std::string& dir) const override;
  std::optional<std::string> read_small(const std::string& path) const override;
  std::string why_unresolved(const std::string& path) const override;
  std::optional<FileId> identity(const std::string& path) const override;
  std::vector<DirEntry> tree_entries(const std::string& root, const std::string& dir) const override;
  // Walks of whole trees go through `cache` (not owned; may be null).
  void use_walk_cache(WalkCache* cache) { walk_cache_ = cache; }

 private:
  WalkCache* walk_cache_ = nullptr;
  // Canonical directories already resolved: roots are often siblings, and
  // realpath(3) reads every component's link again (5000 readlink() calls
  // for 1000 roots beneath /home/u/src).
  mutable std::map<std::string, std::optional<std::string>> real_dirs_;
  // lstat() of each path asked about, once: planning resolves a root,
  // asks its kind and records its identity, three lstats of the same path
  // (3000 system calls for 1000 roots). A plan is one snapshot of the
  // host; a new plan takes a new RealFs (launch.cc).
  struct Seen {
    mode_t mode;
    FileId id;
  };
  const Seen* seen(const std::string& path) const;
  mutable std::unordered_map<std::string, std::optional<Seen>> seen_;
};

// uid, gid, HOME (falling back to the passwd entry), cwd, environment.
Expected<HostFacts> read_host_facts();

// Reads a profile file as untrusted text: a regular file only, opened
// without blocking or following it into a FIFO, at most kMaxProfileBytes.
Expected<std::string> read_profile_file(const std::string& path);

// The config file to use: --config, $AISBX_CONFIG,
// $XDG_CONFIG_HOME/aisbx/profiles.yaml, /etc/aisbx/profiles.yaml; nullopt
// means only the built-in profiles. Never searched for in the project: a
// repository must not be able to widen its own sandbox.
Expected<std::optional<std::string>> find_config(const Options& o, const HostFacts& h);

}  // namespace aisbx
