// The Oracle: what the two walls of a Plan make of a path. It mirrors how
// the stages build the sandbox (src/stages/mounts.cc, special_fs.cc,
// landlock.cc), so that a --check finding and an exec failure name the same
// cause the kernel will meet.
#include "aisbx/oracle.h"

#include <algorithm>
#include <array>
#include <deque>
#include <string_view>

#include "plan/expand.h"

namespace aisbx::plan {
namespace {

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

std::deque<std::string> split(const std::string& p) {
  std::deque<std::string> parts;
  std::size_t i = 0;
  while (i <= p.size()) {
    const auto j = p.find('/', i);
    std::string part = p.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (!part.empty()) parts.push_back(std::move(part));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return parts;
}

// Mounts that show a tree at their target (everything but the empty root
// and the recreated symlinks).
bool shows_tree(MountKind k) {
  return k != MountKind::tmpfs_root && k != MountKind::symlink && k != MountKind::pin;
}

// What mount_dev() (src/stages/special_fs.cc) puts into the minimal /dev.
bool in_minimal_dev(const std::string& path) {
  static constexpr std::array<std::string_view, 13> kEntries = {
      "null", "zero", "full", "random", "urandom", "tty",   "pts",
      "shm",  "ptmx", "fd",   "stdin",  "stdout",  "stderr"};
  if (path == "/dev") return true;
  for (auto e : kEntries) {
    const std::string node = "/dev/" + std::string(e);
    // Beneath pts and shm are their own file systems, whatever they hold.
    if (path == node || ((e == "pts" || e == "shm") && is_within(path, node)))
      return true;
  }
  return false;
}

// Rule origins are comma-joined when two groups name one path.
std::vector<std::string> groups_of(const std::string& origin) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= origin.size()) {
    const auto j = origin.find(',', i);
    out.push_back(origin.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

// A group name for a suggested group: the path's last name as a key that
// needs no quoting, starting with a letter.
std::string group_name_for(const std::string& path) {
  const std::string key = yaml_key_of(path);
  return key.empty() || !(key[0] >= 'a' && key[0] <= 'z') ? "extra-" + key : key;
}

// A group the user can edit: not an implicit origin ("private HOME",
// "sandbox /tmp"), not the network.unix_sockets list.
bool editable_group(const std::string& g) {
  return !g.empty() && g.find(' ') == std::string::npos &&
         g.find('.') == std::string::npos && g != "implicit";
}

std::string join_list(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

Need need_exec() { return {fs::kReadFile | fs::kExecute, true}; }
Need need_load() { return {fs::kReadFile, true}; }
Need need_read() { return {fs::kReadFile, false}; }
Need need_home() {
  return {fs::kReadFile | fs::kReadDir | fs::kWriteFile | fs::kMakeReg | fs::kMakeDir |
              fs::kRemoveFile,
          false};
}

const char* to_string(Seen s) {
  switch (s) {
    case Seen::visible:
      return "visible";
    case Seen::absent:
      return "absent";
    case Seen::hidden:
      return "hidden";
    case Seen::private_fs:
      return "private";
  }
  return "?";
}

const MountOp* Oracle::mount_of(const std::string& path) const {
  if (!plan_.ns.enabled) return nullptr;
  const MountOp* best = nullptr;
  for (const auto& op : plan_.ns.mounts) {
    if (!shows_tree(op.kind) || !is_within(path, op.target)) continue;
    // Deeper mounts are made later and sit on top; at one target the later wins.
    if (!best || op.target.size() >= best->target.size()) best = &op;
  }
  return best;
}

Seen Oracle::seen(const std::string& path) const {
  const NamespacePlan& ns = plan_.ns;
  if (!ns.enabled) return Seen::visible;
  // Masks are mounted after every bind (stages/mounts.cc): they cover what
  // lies beneath them whatever its depth.
  for (const auto& op : ns.mounts) {
    if (op.kind == MountKind::mask_dir && path != op.target && is_within(path, op.target))
      return Seen::hidden;
    if (op.kind == MountKind::mask_file && path == op.target) return Seen::hidden;
  }
  // A directory on the way to a mount exists: mkdir_p made it.
  auto on_the_way = [&] {
    return std::any_of(ns.mounts.begin(), ns.mounts.end(), [&](const MountOp& op) {
      return op.kind != MountKind::tmpfs_root && op.target != path &&
             is_within(op.target, path);
    });
  };
  if (const MountOp* m = mount_of(path)) {
    switch (m->kind) {
      case MountKind::tmp:
        return path == m->target || on_the_way() ? Seen::visible : Seen::private_fs;
      case MountKind::dev:
        return in_minimal_dev(path) ? Seen::visible : Seen::private_fs;
      default:
        return Seen::visible;
    }
  }
  if (!ns.empty_root || path == "/" || on_the_way()) return Seen::visible;
  for (const auto& op : ns.mounts)
    if (op.kind == MountKind::symlink && op.target == path) return Seen::visible;
  return Seen::absent;
}

AccessMask Oracle::landlock_rights(const std::string& path) const {
  AccessMask m = 0;
  for (const auto& r : plan_.landlock.rules)
    if (r.is_dir ? is_within(path, r.path) : path == r.path) m |= r.access;
  return m;
}

Verdict Oracle::check(const std::string& path, const Need& need) const {
  Verdict v;
  v.path = path;
  v.seen = seen(path);
  const NamespacePlan& ns = plan_.ns;
  if (ns.enabled) {
    for (const auto& op : ns.mounts)
      if ((op.kind == MountKind::mask_dir || op.kind == MountKind::mask_file) &&
          is_within(path, op.target))
        v.deny_group = op.origin;
    const MountOp* m = mount_of(path);
    if (m) v.mount_origin = m->origin;
    if (v.seen == Seen::visible) {
      // No mount: a directory of the empty root, which is read-only.
      const bool ro = m ? m->read_only : true;
      const bool noexec = m ? m->noexec : false;
      if (need.exec_mount && noexec) v.missing_mount |= fs::kExecute;
      if (ro) v.missing_mount |= need.rights & fs::kWriteRights;
    }
  }
  const LandlockPlan& l = plan_.landlock;
  if (l.enabled) {
    // Deepest rule first: its group is the one a fix would extend.
    std::vector<const LandlockRule*> covering;
    for (const auto& r : l.rules)
      if (r.is_dir ? is_within(path, r.path) : path == r.path) covering.push_back(&r);
    std::stable_sort(covering.begin(), covering.end(), [](const auto* a, const auto* b) {
      return a->path.size() > b->path.size();
    });
    for (const auto* r : covering) {
      v.granted |= r->access;
      for (const auto& g : groups_of(r->origin))
        if (std::find(v.rule_groups.begin(), v.rule_groups.end(), g) ==
            v.rule_groups.end())
          v.rule_groups.push_back(g);
    }
    v.missing_landlock = need.rights & l.handled_fs & ~v.granted;
  }
  return v;
}

Resolution Oracle::resolve(const Fs& fs, const std::string& path) const {
  return walk(fs, path, true);
}

Resolution Oracle::walk(const Fs& fs, const std::string& path, bool sandbox_view) const {
  constexpr int kMaxLinks = 40;  // the kernel's MAXSYMLINKS
  Resolution r;
  r.path = path;
  if (path.empty() || path[0] != '/') {
    r.missing = path;
    return r;
  }
  std::deque<std::string> todo = split(path);
  std::string cur = "/";
  int links = 0;
  while (!todo.empty()) {
    const std::string name = todo.front();
    todo.pop_front();
    if (name == ".") continue;
    if (name == "..") {
      cur = parent_dir(cur);
      continue;
    }
    const std::string next = join(cur, name);
    if (const Seen s = sandbox_view ? seen(next) : Seen::visible; s != Seen::visible) {
      r.blocked = next;
      r.blocked_why = s;
      r.reached = next;
      for (const auto& rest : todo)
        r.reached = rest == ".."  ? parent_dir(r.reached)
                    : rest == "." ? r.reached
                                  : join(r.reached, rest);
      return r;
    }
    const FileKind k = fs.kind(next);
    if (k == FileKind::missing) {
      r.missing = next;
      return r;
    }
    if (k == FileKind::symlink) {
      auto text = fs.readlink(next);
      if (++links > kMaxLinks || !text || text->empty()) {
        r.loop = links > kMaxLinks;
        r.missing = r.loop ? std::string() : next;
        return r;
      }
      r.links.push_back(next);
      auto more = split(*text);
      todo.insert(todo.begin(), more.begin(), more.end());
      if ((*text)[0] == '/') cur = "/";
      continue;  // a relative text continues from the link's directory
    }
    if (!todo.empty() && k != FileKind::directory) {
      r.missing = next;  // ENOTDIR: reported as "does not exist" on the way
      return r;
    }
    cur = next;
  }
  r.target = cur;
  return r;
}

std::string Oracle::root_to_add(const Fs& fs, const Resolution& r) const {
  if (!r.blocked.empty()) {
    const FileKind k = fs.kind(r.blocked);
    const bool merged = is_merged_usr_link(r.blocked);
    if (k == FileKind::symlink || (k == FileKind::missing && merged)) return r.blocked;
  }
  return parent_dir(r.reached.empty() ? r.path : r.reached);
}

std::vector<std::string> Oracle::roots_to_add(const Fs& fs, const Resolution& r) const {
  if (r.blocked.empty() || r.blocked_why != Seen::absent) return {root_to_add(fs, r)};
  const Resolution host = walk(fs, r.path, false);
  if (!host.target) return {root_to_add(fs, r)};
  std::vector<std::string> out;
  std::vector<std::string> reached;  // where the listed links lead: visible once listed
  auto will_show = [&](const std::string& p) {
    if (seen(p) == Seen::visible) return true;
    return std::any_of(reached.begin(), reached.end(),
                       [&](const std::string& t) { return is_within(p, t); });
  };
  for (const auto& link : host.links) {
    if (will_show(link)) continue;
    // /lib64 -> usr/lib64: recreated once what it leads to is visible.
    if (is_merged_usr_link(link)) {
      const auto text = fs.readlink(link);
      if (text && (*text == "usr" + link || *text == "/usr" + link)) continue;
    }
    const auto to = fs.realpath(link);
    if (!to) return {root_to_add(fs, r)};
    out.push_back(link);
    reached.push_back(*to);
  }
  if (!will_show(*host.target)) out.push_back(parent_dir(*host.target));
  if (out.empty()) return {root_to_add(fs, r)};
  return out;
}

std::string Oracle::explain(const Verdict& v) const {
  switch (v.seen) {
    case Seen::absent:
      return q(v.path) + " is not in the sandbox: it lies under no root of the profile";
    case Seen::hidden:
      return q(v.path) + " is hidden by access_roots." + v.deny_group + ".deny";
    case Seen::private_fs:
      return q(v.path) + " is inside the sandbox's own " +
             (is_within(v.path, "/dev") ? "`/dev`" : "`/tmp`") +
             ", which does not show the host's files";
    case Seen::visible:
      break;
  }
  const AccessMask missing = v.missing_landlock | v.missing_mount;
  if (!missing) return {};
  std::string s = q(v.path) + " lacks " + join_fs_rights(missing) + ":";
  std::string sep = " ";
  if (v.missing_landlock) {
    if (v.granted)
      s += sep + "its Landlock rules (" + join_list(v.rule_groups) + ") grant only " +
           join_fs_rights(v.granted);
    else
      s += sep + "no Landlock rule covers it";
    sep = "; ";
  }
  if (v.missing_mount) {
    std::string how;
    if (v.missing_mount & fs::kExecute) how = "noexec";
    if (v.missing_mount & fs::kWriteRights)
      how += std::string(how.empty() ? "" : ", ") + "read-only";
    s += sep + "the namespace wall mounts it " + how +
         (v.mount_origin.empty() ? std::string(" (the empty root)")
                                 : " (group " + v.mount_origin + ")");
  }
  return s;
}

std::string Oracle::explain(const Resolution& r) const {
  if (r.loop) return q(r.path) + ": too many levels of symbolic links";
  std::string via;
  if (!r.links.empty())
    via = " (through the symlink" + std::string(r.links.size() > 1 ? "s " : " ");
  for (std::size_t i = 0; i < r.links.size(); ++i) via += (i ? ", " : "") + q(r.links[i]);
  if (!via.empty()) via += ")";
  if (!r.blocked.empty()) {
    const Verdict v = check(r.blocked, {});
    if (r.blocked == r.path) return explain(v) + via;
    std::string why;
    switch (v.seen) {
      case Seen::hidden:
        why = " is hidden by access_roots." + v.deny_group + ".deny";
        break;
      case Seen::private_fs:
        why = std::string(" is inside the sandbox's own ") +
              (is_within(r.blocked, "/dev") ? "`/dev`" : "`/tmp`") +
              ", which does not show the host's files";
        break;
      default:
        why = " lies under no root of the profile";
        break;
    }
    return q(r.path) + " is not in the sandbox: " + q(r.blocked) + why + via;
  }
  if (!r.missing.empty())
    return q(r.path) + " does not exist" +
           (r.missing != r.path ? ": " + q(r.missing) + " is missing" : std::string()) +
           via;
  return {};
}

std::string Oracle::suggest(const std::string& add, const Need& need,
                            const Verdict* refused) const {
  return suggest(std::vector<std::string>{add}, need, refused);
}

std::string Oracle::suggest(const std::vector<std::string>& adds, const Need& need,
                            const Verdict* refused) const {
  const std::string& add = adds.back();
  if (refused && refused->seen == Seen::hidden)
    return "remove the pattern matching " + q(refused->path) + " from access_roots." +
           refused->deny_group + ".deny, or list it under readonly instead";
  AccessMask rights = need.rights;
  // A mount is noexec unless its group grants execute (DESIGN.md).
  if (need.exec_mount && plan_.ns.enabled) rights |= fs::kExecute;
  // A name no group of the profile has: pasted in, it must not be a
  // duplicate key (an error in a profile).
  std::vector<std::string> taken;
  for (const auto& r : plan_.landlock.rules)
    for (const auto& g : groups_of(r.origin)) taken.push_back(g);
  for (const auto& op : plan_.ns.mounts)
    for (const auto& g : groups_of(op.origin)) taken.push_back(g);
  std::string name = group_name_for(add);
  for (int n = 2; std::find(taken.begin(), taken.end(), name) != taken.end(); ++n)
    name = group_name_for(add) + "-" + std::to_string(n);
  std::string listed, quoted;
  for (const auto& a : adds) {
    listed += (listed.empty() ? "" : ", ") + q(a);
    quoted += (quoted.empty() ? "" : ", ") + yaml_quote(a);
  }
  const std::string line = "add " + listed + " to a group with `" + rights_yaml(rights) +
                           "`, e.g. under access_roots: `" + name + ": {paths: [" + quoted +
                           "], permissions: {" + rights_yaml(rights) + "}}`";
  if (!refused || refused->seen != Seen::visible) return line;
  // A group already covers it: granting the missing rights there works too.
  std::string group;
  if (refused->missing_landlock)
    for (const auto& g : refused->rule_groups)
      if (editable_group(g)) {
        group = g;
        break;
      }
  if (group.empty() && refused->missing_mount && editable_group(refused->mount_origin))
    group = groups_of(refused->mount_origin).front();
  const AccessMask missing = refused->missing_landlock | refused->missing_mount;
  if (group.empty() || !missing) return line;
  return "add `" + rights_yaml(missing) + "` to access_roots." + group +
         ".permissions, or " + line;
}

std::string Oracle::suggest(const Fs& fs, const Resolution& r, const Need& need) const {
  if (r.blocked.empty()) return suggest(root_to_add(fs, r), need);
  const Verdict v = check(r.blocked, need);
  return suggest(roots_to_add(fs, r), need, &v);
}

std::string yaml_key_of(const std::string& path) {
  std::string out;
  for (char c : path.substr(path.rfind('/') + 1)) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
      out += c;
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string yaml_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string rights_yaml(AccessMask rights) {
  std::string s;
  for (const auto& n : fs_right_names(rights))
    s += (s.empty() ? "" : ", ") + n + ": true";
  return s;
}

std::vector<Overlap> overlapping_roots(const Plan& plan) {
  const bool ll = plan.landlock.enabled;
  const bool ns = plan.ns.enabled;
  // Rights that make a difference to a wall that is on.
  const AccessMask relevant =
      (ll ? plan.landlock.handled_fs : 0) | (ns ? fs::kWriteRights | fs::kExecute : 0);
  std::vector<Overlap> out;
  const auto& rules = plan.landlock.rules;
  for (const auto& inner : rules) {
    if (inner.implicit || !editable_group(groups_of(inner.origin).front())) continue;
    for (const auto& outer : rules) {
      if (outer.implicit || !outer.is_dir || &outer == &inner ||
          outer.path == inner.path || !is_within(inner.path, outer.path) ||
          !editable_group(groups_of(outer.origin).front()))
        continue;
      const auto gi = groups_of(inner.origin), go = groups_of(outer.origin);
      const bool shared = std::any_of(gi.begin(), gi.end(), [&](const std::string& g) {
        return std::find(go.begin(), go.end(), g) != go.end();
      });
      if (shared) continue;
      const AccessMask kind = inner.is_dir ? ~AccessMask{0} : fs::kFileRights;
      const AccessMask lost = outer.requested & ~inner.requested & kind & relevant;
      if (!lost) continue;
      out.push_back({inner.path, outer.path, inner.origin, outer.origin, inner.requested,
                     outer.requested, lost});
    }
  }
  std::sort(out.begin(), out.end(), [](const Overlap& a, const Overlap& b) {
    return a.inner != b.inner ? a.inner < b.inner : a.outer < b.outer;
  });
  return out;
}

}  // namespace aisbx::plan
