// parse_profiles(): every key of the format, and every way a file can be
// wrong, each with the position the message must name.
#include <gtest/gtest.h>

#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "aisbx/profile.h"
#include "aisbx/rights.h"

namespace aisbx::profile {
namespace {

// Profile keys start on line 4, column 5.
const std::string kHead = "version: 1\nprofiles:\n  p:\n";

Profile parse_one(const std::string& body) {
  auto r = parse_profiles(kHead + body, "t.yaml");
  if (!r) {
    ADD_FAILURE() << r.error().what;
    return {};
  }
  EXPECT_EQ(r->order, std::vector<std::string>{"p"});
  return r->profiles.at("p");
}

std::vector<std::string> values(const std::vector<Located<std::string>>& v) {
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(x.value);
  return out;
}

std::string env_of(const Command& c, const std::string& key) {
  for (const auto& [k, v] : c.env)
    if (k == key) return v.value;
  return "<unset>";
}

// ---------------------------------------------------------------------------
// Invalid input: one small file per row, the expected position and text.

struct BadCase {
  const char* name;
  std::string yaml;
  const char* where;    // "line:column"
  const char* message;  // a substring of the message
};

// gtest prints the row's name instead of its bytes.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

std::string nul_text() {
  std::string s = "version: 1\n#";
  s += '\0';
  s += "\n";
  return s;
}

// clang-format off
const std::vector<BadCase> kBadCases = {
  // Bytes.
  {"too_large", std::string(kMaxProfileBytes + 1, '#'), "1:1", "limited to 1048576 bytes"},
  {"utf8_continuation", kHead + "    description: \"a\x80\"\n", "4:20",
   "invalid UTF-8: unexpected continuation byte (byte 0x80)"},
  {"utf8_overlong", "version: 1\n# \xC0\xAF\n", "2:3", "invalid UTF-8: overlong encoding"},
  {"utf8_overlong_3", "# \xE0\x80\xAF\n", "1:3", "invalid UTF-8: overlong encoding"},
  {"utf8_surrogate", "version: 1\n# \xED\xA0\x80\n", "2:3", "invalid UTF-8: UTF-16 surrogate"},
  {"utf8_above_max", "# \xF4\x90\x80\x80\n", "1:3", "invalid UTF-8: code point above U+10FFFF"},
  {"utf8_f5", "# \xF5\x80\x80\x80\n", "1:3", "invalid UTF-8: code point above U+10FFFF"},
  {"utf8_truncated", "#\xE2\x82", "1:2", "invalid UTF-8: truncated sequence"},
  {"utf8_bad_continuation", "#\xE2\x82x\n", "1:2", "invalid UTF-8: truncated sequence"},
  {"nul", nul_text(), "2:2", "NUL byte"},
  {"control_char", kHead + "    description: \"\x1b[31m\"\n", "4:19", "control character U+001B"},
  {"c1_control", "# \xC2\x9B\n", "1:3", "character U+009B is not allowed"},
  {"lone_cr", "version: 1\rprofiles: {}\n", "1:11", "carriage return without a line feed"},
  // YAML structure.
  {"yaml_syntax", "version: 1\n  bad: 2\n", "2:6", "illegal map value"},  // at the colon
  {"tab_indent", "version: 1\nprofiles:\n\tp: {}\n", "3:", "a tab in the indentation"},
  // yaml-cpp 0.7 loops forever on these (jbeder/yaml-cpp#1040): must return.
  {"leading_comma", ",", "1:1", "unexpected `,`"},
  {"indented_comma", "# c\n  ,\n", "2:3", "unexpected `,`"},
  // yaml-cpp 0.7 calls this one "bad file".
  {"deep_nesting", std::string(3000, '['), "1:1", "YAML nesting is too deep"},
  {"empty", "", "1:1", "no YAML document"},
  {"comments_only", "# nothing here\n", "1:1", "no YAML document"},
  {"two_documents", "version: 1\nprofiles: {}\n---\nversion: 1\n", "3:", "a second YAML document"},
  {"alias", "version: 1\nprofiles:\n  a: &x {}\n  b: *x\n", "4:6", "YAML aliases"},
  {"unterminated_quote", kHead + "    description: \"abc\n    dry_run: true\n", "4:18",
   "quoted string is not closed"},
  {"unterminated_single_quote", kHead + "    description: 'it''s\n", "4:18",
   "quoted string is not closed"},
  {"yaml_tag", kHead + "    description: !!binary aGVsbG8=\n", "4:18",
   "profiles.p.description: YAML tag `tag:yaml.org,2002:binary` is not supported"},
  {"non_scalar_key", kHead + "    ? [a]\n    : 1\n", "4:7", "profiles.p: expected a key name, found a sequence"},
  // Top level.
  {"top_sequence", "- a\n", "1:1", "expected a map with keys `version` and `profiles`, found a sequence"},
  {"top_null", "---\n", "1:1", "found nothing"},
  {"missing_version", "profiles: {}\n", "1:1", "missing required key `version`"},
  {"version_2", "version: 2\nprofiles: {}\n", "1:10", "version: unsupported version `2`"},
  {"version_quoted", "version: \"1\"\nprofiles: {}\n", "1:10",
   "version: expected the integer 1, found the string `1`"},
  {"version_float", "version: 1.0\nprofiles: {}\n", "1:10", "expected the integer 1, found `1.0`"},
  {"version_before_profiles", "version: 3\nprofiles: {p: {bogus: 1}}\n", "1:10", "unsupported version"},
  {"missing_profiles", "version: 1\n", "1:1", "missing required key `profiles`"},
  {"unknown_top_key", "version: 1\nprofile: {}\n", "2:1",
   "unknown key `profile` (known: version, profiles); did you mean `profiles`?"},
  {"duplicate_top_key", "version: 1\nversion: 1\nprofiles: {}\n", "2:1",
   "duplicate key `version` (first at line 1, column 1)"},
  {"profiles_sequence", "version: 1\nprofiles: [a]\n", "2:11", "profiles: expected a map, found a sequence"},
  {"profile_scalar", "version: 1\nprofiles:\n  p: 3\n", "3:6", "profiles.p: expected a map, found `3`"},
  {"profile_name", "version: 1\nprofiles:\n  a b: {}\n", "3:3", "profiles: invalid profile name `a b`"},
  {"duplicate_profile", "version: 1\nprofiles:\n  p: {}\n  p: {}\n", "4:3",
   "profiles: duplicate key `p` (first at line 3, column 3)"},
  // Profile keys.
  {"unknown_profile_key", kHead + "    acess_roots: {}\n", "4:5",
   "profiles.p: unknown key `acess_roots` (known: description, extends, access_roots, "
   "control_access, command, home, network, scope, seccomp, landlock_abi, env_policy, "
   "log_level, dry_run, git, unmask, limits, desktop); did you mean `access_roots`?"},
  {"description_sequence", kHead + "    description: [a]\n", "4:18",
   "profiles.p.description: expected a string, found a sequence"},
  {"description_null", kHead + "    description:\n", "4:5",
   "profiles.p.description: expected a string, found nothing"},
  {"extends_map", kHead + "    extends: {a: 1}\n", "4:14",
   "profiles.p.extends: expected a list of strings, found a map"},
  {"extends_empty", kHead + "    extends: \"\"\n", "4:14", "profiles.p.extends: must not be empty"},
  {"extends_twice", kHead + "    extends: [a, a]\n", "4:18", "profiles.p.extends: profile `a` is listed twice"},
  {"home_empty", kHead + "    home: \"\"\n", "4:11", "profiles.p.home: must not be empty"},
  {"home_map_unknown_key", kHead + "    home: {path: /h, share: true}\n", "4:22",
   "profiles.p.home: unknown key `share`"},
  {"home_map_no_path", kHead + "    home: {shared: true}\n", "4:11",
   "profiles.p.home: missing required key `path`"},
  {"home_shared_not_bool", kHead + "    home: {path: /h, shared: yes}\n", "4:30",
   "profiles.p.home.shared: expected a boolean"},
  {"limits_unknown_key", kHead + "    limits: {pid: 10}\n", "4:14",
   "profiles.p.limits: unknown key `pid` (known: pids, memory, tmp_size, shm_size, nofile, "
   "cpu_seconds); did you mean `pids`?"},
  {"limits_bad_unit", kHead + "    limits: {memory: 1X}\n", "4:22",
   "profiles.p.limits.memory: unknown unit `X` (use K, M, G or T), found `1X`"},
  {"limits_size_no_number", kHead + "    limits: {tmp_size: G}\n", "4:24",
   "profiles.p.limits.tmp_size: expected a size such as 512M or 1G, found `G`"},
  {"limits_size_too_large", kHead + "    limits: {shm_size: 99999999999T}\n", "4:24",
   "the size is too large"},
  {"limits_size_quoted", kHead + "    limits: {shm_size: \"1G\"}\n", "4:24",
   "expected a size such as 512M or 1G, found the string `1G`"},
  {"limits_count_size", kHead + "    limits: {pids: 1K}\n", "4:20",
   "profiles.p.limits.pids: expected an integer, found `1K`"},
  {"limits_negative", kHead + "    limits: {nofile: -1}\n", "4:22",
   "profiles.p.limits.nofile: expected an integer"},
  {"limits_scalar", kHead + "    limits: on\n", "4:13", "profiles.p.limits: expected off or a map"},
  {"limits_sequence", kHead + "    limits: [pids]\n", "4:13", "expected off or a map, found a sequence"},
  {"home_sequence", kHead + "    home: [/h]\n", "4:11", "profiles.p.home: expected a string"},
  {"message_escapes_control", kHead + "    dry_run: \"\\e[31m\"\n", "4:14",
   "profiles.p.dry_run: expected a boolean, found the string `\\x1B[31m`"},
  // access_roots.
  {"access_roots_sequence", kHead + "    access_roots: [a]\n", "4:19",
   "profiles.p.access_roots: expected a map, found a sequence"},
  {"group_name", kHead + "    access_roots:\n      \"my group\":\n        paths: [/a]\n", "5:7",
   "profiles.p.access_roots: invalid group name `my group`"},
  {"group_missing_paths", kHead + "    access_roots:\n      g:\n        required: true\n", "5:7",
   "profiles.p.access_roots.g: missing required key `paths`"},
  {"group_unknown_key", kHead + "    access_roots:\n      g:\n        paths: [/a]\n        path: [/b]\n",
   "7:9", "profiles.p.access_roots.g: unknown key `path` (known: paths, permissions, required, deny, readonly, overlay)"},
  {"group_duplicate", kHead + "    access_roots:\n      g: {paths: [/a]}\n      g: {paths: [/b]}\n", "6:7",
   "profiles.p.access_roots: duplicate key `g` (first at line 5, column 7)"},
  {"paths_scalar", kHead + "    access_roots:\n      g:\n        paths: /a\n", "6:16",
   "profiles.p.access_roots.g.paths: expected a list of strings, found `/a`"},
  {"paths_empty_string", kHead + "    access_roots:\n      g:\n        paths: [\"\"]\n", "6:17",
   "profiles.p.access_roots.g.paths[0]: must not be empty"},
  {"paths_null_element", kHead + "    access_roots:\n      g:\n        paths:\n          - /a\n          -\n",
   "7:11", "profiles.p.access_roots.g.paths[1]: expected a string, found nothing"},
  {"required_not_bool", kHead + "    access_roots:\n      g:\n        paths: [/a]\n        required: 1\n",
   "7:19", "profiles.p.access_roots.g.required: expected a boolean, found `1`"},
  {"deny_map", kHead + "    access_roots:\n      g:\n        paths: [/a]\n        deny: {x: y}\n",
   "7:15", "profiles.p.access_roots.g.deny: expected a list of strings, found a map"},
  {"readonly_nested", kHead + "    access_roots:\n      g:\n        paths: [/a]\n        readonly: [[x]]\n",
   "7:20", "profiles.p.access_roots.g.readonly[0]: expected a string, found a sequence"},
  // Right maps.
  {"unknown_right", kHead + "    access_roots:\n      projects:\n        paths: [/p]\n        permissions:\n"
   "          read_fle: true\n", "8:11",
   "profiles.p.access_roots.projects.permissions: unknown right `read_fle` (known: execute, write_file, "
   "read_file, read_dir, remove_dir, remove_file, make_char, make_dir, make_reg, make_sock, make_fifo, "
   "make_block, make_sym, refer, truncate, ioctl_dev, resolve_unix); did you mean `read_file`?"},
  {"right_yes", kHead + "    control_access:\n      read_file: yes\n", "5:18",
   "profiles.p.control_access.read_file: expected a boolean, found `yes` (write true or false)"},
  {"right_sequence", kHead + "    control_access:\n      read_file: [true]\n", "5:18",
   "profiles.p.control_access.read_file: expected a boolean, found a sequence"},
  {"right_quoted", kHead + "    control_access:\n      read_file: \"true\"\n", "5:18",
   "expected a boolean, found the string `true`"},
  {"right_null", kHead + "    control_access:\n      read_file:\n", "5:7",
   "profiles.p.control_access.read_file: expected a boolean, found nothing"},
  {"right_capitalised", kHead + "    control_access:\n      read_file: True\n", "5:18",
   "expected a boolean, found `True`"},
  {"control_access_sequence", kHead + "    control_access: [read_file]\n", "4:21",
   "profiles.p.control_access: expected a map, found a sequence"},
  {"duplicate_right", kHead + "    control_access:\n      read_file: true\n      read_file: false\n", "6:7",
   "profiles.p.control_access: duplicate key `read_file` (first at line 5, column 7)"},
  // command.
  {"command_unknown", kHead + "    command:\n      bin: x\n", "5:7",
   "profiles.p.command: unknown key `bin` (known: binary, args, working_dir, env)"},
  {"command_scalar", kHead + "    command: code\n", "4:14", "profiles.p.command: expected a map, found `code`"},
  {"binary_null", kHead + "    command:\n      binary:\n", "5:7",
   "profiles.p.command.binary: expected a string, found nothing"},
  {"args_map", kHead + "    command:\n      args: {a: b}\n", "5:13",
   "profiles.p.command.args: expected a list of strings, found a map"},
  {"working_dir_map", kHead + "    command:\n      working_dir: {}\n", "5:20",
   "profiles.p.command.working_dir: expected a string, found a map"},
  {"env_sequence", kHead + "    command:\n      env: [A]\n", "5:12",
   "profiles.p.command.env: expected a map, found a sequence"},
  {"env_value_sequence", kHead + "    command:\n      env:\n        A: [1]\n", "6:12",
   "profiles.p.command.env.A: expected a string, found a sequence"},
  {"env_value_null", kHead + "    command:\n      env:\n        A:\n", "6:9",
   "profiles.p.command.env.A: expected a string, found nothing"},
  {"env_name", kHead + "    command:\n      env:\n        \"A=B\": x\n", "6:9",
   "profiles.p.command.env: invalid environment variable name `A=B`"},
  {"env_duplicate", kHead + "    command:\n      env:\n        A: x\n        A: y\n", "7:9",
   "profiles.p.command.env: duplicate key `A` (first at line 6, column 9)"},
  // network.
  {"network_scalar", kHead + "    network: hots\n", "4:14",
   "profiles.p.network: expected one of host, none, loopback, found `hots`"},
  {"network_sequence", kHead + "    network: [host]\n", "4:14",
   "profiles.p.network: expected one of host, none, loopback or a map, found a sequence"},
  {"network_unknown", kHead + "    network:\n      mod: host\n", "5:7",
   "profiles.p.network: unknown key `mod` (known: mode, connect_tcp, bind_tcp, connect_udp, bind_udp, "
   "unix_sockets, allow, host_ports, publish, deny_resolved, landlock_mode); did you mean `mode`?"},
  {"network_mode", kHead + "    network:\n      mode: lan\n", "5:13",
   "profiles.p.network.mode: expected one of host, none, loopback, found `lan`"},
  {"port_too_big", kHead + "    network:\n      connect_tcp: [443, 70000]\n", "5:26",
   "profiles.p.network.connect_tcp[1]: must be between 1 and 65535, found `70000`"},
  {"port_zero", kHead + "    network:\n      bind_tcp: [0]\n", "5:18",
   "profiles.p.network.bind_tcp[0]: must be between 1 and 65535, found `0`"},
  {"port_huge", kHead + "    network:\n      bind_tcp: [99999999999999999999]\n", "5:18",
   "must be between 1 and 65535, found `99999999999999999999`"},
  {"port_quoted", kHead + "    network:\n      connect_udp: [\"53\"]\n", "5:21",
   "profiles.p.network.connect_udp[0]: expected an integer, found the string `53`"},
  {"port_negative", kHead + "    network:\n      bind_udp: [-1]\n", "5:18",
   "profiles.p.network.bind_udp[0]: expected an integer, found `-1`"},
  {"port_leading_zero", kHead + "    network:\n      bind_udp: [0443]\n", "5:18",
   "expected an integer without leading zeros, found `0443`"},
  {"ports_scalar", kHead + "    network:\n      connect_tcp: 443\n", "5:20",
   "profiles.p.network.connect_tcp: expected a list of port numbers, found `443`"},
  {"unix_sockets_map", kHead + "    network:\n      unix_sockets: {a: b}\n", "5:21",
   "profiles.p.network.unix_sockets: expected a list of strings, found a map"},
  // scope.
  {"scope_scalar", kHead + "    scope: on\n", "4:12", "profiles.p.scope: expected a map, found `on`"},
  {"scope_unknown", kHead + "    scope:\n      signals: true\n", "5:7",
   "profiles.p.scope: unknown key `signals` (known: abstract_unix_socket, signal); did you mean `signal`?"},
  {"scope_not_bool", kHead + "    scope:\n      signal: on\n", "5:15",
   "profiles.p.scope.signal: expected a boolean, found `on`"},
  // seccomp.
  {"seccomp_scalar", kHead + "    seccomp: strict\n", "4:14",
   "profiles.p.seccomp: expected off, default, true, false or a map, found `strict`"},
  {"seccomp_sequence", kHead + "    seccomp: [a]\n", "4:14",
   "profiles.p.seccomp: expected off, default, true, false or a map, found a sequence"},
  {"seccomp_preset", kHead + "    seccomp:\n      preset: true\n", "5:15",
   "profiles.p.seccomp.preset: expected one of off, default, found `true`"},
  {"seccomp_syscall", kHead + "    seccomp:\n      deny: [\"Mount!\"]\n", "5:14",
   "profiles.p.seccomp.deny[0]: `Mount!` is not a syscall name or an @group name"},
  {"seccomp_allow_scalar", kHead + "    seccomp:\n      allow: ptrace\n", "5:14",
   "profiles.p.seccomp.allow: expected a list of syscall names, found `ptrace`"},
  {"seccomp_unknown", kHead + "    seccomp:\n      allow_userns: true\n", "5:7",
   "profiles.p.seccomp: unknown key `allow_userns` (known: preset, deny, allow, allow_nested_userns)"},
  {"seccomp_nested_not_bool", kHead + "    seccomp:\n      allow_nested_userns: 1\n", "5:28",
   "profiles.p.seccomp.allow_nested_userns: expected a boolean, found `1`"},
  // landlock_abi.
  {"abi_zero", kHead + "    landlock_abi: 0\n", "4:19", "profiles.p.landlock_abi: must be between 1 and 10, found `0`"},
  {"abi_eleven", kHead + "    landlock_abi: 11\n", "4:19", "must be between 1 and 10, found `11`"},
  {"abi_word", kHead + "    landlock_abi: three\n", "4:19", "expected an integer, found `three`"},
  {"abi_hex", kHead + "    landlock_abi: 0x3\n", "4:19", "expected an integer, found `0x3`"},
  {"abi_plus", kHead + "    landlock_abi: +3\n", "4:19", "expected an integer, found `+3`"},
  // env_policy, log_level, dry_run, git.
  {"env_policy_scalar", kHead + "    env_policy: dirty\n", "4:17",
   "profiles.p.env_policy: expected one of inherit, clean, found `dirty`"},
  {"env_policy_sequence", kHead + "    env_policy: [clean]\n", "4:17",
   "profiles.p.env_policy: expected one of inherit, clean or a map, found a sequence"},
  {"env_policy_unknown", kHead + "    env_policy:\n      keeps: [A]\n", "5:7",
   "profiles.p.env_policy: unknown key `keeps` (known: mode, keep); did you mean `keep`?"},
  {"env_policy_keep_scalar", kHead + "    env_policy:\n      keep: A\n", "5:13",
   "profiles.p.env_policy.keep: expected a list of strings, found `A`"},
  {"env_policy_mode", kHead + "    env_policy:\n      mode: none\n", "5:13",
   "profiles.p.env_policy.mode: expected one of inherit, clean, found `none`"},
  {"log_level", kHead + "    log_level: verbose\n", "4:16",
   "profiles.p.log_level: expected one of error, warn, info, debug, found `verbose`"},
  {"dry_run_yes", kHead + "    dry_run: yes\n", "4:14",
   "profiles.p.dry_run: expected a boolean, found `yes` (write true or false)"},
  {"dry_run_null", kHead + "    dry_run:\n", "4:5", "profiles.p.dry_run: expected a boolean, found nothing"},
  {"git_true", kHead + "    git: true\n", "4:10",
   "profiles.p.git: expected one of worktree, off, false, found `true`"},
  {"git_map", kHead + "    git: {mode: worktree}\n", "4:10", "profiles.p.git: expected one of worktree, off, false, found a map"},
};
// clang-format on

class ProfileParseBad : public testing::TestWithParam<BadCase> {};

TEST_P(ProfileParseBad, FailsWithPositionAndMessage) {
  const BadCase& c = GetParam();
  const auto r = parse_profiles(c.yaml, "t.yaml");
  ASSERT_FALSE(r.has_value()) << "accepted:\n" << c.yaml;
  const std::string& what = r.error().what;
  const std::string prefix = std::string("t.yaml:") + c.where;
  EXPECT_EQ(what.substr(0, prefix.size()), prefix) << what;
  // A full "line:column: " unless the row only pins the line.
  if (prefix.back() != ':') {
    EXPECT_EQ(what.substr(prefix.size(), 2), ": ") << what;
  }
  EXPECT_NE(what.find(c.message), std::string::npos) << what;
  EXPECT_EQ(r.error().exit_code, kExitLauncherFailure);
  EXPECT_EQ(r.error().err, 0);
}

INSTANTIATE_TEST_SUITE_P(Rows, ProfileParseBad, testing::ValuesIn(kBadCases),
                         [](const testing::TestParamInfo<BadCase>& i) {
                           return i.param.name;
                         });

TEST(ProfileParseBadTable, RowsAreDistinct) {
  // Enough rows, and no two rows testing the same text.
  EXPECT_GE(kBadCases.size(), 25U);
  for (std::size_t i = 0; i < kBadCases.size(); ++i)
    for (std::size_t j = i + 1; j < kBadCases.size(); ++j)
      EXPECT_NE(kBadCases[i].yaml, kBadCases[j].yaml)
          << kBadCases[i].name << " " << kBadCases[j].name;
}

TEST(ProfileParse, TabHintAppearsOnlyForTabs) {
  const auto r = parse_profiles("version: 1\n  bad: 2\n", "t.yaml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().what.find("tab"), std::string::npos) << r.error().what;
}

TEST(ProfileParse, ExactlyAtSizeLimitIsReadAsText) {
  // kMaxProfileBytes itself is allowed: the error comes from the content.
  std::string text = "version: 1\nprofiles: {}\n";
  text.resize(kMaxProfileBytes, '#');
  EXPECT_TRUE(parse_profiles(text, "t.yaml").has_value());
}

// ---------------------------------------------------------------------------
// The spec's example file, unchanged.

std::string read_example() {
  const std::string path =
      std::string(AISBX_SOURCE_DIR) + "/profiles/ai-sandbox-landlock.yaml";
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ProfileParse, SpecExampleFile) {
  const auto r = parse_profiles(read_example(), "ai-sandbox-landlock.yaml");
  ASSERT_TRUE(r.has_value()) << r.error().what;
  EXPECT_EQ(r->source, "ai-sandbox-landlock.yaml");
  EXPECT_EQ(r->order,
            (std::vector<std::string>{"vscode-copilot", "copilot-backend", "minimal"}));
  ASSERT_EQ(r->profiles.size(), 3U);

  const Profile& v = r->profiles.at("vscode-copilot");
  EXPECT_EQ(v.name, "vscode-copilot");
  EXPECT_EQ(v.where.line, 6);
  EXPECT_EQ(v.where.column, 3);
  EXPECT_NE(v.description.find("VSCode + Copilot"), std::string::npos);
  ASSERT_EQ(v.access_roots.size(), 3U);
  EXPECT_EQ(v.access_roots[0].name, "projects");
  EXPECT_EQ(v.access_roots[1].name, "system");
  EXPECT_EQ(v.access_roots[2].name, "cache");

  const RootGroup& projects = v.access_roots[0];
  EXPECT_EQ(values(projects.paths),
            (std::vector<std::string>{"~/dev/myproj", "~/dev/shared-lib"}));
  EXPECT_EQ(projects.paths[0].where.line, 13);
  EXPECT_EQ(projects.paths[0].where.column, 13);
  EXPECT_TRUE(projects.permissions.present);
  EXPECT_EQ(projects.permissions.granted, fs::kReadFile | fs::kReadDir | fs::kExecute |
                                              fs::kWriteFile | fs::kRemoveFile);
  EXPECT_EQ(projects.permissions.denied, fs::kRemoveDir);
  EXPECT_FALSE(projects.required);

  EXPECT_EQ(values(v.access_roots[1].paths),
            (std::vector<std::string>{"/usr", "/lib", "/lib64"}));
  EXPECT_EQ(v.access_roots[1].permissions.granted,
            fs::kReadFile | fs::kReadDir | fs::kExecute);
  EXPECT_EQ(v.access_roots[1].permissions.denied, 0U);

  EXPECT_TRUE(v.control_access.present);
  EXPECT_TRUE(v.control_access.granted & fs::kTruncate);
  EXPECT_EQ(v.control_access.granted, fs::kReadFile | fs::kReadDir | fs::kExecute |
                                          fs::kWriteFile | fs::kRemoveFile |
                                          fs::kTruncate);
  EXPECT_EQ(v.control_access.denied, fs::kRemoveDir);

  ASSERT_TRUE(v.command.binary.has_value());
  EXPECT_EQ(v.command.binary->value, "code");
  ASSERT_TRUE(v.command.args.has_value());
  EXPECT_EQ(*v.command.args, std::vector<std::string>{"."});
  ASSERT_TRUE(v.command.working_dir.has_value());
  EXPECT_EQ(v.command.working_dir->value, "~/dev/myproj");
  ASSERT_EQ(v.command.env.size(), 1U);
  EXPECT_EQ(v.command.env[0].first, "HOME");
  EXPECT_EQ(v.command.env[0].second.value, "~/.ai-sandbox/vscode-home");
  EXPECT_EQ(v.log_level, LogLevel::info);
  EXPECT_EQ(v.dry_run, false);

  const Profile& b = r->profiles.at("copilot-backend");
  ASSERT_EQ(b.access_roots.size(), 2U);
  EXPECT_EQ(b.access_roots[0].permissions.granted, fs::kReadFile | fs::kReadDir);
  EXPECT_EQ(b.access_roots[0].permissions.denied, fs::kExecute | fs::kWriteFile);
  EXPECT_EQ(b.control_access.granted, fs::kReadFile | fs::kReadDir | fs::kExecute);
  EXPECT_EQ(b.command.binary->value, "/usr/bin/node");
  EXPECT_EQ(env_of(b.command, "NODE_ENV"), "production");
  EXPECT_EQ(b.log_level, LogLevel::warn);
  EXPECT_FALSE(b.dry_run.has_value());

  const Profile& m = r->profiles.at("minimal");
  ASSERT_EQ(m.access_roots.size(), 1U);
  EXPECT_EQ(values(m.access_roots[0].paths),
            std::vector<std::string>{"~/dev/test-project"});
  EXPECT_EQ(m.control_access.denied, fs::kExecute);
  EXPECT_EQ(m.command.binary->value, "/bin/bash");
  ASSERT_TRUE(m.command.args.has_value());
  EXPECT_TRUE(m.command.args->empty());
  EXPECT_FALSE(m.command.working_dir.has_value());
  EXPECT_FALSE(m.log_level.has_value());
}

// ---------------------------------------------------------------------------
// Every key, read back.

TEST(ProfileParse, EveryKey) {
  const Profile p = parse_one(
      "    description: all keys\n"              // 4
      "    extends: [base, extra]\n"             // 5
      "    access_roots:\n"                      // 6
      "      work:\n"                            // 7
      "        paths: [\"${PROJECT}\", /srv]\n"  // 8
      "        permissions: {read_file: true, remove_dir: false}\n"
      "        required: true\n"                   // 10
      "        deny: [\"**/.env\", .git/hooks]\n"  // 11
      "        readonly: [.git]\n"                 // 12
      "    control_access: {read_file: true, refer: true, make_sym: false}\n"
      "    command:\n"                         // 14
      "      binary: /bin/sh\n"                // 15
      "      args: [-c, \"echo hi\", \"\"]\n"  // 16
      "      working_dir: ${PROJECT}\n"        // 17
      "      env: {A: x, PORT: 8080, DEBUG: true, EMPTY: \"\", LEAD: 0123}\n"
      "    home: ~/.sandbox-home\n"          // 19
      "    network:\n"                       // 20
      "      mode: loopback\n"               // 21
      "      connect_tcp: [443, 80]\n"       // 22
      "      bind_tcp: [8080]\n"             // 23
      "      connect_udp: [53]\n"            // 24
      "      bind_udp: [65535]\n"            // 25
      "      unix_sockets: [/run/a.sock]\n"  // 26
      "    scope: {abstract_unix_socket: true, signal: false}\n"
      "    seccomp:\n"                               // 28
      "      preset: default\n"                      // 29
      "      deny: [ptrace, \"@mount\", _llseek]\n"  // 30
      "      allow: [\"@system-service\"]\n"         // 31
      "      allow_nested_userns: true\n"            // 32
      "    landlock_abi: 7\n"                        // 33
      "    env_policy:\n"                            // 34
      "      mode: clean\n"                          // 35
      "      keep: [PATH, \"LC_*\"]\n"               // 36
      "    log_level: debug\n"                       // 37
      "    dry_run: true\n"                          // 38
      "    git: worktree\n");                        // 39
  EXPECT_EQ(p.name, "p");
  EXPECT_EQ(p.where.line, 3);
  EXPECT_EQ(p.where.column, 3);
  EXPECT_EQ(p.where.file, "t.yaml");
  EXPECT_EQ(p.description, "all keys");
  EXPECT_EQ(p.extends, (std::vector<std::string>{"base", "extra"}));
  ASSERT_EQ(p.extends_where.size(), 2U);
  EXPECT_EQ(p.extends_where[1].line, 5);
  EXPECT_EQ(p.extends_where[1].column, 21);

  ASSERT_EQ(p.access_roots.size(), 1U);
  const RootGroup& g = p.access_roots[0];
  EXPECT_EQ(g.name, "work");
  EXPECT_EQ(g.where.line, 7);
  EXPECT_EQ(g.where.column, 7);
  EXPECT_EQ(values(g.paths), (std::vector<std::string>{"${PROJECT}", "/srv"}));
  EXPECT_EQ(g.paths[1].where.line, 8);
  EXPECT_EQ(g.paths[1].where.column, 31);
  EXPECT_EQ(g.permissions.granted, fs::kReadFile);
  EXPECT_EQ(g.permissions.denied, fs::kRemoveDir);
  EXPECT_EQ(g.permissions.where.line, 9);
  EXPECT_EQ(g.permissions.where.column, 22);
  EXPECT_TRUE(g.required);
  EXPECT_EQ(values(g.deny), (std::vector<std::string>{"**/.env", ".git/hooks"}));
  EXPECT_EQ(g.deny[1].where.line, 11);
  EXPECT_EQ(g.deny[1].where.column, 27);
  EXPECT_EQ(values(g.readonly), std::vector<std::string>{".git"});

  EXPECT_TRUE(p.control_access.present);
  EXPECT_EQ(p.control_access.granted, fs::kReadFile | fs::kRefer);
  EXPECT_EQ(p.control_access.denied, fs::kMakeSym);

  ASSERT_TRUE(p.command.binary && p.command.args && p.command.working_dir);
  EXPECT_EQ(p.command.binary->value, "/bin/sh");
  EXPECT_EQ(p.command.binary->where.line, 15);
  EXPECT_EQ(p.command.binary->where.column, 15);
  EXPECT_EQ(*p.command.args, (std::vector<std::string>{"-c", "echo hi", ""}));
  EXPECT_EQ(p.command.working_dir->value, "${PROJECT}");
  ASSERT_EQ(p.command.env.size(), 5U);
  EXPECT_EQ(p.command.env[0].first, "A");
  EXPECT_EQ(p.command.env[4].first, "LEAD");
  // Numbers and booleans keep their text.
  EXPECT_EQ(env_of(p.command, "PORT"), "8080");
  EXPECT_EQ(env_of(p.command, "DEBUG"), "true");
  EXPECT_EQ(env_of(p.command, "EMPTY"), "");
  EXPECT_EQ(env_of(p.command, "LEAD"), "0123");

  ASSERT_TRUE(p.home);
  EXPECT_EQ(p.home->value, "~/.sandbox-home");
  EXPECT_EQ(p.home->where.line, 19);

  EXPECT_EQ(p.network.mode, NetMode::loopback);
  EXPECT_EQ(p.network.connect_tcp, (std::vector<std::uint16_t>{443, 80}));
  EXPECT_EQ(p.network.bind_tcp, std::vector<std::uint16_t>{8080});
  EXPECT_EQ(p.network.connect_udp, std::vector<std::uint16_t>{53});
  EXPECT_EQ(p.network.bind_udp, std::vector<std::uint16_t>{65535});
  ASSERT_TRUE(p.network.unix_sockets);
  EXPECT_EQ(values(*p.network.unix_sockets), std::vector<std::string>{"/run/a.sock"});
  EXPECT_EQ(p.network.where.line, 21);

  EXPECT_EQ(p.scope.abstract_unix_socket, true);
  EXPECT_EQ(p.scope.signal, false);

  EXPECT_EQ(p.seccomp.preset, SeccompPreset::default_);
  ASSERT_TRUE(p.seccomp.deny && p.seccomp.allow);
  EXPECT_EQ(values(*p.seccomp.deny),
            (std::vector<std::string>{"ptrace", "@mount", "_llseek"}));
  EXPECT_EQ(values(*p.seccomp.allow), std::vector<std::string>{"@system-service"});
  EXPECT_EQ(p.seccomp.allow_nested_userns, true);
  EXPECT_EQ(p.seccomp.where.line, 29);

  ASSERT_TRUE(p.landlock_abi);
  EXPECT_EQ(p.landlock_abi->value, 7);
  EXPECT_EQ(p.landlock_abi->where.line, 33);
  EXPECT_EQ(p.landlock_abi->where.column, 19);

  EXPECT_EQ(p.env_policy.mode, EnvMode::clean);
  EXPECT_EQ(p.env_policy.keep, (std::vector<std::string>{"PATH", "LC_*"}));
  EXPECT_EQ(p.log_level, LogLevel::debug);
  EXPECT_EQ(p.dry_run, true);
  EXPECT_EQ(p.git, GitMode::worktree);
}

TEST(ProfileParse, AbsentKeysStayUnset) {
  const Profile p = parse_one("    description: d\n");
  EXPECT_TRUE(p.extends.empty());
  EXPECT_TRUE(p.access_roots.empty());
  EXPECT_FALSE(p.control_access.present);
  EXPECT_EQ(p.control_access.granted, 0U);
  EXPECT_FALSE(p.command.binary || p.command.args || p.command.working_dir);
  EXPECT_TRUE(p.command.env.empty());
  EXPECT_FALSE(p.home || p.network.mode || p.network.connect_tcp || p.seccomp.preset);
  EXPECT_EQ(p.network.where.line, 0);
  EXPECT_FALSE(p.scope.signal || p.landlock_abi || p.env_policy.mode || p.log_level);
  EXPECT_FALSE(p.dry_run || p.git);
}

TEST(ProfileParse, EmptyProfileAndEmptySet) {
  auto r = parse_profiles("version: 1\nprofiles:\n  p:\n", "t.yaml");
  ASSERT_TRUE(r.has_value()) << r.error().what;
  EXPECT_EQ(r->profiles.at("p").name, "p");
  r = parse_profiles("version: 1\nprofiles: {}\n", "t.yaml");
  ASSERT_TRUE(r.has_value()) << r.error().what;
  EXPECT_TRUE(r->profiles.empty());
}

TEST(ProfileParse, NullMeansEmptyForListsAndMaps) {
  const Profile p = parse_one(
      "    extends:\n"
      "    access_roots:\n"
      "      g:\n"
      "        paths:\n"
      "        permissions:\n"
      "        deny:\n"
      "    control_access:\n"
      "    command:\n"
      "      args:\n"
      "      env:\n"
      "    network:\n"
      "      connect_tcp:\n"
      "    env_policy:\n"
      "      keep:\n");
  EXPECT_TRUE(p.extends.empty());
  ASSERT_EQ(p.access_roots.size(), 1U);
  EXPECT_TRUE(p.access_roots[0].paths.empty());
  EXPECT_TRUE(p.access_roots[0].permissions.present);
  EXPECT_EQ(p.access_roots[0].permissions.granted | p.access_roots[0].permissions.denied,
            0U);
  EXPECT_TRUE(p.control_access.present);
  ASSERT_TRUE(p.command.args.has_value());
  EXPECT_TRUE(p.command.args->empty());
  ASSERT_TRUE(p.network.connect_tcp.has_value());
  EXPECT_TRUE(p.network.connect_tcp->empty());
  ASSERT_TRUE(p.env_policy.keep.has_value());
  EXPECT_TRUE(p.env_policy.keep->empty());
}

TEST(ProfileParse, ArgsEmptyDiffersFromAbsent) {
  EXPECT_FALSE(parse_one("    command: {binary: x}\n").command.args.has_value());
  const Profile p = parse_one("    command: {binary: x, args: []}\n");
  ASSERT_TRUE(p.command.args.has_value());
  EXPECT_TRUE(p.command.args->empty());
}

TEST(ProfileParse, ExtendsSingleString) {
  const Profile p = parse_one("    extends: base\n");
  EXPECT_EQ(p.extends, std::vector<std::string>{"base"});
  ASSERT_EQ(p.extends_where.size(), 1U);
  EXPECT_EQ(p.extends_where[0].line, 4);
  EXPECT_EQ(p.extends_where[0].column, 14);
}

TEST(ProfileParse, NetworkScalarForms) {
  EXPECT_EQ(parse_one("    network: host\n").network.mode, NetMode::host);
  EXPECT_EQ(parse_one("    network: none\n").network.mode, NetMode::none);
  const Profile p = parse_one("    network: loopback\n");
  EXPECT_EQ(p.network.mode, NetMode::loopback);
  EXPECT_FALSE(p.network.connect_tcp.has_value());
  EXPECT_EQ(p.network.where.line, 4);
  EXPECT_EQ(p.network.where.column, 14);
}

TEST(ProfileParse, SeccompForms) {
  EXPECT_EQ(parse_one("    seccomp: off\n").seccomp.preset, SeccompPreset::off);
  EXPECT_EQ(parse_one("    seccomp: default\n").seccomp.preset, SeccompPreset::default_);
  EXPECT_EQ(parse_one("    seccomp: false\n").seccomp.preset, SeccompPreset::off);
  EXPECT_EQ(parse_one("    seccomp: true\n").seccomp.preset, SeccompPreset::default_);
  const Profile p = parse_one("    seccomp: {allow_nested_userns: false}\n");
  EXPECT_FALSE(p.seccomp.preset.has_value());
  EXPECT_EQ(p.seccomp.allow_nested_userns, false);
}

TEST(ProfileParse, EnvPolicyForms) {
  EXPECT_EQ(parse_one("    env_policy: inherit\n").env_policy.mode, EnvMode::inherit);
  const Profile p = parse_one("    env_policy: clean\n");
  EXPECT_EQ(p.env_policy.mode, EnvMode::clean);
  EXPECT_FALSE(p.env_policy.keep.has_value());
  const Profile k = parse_one("    env_policy: {keep: [TERM]}\n");
  EXPECT_FALSE(k.env_policy.mode.has_value());
  EXPECT_EQ(k.env_policy.keep, std::vector<std::string>{"TERM"});
}

TEST(ProfileParse, GitForms) {
  EXPECT_EQ(parse_one("    git: worktree\n").git, GitMode::worktree);
  EXPECT_EQ(parse_one("    git: off\n").git, GitMode::off);
  EXPECT_EQ(parse_one("    git: false\n").git, GitMode::off);
}

TEST(ProfileParse, LogLevelsAndAbiBounds) {
  EXPECT_EQ(parse_one("    log_level: error\n").log_level, LogLevel::error);
  EXPECT_EQ(parse_one("    log_level: warn\n").log_level, LogLevel::warn);
  EXPECT_EQ(parse_one("    log_level: info\n").log_level, LogLevel::info);
  EXPECT_EQ(parse_one("    log_level: \"debug\"\n").log_level, LogLevel::debug);
  EXPECT_EQ(parse_one("    landlock_abi: 1\n").landlock_abi->value, 1);
  EXPECT_EQ(parse_one("    landlock_abi: 10\n").landlock_abi->value, kMaxKnownAbi);
  EXPECT_EQ(parse_one("    network: {bind_tcp: [1, 65535]}\n").network.bind_tcp,
            (std::vector<std::uint16_t>{1, 65535}));
}

TEST(ProfileParse, BooleansFalseAndRequiredDefault) {
  const Profile p = parse_one(
      "    dry_run: false\n"
      "    access_roots:\n"
      "      a: {paths: [/a], required: false}\n"
      "      b: {paths: [/b]}\n");
  EXPECT_EQ(p.dry_run, false);
  ASSERT_EQ(p.access_roots.size(), 2U);
  EXPECT_FALSE(p.access_roots[0].required);
  EXPECT_FALSE(p.access_roots[1].required);
}

TEST(ProfileParse, KeepsFileOrderOfProfilesAndGroups) {
  const auto r = parse_profiles(
      "version: 1\nprofiles:\n"
      "  zeta: {access_roots: {z: {paths: [/z]}, a: {paths: [/a]}, m: {paths: [/m]}}}\n"
      "  alpha: {}\n"
      "  mid.v2: {}\n",
      "order.yaml");
  ASSERT_TRUE(r.has_value()) << r.error().what;
  EXPECT_EQ(r->order, (std::vector<std::string>{"zeta", "alpha", "mid.v2"}));
  EXPECT_EQ(r->source, "order.yaml");
  const auto& g = r->profiles.at("zeta").access_roots;
  ASSERT_EQ(g.size(), 3U);
  EXPECT_EQ(g[0].name, "z");
  EXPECT_EQ(g[1].name, "a");
  EXPECT_EQ(g[2].name, "m");
}

TEST(ProfileParse, QuotesThatCloseAreAccepted) {
  const Profile p = parse_one(
      "    description: 'it''s \"fine\"'\n"
      "    home: \"a\\\"b\"\n");
  EXPECT_EQ(p.description, "it's \"fine\"");
  EXPECT_EQ(p.home->value, "a\"b");
}

TEST(ProfileParse, StrTagIsAString) {
  EXPECT_EQ(parse_one("    description: !!str 12\n").description, "12");
}

TEST(ProfileParse, CrlfLineEnds) {
  const auto r = parse_profiles(
      "version: 1\r\nprofiles:\r\n  p:\r\n    dry_run: true\r\n", "t.yaml");
  ASSERT_TRUE(r.has_value()) << r.error().what;
  EXPECT_EQ(r->profiles.at("p").dry_run, true);
}

TEST(ProfileParse, ByteOrderMarkIsSkipped) {
  const auto r =
      parse_profiles("\xEF\xBB\xBFversion: 1\nprofiles: {p: {home: /h}}\n", "t.yaml");
  ASSERT_TRUE(r.has_value()) << r.error().what;
  EXPECT_EQ(r->profiles.at("p").home->where.line, 2);
  EXPECT_EQ(r->profiles.at("p").home->where.column, 22);
  // And positions of errors on line 1 do not count it.
  const auto bad = parse_profiles("\xEF\xBB\xBFversion: 2\nprofiles: {}\n", "t.yaml");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().what.substr(0, 12), "t.yaml:1:10:");
}

TEST(ProfileParse, MultibyteUtf8IsAccepted) {
  // 2-, 3- and 4-byte sequences, the highest code point and U+0085 (NEL).
  const Profile p = parse_one(
      "    description: \"Минимальный доступ € \xF0\x9F\x94\x92 \xF4\x8F\xBF\xBF\"\n"
      "    home: /home/\xC2\x85x\n");
  EXPECT_EQ(p.description, "Минимальный доступ € \xF0\x9F\x94\x92 \xF4\x8F\xBF\xBF");
}

TEST(ProfileParse, ColumnsCountBytes) {
  // As yaml-cpp (and clang) count: "é" is two columns.
  const auto r = parse_profiles(
      "version: 1\nprofiles: {p: {description: \"é\", dry_run: 3}}\n", "t.yaml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().what.substr(0, 12), "t.yaml:2:44:") << r.error().what;
}

TEST(ProfileParse, ReportsFirstOfSeveralErrors) {
  const auto r = parse_profiles(kHead + "    dry_run: maybe\n    git: true\n", "t.yaml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().what.substr(0, 12), "t.yaml:4:14:");
}

TEST(ProfileParse, FileNameAppearsInMessages) {
  const auto r =
      parse_profiles("version: 1\nprofiles: {p: {bogus: 1}}\n", "dir/my profiles.yaml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().what.rfind(
                "dir/my profiles.yaml:2:16: profiles.p: unknown key `bogus`", 0),
            0U)
      << r.error().what;
}

TEST(ProfileParse, LongValuesAreCutInMessages) {
  const std::string longword(500, 'x');
  const auto r = parse_profiles(kHead + "    dry_run: " + longword + "\n", "t.yaml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().what.find(longword), std::string::npos);
  EXPECT_NE(r.error().what.find(std::string(60, 'x') + "...`"), std::string::npos)
      << r.error().what;
}

// ---------------------------------------------------------------------------
// names.cc

TEST(ProfileNames, WhereStr) {
  EXPECT_EQ((Where{"p.yaml", 12, 9}.str()), "p.yaml:12:9");
  EXPECT_EQ((Where{"p.yaml", 3, 0}.str()), "p.yaml:3");
  EXPECT_EQ((Where{"built-in", 0, 0}.str()), "built-in");
  EXPECT_EQ(Where{}.str(), "command line");
}

TEST(ProfileNames, EnumNamesRoundTrip) {
  EXPECT_STREQ(to_string(NetMode::host), "host");
  EXPECT_STREQ(to_string(NetMode::none), "none");
  EXPECT_STREQ(to_string(NetMode::loopback), "loopback");
  EXPECT_STREQ(to_string(LogLevel::error), "error");
  EXPECT_STREQ(to_string(LogLevel::warn), "warn");
  EXPECT_STREQ(to_string(LogLevel::info), "info");
  EXPECT_STREQ(to_string(LogLevel::debug), "debug");
  EXPECT_STREQ(to_string(EnvMode::inherit), "inherit");
  EXPECT_STREQ(to_string(EnvMode::clean), "clean");
  EXPECT_EQ(log_level_by_name("warn"), LogLevel::warn);
  EXPECT_EQ(log_level_by_name("debug"), LogLevel::debug);
  EXPECT_EQ(log_level_by_name("WARN"), std::nullopt);
  EXPECT_EQ(log_level_by_name("warning"), std::nullopt);
  EXPECT_EQ(net_mode_by_name("loopback"), NetMode::loopback);
  EXPECT_EQ(net_mode_by_name("none"), NetMode::none);
  EXPECT_EQ(net_mode_by_name(""), std::nullopt);
}

}  // namespace
TEST(ProfileParseLimits, SizesCountsAndOff) {
  auto r = parse_profiles(kHead + "    limits: {pids: 64, memory: 512M, tmp_size: 16M, shm_size: 2G,"
                                  " nofile: 1024, cpu_seconds: 0}\n"
                                  "  q:\n    limits: off\n",
                          "t.yaml");
  ASSERT_TRUE(r.has_value()) << r.error().what;
  const Limits& l = r->profiles.at("p").limits;
  ASSERT_TRUE(l.pids && l.memory && l.tmp_size && l.shm_size && l.nofile && l.cpu_seconds);
  EXPECT_EQ(l.pids->value, 64U);
  EXPECT_EQ(l.memory->value, 512ULL << 20);
  EXPECT_EQ(l.tmp_size->value, 16ULL << 20);
  EXPECT_EQ(l.shm_size->value, 2ULL << 30);
  EXPECT_EQ(l.nofile->value, 1024U);
  EXPECT_EQ(l.cpu_seconds->value, 0U);
  EXPECT_EQ(l.memory->where.str(), "t.yaml:4:32");
  const Limits& off = r->profiles.at("q").limits;
  for (const auto& k : limit_keys()) {
    ASSERT_TRUE(off.*k.field) << k.name;
    EXPECT_EQ((off.*k.field)->value, 0U) << k.name;
  }
}

TEST(ProfileParseLimits, SizeSpellings) {
  std::string why;
  EXPECT_EQ(parse_size("1024", why), 1024U);
  EXPECT_EQ(parse_size("64k", why), 64U << 10);
  EXPECT_EQ(parse_size("64KiB", why), 64U << 10);
  EXPECT_EQ(parse_size("3MB", why), 3U << 20);
  EXPECT_EQ(parse_size("1T", why), 1ULL << 40);
  EXPECT_FALSE(parse_size("1.5G", why));
  EXPECT_FALSE(parse_size("", why));
  EXPECT_FALSE(parse_size("1g", why));
  EXPECT_EQ(size_text(1ULL << 30), "1G");
  EXPECT_EQ(size_text(1536ULL << 20), "1536M");
  EXPECT_EQ(size_text(1000), "1000");
}

}  // namespace aisbx::profile
