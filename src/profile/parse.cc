// parse_profiles(): untrusted YAML text -> ProfileSet.
//
// The file is checked in three passes, each catching what the next one would
// let through silently:
//   1. bytes: size, UTF-8, NUL and control characters (yaml-cpp 0.7 drops a
//      raw U+0001 inside a quoted string without a word);
//   2. YAML events: number of documents, aliases, quoted strings left open
//      (yaml-cpp 0.7 ends an unterminated "... at the end of the file); the
//      same events build the node tree, so the text is scanned once
//      (yaml-cpp's scanner is most of the launcher's start-up);
//   3. the node tree against a fixed schema: unknown keys, duplicate keys
//      (kept in the tree in file order), wrong types.
// Every error is "file:line:column: key.path: message", positions 1-based.
// Columns count bytes, as yaml-cpp's marks (and clang) do.
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aisbx/profile.h"
#include "plan/masks.h"
#include "profile/node.h"

namespace aisbx::profile {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// yaml-cpp's tags: "?" for a plain scalar or an untagged collection, "!" for
// a quoted or block scalar, "" for null.
constexpr std::string_view kPlainTag = "?";
constexpr std::string_view kNonPlainTag = "!";
constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";

// ---------------------------------------------------------------------------
// Text shown in messages. The file is untrusted and messages go to a
// terminal, so control characters (C0, DEL and C1, which a double-quoted
// "\e" can still produce) are escaped, and long text is cut.

std::string hex2(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02X", v & 0xFFU);
  return buf;
}

std::string shown(std::string_view s) {
  constexpr std::size_t kMaxShown = 60;
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool lead = (c & 0xC0U) != 0x80U;
    if (lead && out.size() >= kMaxShown) {
      out += "...";
      break;
    }
    if (c < 0x20 || c == 0x7F) {
      out += "\\x" + hex2(c);
    } else if (c == 0xC2 && i + 1 < s.size() &&
               static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      out += "\\u00" + hex2(static_cast<unsigned char>(s[++i]));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string quoted(std::string_view s) { return "`" + shown(s) + "`"; }

template <class Range>
std::string join(const Range& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// Levenshtein distance, for "did you mean" after a typo.
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] =
          std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diag = up;
    }
  }
  return row[b.size()];
}

template <class Range>
std::string suggestion(std::string_view typo, const Range& known) {
  std::string best;
  std::size_t best_d = 3;  // at most two edits away
  for (const auto& k : known) {
    const std::size_t d = distance(typo, k);
    if (d < best_d) {
      best_d = d;
      best = std::string(k);
    }
  }
  return best.empty() ? "" : "; did you mean `" + best + "`?";
}

// ---------------------------------------------------------------------------
// Pass 1: bytes.

struct TextProblem {
  std::size_t offset;
  std::string what;
};

// 1-based line and byte column of `offset`; lines end at '\n' only, as in
// yaml-cpp (a lone '\r' is rejected before this matters).
std::pair<int, int> position_at(std::string_view text, std::size_t offset) {
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, static_cast<int>(offset - line_start) + 1};
}

std::string code_point(std::uint32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

// The first byte that is not valid UTF-8 or not allowed in YAML text
// (YAML 1.2 c-printable: TAB, LF, CR, U+0020..U+007E, U+0085, U+00A0..U+D7FF,
// U+E000..U+FFFD, U+10000..U+10FFFF). An invalid sequence is reported at its
// first byte.
std::optional<TextProblem> first_text_problem(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      if (b == 0) return TextProblem{i, "NUL byte in profile text"};
      if (b == '\r' && (i + 1 == s.size() || s[i + 1] != '\n'))
        return TextProblem{
            i, "carriage return without a line feed (use LF or CRLF line ends)"};
      if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7F)
        return TextProblem{i, "control character " + code_point(b) +
                                  " is not allowed in YAML text (write it as an escape "
                                  "inside double quotes)"};
      ++i;
      continue;
    }
    const std::string bad = "invalid UTF-8: ";
    const std::string byte = " (byte 0x" + hex2(b) + ")";
    std::size_t len = 0;
    std::uint32_t cp = 0;
    unsigned char lo = 0x80;  // allowed range of the second byte
    unsigned char hi = 0xBF;
    if (b < 0xC0) return TextProblem{i, bad + "unexpected continuation byte" + byte};
    if (b < 0xC2) return TextProblem{i, bad + "overlong encoding" + byte};
    if (b < 0xE0) {
      len = 2;
      cp = b & 0x1FU;
    } else if (b < 0xF0) {
      len = 3;
      cp = b & 0x0FU;
      if (b == 0xE0) lo = 0xA0;  // below: overlong
      if (b == 0xED) hi = 0x9F;  // above: UTF-16 surrogates
    } else if (b < 0xF5) {
      len = 4;
      cp = b & 0x07U;
      if (b == 0xF0) lo = 0x90;  // below: overlong
      if (b == 0xF4) hi = 0x8F;  // above: beyond U+10FFFF
    } else {
      return TextProblem{i, bad + "code point above U+10FFFF" + byte};
    }
    for (std::size_t k = 1; k < len; ++k) {
      if (i + k >= s.size()) return TextProblem{i, bad + "truncated sequence" + byte};
      const auto c = static_cast<unsigned char>(s[i + k]);
      if (c < 0x80 || c > 0xBF) return TextProblem{i, bad + "truncated sequence" + byte};
      if (k == 1 && c < lo) return TextProblem{i, bad + "overlong encoding" + byte};
      if (k == 1 && c > hi) {
        return TextProblem{
            i,
            bad + (b == 0xED ? "UTF-16 surrogate" : "code point above U+10FFFF") + byte};
      }
      cp = (cp << 6) | (c & 0x3FU);
    }
    if ((cp >= 0x80 && cp <= 0x9F && cp != 0x85) || cp == 0xFFFE || cp == 0xFFFF)
      return TextProblem{i,
                         "character " + code_point(cp) + " is not allowed in YAML text"};
    i += len;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Pass 2: YAML events.

class Prepass : public YAML::EventHandler {
 public:
  explicit Prepass(std::string_view text) : text_(text) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    doc_starts.push_back(mark);
    open_.clear();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override {
    add(make(YAML::NodeType::Null, mark, ""));
  }
  // The node tree shares an aliased node, but walking it copies the value
  // once per alias: a 1 MiB file of aliases would expand to gigabytes.
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    note(mark, "YAML aliases (`*name`) are not supported in profile files");
    add(make(YAML::NodeType::Null, mark, ""));
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                const std::string& value) override {
    if (tag == kNonPlainTag && !quote_closed(mark))
      note(mark, "quoted string is not closed");
    auto d = make(YAML::NodeType::Scalar, mark, tag);
    d->scalar = value;
    add(std::move(d));
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    open(make(YAML::NodeType::Sequence, mark, tag));
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    open(make(YAML::NodeType::Map, mark, tag));
  }
  void OnMapEnd() override { close(); }

  std::vector<YAML::Mark> doc_starts;
  std::optional<std::pair<YAML::Mark, std::string>> problem;
  Node root;  // of the first document; null if it has no node

 private:
  // A collection being filled, and for a map the key waiting for its value.
  struct Open {
    std::shared_ptr<Node::Data> node;
    std::optional<Node> key;
  };

  static std::shared_ptr<Node::Data> make(YAML::NodeType::value type, const YAML::Mark& mark,
                                          const std::string& tag) {
    auto d = std::make_shared<Node::Data>();
    d->type = type;
    d->mark = mark;
    d->tag = tag;
    return d;
  }

  // Attaches a finished node to the open collection, or makes it the root
  // of the first document (later documents are only counted).
  void add(std::shared_ptr<Node::Data> d) {
    Node n(std::move(d));
    if (open_.empty()) {
      if (doc_starts.size() == 1) root = std::move(n);
      return;
    }
    Open& top = open_.back();
    if (top.node->type == YAML::NodeType::Sequence) {
      top.node->elements.push_back(std::move(n));
    } else if (!top.key) {
      top.key = std::move(n);
    } else {
      top.node->map.emplace_back(std::move(*top.key), std::move(n));
      top.key.reset();
    }
  }
  void open(std::shared_ptr<Node::Data> d) { open_.push_back({std::move(d), std::nullopt}); }
  void close() {
    if (open_.empty()) return;
    auto d = std::move(open_.back().node);
    open_.pop_back();
    add(std::move(d));
  }

  std::vector<Open> open_;

  void note(const YAML::Mark& mark, std::string what) {
    if (!problem) problem.emplace(mark, std::move(what));
  }

  // yaml-cpp 0.7 accepts `a: "text` up to the end of the file, which would
  // swallow every key after it. Re-scan the scalar from its opening quote.
  bool quote_closed(const YAML::Mark& mark) const {
    if (mark.pos < 0 || static_cast<std::size_t>(mark.pos) >= text_.size()) return true;
    const std::size_t start = static_cast<std::size_t>(mark.pos);
    const char q = text_[start];
    if (q != '"' && q != '\'') return true;  // block scalar, or a tag comes first
    for (std::size_t i = start + 1; i < text_.size(); ++i) {
      if (q == '"' && text_[i] == '\\') {
        ++i;
      } else if (text_[i] == q) {
        if (q == '\'' && i + 1 < text_.size() && text_[i + 1] == '\'') {
          ++i;  // '' is an escaped quote
        } else {
          return true;
        }
      }
    }
    return false;
  }

  std::string_view text_;
};

// ---------------------------------------------------------------------------
// Pass 3: the schema.

// A value with its key path and where it is. For an empty value the
// position is its key's: yaml-cpp marks `key:` + nothing at the next token.
struct Item {
  Node node;
  std::string path;
  Where where;
};

struct Entry {
  std::string key;
  Where key_where;
  Item value;
};

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? shown(key) : parent + "." + shown(key);
}

// Profile and group names end up on the command line and in one-line
// messages ("cycle a -> b -> a"), so keep them to name characters.
bool valid_name(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

// A syscall name (`openat`, `_llseek`) or a group (`@mount`, `@system-service`).
bool valid_syscall(std::string_view s) {
  if (s.starts_with('@')) s.remove_prefix(1);
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

template <class E, std::size_t N>
using Choices = std::array<std::pair<std::string_view, E>, N>;

template <class E, std::size_t N>
std::string choice_names(const Choices<E, N>& choices) {
  std::vector<std::string_view> names;
  for (const auto& c : choices) names.push_back(c.first);
  return join(names);
}

constexpr Choices<NetMode, 3> kNetModes{
    {{"host", NetMode::host}, {"none", NetMode::none}, {"loopback", NetMode::loopback}}};
constexpr Choices<AllowInLandlock, 2> kAllowInLandlock{
    {{"refuse", AllowInLandlock::refuse}, {"best_effort", AllowInLandlock::best_effort}}};
constexpr Choices<SeccompPreset, 2> kPresets{
    {{"off", SeccompPreset::off}, {"default", SeccompPreset::default_}}};
constexpr Choices<EnvMode, 2> kEnvModes{
    {{"inherit", EnvMode::inherit}, {"clean", EnvMode::clean}}};
constexpr Choices<LogLevel, 4> kLogLevels{{{"error", LogLevel::error},
                                           {"warn", LogLevel::warn},
                                           {"info", LogLevel::info},
                                           {"debug", LogLevel::debug}}};
constexpr Choices<GitMode, 2> kGitModes{
    {{"worktree", GitMode::worktree}, {"off", GitMode::off}}};

using Keys = std::span<const std::string_view>;
constexpr std::array<std::string_view, 2> kTopKeys{"version", "profiles"};
constexpr std::array<std::string_view, 17> kProfileKeys{
    "description", "extends", "access_roots", "control_access", "command",    "home",
    "network",     "scope",   "seccomp",      "landlock_abi",   "env_policy", "log_level",
    "dry_run",     "git",     "unmask",
    "limits",      "desktop"};
constexpr std::array<std::string_view, 5> kDesktopKeys{"display", "gpu", "shm", "dbus",
                                                       "audio"};
constexpr std::array<std::string_view, 1> kDbusKeys{"talk"};
constexpr std::array<std::string_view, 6> kGroupKeys{"paths", "permissions", "required",
                                                     "deny", "readonly", "overlay"};
constexpr std::array<std::string_view, 4> kCommandKeys{"binary", "args", "working_dir",
                                                       "env"};
constexpr std::array<std::string_view, 11> kNetworkKeys{
    "mode",         "connect_tcp", "bind_tcp",   "connect_udp", "bind_udp",     "unix_sockets",
    "allow",        "host_ports",  "publish",    "deny_resolved", "landlock_mode"};
constexpr std::array<std::string_view, 2> kScopeKeys{"abstract_unix_socket", "signal"};
constexpr std::array<std::string_view, 4> kSeccompKeys{"preset", "deny", "allow",
                                                       "allow_nested_userns"};
constexpr std::array<std::string_view, 2> kEnvPolicyKeys{"mode", "keep"};
constexpr std::array<std::string_view, 2> kHomeKeys{"path", "shared"};

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  Expected<ProfileSet> set_of(const Node& doc) const;

 private:
  Where at(const YAML::Mark& m) const {
    if (m.is_null()) return Where{file_, 0, 0};
    return Where{file_, m.line + 1, m.column + 1};
  }

  std::unexpected<Error> error(const Where& w, const std::string& path,
                               const std::string& msg) const {
    return fail(w.str() + ": " + (path.empty() ? "" : path + ": ") + msg);
  }

  static std::string found(const Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Sequence:
        return "a sequence";
      case YAML::NodeType::Map:
        return "a map";
      case YAML::NodeType::Scalar:
        return (n.Tag() == kPlainTag ? "" : "the string ") + quoted(n.Scalar());
      default:
        return "nothing";
    }
  }

  std::unexpected<Error> unknown_key(const Entry& e, const std::string& path,
                                     Keys known) const {
    return error(e.key_where, path,
                 "unknown key " + quoted(e.key) + " (known: " + join(known) + ")" +
                     suggestion(e.key, known));
  }

  // Only untagged values, and `!!str` on scalars: a tag like `!!binary` or
  // `!custom` would change what the text means.
  Expected<void> check_tag(const Item& it) const {
    const std::string& t = it.node.Tag();
    if (t.empty() || t == kPlainTag || t == kNonPlainTag) return {};
    if (t == kStrTag && it.node.IsScalar()) return {};
    return error(it.where, it.path, "YAML tag " + quoted(t) + " is not supported here");
  }

  // A map's entries in file order. A null value (the key alone) is an empty
  // map; duplicate keys are errors.
  Expected<std::vector<Entry>> entries(const Item& it) const {
    AISBX_TRY(check_tag(it));
    std::vector<Entry> out;
    if (it.node.IsNull()) return out;
    if (!it.node.IsMap())
      return error(it.where, it.path, "expected a map, found " + found(it.node));
    std::map<std::string, Where> seen;
    for (const auto& kv : it.node.pairs()) {
      const Where kw = at(kv.first.Mark());
      if (!kv.first.IsScalar())
        return error(kw, it.path, "expected a key name, found " + found(kv.first));
      const std::string key = kv.first.Scalar();
      const auto [first, inserted] = seen.emplace(key, kw);
      if (!inserted) {
        return error(kw, it.path,
                     "duplicate key " + quoted(key) + " (first at line " +
                         std::to_string(first->second.line) + ", column " +
                         std::to_string(first->second.column) + ")");
      }
      out.push_back(Entry{key, kw,
                          Item{kv.second, child_path(it.path, key),
                               kv.second.IsNull() ? kw : at(kv.second.Mark())}});
    }
    return out;
  }

  // Sequence elements with their paths (`paths[2]`). A null value is an
  // empty list.
  Expected<std::vector<Item>> elements(const Item& it, const char* expected) const {
    AISBX_TRY(check_tag(it));
    std::vector<Item> out;
    if (it.node.IsNull()) return out;
    if (!it.node.IsSequence())
      return error(it.where, it.path,
                   std::string("expected ") + expected + ", found " + found(it.node));
    std::size_t i = 0;
    for (const auto& el : it.node.elements()) {
      // An empty element (`-` alone) is marked at the next token: use the list's.
      out.push_back(Item{el, it.path + "[" + std::to_string(i++) + "]",
                         el.IsNull() ? it.where : at(el.Mark())});
    }
    return out;
  }

  Expected<std::string> string_of(const Item& it, bool allow_empty) const {
    AISBX_TRY(check_tag(it));
    if (!it.node.IsScalar())
      return error(it.where, it.path, "expected a string, found " + found(it.node));
    if (!allow_empty && it.node.Scalar().empty())
      return error(it.where, it.path, "must not be empty");
    return it.node.Scalar();
  }

  Expected<Located<std::string>> located_string(const Item& it) const {
    AISBX_ASSIGN(s, string_of(it, false));
    return Located<std::string>{std::move(s), it.where};
  }

  Expected<std::vector<Located<std::string>>> strings_of(const Item& it) const {
    AISBX_ASSIGN(items, elements(it, "a list of strings"));
    std::vector<Located<std::string>> out;
    for (const auto& el : items) {
      AISBX_ASSIGN(s, located_string(el));
      out.push_back(std::move(s));
    }
    return out;
  }

  // A path: a string without control characters (path_text_problem).
  Expected<Located<std::string>> path_string(const Item& it) const {
    AISBX_ASSIGN(s, located_string(it));
    if (auto bad = path_text_problem(s.value))
      return error(it.where, it.path, quoted(s.value) + " " + *bad);
    return s;
  }

  Expected<std::vector<Located<std::string>>> paths_of(const Item& it) const {
    AISBX_ASSIGN(items, elements(it, "a list of strings"));
    std::vector<Located<std::string>> out;
    for (const auto& el : items) {
      AISBX_ASSIGN(s, path_string(el));
      out.push_back(std::move(s));
    }
    return out;
  }

  Expected<std::vector<Located<std::string>>> syscalls_of(const Item& it) const {
    AISBX_ASSIGN(items, elements(it, "a list of syscall names"));
    std::vector<Located<std::string>> out;
    for (const auto& el : items) {
      AISBX_ASSIGN(s, located_string(el));
      if (!valid_syscall(s.value)) {
        return error(el.where, el.path,
                     quoted(s.value) + " is not a syscall name or an @group name");
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  // Only `true` and `false`: yaml-cpp's as<bool> also takes yes/no/on/off,
  // and `off` is a value elsewhere in this format.
  Expected<bool> bool_of(const Item& it) const {
    AISBX_TRY(check_tag(it));
    if (it.node.IsScalar() && it.node.Tag() == kPlainTag) {
      if (it.node.Scalar() == "true") return true;
      if (it.node.Scalar() == "false") return false;
    }
    std::string msg = "expected a boolean, found " + found(it.node);
    if (it.node.IsScalar()) msg += " (write true or false)";
    return error(it.where, it.path, msg);
  }

  // Digits only: no sign, no 0x, no leading zero (YAML 1.1 reads 010 as 8).
  Expected<long> integer_of(const Item& it, long lo, long hi) const {
    AISBX_TRY(check_tag(it));
    const std::string& s = it.node.Scalar();
    const bool digits =
        it.node.IsScalar() && it.node.Tag() == kPlainTag && !s.empty() &&
        std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits)
      return error(it.where, it.path, "expected an integer, found " + found(it.node));
    if (s.size() > 1 && s[0] == '0') {
      return error(it.where, it.path,
                   "expected an integer without leading zeros, found " + found(it.node));
    }
    long v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) {
      return error(it.where, it.path,
                   "must be between " + std::to_string(lo) + " and " +
                       std::to_string(hi) + ", found " + quoted(s));
    }
    return v;
  }

  Expected<std::vector<std::uint16_t>> ports_of(const Item& it) const {
    AISBX_ASSIGN(items, elements(it, "a list of port numbers"));
    std::vector<std::uint16_t> out;
    for (const auto& el : items) {
      AISBX_ASSIGN(v, integer_of(el, 1, 65535));
      out.push_back(static_cast<std::uint16_t>(v));
    }
    return out;
  }

  template <class E, std::size_t N>
  Expected<E> enum_of(const Item& it, const Choices<E, N>& choices) const {
    AISBX_TRY(check_tag(it));
    if (it.node.IsScalar()) {
      for (const auto& [name, value] : choices)
        if (it.node.Scalar() == name) return value;
    }
    return error(
        it.where, it.path,
        "expected one of " + choice_names(choices) + ", found " + found(it.node));
  }

  Expected<RightMap> rights_of(const Item& it) const {
    AISBX_ASSIGN(es, entries(it));
    RightMap r;
    r.where = it.where;
    r.present = true;
    for (const auto& e : es) {
      const auto bit = fs_right_by_name(e.key);
      if (!bit) {
        return error(e.key_where, it.path,
                     "unknown right " + quoted(e.key) +
                         " (known: " + join(all_fs_right_names()) + ")" +
                         suggestion(e.key, all_fs_right_names()));
      }
      AISBX_ASSIGN(granted, bool_of(e.value));
      (granted ? r.granted : r.denied) |= *bit;
    }
    return r;
  }

  Expected<RootGroup> group_of(const Entry& ge) const {
    RootGroup g;
    g.name = ge.key;
    g.where = ge.key_where;
    bool has_paths = false;
    AISBX_ASSIGN(es, entries(ge.value));
    for (const auto& e : es) {
      if (e.key == "paths") {
        AISBX_ASSIGN(v, paths_of(e.value));
        g.paths = std::move(v);
        has_paths = true;
      } else if (e.key == "permissions") {
        AISBX_ASSIGN(v, rights_of(e.value));
        g.permissions = v;
      } else if (e.key == "required") {
        AISBX_ASSIGN(v, bool_of(e.value));
        g.required = v;
      } else if (e.key == "deny") {
        AISBX_ASSIGN(v, paths_of(e.value));
        g.deny = std::move(v);
      } else if (e.key == "readonly") {
        AISBX_ASSIGN(v, paths_of(e.value));
        g.readonly = std::move(v);
      } else if (e.key == "overlay") {
        AISBX_ASSIGN(v, bool_of(e.value));
        g.overlay = Located<bool>{v, e.key_where};
      } else {
        return unknown_key(e, ge.value.path, kGroupKeys);
      }
    }
    if (!has_paths)
      return error(ge.key_where, ge.value.path, "missing required key `paths`");
    return g;
  }

  Expected<std::vector<RootGroup>> groups_of(const Item& it) const {
    AISBX_ASSIGN(es, entries(it));
    std::vector<RootGroup> out;
    for (const auto& e : es) {
      if (!valid_name(e.key)) {
        return error(e.key_where, it.path,
                     "invalid group name " + quoted(e.key) +
                         " (use letters, digits, `-`, `_` and `.`)");
      }
      AISBX_ASSIGN(g, group_of(e));
      out.push_back(std::move(g));
    }
    return out;
  }

  Expected<Command> command_of(const Item& it) const {
    Command c;
    AISBX_ASSIGN(es, entries(it));
    for (const auto& e : es) {
      if (e.key == "binary") {
        AISBX_ASSIGN(v, path_string(e.value));
        c.binary = std::move(v);
      } else if (e.key == "args") {
        // `args: []` (run with no arguments) differs from no `args` at all
        // (keep the parent's); an empty argument "" is a real argument.
        AISBX_ASSIGN(items, elements(e.value, "a list of strings"));
        std::vector<std::string> args;
        for (const auto& el : items) {
          AISBX_ASSIGN(a, string_of(el, true));
          args.push_back(std::move(a));
        }
        c.args = std::move(args);
      } else if (e.key == "working_dir") {
        AISBX_ASSIGN(v, path_string(e.value));
        c.working_dir = std::move(v);
      } else if (e.key == "env") {
        AISBX_ASSIGN(vars, entries(e.value));
        for (const auto& var : vars) {
          if (var.key.empty() || var.key.find('=') != std::string::npos) {
            return error(var.key_where, e.value.path,
                         "invalid environment variable name " + quoted(var.key));
          }
          // Numbers and booleans keep their text: `PORT: 080` stays "080".
          AISBX_ASSIGN(v, string_of(var.value, true));
          c.env.emplace_back(var.key,
                             Located<std::string>{std::move(v), var.value.where});
        }
      } else {
        return unknown_key(e, it.path, kCommandKeys);
      }
    }
    return c;
  }

  Expected<Network> network_of(const Item& it) const {
    Network n;
    n.where = it.where;
    AISBX_TRY(check_tag(it));
    if (it.node.IsScalar()) {
      AISBX_ASSIGN(m, enum_of(it, kNetModes));
      n.mode = m;
      return n;
    }
    if (it.node.IsSequence()) {
      return error(
          it.where, it.path,
          "expected one of " + choice_names(kNetModes) + " or a map, found a sequence");
    }
    AISBX_ASSIGN(es, entries(it));
    for (const auto& e : es) {
      if (e.key == "mode") {
        AISBX_ASSIGN(m, enum_of(e.value, kNetModes));
        n.mode = m;
      } else if (e.key == "connect_tcp") {
        AISBX_ASSIGN(v, ports_of(e.value));
        n.connect_tcp = std::move(v);
      } else if (e.key == "bind_tcp") {
        AISBX_ASSIGN(v, ports_of(e.value));
        n.bind_tcp = std::move(v);
      } else if (e.key == "connect_udp") {
        AISBX_ASSIGN(v, ports_of(e.value));
        n.connect_udp = std::move(v);
      } else if (e.key == "bind_udp") {
        AISBX_ASSIGN(v, ports_of(e.value));
        n.bind_udp = std::move(v);
      } else if (e.key == "unix_sockets") {
        AISBX_ASSIGN(v, paths_of(e.value));
        n.unix_sockets = std::move(v);
      } else if (e.key == "allow" || e.key == "deny_resolved") {
        // network.cc says what an entry may be.
        const bool allow = e.key == "allow";
        AISBX_ASSIGN(items, elements(e.value, "a list of strings"));
        std::vector<Located<std::string>> v;
        for (const auto& el : items) {
          AISBX_ASSIGN(s, located_string(el));
          const auto bad = allow ? allow_entry_problem(s.value) : cidr_problem(s.value);
          if (bad) return error(el.where, el.path, quoted(s.value) + ": " + *bad);
          v.push_back(std::move(s));
        }
        (allow ? n.allow : n.deny_resolved) = std::move(v);
      } else if (e.key == "host_ports") {
        AISBX_ASSIGN(v, ports_of(e.value));
        n.host_ports = std::move(v);
      } else if (e.key == "publish") {
        AISBX_ASSIGN(v, ports_of(e.value));
        n.publish = std::move(v);
      } else if (e.key == "landlock_mode") {
        AISBX_ASSIGN(m, enum_of(e.value, kAllowInLandlock));
        n.landlock_mode = m;
      } else {
        return unknown_key(e, it.path, kNetworkKeys);
      }
    }
    return n;
  }

  Expected<Scope> scope_of(const Item& it) const {
    Scope s;
    AISBX_ASSIGN(es, entries(it));
    for (const auto& e : es) {
      if (e.key != "abstract_unix_socket" && e.key != "signal")
        return unknown_key(e, it.path, kScopeKeys);
      AISBX_ASSIGN(v, bool_of(e.value));
      (e.key == "signal" ? s.signal : s.abstract_unix_socket) = v;
    }
    return s;
  }

  Expected<Seccomp> seccomp_of(const Item& it) const {
    Seccomp s;
    s.where = it.where;
    AISBX_TRY(check_tag(it));
    if (it.node.IsScalar()) {
      if (it.node.Tag() == kPlainTag && it.node.Scalar() == "true") {
        s.preset = SeccompPreset::default_;
        return s;
      }
      if (it.node.Tag() == kPlainTag && it.node.Scalar() == "false") {
        s.preset = SeccompPreset::off;
        return s;
      }
      for (const auto& [name, value] : kPresets) {
        if (it.node.Scalar() == name) {
          s.preset = value;
          return s;
        }
      }
    }
    if (!it.node.IsMap() && !it.node.IsNull()) {
      return error(
          it.where, it.path,
          "expected off, default, true, false or a map, found " + found(it.node));
    }
    AISBX_ASSIGN(es, entries(it));
    for (const auto& e : es) {
      if (e.key == "preset") {
        AISBX_ASSIGN(v, enum_of(e.value, kPresets));
        s.preset = v;
      } else if (e.key == "deny") {
        AISBX_ASSIGN(v, syscalls_of(e.value));
        s.deny = std::move(v);
      } else if (e.key == "allow") {
        AISBX_ASSIGN(v, syscalls_of(e.value));
        s.allow = std::move(v);
      } else if (e.key == "allow_nested_userns") {
        AISBX_ASSIGN(v, bool_of(e.value));
        s.allow_nested_userns = v;
      } else {
        return unknown_key(e, it.path, kSeccompKeys);
      }
    }
    return s;
  }

  Expected<EnvPolicy> env_policy_of(const Item& it) const {
    EnvPolicy p;
    AISBX_TRY(check_tag(it));
    if (it.node.IsScalar()) {
      AISBX_ASSIGN(m, enum_of(it, kEnvModes));
      p.mode = m;
      return p;
    }
    if (it.node.IsSequence()) {
      return error(
          it.where, it.path,
          "expected one of " + choice_names(kEnvModes) + " or a map, found a sequence");
    }
    AISBX_ASSIGN(es, entries(it));
    for (const auto& e : es) {
      if (e.key == "mode") {
        AISBX_ASSIGN(m, enum_of(e.value, kEnvModes));
        p.mode = m;
      } else if (e.key == "keep") {
        AISBX_ASSIGN(v, strings_of(e.value));
        std::vector<std::string> keep;
        for (auto& k : v) keep.push_back(std::move(k.value));
        p.keep = std::move(keep);
      } else {
        return unknown_key(e, it.path, kEnvPolicyKeys);
      }
    }
    return p;
  }

  Expected<GitMode> git_of(const Item& it) const {
    if (it.node.IsScalar() && it.node.Tag() == kPlainTag && it.node.Scalar() == "false")
      return GitMode::off;
    AISBX_TRY(check_tag(it));
    if (it.node.IsScalar()) {
      for (const auto& [name, value] : kGitModes)
        if (it.node.Scalar() == name) return value;
    }
    return error(it.where, it.path,
                 "expected one of worktree, off, false, found " + found(it.node));
  }

  // `unmask: [ssh, gitconfig]`: names from the built-in mask table
  // (src/plan/masks.cc); a typo must not leave a secret hidden or shown
  // other than the author meant.
  Expected<std::vector<Located<std::string>>> unmask_of(const Item& it) const {
    AISBX_ASSIGN(names, strings_of(it));
    const auto known = plan::mask_names();
    for (const auto& n : names) {
      if (n.value == plan::kAisbxCacheMask)
        return error(n.where, it.path,
                     quoted(n.value) + " cannot be unmasked: a sandbox that could write the "
                     "profile cache would choose what later launches enforce");
      if (plan::is_mask_name(n.value)) continue;
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return error(n.where, it.path,
                   "unknown mask " + quoted(n.value) + " (known: " + list + ")" +
                       suggestion(n.value, known));
    }
    return names;
  }

  // `limits: off`, or a map of limit_keys() (limits.cc); 0 = unlimited.
  Expected<Limits> limits_of(const Item& it) const {
    Limits l;
    AISBX_TRY(check_tag(it));
    if (it.node.IsScalar() && it.node.Tag() == kPlainTag &&
        (it.node.Scalar() == "off" || it.node.Scalar() == "false")) {
      for (const auto& k : limit_keys()) l.*k.field = Located<std::uint64_t>{0, it.where};
      return l;
    }
    if (!it.node.IsMap() && !it.node.IsNull())
      return error(it.where, it.path, "expected off or a map, found " + found(it.node));
    std::vector<std::string_view> names;
    for (const auto& k : limit_keys()) names.push_back(k.name);
    AISBX_ASSIGN(es, entries(it));
    for (const auto& e : es) {
      const auto k = std::find_if(limit_keys().begin(), limit_keys().end(),
                                  [&](const LimitKey& lk) { return e.key == lk.name; });
      if (k == limit_keys().end()) return unknown_key(e, it.path, names);
      std::uint64_t value = 0;
      if (k->size) {
        AISBX_TRY(check_tag(e.value));
        if (!e.value.node.IsScalar() || e.value.node.Tag() != kPlainTag)
          return error(e.value.where, e.value.path,
                       "expected a size such as 512M or 1G, found " + found(e.value.node));
        std::string why;
        const auto bytes = parse_size(e.value.node.Scalar(), why);
        if (!bytes)
          return error(e.value.where, e.value.path, why + ", found " + found(e.value.node));
        value = *bytes;
      } else {
        AISBX_ASSIGN(n, integer_of(e.value, 0, 1L << 40));
        value = static_cast<std::uint64_t>(n);
      }
      l.*k->field = Located<std::uint64_t>{value, e.value.where};
    }
    return l;
  }

  // `desktop:` (names and bus-name rules in desktop.cc).
  Expected<Desktop> desktop_of(const Item& it) const {
    Desktop d;
    d.where = it.where;
    AISBX_ASSIGN(es, entries(it));
    for (const auto& e : es) {
      if (e.key == "display") {
        AISBX_ASSIGN(s, located_string(e.value));
        const auto m = display_by_name(s.value);
        if (!m)
          return error(e.value.where, e.value.path,
                       "expected one of wayland, x11, both, none, found " + quoted(s.value));
        d.display = Located<Display>{*m, e.value.where};
      } else if (e.key == "gpu" || e.key == "shm" || e.key == "audio") {
        AISBX_ASSIGN(b, bool_of(e.value));
        (e.key == "gpu" ? d.gpu : e.key == "shm" ? d.shm : d.audio) =
            Located<bool>{b, e.value.where};
      } else if (e.key == "dbus") {
        AISBX_ASSIGN(ds, entries(e.value));
        std::vector<Located<std::string>> talk;
        for (const auto& de : ds) {
          if (de.key != "talk") return unknown_key(de, e.value.path, kDbusKeys);
          AISBX_ASSIGN(names, strings_of(de.value));
          for (const auto& n : names)
            if (auto bad = bus_name_problem(n.value))
              return error(n.where, de.value.path, quoted(n.value) + ": " + *bad);
          talk = std::move(names);
        }
        d.dbus_talk = std::move(talk);
      } else {
        return unknown_key(e, it.path, kDesktopKeys);
      }
    }
    return d;
  }

  // `home: DIR` or `home: {path: DIR, shared: BOOL}`.
  Expected<void> home_of(const Item& it, Profile& p) const {
    p.home_shared.reset();
    if (!it.node.IsMap()) {
      AISBX_ASSIGN(h, path_string(it));
      p.home = std::move(h);
      return {};
    }
    AISBX_ASSIGN(es, entries(it));
    p.home.reset();
    for (const auto& e : es) {
      if (e.key == "path") {
        AISBX_ASSIGN(h, path_string(e.value));
        p.home = std::move(h);
      } else if (e.key == "shared") {
        AISBX_ASSIGN(b, bool_of(e.value));
        p.home_shared = b;
      } else {
        return unknown_key(e, it.path, kHomeKeys);
      }
    }
    if (!p.home) return error(it.where, it.path, "missing required key `path`");
    return {};
  }

  Expected<void> extends_of(const Item& it, Profile& p) const {
    std::vector<Located<std::string>> names;
    if (it.node.IsScalar()) {
      AISBX_ASSIGN(one, located_string(it));
      names.push_back(std::move(one));
    } else {
      AISBX_ASSIGN(list, strings_of(it));
      names = std::move(list);
    }
    std::set<std::string> seen;
    for (const auto& n : names) {
      if (!seen.insert(n.value).second)
        return error(n.where, it.path, "profile " + quoted(n.value) + " is listed twice");
      p.extends.push_back(n.value);
      p.extends_where.push_back(n.where);
    }
    return {};
  }

  Expected<Profile> profile_of(const Entry& pe) const {
    Profile p;
    p.name = pe.key;
    p.where = pe.key_where;
    AISBX_ASSIGN(es, entries(pe.value));
    for (const auto& e : es) {
      const Item& v = e.value;
      if (e.key == "description") {
        AISBX_ASSIGN(s, string_of(v, true));
        p.description = std::move(s);
      } else if (e.key == "extends") {
        AISBX_TRY(extends_of(v, p));
      } else if (e.key == "access_roots") {
        AISBX_ASSIGN(groups, groups_of(v));
        p.access_roots = std::move(groups);
      } else if (e.key == "control_access") {
        AISBX_ASSIGN(r, rights_of(v));
        p.control_access = r;
      } else if (e.key == "command") {
        AISBX_ASSIGN(c, command_of(v));
        p.command = std::move(c);
      } else if (e.key == "home") {
        AISBX_TRY(home_of(v, p));
      } else if (e.key == "network") {
        AISBX_ASSIGN(n, network_of(v));
        p.network = std::move(n);
      } else if (e.key == "scope") {
        AISBX_ASSIGN(s, scope_of(v));
        p.scope = s;
      } else if (e.key == "seccomp") {
        AISBX_ASSIGN(s, seccomp_of(v));
        p.seccomp = std::move(s);
      } else if (e.key == "landlock_abi") {
        AISBX_ASSIGN(abi, integer_of(v, 1, kMaxKnownAbi));
        p.landlock_abi = Located<int>{static_cast<int>(abi), v.where};
      } else if (e.key == "env_policy") {
        AISBX_ASSIGN(ep, env_policy_of(v));
        p.env_policy = std::move(ep);
      } else if (e.key == "log_level") {
        AISBX_ASSIGN(l, enum_of(v, kLogLevels));
        p.log_level = l;
      } else if (e.key == "dry_run") {
        AISBX_ASSIGN(b, bool_of(v));
        p.dry_run = b;
      } else if (e.key == "git") {
        AISBX_ASSIGN(g, git_of(v));
        p.git = g;
      } else if (e.key == "unmask") {
        AISBX_ASSIGN(u, unmask_of(v));
        p.unmask = std::move(u);
      } else if (e.key == "limits") {
        AISBX_ASSIGN(l, limits_of(v));
        p.limits = std::move(l);
      } else if (e.key == "desktop") {
        AISBX_ASSIGN(d, desktop_of(v));
        p.desktop = std::move(d);
      } else {
        return unknown_key(e, pe.value.path, kProfileKeys);
      }
    }
    return p;
  }

  Expected<void> check_version(const Entry& e) const {
    const Node& n = e.value.node;
    AISBX_TRY(check_tag(e.value));
    const std::string& s = n.Scalar();
    const bool digits =
        n.IsScalar() && n.Tag() == kPlainTag && !s.empty() &&
        std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits)
      return error(e.value.where, e.value.path,
                   "expected the integer 1, found " + found(n));
    if (s != "1") {
      return error(
          e.value.where, e.value.path,
          "unsupported version " + quoted(s) + " (this program reads version 1)");
    }
    return {};
  }

  std::string file_;
};

Expected<ProfileSet> Reader::set_of(const Node& doc) const {
  const Item root{doc, "", doc.IsNull() ? Where{file_, 1, 1} : at(doc.Mark())};
  if (!doc.IsMap()) {
    return error(
        root.where, "",
        "expected a map with keys `version` and `profiles`, found " + found(doc));
  }
  AISBX_ASSIGN(top, entries(root));
  const Entry* version = nullptr;
  const Entry* profiles = nullptr;
  for (const auto& e : top) {
    if (e.key == "version") {
      version = &e;
    } else if (e.key == "profiles") {
      profiles = &e;
    } else {
      return unknown_key(e, "", kTopKeys);
    }
  }
  // The version first: a file for another version may use other keys.
  if (!version)
    return error(root.where, "", "missing required key `version` (write `version: 1`)");
  AISBX_TRY(check_version(*version));
  if (!profiles) return error(root.where, "", "missing required key `profiles`");

  ProfileSet set;
  set.source = file_;
  AISBX_ASSIGN(entries_, entries(profiles->value));
  for (const auto& e : entries_) {
    if (!valid_name(e.key)) {
      return error(e.key_where, "profiles",
                   "invalid profile name " + quoted(e.key) +
                       " (use letters, digits, `-`, `_` and `.`)");
    }
    AISBX_ASSIGN(p, profile_of(e));
    set.order.push_back(p.name);
    set.profiles.emplace(p.name, std::move(p));
  }
  return set;
}

// yaml-cpp says only "illegal map value" for a tab in the indentation.
std::string tab_hint(std::string_view text, int line0) {
  std::size_t start = 0;
  for (int l = 0; l < line0; ++l) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) return "";
    start = nl + 1;
  }
  for (std::size_t i = start; i < text.size() && (text[i] == ' ' || text[i] == '\t'); ++i)
    if (text[i] == '\t')
      return " (a tab in the indentation: YAML indents with spaces only)";
  return "";
}

}  // namespace

Expected<Node> parse_tree(const std::string& text, const std::string& file) {
  const Where start{file, 1, 1};
  if (text.size() > kMaxProfileBytes) {
    return fail(start.str() + ": the file is " + std::to_string(text.size()) +
                " bytes; profile files are limited to " +
                std::to_string(kMaxProfileBytes) + " bytes");
  }
  std::string_view body = text;
  if (body.starts_with(kBom))
    body.remove_prefix(kBom.size());  // yaml-cpp's marks skip it too
  if (const auto bad = first_text_problem(body)) {
    const auto [line, column] = position_at(body, bad->offset);
    return fail(Where{file, line, column}.str() + ": " + bad->what);
  }

  const std::string yaml(body);
  const auto where_of = [&file](const YAML::Mark& m) {
    return m.is_null() ? Where{file, 0, 0} : Where{file, m.line + 1, m.column + 1};
  };
  try {
    Prepass pre(yaml);
    std::istringstream in(yaml);
    YAML::Parser parser(in);
    // yaml-cpp 0.7 never gets past a `,` that starts a document: each
    // HandleNextDocument() reports one more empty document without consuming
    // anything, and LoadAll() collects them until memory runs out
    // (jbeder/yaml-cpp#1040; fixed upstream after 0.7). A profile file holds
    // one document, so stop at the second. The same events built the tree.
    while (pre.doc_starts.size() < 2 && parser.HandleNextDocument(pre)) {
    }
    if (pre.problem)
      return fail(where_of(pre.problem->first).str() + ": " + pre.problem->second);
    if (pre.doc_starts.empty())
      return fail(start.str() +
                  ": no YAML document (the file is empty or only has comments)");
    if (pre.doc_starts.size() > 1) {
      const YAML::Mark& second = pre.doc_starts[1];
      if (second.pos <= pre.doc_starts[0].pos && second.pos >= 0 &&
          static_cast<std::size_t>(second.pos) < yaml.size()) {
        return fail(where_of(second).str() + ": unexpected " +
                    quoted(std::string(1, yaml[static_cast<std::size_t>(second.pos)])));
      }
      return fail(
          where_of(second).str() +
          ": a second YAML document starts here; a profile file holds exactly one");
    }
    return pre.root;
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp 0.7 gives this one the message "bad file".
    return fail(where_of(e.mark).str() + ": YAML nesting is too deep");
  } catch (const YAML::Exception& e) {
    return fail(where_of(e.mark).str() + ": " + e.msg + tab_hint(yaml, e.mark.line));
  }
}

Expected<ProfileSet> profiles_of(const Node& root, const std::string& file) {
  return Reader(file).set_of(root);
}

Expected<ProfileSet> parse_profiles(const std::string& text, const std::string& file) {
  AISBX_ASSIGN(tree, parse_tree(text, file));
  return profiles_of(tree, file);
}

}  // namespace aisbx::profile
