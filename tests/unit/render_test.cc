// render_text() and render_json() of Plans built by hand (not by resolve),
// compared with goldens written by hand: one fact per line, stable order
// (STYLE.md 7), and JSON that a strict parser accepts.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aisbx/plan.h"
#include "aisbx/rights.h"

namespace aisbx::plan {
namespace {

using Strings = std::vector<std::string>;

Strings lines_of(const std::string& text) {
  Strings out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto nl = text.find('\n', i);
    if (nl == std::string::npos) {
      out.push_back(text.substr(i));
      break;
    }
    out.push_back(text.substr(i, nl - i));
    i = nl + 1;
  }
  return out;
}

bool has_line(const Strings& lines, const std::string& line) {
  for (const auto& l : lines)
    if (l == line) return true;
  return false;
}

bool has_line_starting(const Strings& lines, const std::string& prefix) {
  for (const auto& l : lines)
    if (l.compare(0, prefix.size(), prefix) == 0) return true;
  return false;
}

// ---------------------------------------------------------------------------
// Plans built by hand.

// Layered, ABI 2: truncate ignored, a private HOME, every kind of mount.
Plan layered_plan() {
  Plan p;
  p.profile = "demo";
  p.source = "demo.yaml";
  p.mode = Mode::layered;
  p.project = "/p";
  p.status = {"namespace: on (user, mount, pid, ipc, uts, net: none)",
              "landlock: ABI 2, partial — truncate ignored", "seccomp: off"};

  p.ns.enabled = true;
  p.ns.empty_root = true;
  p.ns.net = profile::NetMode::none;
  p.ns.home = "/h";
  // kind, source, target, read_only, noexec, origin, implicit
  p.ns.mounts = {
      {MountKind::tmpfs_root, "", "/", false, true, "implicit", true},
      {MountKind::tmp, "tmpfs", "/tmp", false, false, "implicit", true},
      {MountKind::bind, "/usr", "/usr", true, false, "system", false},
      {MountKind::bind, "/p", "/p", false, true, "projects", false},
      {MountKind::home, "/h", "/h", false, false, "private HOME", true},
      {MountKind::symlink, "usr/bin", "/bin", true, true, "implicit", true},
      {MountKind::proc, "proc", "/proc", false, true, "implicit", true},
      {MountKind::dev, "", "/dev", false, true, "implicit", true},
  };

  LandlockPlan& l = p.landlock;
  l.enabled = true;
  l.kernel_abi = 2;
  l.abi = 2;
  l.requested_fs = fs::kReadFile | fs::kReadDir | fs::kTruncate;
  l.handled_fs = fs::kReadFile | fs::kReadDir;
  l.ignored_fs = fs::kTruncate;
  const AccessMask rd = fs::kReadFile | fs::kReadDir;
  // path, is_dir, requested, access, origin, implicit
  l.rules = {
      {"/p", true, rd, rd, "projects", false},
      {"/var/log", true, rd | fs::kTruncate, rd, "logs", false},
      {"/etc/hosts", false, rd, fs::kReadFile, "etc", false},
      {"/opt", true, fs::kExecute, 0, "tools", false},
      {"/tmp", true, rd | fs::kMakeReg, rd, "sandbox /tmp", true},
  };
  l.handled_net = 0;
  l.ignored_net = net::kConnectTcp;
  l.scoped = 0;
  l.ignored_scopes = scope::kAbstractUnixSocket | scope::kSignal;
  l.enforcement = Enforcement::partial;

  p.seccomp.enabled = false;
  p.exec.argv = {"sh", "-c", "true"};
  p.exec.cwd = "/p";
  p.exec.env = {{"PATH", "/usr/bin"}, {"HOME", "/h"}};
  p.exec.env_dropped = {"GITHUB_TOKEN", "SSH_AUTH_SOCK"};
  p.exec.keep_fds = {5};
  p.warnings = {"first warning", "second"};
  p.notes = {"a note"};
  return p;
}

// Landlock alone at ABI 10 on a newer kernel: required ABI, port rules,
// scopes, seccomp; no namespace, no HOME, no warnings.
Plan landlock_plan() {
  Plan p;
  p.profile = "p2";
  p.source = "built-in";
  p.mode = Mode::landlock;
  p.project = "/w";
  p.status = {"namespace: off (landlock mode)", "landlock: ABI 10, full",
              "seccomp: default"};
  p.ns.enabled = false;

  LandlockPlan& l = p.landlock;
  l.enabled = true;
  l.kernel_abi = 11;
  l.abi = 10;
  l.required_abi = 3;
  l.requested_fs = fs::kReadFile;
  l.handled_fs = fs::kReadFile;
  l.rules = {{"/w", true, fs::kReadFile, fs::kReadFile, "work", false}};
  l.handled_net = net::kBindTcp | net::kConnectTcp | net::kBindUdp | net::kConnectSendUdp;
  l.net_rules = {{443, net::kConnectTcp}, {8080, net::kBindTcp | net::kConnectTcp}};
  l.scoped = scope::kAbstractUnixSocket | scope::kSignal;
  l.enforcement = Enforcement::full;

  p.seccomp.enabled = true;
  p.seccomp.preset = true;
  p.seccomp.allow_nested_userns = true;
  p.seccomp.deny = {"keyctl", "mount"};
  p.exec.argv = {"make"};
  p.exec.cwd = "/w";
  return p;
}

// ---------------------------------------------------------------------------
// render_text

TEST(RenderText, LayeredPlanGolden) {
  const Strings expected = {
      "profile: demo (demo.yaml)",
      "mode: layered",
      "status:",
      "  namespace: on (user, mount, pid, ipc, uts, net: none)",
      "  landlock: ABI 2, partial — truncate ignored",
      "  seccomp: off",
      "project: /p",
      "namespace:",
      "  net: none",
      "  root tmpfs (empty: only the roots below are visible)",
      "  tmpfs rw,nosuid,nodev /tmp (private)",
      "  bind ro,nosuid,nodev /usr  # system",
      "  bind rw,noexec,nosuid,nodev /p  # projects",
      "  bind rw,nosuid,nodev /h  # private HOME",
      "  symlink /bin -> usr/bin",
      "  proc /proc (new, this pid namespace; sys, sysrq-trigger, irq, bus read-only)",
      "  dev /dev (minimal: null zero full random urandom tty, pts, shm)",
      "landlock:",
      "  abi: 2 (kernel 2, this build knows up to 10)",
      "  enforcement: partial",
      "  handled fs: read_file, read_dir",
      "  ignored fs: truncate  # not supported by ABI 2",
      "  rule dir /p: read_file, read_dir  # projects",
      "  rule dir /var/log: read_file, read_dir  # logs; dropped: truncate",
      "  rule file /etc/hosts: read_file  # etc",
      "  rule dir /opt: none  # tools; no controlled right, no rule added",
      "  rule dir /tmp: read_file, read_dir  # implicit: sandbox /tmp",
      "  handled net: none",
      "  ignored net: connect_tcp  # not supported by ABI 2",
      "  scoped: none",
      "  ignored scopes: abstract_unix_socket, signal",
      "seccomp: off",
      "exec:",
      "  argv: sh -c true",
      "  cwd: /p",
      "  home: /h (private to this profile and project, created 0700)",
      "  env: 2 variables",
      "  env dropped: GITHUB_TOKEN SSH_AUTH_SOCK",
      "  keep fd: 5",
      "warnings:",
      "  - first warning",
      "  - second",
      "notes:",
      "  - a note",
  };
  const std::string text = render_text(layered_plan());
  EXPECT_EQ(lines_of(text), expected) << text;
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
}

TEST(RenderText, LandlockPlanGolden) {
  const Strings expected = {
      "profile: p2 (built-in)",
      "mode: landlock",
      "status:",
      "  namespace: off (landlock mode)",
      "  landlock: ABI 10, full",
      "  seccomp: default",
      "project: /w",
      "namespace:",
      "  off",
      "landlock:",
      "  abi: 10 (kernel 11, this build knows up to 10)",
      "  required: ABI 3 or newer",
      "  enforcement: full",
      "  handled fs: read_file",
      "  rule dir /w: read_file  # work",
      "  handled net: bind_tcp, connect_tcp, bind_udp, connect_udp",
      "  port 443: connect_tcp",
      "  port 8080: bind_tcp, connect_tcp",
      "  scoped: abstract_unix_socket, signal",
      "seccomp: default",
      "  nested user namespaces: allowed",
      "  denied by argument: personality flags weakening ASLR/W^X, MPTCP sockets, ioctl "
      "TIOCSTI/TIOCLINUX",
      "  denied (EPERM): keyctl mount",
      "exec:",
      "  argv: make",
      "  cwd: /w",
      "  env: 0 variables",
  };
  const std::string text = render_text(landlock_plan());
  EXPECT_EQ(lines_of(text), expected) << text;
}

TEST(RenderText, HostRootLine) {
  Plan p = layered_plan();
  p.ns.empty_root = false;
  p.ns.mounts.front() = {MountKind::host_root, "/", "/", true, false, "implicit", true};
  const Strings lines = lines_of(render_text(p));
  EXPECT_TRUE(has_line(
      lines, "  root bind ro,nosuid,nodev / (reads are not controlled: the host tree)"));
  EXPECT_FALSE(has_line_starting(lines, "  root tmpfs"));
}

TEST(RenderText, SeccompPresetDeniesNestedUserNamespacesUnlessAllowed) {
  Plan p = landlock_plan();
  p.seccomp.allow_nested_userns = false;
  const Strings lines = lines_of(render_text(p));
  EXPECT_TRUE(has_line(lines, "  nested user namespaces: denied"));
}

TEST(RenderText, SeccompWithoutThePresetIsCustom) {
  Plan p = landlock_plan();
  p.seccomp.preset = false;
  p.seccomp.deny = {"ptrace"};
  const Strings lines = lines_of(render_text(p));
  EXPECT_TRUE(has_line(lines, "seccomp: custom"));
  EXPECT_TRUE(has_line(lines, "  denied (EPERM): ptrace"));
  EXPECT_FALSE(has_line_starting(lines, "  nested user namespaces:"));
  EXPECT_FALSE(has_line_starting(lines, "  denied by argument:"));
}

TEST(RenderText, RulesetSectionOmitsNamespaceSeccompAndExec) {
  const Strings expected = {
      "profile: demo (demo.yaml)",
      "mode: layered",
      "status:",
      "  namespace: on (user, mount, pid, ipc, uts, net: none)",
      "  landlock: ABI 2, partial — truncate ignored",
      "  seccomp: off",
      "landlock:",
      "  abi: 2 (kernel 2, this build knows up to 10)",
      "  enforcement: partial",
      "  handled fs: read_file, read_dir",
      "  ignored fs: truncate  # not supported by ABI 2",
      "  rule dir /p: read_file, read_dir  # projects",
      "  rule dir /var/log: read_file, read_dir  # logs; dropped: truncate",
      "  rule file /etc/hosts: read_file  # etc",
      "  rule dir /opt: none  # tools; no controlled right, no rule added",
      "  rule dir /tmp: read_file, read_dir  # implicit: sandbox /tmp",
      "  handled net: none",
      "  ignored net: connect_tcp  # not supported by ABI 2",
      "  scoped: none",
      "  ignored scopes: abstract_unix_socket, signal",
      "warnings:",
      "  - first warning",
      "  - second",
      "notes:",
      "  - a note",
  };
  const std::string text = render_text(layered_plan(), Section::ruleset);
  EXPECT_EQ(lines_of(text), expected) << text;
}

TEST(RenderText, ToStringNames) {
  EXPECT_STREQ(to_string(Enforcement::full), "full");
  EXPECT_STREQ(to_string(Enforcement::partial), "partial");
  EXPECT_STREQ(to_string(Enforcement::none), "none");
  EXPECT_STREQ(to_string(MountKind::tmpfs_root), "tmpfs_root");
  EXPECT_STREQ(to_string(MountKind::symlink), "symlink");
  EXPECT_STREQ(to_string(Mode::ns), "ns");
  EXPECT_STREQ(to_string(Mode::landlock), "landlock");
}

// ---------------------------------------------------------------------------
// A strict JSON reader (RFC 8259): the whole text must be one value; no
// raw control characters in strings; escapes decoded; duplicate keys are
// an error. Enough to check render_json's output field by field.

struct Json {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool b = false;
  double n = 0;
  std::string s;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json* find(const std::string& k) const {
    for (const auto& [key, v] : members)
      if (key == k) return &v;
    return nullptr;
  }
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view t) : t_(t) {}

  std::optional<Json> document() {
    auto v = value(0);
    ws();
    if (!v || i_ != t_.size()) return std::nullopt;
    return v;
  }
  std::size_t where() const { return i_; }

 private:
  void ws() {
    while (i_ < t_.size() &&
           (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r'))
      ++i_;
  }
  bool eat(char c) {
    ws();
    if (i_ >= t_.size() || t_[i_] != c) return false;
    ++i_;
    return true;
  }
  bool word(std::string_view w) {
    if (t_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  static bool digit(char c) { return c >= '0' && c <= '9'; }

  std::optional<Json> value(int depth) {
    ws();
    if (i_ >= t_.size() || depth > 64) return std::nullopt;
    Json j;
    const char c = t_[i_];
    if (c == '{' || c == '[') {
      ++i_;
      const bool obj = c == '{';
      j.kind = obj ? Json::Kind::object : Json::Kind::array;
      if (eat(obj ? '}' : ']')) return j;
      do {
        std::string key;
        if (obj) {
          ws();
          auto k = string();
          if (!k || !eat(':') || j.find(*k)) return std::nullopt;
          key = *k;
        }
        auto v = value(depth + 1);
        if (!v) return std::nullopt;
        if (obj)
          j.members.emplace_back(key, std::move(*v));
        else
          j.items.push_back(std::move(*v));
      } while (eat(','));
      if (!eat(obj ? '}' : ']')) return std::nullopt;
      return j;
    }
    if (c == '"') {
      auto s = string();
      if (!s) return std::nullopt;
      j.kind = Json::Kind::string;
      j.s = std::move(*s);
      return j;
    }
    if (word("true")) {
      j.kind = Json::Kind::boolean;
      j.b = true;
      return j;
    }
    if (word("false")) {
      j.kind = Json::Kind::boolean;
      return j;
    }
    if (word("null")) return j;
    // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    const std::size_t start = i_;
    if (i_ < t_.size() && t_[i_] == '-') ++i_;
    if (i_ >= t_.size() || !digit(t_[i_])) return std::nullopt;
    if (t_[i_] == '0') {
      ++i_;
    } else {
      while (i_ < t_.size() && digit(t_[i_])) ++i_;
    }
    if (i_ < t_.size() && t_[i_] == '.') {
      if (++i_ >= t_.size() || !digit(t_[i_])) return std::nullopt;
      while (i_ < t_.size() && digit(t_[i_])) ++i_;
    }
    if (i_ < t_.size() && (t_[i_] == 'e' || t_[i_] == 'E')) {
      ++i_;
      if (i_ < t_.size() && (t_[i_] == '+' || t_[i_] == '-')) ++i_;
      if (i_ >= t_.size() || !digit(t_[i_])) return std::nullopt;
      while (i_ < t_.size() && digit(t_[i_])) ++i_;
    }
    j.kind = Json::Kind::number;
    j.n = std::stod(std::string(t_.substr(start, i_ - start)));
    return j;
  }

  std::optional<std::string> string() {
    if (i_ >= t_.size() || t_[i_] != '"') return std::nullopt;
    ++i_;
    std::string out;
    while (i_ < t_.size()) {
      const auto c = static_cast<unsigned char>(t_[i_++]);
      if (c == '"') return out;
      if (c < 0x20) return std::nullopt;  // raw control character
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (i_ >= t_.size()) return std::nullopt;
      switch (t_[i_++]) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          if (i_ + 4 > t_.size()) return std::nullopt;
          unsigned cp = 0;
          for (int k = 0; k < 4; ++k) {
            const char h = t_[i_++];
            const int d = digit(h)                 ? h - '0'
                          : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                          : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                                   : -1;
            if (d < 0) return std::nullopt;
            cp = cp * 16 + static_cast<unsigned>(d);
          }
          if (cp >= 0x80) return std::nullopt;  // the writer only escapes ASCII controls
          out += static_cast<char>(cp);
          break;
        }
        default:
          return std::nullopt;
      }
    }
    return std::nullopt;
  }

  std::string_view t_;
  std::size_t i_ = 0;
};

Json parse_json(const std::string& text) {
  JsonReader r(text);
  auto v = r.document();
  if (!v) {
    ADD_FAILURE() << "invalid JSON near byte " << r.where() << ":\n" << text;
    return {};
  }
  return *v;
}

// The member `k` of object `o`; a test failure (and null) if missing.
const Json& at(const Json& o, const std::string& k) {
  static const Json kNull;
  if (o.kind != Json::Kind::object) {
    ADD_FAILURE() << "not an object where `" << k << "` was expected";
    return kNull;
  }
  const Json* v = o.find(k);
  if (!v) ADD_FAILURE() << "missing key `" << k << "`";
  return v ? *v : kNull;
}

const Json& at(const Json& a, std::size_t i) {
  static const Json kNull;
  if (a.kind != Json::Kind::array || i >= a.items.size()) {
    ADD_FAILURE() << "no element " << i;
    return kNull;
  }
  return a.items[i];
}

Strings strings(const Json& a) {
  Strings out;
  if (a.kind != Json::Kind::array) {
    ADD_FAILURE() << "not an array";
    return out;
  }
  for (const auto& v : a.items) {
    if (v.kind != Json::Kind::string) ADD_FAILURE() << "array element is not a string";
    out.push_back(v.s);
  }
  return out;
}

Strings keys(const Json& o) {
  Strings out;
  for (const auto& [k, v] : o.members) out.push_back(k);
  return out;
}

// The reader itself must refuse what is not JSON, or the tests below prove
// nothing.
TEST(JsonReader, RefusesInvalidJson) {
  for (const char* bad :
       {"", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{'a':1}", "{\"a\":01}",
        "\"raw\nnewline\"", "\"bad \\x escape\"", "{\"a\":1,\"a\":2}", "[1] [2]", "tru",
        "{\"a\":1}}", "\"unterminated"}) {
    EXPECT_FALSE(JsonReader(bad).document().has_value()) << bad;
  }
  for (const char* good :
       {"{}", "[]", "null", "-0.5e+3", "{\"a\":[true,false,null,\"\\u0001\"]}",
        " {\"a\" : { \"b\" : [ 1 , 2 ] } }\n"}) {
    EXPECT_TRUE(JsonReader(good).document().has_value()) << good;
  }
}

// ---------------------------------------------------------------------------
// render_json

TEST(RenderJson, LayeredPlanFields) {
  const Json j = parse_json(render_json(layered_plan()));
  ASSERT_EQ(j.kind, Json::Kind::object);
  EXPECT_EQ(at(j, "profile").s, "demo");
  EXPECT_EQ(at(j, "source").s, "demo.yaml");
  EXPECT_EQ(at(j, "mode").s, "layered");
  EXPECT_EQ(strings(at(j, "status")), layered_plan().status);
  EXPECT_EQ(at(j, "project").s, "/p");

  const Json& ns = at(j, "namespace");
  EXPECT_EQ(at(ns, "enabled").kind, Json::Kind::boolean);
  EXPECT_TRUE(at(ns, "enabled").b);
  EXPECT_EQ(at(ns, "net").s, "none");
  EXPECT_EQ(at(ns, "home").s, "/h");
  const Json& mounts = at(ns, "mounts");
  ASSERT_EQ(mounts.items.size(), 8u);
  EXPECT_EQ(at(at(mounts, 0), "kind").s, "tmpfs_root");
  EXPECT_EQ(at(at(mounts, 2), "kind").s, "bind");
  EXPECT_EQ(at(at(mounts, 2), "source").s, "/usr");
  EXPECT_EQ(at(at(mounts, 2), "target").s, "/usr");
  EXPECT_TRUE(at(at(mounts, 2), "read_only").b);
  EXPECT_FALSE(at(at(mounts, 2), "noexec").b);
  EXPECT_EQ(at(at(mounts, 5), "kind").s, "symlink");
  EXPECT_EQ(at(at(mounts, 5), "source").s, "usr/bin");

  const Json& l = at(j, "landlock");
  EXPECT_TRUE(at(l, "enabled").b);
  EXPECT_EQ(at(l, "abi").n, 2);
  EXPECT_EQ(at(l, "kernel_abi").n, 2);
  EXPECT_EQ(at(l, "required_abi").kind, Json::Kind::null);
  EXPECT_EQ(at(l, "enforcement").s, "partial");
  EXPECT_EQ(strings(at(l, "requested_fs")),
            (Strings{"read_file", "read_dir", "truncate"}));
  EXPECT_EQ(strings(at(l, "handled_fs")), (Strings{"read_file", "read_dir"}));
  EXPECT_EQ(strings(at(l, "ignored_fs")), (Strings{"truncate"}));
  const Json& rules = at(l, "rules");
  ASSERT_EQ(rules.items.size(), 5u);
  EXPECT_EQ(at(at(rules, 0), "path").s, "/p");
  EXPECT_EQ(at(at(rules, 0), "type").s, "dir");
  EXPECT_EQ(strings(at(at(rules, 0), "access")), (Strings{"read_file", "read_dir"}));
  EXPECT_EQ(at(at(rules, 0), "origin").s, "projects");
  EXPECT_FALSE(at(at(rules, 0), "implicit").b);
  EXPECT_EQ(strings(at(at(rules, 1), "requested")),
            (Strings{"read_file", "read_dir", "truncate"}));
  EXPECT_EQ(at(at(rules, 2), "type").s, "file");
  EXPECT_EQ(strings(at(at(rules, 3), "access")), Strings{});
  EXPECT_TRUE(at(at(rules, 4), "implicit").b);
  EXPECT_EQ(strings(at(l, "handled_net")), Strings{});
  EXPECT_EQ(strings(at(l, "ignored_net")), (Strings{"connect_tcp"}));
  EXPECT_EQ(strings(at(l, "scoped")), Strings{});
  EXPECT_EQ(strings(at(l, "ignored_scopes")),
            (Strings{"abstract_unix_socket", "signal"}));

  EXPECT_FALSE(at(at(j, "seccomp"), "enabled").b);
  const Json& exec = at(j, "exec");
  EXPECT_EQ(strings(at(exec, "argv")), (Strings{"sh", "-c", "true"}));
  EXPECT_EQ(at(exec, "cwd").s, "/p");
  EXPECT_EQ(strings(at(exec, "env_dropped")), (Strings{"GITHUB_TOKEN", "SSH_AUTH_SOCK"}));
  const Json& fds = at(exec, "keep_fds");
  ASSERT_EQ(fds.items.size(), 1u);
  EXPECT_EQ(fds.items[0].n, 5);
  EXPECT_EQ(strings(at(j, "warnings")), (Strings{"first warning", "second"}));
  EXPECT_EQ(strings(at(j, "notes")), (Strings{"a note"}));
}

// Without a seccomp wall, the filter every mode loads (TIOCSTI and
// TIOCLINUX: typing into the terminal) is still shown.
TEST(RenderText, TheTerminalGuardIsShownWhenSeccompIsOff) {
  Plan p = layered_plan();
  ASSERT_FALSE(p.seccomp.enabled);
  const std::string guard = "  terminal guard only: ioctl TIOCSTI/TIOCLINUX denied";
  EXPECT_FALSE(has_line(lines_of(render_text(p)), guard));
  p.seccomp.tty_guard = true;
  EXPECT_TRUE(has_line(lines_of(render_text(p)), guard));
  EXPECT_TRUE(at(at(parse_json(render_json(p)), "seccomp"), "tty_guard").b);
  p.seccomp.tty_guard = false;
  EXPECT_FALSE(at(at(parse_json(render_json(p)), "seccomp"), "tty_guard").b);
}

TEST(RenderJson, LandlockPlanFields) {
  const Json j = parse_json(render_json(landlock_plan()));
  EXPECT_EQ(at(j, "mode").s, "landlock");
  const Json& ns = at(j, "namespace");
  EXPECT_FALSE(at(ns, "enabled").b);
  EXPECT_EQ(at(ns, "home").kind, Json::Kind::null);
  EXPECT_TRUE(at(ns, "mounts").items.empty());
  const Json& l = at(j, "landlock");
  EXPECT_EQ(at(l, "abi").n, 10);
  EXPECT_EQ(at(l, "kernel_abi").n, 11);
  EXPECT_EQ(at(l, "required_abi").n, 3);
  EXPECT_EQ(at(l, "enforcement").s, "full");
  EXPECT_EQ(strings(at(l, "handled_net")),
            (Strings{"bind_tcp", "connect_tcp", "bind_udp", "connect_udp"}));
  const Json& ports = at(l, "net_rules");
  ASSERT_EQ(ports.items.size(), 2u);
  EXPECT_EQ(at(at(ports, 0), "port").n, 443);
  EXPECT_EQ(strings(at(at(ports, 0), "access")), (Strings{"connect_tcp"}));
  EXPECT_EQ(at(at(ports, 1), "port").n, 8080);
  EXPECT_EQ(strings(at(at(ports, 1), "access")), (Strings{"bind_tcp", "connect_tcp"}));
  EXPECT_EQ(strings(at(l, "scoped")), (Strings{"abstract_unix_socket", "signal"}));
  const Json& sc = at(j, "seccomp");
  EXPECT_TRUE(at(sc, "enabled").b);
  EXPECT_TRUE(at(sc, "preset").b);
  EXPECT_TRUE(at(sc, "allow_nested_userns").b);
  EXPECT_EQ(strings(at(sc, "deny")), (Strings{"keyctl", "mount"}));
  EXPECT_TRUE(at(j, "warnings").items.empty());
  EXPECT_TRUE(at(j, "notes").items.empty());
}

TEST(RenderJson, RulesetSectionHasOnlyTheRulesetStatusAndWarnings) {
  const Json j = parse_json(render_json(layered_plan(), Section::ruleset));
  const Strings k = keys(j);
  for (const char* absent : {"namespace", "exec", "seccomp", "project"})
    for (const auto& key : k) EXPECT_NE(key, absent);
  EXPECT_NE(j.find("landlock"), nullptr);
  EXPECT_NE(j.find("status"), nullptr);
  EXPECT_EQ(strings(at(j, "warnings")), (Strings{"first warning", "second"}));
  EXPECT_EQ(strings(at(j, "notes")), (Strings{"a note"}));
  EXPECT_EQ(strings(at(at(j, "landlock"), "handled_fs")),
            (Strings{"read_file", "read_dir"}));
  EXPECT_EQ(at(at(at(at(j, "landlock"), "rules"), 0), "path").s, "/p");
}

TEST(RenderJson, StringsAreEscaped) {
  Plan p = layered_plan();
  p.profile = "q\"uote";
  p.source = "back\\slash\\";
  p.project = "/p/na\xc3\xafve";  // UTF-8 passes through
  p.exec.cwd = std::string("nul\0byte", 8);
  p.warnings = {"line1\nline2", "tab\there\r", "bell\x07 esc\x1b us\x1f", "</script>"};
  p.landlock.rules[0].path = "/p/\"quoted\" dir";
  p.exec.argv = {"sh", "-c", "echo \"$HOME\"\\n"};
  const std::string text = render_json(p);
  const Json j = parse_json(text);
  EXPECT_EQ(at(j, "profile").s, "q\"uote");
  EXPECT_EQ(at(j, "source").s, "back\\slash\\");
  EXPECT_EQ(at(j, "project").s, "/p/na\xc3\xafve");
  EXPECT_EQ(at(at(j, "exec"), "cwd").s, std::string("nul\0byte", 8));
  EXPECT_EQ(strings(at(j, "warnings")), p.warnings);
  EXPECT_EQ(at(at(at(at(j, "landlock"), "rules"), 0), "path").s, "/p/\"quoted\" dir");
  EXPECT_EQ(strings(at(at(j, "exec"), "argv")), p.exec.argv);
  // No raw control character anywhere but the final newline.
  for (std::size_t i = 0; i + 1 < text.size(); ++i)
    EXPECT_GE(static_cast<unsigned char>(text[i]), 0x20u) << "raw control byte at " << i;
}

TEST(RenderJson, EmptyPlanIsStillValid) {
  const Json all = parse_json(render_json(Plan{}));
  EXPECT_EQ(at(all, "profile").s, "");
  EXPECT_TRUE(at(at(all, "landlock"), "rules").items.empty());
  const Json rs = parse_json(render_json(Plan{}, Section::ruleset));
  EXPECT_EQ(at(at(rs, "landlock"), "enabled").kind, Json::Kind::boolean);
}

}  // namespace
}  // namespace aisbx::plan
