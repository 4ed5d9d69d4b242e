// The nested-repository walk's cache. Planning walks every writable root
// on every launch (plan/git_meta_plan.cc): a getdents of each directory,
// the largest part of a launch in a project of a few thousand directories.
// What a directory held is kept with the directory's device, inode and
// change time; a later launch takes it when one lstat of the directory
// shows all three unchanged, and reads the directory otherwise.
//
// The change time, not the modification time: adding, removing or renaming
// an entry sets both, but no program can set ctime back (utimensat sets it
// to now), so a run cannot plant `vendor/x/.git` and hide it from the next
// walk with `touch -d`. A directory changed less than kSettle before the
// walk began is not kept: a change in the same clock tick as the read
// would leave its ctime as it was.
//
// Entries live in the profile cache's directory (host/profile_cache.h:
// yours, 0700, hidden in every sandbox), one per walked root, keyed by the
// root's path; an entry that does not parse, or names another root, is
// ignored whole. Only what the walk reads is kept: subdirectories and
// `.git`. AISBX_PROFILE_CACHE=off turns it off with the profile cache.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "aisbx/host.h"

namespace aisbx {

class DiskTreeStore;

class WalkCache {
 public:
  WalkCache(std::string home, bool enabled);
  ~WalkCache();
  WalkCache(const WalkCache&) = delete;
  WalkCache& operator=(const WalkCache&) = delete;

  // The subdirectories and `.git` of `dir`, a directory of the walk of
  // `root` (which starts with dir == root).
  std::vector<DirEntry> entries(const std::string& root, const std::string& dir);
  // Writes the entry of each root whose walk found something new, then
  // closes the cache directory: no fd of it may reach the sandbox's init
  // (which never execs) and, through /proc/1/fd, the command. A later walk
  // opens it again.
  void save();
  // What it did (entries read, ignored and why, stored), for --log-level debug.
  std::vector<std::string> notes() const;

  // A record is kept only for a directory unchanged this long before the walk.
  static constexpr std::time_t kSettleSeconds = 2;
  // A walk of fewer directories is cheaper than reading an entry.
  static constexpr std::size_t kMinDirs = 8;

  struct Record {
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
    std::int64_t ctime_s = 0;
    std::uint32_t ctime_ns = 0;
    std::vector<DirEntry> entries;
  };
  // The name of the entry of `root` in the cache directory.
  static std::string key_of(const std::string& root);
  // The entry's bytes, and back (nullopt: not an entry for `root`).
  static std::string encode(const std::string& root,
                            const std::vector<std::pair<std::string, Record>>& records);
  static std::optional<std::unordered_map<std::string, Record>> decode(std::string_view bytes,
                                                                       const std::string& root);

 private:
  struct Tree {
    std::string key;
    std::string loaded;  // the entry's bytes as read
    std::unordered_map<std::string, Record> old;
    std::vector<std::pair<std::string, Record>> walked;
    std::size_t reads = 0;  // directories of this walk read, not taken from `old`
  };
  Tree& tree(const std::string& root);

  std::string home_;
  bool enabled_;
  std::unique_ptr<DiskTreeStore> store_;
  std::map<std::string, Tree> trees_;
  timespec started_{};
  std::vector<std::string> notes_;
  std::vector<std::string> store_notes_;  // of stores already closed
};

}  // namespace aisbx
