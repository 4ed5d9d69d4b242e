// The profile cache's entries on disk (include/aisbx/profile_cache.h):
// HOME/.cache/aisbx-ns, one file per key.
//
// The directory is made 0700 and opened without following links from HOME
// on; it is used only when it is a directory the caller owns with mode
// 0700. An entry is read only when it is a regular file the caller owns
// with mode 0600 and one link; anything else is ignored and replaced. New
// entries are written to a temporary file and renamed into place, so a
// reader sees a whole entry or none.
//
// Every key names a new entry (another config text, another build of the
// binary, another root): the directory is pruned so that it does not grow
// for ever. An entry's mtime is when it was last used, to the day (a hit
// on an entry older than a day sets it). After a store, at most once a day
// (the mtime of `.pruned`), entries unused for kUnusedDays go, then the
// least recently used beyond kMaxEntries, and temporary files a writer
// left behind. Only names the store writes are removed, by unlinkat in the
// directory (a link is removed, never followed). A launch that hits pays
// nothing for it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aisbx/profile_cache.h"
#include "aisbx/sys/fd.h"

namespace aisbx {

class DiskTreeStore final : public profile::TreeStore {
 public:
  // `enabled` false ($AISBX_PROFILE_CACHE=off): the directory is still made
  // (so every plan masks the same thing), no entry is read or written.
  DiskTreeStore(const std::string& home, bool enabled);

  std::optional<std::string> load(const std::string& key) override;
  void store(const std::string& key, const std::string& bytes) override;
  void note(const std::string& what) override { notes_.push_back(what); }
  const std::vector<std::string>& notes() const { return notes_; }

  // Names the parser: the running binary's device, inode, size and mtime
  // (nullopt without /proc: then nothing is cached).
  static std::optional<std::string> parser_salt();

  static constexpr int kUnusedDays = 30;
  static constexpr std::size_t kMaxEntries = 1000;

 private:
  void prune();

  sys::UniqueFd dir_;
  std::vector<std::string> notes_;
};

}  // namespace aisbx
