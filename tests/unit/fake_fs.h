// FakeFs: an in-memory aisbx::Fs for planning tests. A map of absolute path
// -> node (directory, regular file with its content, symlink with its link
// text, other).
// realpath() walks the path one component at a time as the kernel's path
// walk does: a symlink met on the way is replaced by its text, an absolute
// text restarts at `/`, a relative one continues from the link's directory,
// `..` goes up from the directory reached so far (not textually), and more
// than 40 links is ELOOP (nullopt).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aisbx/host.h"

namespace aisbx::test {

class FakeFs final : public Fs {
 public:
  FakeFs() { nodes_["/"] = Node{FileKind::directory, "", next_ino_++}; }

  // Each adder creates the missing ancestors as directories, literally
  // (an ancestor that is a symlink is not followed: write the fixture with
  // real paths).
  FakeFs& dir(const std::string& path) { return put(path, FileKind::directory, ""); }
  FakeFs& file(const std::string& path, const std::string& content = "") {
    return put(path, FileKind::regular, content);
  }
  FakeFs& other(const std::string& path) { return put(path, FileKind::other, ""); }
  FakeFs& symlink(const std::string& path, const std::string& text) {
    return put(path, FileKind::symlink, text);
  }

  FileKind kind(const std::string& path) const override {
    auto at = locate(path, /*follow_last=*/false);
    if (!at) return FileKind::missing;
    return nodes_.at(*at).kind;
  }

  std::optional<std::string> realpath(const std::string& path) const override {
    return locate(path, /*follow_last=*/true);
  }

  std::optional<std::string> readlink(const std::string& path) const override {
    auto at = locate(path, /*follow_last=*/false);
    if (!at) return std::nullopt;
    const Node& n = nodes_.at(*at);
    if (n.kind != FileKind::symlink) return std::nullopt;
    return n.text;
  }

  // A regular file's content, through symlinks, cut at 4 KiB as the real one.
  std::optional<std::string> read_small(const std::string& path) const override {
    auto at = locate(path, /*follow_last=*/true);
    if (!at || nodes_.at(*at).kind != FileKind::regular) return std::nullopt;
    return nodes_.at(*at).text.substr(0, 4096);
  }

  // Device 1; each node gets an inode number of its own when it is added,
  // a new one when it is replaced (a swap, as a concurrent writer makes).
  std::optional<FileId> identity(const std::string& path) const override {
    auto at = locate(path, /*follow_last=*/false);
    if (!at) return std::nullopt;
    return FileId{1, nodes_.at(*at).ino};
  }

  std::vector<std::string> list(const std::string& dir) const override {
    std::vector<std::string> out;
    auto at = locate(dir, /*follow_last=*/true);
    if (!at || nodes_.at(*at).kind != FileKind::directory) return out;
    const std::string prefix = *at == "/" ? "/" : *at + "/";
    for (auto it = nodes_.lower_bound(prefix); it != nodes_.end(); ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) break;
      const std::string rest = it->first.substr(prefix.size());
      if (!rest.empty() && rest.find('/') == std::string::npos) out.push_back(rest);
    }
    return out;
  }

 private:
  struct Node {
    FileKind kind = FileKind::missing;
    std::string text;  // link text of a symlink, content of a regular file
    std::uint64_t ino = 0;
  };

  static constexpr int kMaxLinks = 40;  // the kernel's MAXSYMLINKS

  static std::string join(const std::string& dir, const std::string& name) {
    return dir == "/" ? "/" + name : dir + "/" + name;
  }

  static std::string parent_of(const std::string& p) {
    const auto slash = p.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
  }

  static std::deque<std::string> split(const std::string& p) {
    std::deque<std::string> parts;
    std::size_t i = 0;
    while (i <= p.size()) {
      const auto j = p.find('/', i);
      const std::string part =
          p.substr(i, j == std::string::npos ? std::string::npos : j - i);
      if (!part.empty()) parts.push_back(part);
      if (j == std::string::npos) break;
      i = j + 1;
    }
    return parts;
  }

  FakeFs& put(const std::string& path, FileKind k, const std::string& text) {
    std::string cur = "/";
    auto parts = split(path);
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      cur = join(cur, parts[i]);
      if (!nodes_.contains(cur)) nodes_[cur] = Node{FileKind::directory, "", next_ino_++};
    }
    if (!parts.empty()) nodes_[join(cur, parts.back())] = Node{k, text, next_ino_++};
    return *this;
  }

  // The canonical path of the node `path` names, following a final symlink
  // only if `follow_last`; nullopt if a component is missing, a non-final
  // component is not a directory, or the links loop.
  std::optional<std::string> locate(const std::string& path, bool follow_last) const {
    if (path.empty() || path[0] != '/') return std::nullopt;
    std::deque<std::string> todo = split(path);
    std::string cur = "/";
    int links = 0;
    while (!todo.empty()) {
      const std::string name = todo.front();
      todo.pop_front();
      if (name == ".") continue;
      if (name == "..") {
        cur = parent_of(cur);
        continue;
      }
      const std::string next = join(cur, name);
      auto it = nodes_.find(next);
      if (it == nodes_.end()) return std::nullopt;
      const bool last = todo.empty();
      if (it->second.kind == FileKind::symlink && (!last || follow_last)) {
        if (++links > kMaxLinks) return std::nullopt;
        const std::string& text = it->second.text;
        if (text.empty()) return std::nullopt;
        auto more = split(text);
        todo.insert(todo.begin(), more.begin(), more.end());
        if (text[0] == '/') cur = "/";
        // A relative text continues from the link's directory: `cur`.
        continue;
      }
      if (!last && it->second.kind != FileKind::directory) return std::nullopt;
      cur = next;
    }
    return cur;
  }

  std::map<std::string, Node> nodes_;
  std::uint64_t next_ino_ = 2;  // as a file system's root
};

}  // namespace aisbx::test
