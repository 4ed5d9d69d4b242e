#include "host/walk_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "aisbx/sys/fd.h"
#include "host/profile_cache.h"
#include "profile/sha256.h"

namespace aisbx {
namespace {

constexpr std::string_view kMagic = "AISBXGW1";

void put(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

void put_text(std::string& out, const std::string& s) {
  put(out, s.size(), 4);
  out += s;
}

// Reads what encode() wrote; every length is checked against what is left.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool num(std::uint64_t& v, int bytes) {
    if (b_.size() < static_cast<std::size_t>(bytes)) return false;
    v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= std::uint64_t{static_cast<unsigned char>(b_[static_cast<std::size_t>(i)])} << (8 * i);
    b_.remove_prefix(static_cast<std::size_t>(bytes));
    return true;
  }
  bool text(std::string& s) {
    std::uint64_t n = 0;
    if (!num(n, 4) || n > b_.size()) return false;
    s.assign(b_.substr(0, n));
    b_.remove_prefix(n);
    return true;
  }
  bool done() const { return b_.empty(); }

 private:
  std::string_view b_;
};

FileKind kind_of(unsigned char type) {
  switch (type) {
    case DT_DIR: return FileKind::directory;
    case DT_REG: return FileKind::regular;
    case DT_LNK: return FileKind::symlink;
    default: return FileKind::other;
  }
}

FileKind kind_of_mode(mode_t m) {
  if (S_ISDIR(m)) return FileKind::directory;
  if (S_ISREG(m)) return FileKind::regular;
  if (S_ISLNK(m)) return FileKind::symlink;
  return FileKind::other;
}

bool settled(const WalkCache::Record& r, const timespec& started) {
  const std::int64_t limit = started.tv_sec - WalkCache::kSettleSeconds;
  return r.ctime_s < limit || (r.ctime_s == limit && r.ctime_ns < started.tv_nsec);
}

// The directory read through one fd opened without following a link: its
// identity is the fd's, what it holds is what that fd lists.
std::optional<WalkCache::Record> read_dir(const std::string& dir) {
  sys::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return std::nullopt;
  WalkCache::Record r;
  r.dev = st.st_dev;
  r.ino = st.st_ino;
  r.ctime_s = st.st_ctim.tv_sec;
  r.ctime_ns = static_cast<std::uint32_t>(st.st_ctim.tv_nsec);
  // On the heap, not the stack: a 32 KiB frame is probed page by page
  // (stack clash protection) where getdents fills a page or two.
  constexpr std::size_t kBufBytes = 32768;
  // (operator new's alignment covers dirent64's; not zeroed.)
  const auto buf = std::make_unique_for_overwrite<char[]>(kBufBytes);
  for (;;) {
    const ssize_t n = ::getdents64(fd.get(), buf.get(), kBufBytes);
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const dirent64*>(buf.get() + at);
      at += e->d_reclen;
      const std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      FileKind k = kind_of(e->d_type);
      if (e->d_type == DT_UNKNOWN) {  // some filesystems leave the kind to a stat
        struct stat est {};
        k = ::fstatat(fd.get(), e->d_name, &est, AT_SYMLINK_NOFOLLOW) == 0 ? kind_of_mode(est.st_mode)
                                                                           : FileKind::missing;
      }
      if (k == FileKind::directory || name == ".git") r.entries.push_back({std::string(name), k});
    }
  }
  return r;
}

}  // namespace

WalkCache::WalkCache(std::string home, bool enabled) : home_(std::move(home)), enabled_(enabled) {
  ::clock_gettime(CLOCK_REALTIME, &started_);
}

WalkCache::~WalkCache() = default;

std::string WalkCache::encode(const std::string& root,
                              const std::vector<std::pair<std::string, Record>>& records) {
  std::string out(kMagic);
  put_text(out, root);
  put(out, records.size(), 4);
  for (const auto& [path, r] : records) {
    put_text(out, path);
    put(out, r.dev, 8);
    put(out, r.ino, 8);
    put(out, static_cast<std::uint64_t>(r.ctime_s), 8);
    put(out, r.ctime_ns, 4);
    put(out, r.entries.size(), 4);
    for (const auto& e : r.entries) {
      put(out, static_cast<std::uint64_t>(e.kind), 1);
      put_text(out, e.name);
    }
  }
  return out;
}

std::optional<std::unordered_map<std::string, WalkCache::Record>> WalkCache::decode(
    std::string_view bytes, const std::string& root) {
  if (!bytes.starts_with(kMagic)) return std::nullopt;
  Reader in(bytes.substr(kMagic.size()));
  std::string stored_root;
  std::uint64_t count = 0;
  if (!in.text(stored_root) || stored_root != root || !in.num(count, 4)) return std::nullopt;
  std::unordered_map<std::string, Record> out;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string path;
    Record r;
    std::uint64_t cs = 0, cns = 0, n = 0;
    if (!in.text(path) || !in.num(r.dev, 8) || !in.num(r.ino, 8) || !in.num(cs, 8) ||
        !in.num(cns, 4) || !in.num(n, 4))
      return std::nullopt;
    r.ctime_s = static_cast<std::int64_t>(cs);
    r.ctime_ns = static_cast<std::uint32_t>(cns);
    for (std::uint64_t j = 0; j < n; ++j) {
      std::uint64_t k = 0;
      DirEntry e;
      if (!in.num(k, 1) || k > static_cast<std::uint64_t>(FileKind::other) || !in.text(e.name) ||
          e.name.empty() || e.name.find('/') != std::string::npos)
        return std::nullopt;
      e.kind = static_cast<FileKind>(k);
      r.entries.push_back(std::move(e));
    }
    out.insert_or_assign(std::move(path), std::move(r));
  }
  if (!in.done()) return std::nullopt;
  return out;
}

WalkCache::Tree& WalkCache::tree(const std::string& root) {
  auto it = trees_.find(root);
  if (it != trees_.end()) return it->second;
  Tree& t = trees_[root];
  if (!enabled_) return t;
  if (!store_) store_ = std::make_unique<DiskTreeStore>(home_, true);
  t.key = key_of(root);
  if (auto bytes = store_->load(t.key)) {
    if (auto records = decode(*bytes, root)) {
      t.old = std::move(*records);
      t.loaded = std::move(*bytes);
    } else {
      notes_.push_back("walk cache: `" + root + "`: entry ignored (does not parse)");
    }
  }
  return t;
}

std::vector<DirEntry> WalkCache::entries(const std::string& root, const std::string& dir) {
  Tree& t = tree(root);
  if (dir == root) {  // a new walk (a plan made again)
    t.walked.clear();
    t.reads = 0;
  }
  if (auto old = t.old.find(dir); old != t.old.end()) {
    struct stat st {};
    const Record& r = old->second;
    if (::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_dev == r.dev &&
        st.st_ino == r.ino && st.st_ctim.tv_sec == r.ctime_s &&
        static_cast<std::uint32_t>(st.st_ctim.tv_nsec) == r.ctime_ns) {
      t.walked.emplace_back(dir, r);
      return r.entries;
    }
  }
  ++t.reads;
  auto r = read_dir(dir);
  if (!r) return {};
  std::vector<DirEntry> out = r->entries;
  if (settled(*r, started_)) t.walked.emplace_back(dir, std::move(*r));
  return out;
}

std::string WalkCache::key_of(const std::string& root) {
  return profile::hex(profile::sha256("aisbx-ns git walk 1\n" + root));
}

std::vector<std::string> WalkCache::notes() const {
  std::vector<std::string> out;
  // The store's own words: where entries live, an entry ignored and why.
  std::vector<std::string> all = store_notes_;
  if (store_) all.insert(all.end(), store_->notes().begin(), store_->notes().end());
  for (const auto& n : all)
    out.push_back("walk cache: " + (n.starts_with("profile cache: ") ? n.substr(15) : n));
  out.insert(out.end(), notes_.begin(), notes_.end());
  return out;
}

void WalkCache::save() {
  if (!store_) return;
  for (const auto& [root, t] : trees_) {
    if (t.walked.size() < kMinDirs) continue;
    // Every directory as it was, and no more of them: the entry stands.
    if (t.reads == 0 && t.walked.size() == t.old.size()) continue;
    std::string bytes = encode(root, t.walked);
    if (bytes == t.loaded) continue;
    store_->store(t.key, bytes);
    notes_.push_back("walk cache: `" + root + "`: stored " + std::to_string(t.walked.size()) +
                     " directories");
  }
  // The directory fd goes with the store; the loaded entries stay.
  store_notes_.insert(store_notes_.end(), store_->notes().begin(), store_->notes().end());
  store_.reset();
}

}  // namespace aisbx
