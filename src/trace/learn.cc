// `learn`: the denials of a traced run, written as a profile that extends
// the one it ran under. Each addition says what used it; secret stores are
// only ever written commented out, under a WARNING line.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>

#include "aisbx/trace.h"
#include "plan/expand.h"

namespace aisbx::trace {
namespace {

// A comment holds one line: no newline may end it early.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

// ${PROJECT}/... and ~/... where they apply, so the profile fits another
// checkout and another user.
std::string portable(const std::string& path, const std::string& project,
                     const std::string& home) {
  if (!project.empty() && plan::is_within(path, project))
    return "${PROJECT}" + path.substr(project.size());
  if (!home.empty() && home != "/" && plan::is_within(path, home))
    return "~" + path.substr(home.size());
  return path;
}

// Where `path` leads on the host: the real path of its deepest existing
// ancestor, with the rest (what the tool wanted to create) appended.
std::string resolved(const Fs& fs, const std::string& path) {
  std::string head = path, tail;
  while (true) {
    if (auto real = fs.realpath(head)) return plan::normalize(*real + tail);
    if (head == "/" || head.empty()) return path;
    const auto slash = head.rfind('/');
    tail = head.substr(slash) + tail;
    head = slash == 0 ? "/" : head.substr(0, slash);
  }
}

// Why a root may not be proposed, or "". A profile expands `${...}` and a
// leading `~` in paths, so a name holding `$` cannot be written literally;
// and a path in the project that resolves out of it (a `home -> /home`
// link) would grant what the project only points at.
std::string not_proposable(const LearnInput& in, const std::string& path,
                           const std::string& written, const std::string& real) {
  std::string tail = written;
  if (tail.starts_with("${PROJECT}")) tail = tail.substr(10);
  else if (tail.starts_with("~")) tail = tail.substr(1);
  if (tail.find('$') != std::string::npos)
    return "its name holds `$`, which a profile would expand: not proposed";
  if (in.fs && !in.project.empty() && plan::is_within(path, in.project)) {
    const std::string project = resolved(*in.fs, in.project);
    if (!plan::is_within(real, project))
      return q(path) + " resolves through a symlink to " + q(real) +
             ", outside the project: not proposed";
  }
  return {};
}

std::string group_name(const std::string& path, std::set<std::string>& taken) {
  const std::string key = plan::yaml_key_of(path);
  const std::string name = "learned" + (key.empty() ? std::string() : "-" + key);
  std::string out = name;
  for (int n = 2; taken.contains(out); ++n) out = name + "-" + std::to_string(n);
  taken.insert(out);
  return out;
}

std::string what_used(const Denial& d) {
  std::string who;
  for (const auto& p : d.programs) who += (who.empty() ? "" : ", ") + p;
  if (who.empty()) who = "the command";
  return one_line(who + ": " + d.operation + " " + d.subject + " (" + to_string(d.wall) +
                  (d.count > 1 ? ", " + std::to_string(d.count) + "x" : std::string()) + ")");
}

std::string ports(const std::set<int>& s) {
  std::string out;
  for (int p : s) out += (out.empty() ? "" : ", ") + std::to_string(p);
  return "[" + out + "]";
}

struct Root {
  AccessMask rights = 0;
  bool secret = false;
  bool private_home = false;
  std::vector<std::string> used;
};

}  // namespace

Expected<std::string> embed_profiles(const std::string& yaml_text, const std::string& file) {
  try {
    const YAML::Node doc = YAML::Load(yaml_text);
    const YAML::Node profiles = doc["profiles"];
    if (!profiles || !profiles.IsMap())
      return fail(q(file) + ": no `profiles` map to copy into the learned file");
    YAML::Emitter e;
    e.SetIndent(2);
    e << profiles;
    std::string out;
    const std::string text = e.c_str();
    std::size_t i = 0;
    while (i < text.size()) {
      const auto nl = text.find('\n', i);
      const std::string line = text.substr(i, nl == std::string::npos ? std::string::npos : nl - i);
      out += (line.empty() ? "" : "  ") + line + "\n";
      if (nl == std::string::npos) break;
      i = nl + 1;
    }
    return out;
  } catch (const YAML::Exception& ex) {
    return fail(q(file) + ": cannot copy its profiles into the learned file: " + ex.what());
  }
}

std::string propose_profile(const LearnInput& in, const Report& r) {
  std::map<std::string, Root> roots;  // portable path -> what it needs
  std::vector<std::string> root_order;
  std::set<int> connect, bind;
  std::vector<std::string> net_used, scope_used, seccomp_used, not_proposed;
  std::set<std::string> allow;
  bool scope_signal = false, scope_abstract = false, nested = false;

  for (auto it = r.denials.rbegin(); it != r.denials.rend(); ++it) {  // oldest first
    const Denial& d = *it;
    const Proposal& p = d.proposal;
    switch (p.kind) {
      case Proposal::Kind::root: {
        const std::string path = portable(p.path, in.project, in.home);
        const std::string real = in.fs ? resolved(*in.fs, p.path) : p.path;
        if (const std::string why = not_proposable(in, p.path, path, real); !why.empty()) {
          not_proposed.push_back(what_used(d) + ": " + one_line(why));
          break;
        }
        if (!roots.contains(path)) root_order.push_back(path);
        Root& root = roots[path];
        root.rights |= p.rights;
        // Judged where the path leads, not on its name.
        root.secret = root.secret || p.secret || is_secret_path(real, in.home);
        root.private_home = root.private_home || p.private_home;
        root.used.push_back(what_used(d));
        break;
      }
      case Proposal::Kind::connect_tcp:
      case Proposal::Kind::bind_tcp:
        (p.kind == Proposal::Kind::connect_tcp ? connect : bind).insert(p.port);
        net_used.push_back(what_used(d));
        break;
      case Proposal::Kind::scope_signal:
      case Proposal::Kind::scope_abstract:
        (p.kind == Proposal::Kind::scope_signal ? scope_signal : scope_abstract) = true;
        scope_used.push_back(what_used(d));
        break;
      case Proposal::Kind::seccomp_allow:
        allow.insert(p.syscall);
        seccomp_used.push_back(what_used(d));
        break;
      case Proposal::Kind::nested_userns:
        nested = true;
        seccomp_used.push_back(what_used(d));
        break;
      default:
        not_proposed.push_back(what_used(d) + ": " + one_line(d.why));
        break;
    }
  }

  std::set<std::string> taken;
  if (in.base_profile)
    for (const auto& g : in.base_profile->access_roots) taken.insert(g.name);

  std::string y;
  y += "# Proposed by `aisbx-ns learn` from a traced run of: " + one_line(in.command) + "\n";
  y += "# Review every line before use, then run with:\n";
  y += "#   aisbx-ns --config THIS_FILE --profile " + in.name + " -- COMMAND\n";
  y += "version: 1\nprofiles:\n";
  y += in.embedded;
  y += "  " + in.name + ":\n";
  y += "    description: " +
       plan::yaml_quote(in.base + " and what the traced command needed (aisbx-ns learn)") + "\n";
  y += "    extends: " + in.base + "\n";

  std::string active, commented;
  for (const auto& path : root_order) {
    const Root& root = roots.at(path);
    const std::string name = group_name(path, taken);
    std::string block = name + ":\n";
    for (const auto& u : root.used) block += "  # used by " + u + "\n";
    block += "  paths: [" + plan::yaml_quote(path) + "]\n";
    block += "  permissions: {" + plan::rights_yaml(root.rights) + "}\n";
    if (!root.secret && !root.private_home) {
      for (std::size_t i = 0; i < block.size();) {
        const auto nl = block.find('\n', i);
        active += "      " + block.substr(i, nl - i + 1);
        i = nl + 1;
      }
      continue;
    }
    if (root.secret)
      commented += "      # WARNING: " + path +
                   " is in or contains a secret store (~/.ssh, ~/.gnupg, ~/.aws, keyrings ...):\n"
                   "      # not proposed. Uncomment only if the tool must have it.\n";
    if (root.private_home)
      commented += "      # The tool looked for this in its private HOME: copy it there instead,\n"
                   "      # or uncomment to show the real one at its own path.\n";
    for (std::size_t i = 0; i < block.size();) {
      const auto nl = block.find('\n', i);
      commented += "      # " + block.substr(i, nl - i + 1);
      i = nl + 1;
    }
  }
  if (!active.empty() || !commented.empty()) {
    // A key with nothing but comments would be null: the commented groups
    // then go under a commented key.
    y += active.empty() ? "    # access_roots:\n" : "    access_roots:\n";
    y += active + commented;
  }

  if (!connect.empty() || !bind.empty()) {
    y += "    network:\n";
    for (const auto& u : net_used) y += "      # used by " + u + "\n";
    y += "      mode: host\n";
    if (in.base_profile) {
      const auto& n = in.base_profile->network;
      if (n.connect_tcp) connect.insert(n.connect_tcp->begin(), n.connect_tcp->end());
      if (n.bind_tcp) bind.insert(n.bind_tcp->begin(), n.bind_tcp->end());
    }
    if (!connect.empty()) y += "      connect_tcp: " + ports(connect) + "\n";
    if (!bind.empty()) y += "      bind_tcp: " + ports(bind) + "\n";
  }
  if (scope_signal || scope_abstract) {
    y += "    scope:\n";
    for (const auto& u : scope_used) y += "      # used by " + u + "\n";
    if (scope_signal) y += "      signal: false\n";
    if (scope_abstract) y += "      abstract_unix_socket: false\n";
  }
  if (!allow.empty() || nested) {
    y += "    seccomp:\n";
    for (const auto& u : seccomp_used) y += "      # used by " + u + "\n";
    if (!allow.empty()) {
      std::set<std::string> all = allow;
      if (in.base_profile && in.base_profile->seccomp.allow)
        for (const auto& a : *in.base_profile->seccomp.allow) all.insert(a.value);
      std::string list;
      for (const auto& a : all) list += (list.empty() ? "" : ", ") + a;
      y += "      allow: [" + list + "]\n";
    }
    if (nested) y += "      allow_nested_userns: true\n";
  }
  for (const auto& n : not_proposed) y += "    # no profile line allows: " + n + "\n";
  if (r.denials.empty()) y += "    # the traced run met no refusal: nothing to add\n";
  return y;
}

}  // namespace aisbx::trace
