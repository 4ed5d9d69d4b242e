// The private HOME: one per profile and project, unless the profile asks to
// share it. A HOME is state a run leaves for the next one (shell start-up
// files, usercustomize.py, git and npm config): shared between projects, a
// run in one project could plant code that runs in the next project's
// sandbox and reads that project (issue 17, item 6). So the written path is
// a base directory holding `<profile>-<hash of the project>` homes.
#include <cstdint>

#include "plan/parts.h"

namespace aisbx::plan {
namespace {

// Resolves what the launcher trusts (the real HOME, or the parent of a
// HOME written outside it) and keeps the rest literal: the components below
// are the sandbox's to write, and a symlink there must refuse, not be
// followed (`~/.ai-sandbox/homes/agent-…` swapped for a link to `~/.ssh`).
struct Anchored {
  std::string path;        // canonical up to `from`, literal below it
  std::string from;        // components strictly below this one are checked
};

Anchored anchor(const std::string& written, const std::string& real_home,
                const std::string& host_home, const Fs& fs) {
  for (const std::string& h : {host_home, real_home})
    if (!h.empty() && h != "/" && is_within(written, h) && written != h)
      return {real_home + written.substr(h.size()), real_home};
  const std::string parent = parent_dir(written);
  const std::string real_parent = fs.realpath(parent).value_or(parent);
  const std::string base = written.substr(written.rfind('/') + 1);
  return {(real_parent == "/" ? "" : real_parent) + "/" + base, real_parent};
}

}  // namespace

std::string home_hash(const std::string& text) {
  // FNV-1a, 64 bits: stable across builds and runs (std::hash is not), and
  // a name, not a secret: the project path is known to whoever sees it.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = kHex[h & 0xf];
  return out;
}

Expected<void> plan_home(Context& cx) {
  const auto& p = cx.in.profile;
  const auto& o = cx.in.options;
  NamespacePlan& ns = cx.plan.ns;

  // --home DIR is taken as written; `home:` and command.env.HOME name the
  // base of per-project homes unless the profile says `shared: true`.
  std::optional<profile::Located<std::string>> raw;
  bool shared = false;
  if (o.home) {
    raw = profile::Located<std::string>{absolute(*o.home, cx.in.host.cwd), {"--home", 0, 0}};
    shared = true;
  } else if (p.home) {
    raw = *p.home;
    shared = p.home_shared.value_or(false);
  } else {
    for (const auto& [k, v] : p.command.env)
      if (k == "HOME") raw = v;
  }
  if (!raw) return {};
  AISBX_ASSIGN(written, expand_path(*raw, cx.vars));
  const std::string real_home =
      cx.in.fs.realpath(cx.in.host.home).value_or(normalize(cx.in.host.home));
  if (is_within(real_home, written) || is_within(normalize(cx.in.host.home), written))
    return fail(raw->where.str() + ": the private HOME `" + written +
                    "` is the real home `" + real_home + "` or one of its parents",
                "use a dedicated directory such as ~/.ai-sandbox/homes");
  Anchored a = anchor(written, real_home, normalize(cx.in.host.home), cx.in.fs);
  std::string home = a.path;
  if (!shared) {
    const std::string project =
        cx.in.fs.realpath(cx.plan.project).value_or(normalize(cx.plan.project));
    home += "/" + p.name + "-" + home_hash(project);
  }
  // Every component the sandbox could have written is looked at without
  // following it; the stage does the same with O_NOFOLLOW, at launch.
  for (std::size_t i = a.from.size() + (a.from == "/" ? 0 : 1); i <= home.size();) {
    std::size_t end = home.find('/', i);
    if (end == std::string::npos) end = home.size();
    const std::string part = home.substr(0, end);
    if (cx.in.fs.kind(part) == FileKind::symlink)
      return fail(raw->where.str() + ": the private HOME `" + home + "` is reached through `" +
                      part + "`, which is a symbolic link",
                  "a HOME is never entered through a link (a run could point it at ~/.ssh): "
                  "remove the link, or choose another `home`");
    i = end + 1;
  }
  ns.home = home;
  ns.home_shared = shared;
  ns.home_checked_below = a.from;
  ns.home_where = raw->where.str();
  return {};
}

Expected<void> check_home_outside_roots(Context& cx, const std::vector<Root>& roots) {
  const NamespacePlan& ns = cx.plan.ns;
  if (ns.home.empty()) return {};
  // A HOME inside a writable root can be replaced from inside the sandbox
  // (by a link to any directory of the user) before the next run.
  for (const Root& r : roots) {
    if (!(r.granted & fs::kWriteRights) || !is_within(ns.home, r.path)) continue;
    return fail(ns.home_where + ": the private HOME `" + ns.home + "` lies inside `" + r.path +
                    "`, which the sandbox may write (" + r.where.str() + ", group " + r.group + ")",
                "keep private homes outside every writable root, e.g. under ~/.ai-sandbox/homes");
  }
  return {};
}

}  // namespace aisbx::plan
