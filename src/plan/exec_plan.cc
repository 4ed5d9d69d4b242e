#include <fnmatch.h>

#include <algorithm>

#include "plan/glob.h"
#include "plan/parts.h"

namespace aisbx::plan {
namespace {

// A Landlock rule lets the sandbox create files in /tmp.
bool tmp_is_granted(const Plan& p) {
  if (!p.landlock.enabled) return true;
  for (const auto& r : p.landlock.rules)
    if (r.is_dir && is_within("/tmp", r.path) && (r.access & fs::kMakeReg)) return true;
  return false;
}

// Variables that hold secrets or point at them (agents, askpass helpers).
// They are not passed unless env_policy.keep names them. Matched without
// regard to case: npm reads `npm_config_*` in any case, and a lower-case
// `github_token` is as secret as the upper-case one.
constexpr const char* kSecretPatterns[] = {
    "*_TOKEN",  "*_TOKEN_*",     "*TOKEN",       "*_SECRET*", "*_PASSWORD*", "*_PASSWD",
    "*PASSWORD", "*_PWD",        "*_PAT",        "*_JWT",     "*_JWT_*",
    "*_KEY",    "*_KEY_*",       "*_CREDENTIALS", "AWS_*",    "AZURE_*",     "GITHUB_TOKEN",
    "DATABASE_URL", "DOCKER_AUTH_CONFIG", "NPM_CONFIG_*AUTH*", "NPM_CONFIG_*PASSWORD*",
    "NPM_CONFIG_*TOKEN*",
    "SSH_AUTH_SOCK", "SSH_AGENT_PID", "GPG_AGENT_INFO", "GIT_ASKPASS", "*_ASKPASS",
    "*_ASKPASS_*"};

// `scheme://user:password@host...`: a URL that carries a password
// (DATABASE_URL, REDIS_URL, http_proxy with credentials), whatever its name.
bool has_url_password(const std::string& v) {
  const auto sep = v.find("://");
  if (sep == std::string::npos || sep == 0) return false;
  for (std::size_t i = 0; i < sep; ++i) {
    const char c = v[i];
    const bool scheme_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!scheme_char) return false;
  }
  const std::string rest = v.substr(sep + 3);
  const std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  const auto at = authority.rfind('@');
  if (at == std::string::npos) return false;
  return authority.substr(0, at).find(':') != std::string::npos;
}

// What a clean environment keeps: what programs need to behave, nothing
// that names a socket or a secret.
constexpr const char* kCleanKeep[] = {"PATH", "TERM", "COLORTERM", "LANG", "LANGUAGE",
                                      "LC_*", "TZ",   "USER",      "LOGNAME", "SHELL",
                                      "HOME", "NO_COLOR"};

bool matches(const std::string& name, const std::string& pattern, int flags = 0) {
  return ::fnmatch(pattern.c_str(), name.c_str(), flags) == 0;
}

bool is_secret(const std::string& name, const std::string& value) {
  return has_url_password(value) ||
         std::any_of(std::begin(kSecretPatterns), std::end(kSecretPatterns),
                     [&](const char* p) { return star_match(p, name, true); });
}

template <class Range>
bool matches_any(const std::string& name, const Range& patterns) {
  return std::any_of(std::begin(patterns), std::end(patterns),
                     [&](const auto& p) { return matches(name, p); });
}

void set_env(std::vector<std::pair<std::string, std::string>>& env, const std::string& k,
             const std::string& v) {
  for (auto& [key, value] : env)
    if (key == k) {
      value = v;
      return;
    }
  env.emplace_back(k, v);
}

Expected<std::string> expand_value(const profile::Located<std::string>& v, const Vars& vars) {
  const bool tilde = v.value == "~" || v.value.starts_with("~/");
  if (!tilde && v.value.find("${") == std::string::npos) return v.value;
  return expand(v, vars);
}

Expected<void> plan_env(Context& cx) {
  const auto& p = cx.in.profile;
  ExecPlan& e = cx.plan.exec;
  const bool clean = p.env_policy.mode.value_or(profile::EnvMode::inherit) ==
                     profile::EnvMode::clean;
  const std::vector<std::string> keep = p.env_policy.keep.value_or(std::vector<std::string>{});
  for (const auto& [k, v] : cx.in.host.env) {
    const bool kept = matches_any(k, keep);
    const bool drop = clean ? !(kept || std::any_of(std::begin(kCleanKeep), std::end(kCleanKeep),
                                                    [&](const char* pat) { return star_match(pat, k, false); }))
                            : (!kept && is_secret(k, v));
    if (drop)
      e.env_dropped.push_back(k);
    else
      e.env.emplace_back(k, v);
  }
  for (const auto& [k, v] : p.command.env) {
    AISBX_ASSIGN(value, expand_value(v, cx.vars));
    set_env(e.env, k, value);
  }
  if (!cx.plan.ns.home.empty()) set_env(e.env, "HOME", cx.plan.ns.home);
  if (!cx.plan.ns.enabled && !cx.plan.ns.home.empty() && !tmp_is_granted(cx.plan)) {
    e.tmpdir = cx.plan.ns.home + "/.tmp";
    set_env(e.env, "TMPDIR", e.tmpdir);
  }
  for (const auto& [k, v] : cx.in.options.env) {
    if (k.empty() || k.find('=') != std::string::npos)
      return fail("--env `" + k + "=" + v + "`: expected NAME=VALUE");
    set_env(e.env, k, v);
  }
  std::erase_if(e.env_dropped, [&](const std::string& k) {
    return std::any_of(e.env.begin(), e.env.end(), [&](const auto& kv) { return kv.first == k; });
  });
  return {};
}

// Why the host directory `dir` (a real path) is not there, as itself, in
// the sandbox; nullopt when it is.
std::optional<std::string> not_visible(const Plan& plan, const std::vector<Root>& roots,
                                       const std::string& dir) {
  const NamespacePlan& ns = plan.ns;
  if (ns.enabled) {
    // The mount on top decides: the host's directory shows through a bind
    // of a root, the host tree or a readonly subpath, not through the
    // sandbox's own /tmp, /proc, /dev or a deny mask.
    const MountOp* top = nullptr;
    for (const auto& op : ns.mounts)
      if (op.kind != MountKind::symlink && op.kind != MountKind::pin && is_within(dir, op.target))
        top = &op;
    if (!top) return "is not inside any root of the profile";
    switch (top->kind) {
      case MountKind::bind:
      case MountKind::host_root:
      case MountKind::home:
      case MountKind::readonly:
      case MountKind::overlay:
        return std::nullopt;
      case MountKind::tmp:
        return "lies in /tmp, which is the sandbox's own empty one";
      case MountKind::mask_dir:
      case MountKind::mask_file:
        return "is hidden by a `deny` of group " + q(top->origin);
      default:
        return "lies under the sandbox's own " + top->target;
    }
  }
  // Landlock alone: the host tree is there, but a directory no root lets
  // the sandbox list is no place to work in. The roots as granted, not the
  // rules: a root split around a denied subdirectory loses read_dir on the
  // way there, and is still the project.
  const LandlockPlan& l = plan.landlock;
  if (!l.enabled || !(l.handled_fs & fs::kReadDir)) return std::nullopt;
  if (!ns.home.empty() && is_within(dir, ns.home)) return std::nullopt;
  for (const auto& r : roots)
    if (r.is_dir && (r.granted & fs::kReadDir) && is_within(dir, r.path)) return std::nullopt;
  return "lies under no root that lets the sandbox list it (read_dir)";
}

// The working directory of the command:
//   --chdir DIR, which must be visible;
//   the profile's own command (nothing after `--`): command.working_dir;
//   else the caller's cwd when the sandbox shows it, else
//   command.working_dir; else the run is refused (the plan is kept, so
//   that inspection still shows it).
Expected<void> plan_cwd(Context& cx, const std::vector<Root>& roots) {
  const auto& c = cx.in.profile.command;
  const auto& o = cx.in.options;
  ExecPlan& e = cx.plan.exec;
  const std::string& profile = cx.in.profile.name;
  const auto real = [&](const std::string& p) { return cx.in.fs.realpath(p).value_or(p); };
  std::optional<std::string> wd;
  if (c.working_dir) {
    AISBX_ASSIGN(expanded, expand_path(*c.working_dir, cx.vars));
    // Through a symlinked root, the real directory is what gets mounted.
    wd = real(expanded);
  }
  const std::string host_cwd = real(cx.in.host.cwd);
  const bool own_command = o.command.empty();
  auto refuse = [&](std::string what, std::string hint) {
    if (!cx.plan.refusal) cx.plan.refusal = Error{std::move(what), 0, std::move(hint)};
  };

  if (o.chdir) {
    e.cwd = real(absolute(*o.chdir, cx.in.host.cwd));
    e.cwd_source = "chdir";
    if (auto why = not_visible(cx.plan, roots, e.cwd))
      refuse("--chdir " + q(e.cwd) + " " + *why + " of profile " + q(profile) +
                 ", so it does not exist in the sandbox",
             "pass a directory inside the project or another root");
    return {};
  }
  if (own_command && wd) {
    e.cwd = *wd;
    e.cwd_source = "working_dir";
    if (auto why = not_visible(cx.plan, roots, e.cwd))
      refuse(c.working_dir->where.str() + ": command.working_dir " + q(e.cwd) + " " + *why +
                 " of profile " + q(profile) + ", so it does not exist in the sandbox",
             "set command.working_dir to a directory inside a root, or pass --chdir DIR");
    return {};
  }
  e.cwd = host_cwd;
  e.cwd_source = "cwd";
  const auto why = not_visible(cx.plan, roots, host_cwd);
  if (!why) return {};
  const std::string cwd_said =
      "the current directory " + q(host_cwd) + " " + *why + " of profile " + q(profile);
  if (wd) {
    e.cwd = *wd;
    e.cwd_source = "working_dir";
    if (auto wd_why = not_visible(cx.plan, roots, e.cwd))
      refuse(cwd_said + ", and command.working_dir " + q(e.cwd) + " (" +
                 c.working_dir->where.str() + ") " + *wd_why,
             "cd into the project, pass --chdir DIR, or set command.working_dir to a "
             "directory inside a root");
    return {};
  }
  refuse(cwd_said + ", so it does not exist in the sandbox",
         "cd into the project, pass --chdir DIR, or set command.working_dir in profile " +
             q(profile));
  return {};
}

Expected<void> plan_argv(Context& cx, const std::vector<Root>& roots) {
  const auto& c = cx.in.profile.command;
  ExecPlan& e = cx.plan.exec;
  if (!cx.in.options.command.empty()) {
    e.argv = cx.in.options.command;
  } else if (c.binary) {
    std::string bin = c.binary->value;
    if (bin.find('/') != std::string::npos || bin.starts_with("~")) {
      AISBX_ASSIGN(path, expand_path(*c.binary, cx.vars));
      bin = path;
    }
    e.argv.push_back(bin);
    for (const auto& a : c.args.value_or(std::vector<std::string>{})) e.argv.push_back(a);
  } else {
    return fail("profile `" + cx.in.profile.name + "` has no command and none was given",
                "put the command after `--`, or set command.binary in the profile");
  }
  if (e.argv[0].empty()) return fail("the command's name is empty");
  AISBX_TRY(plan_cwd(cx, roots));
  for (int fd : cx.in.options.keep_fds)
    if (fd <= 2) return fail("--keep-fd " + std::to_string(fd) + ": 0, 1 and 2 are always kept");
  e.keep_fds = cx.in.options.keep_fds;
  return {};
}

}  // namespace

Expected<void> plan_exec(Context& cx, const std::vector<Root>& roots) {
  AISBX_TRY(plan_env(cx));
  return plan_argv(cx, roots);
}

void plan_status(Plan& plan, const Features& f) {
  const auto& ns = plan.ns;
  if (ns.enabled)
    plan.status.push_back(std::string("namespace: on (user, mount, pid, ipc, uts") +
                          (ns.net != profile::NetMode::host
                               ? std::string(", net: ") + profile::to_string(ns.net)
                               : "") +
                          ")");
  else if (plan.mode == Mode::landlock)
    plan.status.push_back("namespace: off (landlock mode)");
  else
    plan.status.push_back("namespace: off: " + f.userns_why);

  const auto& l = plan.landlock;
  std::string line = "landlock: ";
  if (plan.mode == Mode::ns)
    line += l.enabled ? "scopes only (ns mode), ABI " + std::to_string(l.abi) +
                            (l.ignored_scopes ? ", partial" : "")
                      : std::string("off (ns mode)");
  else if (l.abi == 0)
    line += "off: " + (f.landlock_why.empty() ? std::string("no Landlock") : f.landlock_why);
  else if (!l.enabled)
    line += "off: the profile controls nothing";
  else {
    line += "ABI " + std::to_string(l.abi) + ", " + to_string(l.enforcement);
    std::vector<std::string> missing = fs_right_names(l.ignored_fs);
    if (l.ignored_net) missing.push_back("network rules");
    if (l.ignored_scopes) missing.push_back("scopes");
    for (std::size_t i = 0; i < missing.size(); ++i)
      line += (i == 0 ? " — " : ", ") + missing[i];
    if (!missing.empty()) line += " ignored";
  }
  plan.status.push_back(line);
  const auto& sc = plan.seccomp;
  plan.status.push_back(std::string("seccomp: ") +
                        (sc.enabled     ? (sc.preset ? "default" : "custom")
                         : sc.tty_guard ? "off (terminal guard only: ioctl TIOCSTI/TIOCLINUX denied)"
                                        : "off"));
}

}  // namespace aisbx::plan
