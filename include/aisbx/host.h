// HostFacts and Fs: the only inputs of planning that come from the host.
// Both are injected, so resolve() stays pure and is tested without a kernel.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace aisbx {

struct HostFacts {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;                         // $HOME (or the passwd entry)
  std::string cwd;                          // the launcher's working directory
  std::map<std::string, std::string> env;   // the caller's environment
  pid_t pid = 0;                            // the launcher's (names its D-Bus proxy socket)
};

enum class FileKind { missing, directory, regular, symlink, other };

// Which file a path names (lstat's st_dev and st_ino): what planning saw,
// compared by the stages with what they opened.
struct FileId {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  bool operator==(const FileId&) const = default;
};

// A directory entry and its kind, lstat-like (a symlink is a symlink).
struct DirEntry {
  std::string name;
  FileKind kind = FileKind::missing;
};

// Read-only view of the host filesystem used while planning.
class Fs {
 public:
  virtual ~Fs() = default;
  // lstat-like: a symlink is reported as a symlink.
  virtual FileKind kind(const std::string& path) const = 0;
  // Canonical path with every symlink resolved; nullopt if it does not exist.
  virtual std::optional<std::string> realpath(const std::string& path) const = 0;
  // Target of a symlink as stored; nullopt if not a symlink.
  virtual std::optional<std::string> readlink(const std::string& path) const = 0;
  // Entries of a directory (names only), for glob expansion.
  virtual std::vector<std::string> list(const std::string& dir) const = 0;
  // Entries with their kinds, for walks of whole trees: the real filesystem
  // takes the kinds from the directory itself (d_type), so a walk costs one
  // getdents per directory instead of one lstat per entry.
  virtual std::vector<DirEntry> entries(const std::string& dir) const {
    std::vector<DirEntry> out;
    for (auto& n : list(dir)) {
      const FileKind k = kind(dir == "/" ? "/" + n : dir + "/" + n);
      out.push_back({std::move(n), k});
    }
    return out;
  }
  // What a walk of the tree at `root` needs of `dir` (a directory in it):
  // its subdirectories and `.git`, at least. The real host serves it from
  // a cache it checks against the directory (host/walk_cache.h).
  virtual std::vector<DirEntry> tree_entries(const std::string& root, const std::string& dir) const {
    (void)root;
    return entries(dir);
  }
  // A small text file's content (at most 4 KiB read), for `.git` files;
  // nullopt if it cannot be read.
  virtual std::optional<std::string> read_small(const std::string&) const { return std::nullopt; }
  // Why realpath(path) gives nothing when the path may well exist (a
  // directory on the way that cannot be searched, a link loop); empty
  // when it is simply missing.
  virtual std::string why_unresolved(const std::string&) const { return {}; }
  // lstat-like: the identity of the path itself (a symlink's own, never its
  // target's); nullopt when nothing is there. The default knows nothing, for
  // test filesystems that never feed a stage.
  virtual std::optional<FileId> identity(const std::string&) const { return std::nullopt; }
};

}  // namespace aisbx
