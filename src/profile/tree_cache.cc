// Entries of the compiled profile cache (include/aisbx/profile_cache.h).
//
//   "AISBXPT1"                 magic and format version
//   key        64 bytes        hex SHA-256 of the format, the parser and the text
//   length     8 bytes (LE)    of the tree
//   tree       length bytes    the node tree, depth first (below)
//   checksum   32 bytes        SHA-256 of everything before it
//
// A node: type (1 byte), mark pos/line/column (3 x 4 bytes LE), tag and
// scalar (4-byte length + bytes), then for a sequence a count and the
// elements, for a map a count and the key/value pairs. Decoding checks
// every length against what is left, so no entry, however written, reads
// out of bounds or recurses deeper than yaml-cpp itself allows.
#include <cstring>
#include <set>
#include <variant>
#include <vector>

#include "aisbx/profile_cache.h"
#include "profile/node.h"
#include "profile/sha256.h"

namespace aisbx::profile {
namespace {

constexpr std::string_view kMagic = "AISBXPT1";
constexpr std::size_t kKeyBytes = 64;
constexpr std::size_t kDigestBytes = 32;
constexpr int kMaxDepth = 1024;  // yaml-cpp's DepthGuard stops at 2000 nested levels

void put32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

void put_text(std::string& out, const std::string& s) {
  put32(out, static_cast<std::uint32_t>(s.size()));
  out += s;
}

void encode(std::string& out, const Node& n) {
  out += static_cast<char>(n.Type());
  const YAML::Mark m = n.Mark();
  put32(out, static_cast<std::uint32_t>(m.pos));
  put32(out, static_cast<std::uint32_t>(m.line));
  put32(out, static_cast<std::uint32_t>(m.column));
  put_text(out, n.Tag());
  put_text(out, n.Scalar());
  if (n.IsSequence()) {
    put32(out, static_cast<std::uint32_t>(n.elements().size()));
    for (const auto& e : n.elements()) encode(out, e);
  } else if (n.IsMap()) {
    put32(out, static_cast<std::uint32_t>(n.pairs().size()));
    for (const auto& [k, v] : n.pairs()) {
      encode(out, k);
      encode(out, v);
    }
  }
}

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  std::optional<Node> node(int depth) {
    if (depth > kMaxDepth || in_.empty()) return std::nullopt;
    auto d = std::make_shared<Node::Data>();
    const auto type = static_cast<unsigned char>(in_[0]);
    in_.remove_prefix(1);
    switch (type) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Scalar:
      case YAML::NodeType::Sequence:
      case YAML::NodeType::Map:
        d->type = static_cast<YAML::NodeType::value>(type);
        break;
      default:
        return std::nullopt;
    }
    std::uint32_t pos = 0, line = 0, column = 0;
    if (!get32(pos) || !get32(line) || !get32(column) || !text(d->tag) || !text(d->scalar))
      return std::nullopt;
    d->mark.pos = static_cast<int>(pos);
    d->mark.line = static_cast<int>(line);
    d->mark.column = static_cast<int>(column);
    std::uint32_t count = 0;
    if (d->type == YAML::NodeType::Sequence || d->type == YAML::NodeType::Map) {
      // Every node takes at least 21 bytes: a count larger than what is
      // left is a lie, not a reason to reserve memory.
      if (!get32(count) || count > in_.size() / 21) return std::nullopt;
    }
    if (d->type == YAML::NodeType::Sequence) {
      d->elements.reserve(count);
      for (std::uint32_t i = 0; i < count; ++i) {
        auto e = node(depth + 1);
        if (!e) return std::nullopt;
        d->elements.push_back(std::move(*e));
      }
    } else if (d->type == YAML::NodeType::Map) {
      d->map.reserve(count);
      for (std::uint32_t i = 0; i < count; ++i) {
        auto k = node(depth + 1);
        if (!k) return std::nullopt;
        auto v = node(depth + 1);
        if (!v) return std::nullopt;
        d->map.emplace_back(std::move(*k), std::move(*v));
      }
    }
    return Node(std::move(d));
  }

  bool done() const { return in_.empty(); }

 private:
  bool get32(std::uint32_t& v) {
    if (in_.size() < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t{static_cast<unsigned char>(in_[i])} << (8 * i);
    in_.remove_prefix(4);
    return true;
  }
  bool text(std::string& s) {
    std::uint32_t n = 0;
    if (!get32(n) || n > in_.size()) return false;
    s.assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }

  std::string_view in_;
};

std::string entry_of(const Node& tree, const std::string& key) {
  std::string body;
  encode(body, tree);
  std::string out(kMagic);
  out += key;
  const std::uint64_t n = body.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
  out += body;
  const Sha256Digest sum = sha256(out);
  out.append(reinterpret_cast<const char*>(sum.data()), sum.size());
  return out;
}

// The tree of a good entry, or why it is not one.
std::variant<Node, std::string> tree_of(std::string_view bytes, const std::string& key) {
  constexpr std::size_t kHead = kMagic.size() + kKeyBytes + 8;
  if (bytes.size() < kHead + kDigestBytes) return std::string("shorter than its header");
  if (bytes.substr(0, kMagic.size()) != kMagic) return std::string("not an entry of this format");
  if (bytes.substr(kMagic.size(), kKeyBytes) != key)
    return std::string("written for another text or parser");
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= std::uint64_t{static_cast<unsigned char>(bytes[kMagic.size() + kKeyBytes + i])} << (8 * i);
  if (n != bytes.size() - kHead - kDigestBytes) return std::string("truncated or padded");
  const Sha256Digest sum = sha256(bytes.substr(0, bytes.size() - kDigestBytes));
  if (std::memcmp(sum.data(), bytes.data() + bytes.size() - kDigestBytes, kDigestBytes) != 0)
    return std::string("checksum mismatch");
  Decoder dec(bytes.substr(kHead, n));
  auto tree = dec.node(0);
  if (!tree || !dec.done()) return std::string("the tree does not decode");
  return std::move(*tree);
}

}  // namespace

// The tree with only the profiles a run of `only` reads: it and, within
// this file, every profile its `extends` reach.
Node pruned(const Node& root, const ProfileSet& set, const std::string& only) {
  std::set<std::string> need;
  std::vector<std::string> todo{only};
  while (!todo.empty()) {
    const std::string n = std::move(todo.back());
    todo.pop_back();
    const auto it = set.profiles.find(n);
    if (it == set.profiles.end() || !need.insert(n).second) continue;
    todo.insert(todo.end(), it->second.extends.begin(), it->second.extends.end());
  }
  auto top = std::make_shared<Node::Data>();
  top->type = root.Type();
  top->mark = root.Mark();
  top->tag = root.Tag();
  for (const auto& [k, v] : root.pairs()) {
    if (k.Scalar() != "profiles" || !v.IsMap()) {
      top->map.emplace_back(k, v);
      continue;
    }
    auto profiles = std::make_shared<Node::Data>();
    profiles->type = v.Type();
    profiles->mark = v.Mark();
    profiles->tag = v.Tag();
    for (const auto& [name, body] : v.pairs())
      if (need.contains(name.Scalar())) profiles->map.emplace_back(name, body);
    top->map.emplace_back(k, Node(std::move(profiles)));
  }
  return Node(std::move(top));
}

std::string cache_key(std::string_view text, std::string_view salt, std::string_view only) {
  Sha256 h;
  h.update(kMagic);
  h.update(std::string_view("\0", 1));
  h.update(salt);
  h.update(std::string_view("\0", 1));
  // A profile name never holds a NUL: "only" and "every profile" differ.
  h.update(only.empty() ? std::string_view("\0*", 2) : only);
  h.update(std::string_view("\0", 1));
  h.update(text);
  return hex(h.finish());
}

std::optional<std::string> entry_problem(std::string_view bytes, const std::string& key) {
  auto r = tree_of(bytes, key);
  if (auto* why = std::get_if<std::string>(&r)) return *why;
  return std::nullopt;
}

Expected<ProfileSet> parse_profiles_cached(const std::string& text, const std::string& file,
                                           TreeStore& store, std::string_view salt,
                                           const std::optional<std::string>& only, bool* partial) {
  if (partial) *partial = false;
  const std::string key = cache_key(text, salt, only.value_or(""));
  if (auto bytes = store.load(key)) {
    auto r = tree_of(*bytes, key);
    if (auto* tree = std::get_if<Node>(&r)) {
      store.note("profile cache: " + file + ": hit");
      if (partial) *partial = only.has_value();
      return profiles_of(*tree, file);
    }
    store.note("profile cache: " + file + ": entry ignored: " + std::get<std::string>(r));
  } else {
    store.note("profile cache: " + file + ": miss");
  }
  AISBX_ASSIGN(tree, parse_tree(text, file));
  AISBX_ASSIGN(set, profiles_of(tree, file));  // an invalid file is never stored
  store.store(key, entry_of(only ? pruned(tree, set, *only) : tree, key));
  return set;
}

}  // namespace aisbx::profile
