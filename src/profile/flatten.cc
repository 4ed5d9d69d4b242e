// flatten(): applies `extends`. Parents first, depth-first and in list
// order, then the profile itself; a later profile wins field by field.
#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "aisbx/profile.h"

namespace aisbx::profile {

// A child's `true` grants and its `false` denies, whatever the parent said;
// rights the child does not name keep the parent's value.
void RightMap::override_with(const RightMap& child) {
  if (!child.present) return;
  granted = (granted & ~child.denied) | child.granted;
  denied = (denied & ~child.granted) | child.denied;
  where = child.where;
  present = true;
}

namespace {

// The recursion follows untrusted text, so its depth is bounded.
constexpr std::size_t kMaxExtendsDepth = 32;

bool is_set(const Where& w) { return w.line > 0 || !w.file.empty(); }

template <class T>
void take(std::optional<T>& dst, const std::optional<T>& src) {
  if (src) dst = src;
}

// A group of the same name is replaced as a whole (its paths and rights go
// together); new groups are appended in order.
void merge_groups(std::vector<RootGroup>& base, const std::vector<RootGroup>& top) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < base.size(); ++i) index.emplace(base[i].name, i);
  for (const auto& g : top) {
    if (const auto it = index.find(g.name); it != index.end()) {
      base[it->second] = g;
    } else {
      index.emplace(g.name, base.size());
      base.push_back(g);
    }
  }
}

using EnvList = std::vector<std::pair<std::string, Located<std::string>>>;

// By key: the parent's keys keep their place, new keys follow.
void merge_env(EnvList& base, const EnvList& top) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < base.size(); ++i) index.emplace(base[i].first, i);
  for (const auto& kv : top) {
    if (const auto it = index.find(kv.first); it != index.end()) {
      base[it->second].second = kv.second;
    } else {
      index.emplace(kv.first, base.size());
      base.push_back(kv);
    }
  }
}

// Everything but name, where and extends, which belong to the profile asked for.
void merge(Profile& base, const Profile& top) {
  if (!top.description.empty()) base.description = top.description;
  merge_groups(base.access_roots, top.access_roots);
  base.control_access.override_with(top.control_access);

  take(base.command.binary, top.command.binary);
  take(base.command.args, top.command.args);
  take(base.command.working_dir, top.command.working_dir);
  merge_env(base.command.env, top.command.env);
  // A child's `home` replaces the parent's whole: a path written without
  // `shared` is per project even if the parent's was shared.
  if (top.home) {
    base.home = top.home;
    base.home_shared = top.home_shared;
  }

  Network& n = base.network;
  take(n.mode, top.network.mode);
  take(n.connect_tcp, top.network.connect_tcp);
  take(n.bind_tcp, top.network.bind_tcp);
  take(n.connect_udp, top.network.connect_udp);
  take(n.bind_udp, top.network.bind_udp);
  take(n.unix_sockets, top.network.unix_sockets);
  take(n.allow, top.network.allow);
  take(n.host_ports, top.network.host_ports);
  take(n.publish, top.network.publish);
  take(n.landlock_mode, top.network.landlock_mode);
  take(n.deny_resolved, top.network.deny_resolved);
  if (is_set(top.network.where)) n.where = top.network.where;

  take(base.scope.abstract_unix_socket, top.scope.abstract_unix_socket);
  take(base.scope.signal, top.scope.signal);

  Seccomp& s = base.seccomp;
  take(s.preset, top.seccomp.preset);
  take(s.deny, top.seccomp.deny);
  take(s.allow, top.seccomp.allow);
  take(s.allow_nested_userns, top.seccomp.allow_nested_userns);
  if (is_set(top.seccomp.where)) s.where = top.seccomp.where;

  take(base.landlock_abi, top.landlock_abi);
  take(base.env_policy.mode, top.env_policy.mode);
  take(base.env_policy.keep, top.env_policy.keep);
  take(base.log_level, top.log_level);
  take(base.dry_run, top.dry_run);
  take(base.git, top.git);
  for (const auto& u : top.unmask)
    if (std::none_of(base.unmask.begin(), base.unmask.end(),
                     [&](const auto& b) { return b.value == u.value; }))
      base.unmask.push_back(u);
  for (const auto& k : limit_keys()) take(base.limits.*k.field, top.limits.*k.field);
  Desktop& d = base.desktop;
  take(d.display, top.desktop.display);
  take(d.gpu, top.desktop.gpu);
  take(d.shm, top.desktop.shm);
  take(d.audio, top.desktop.audio);
  take(d.dbus_talk, top.desktop.dbus_talk);
  if (is_set(top.desktop.where)) d.where = top.desktop.where;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

class Flattener {
 public:
  Flattener(const ProfileSet& set, const ProfileSet* fallback)
      : set_(set), fallback_(fallback) {}

  // A profile of the user's set sees its own set, then the fallback; a
  // fallback (built-in) profile sees only the fallback, so a user file
  // cannot change what a built-in profile means.
  std::pair<const ProfileSet*, const Profile*> find(const ProfileSet& from,
                                                    const std::string& name) const {
    if (const auto it = from.profiles.find(name); it != from.profiles.end())
      return {&from, &it->second};
    if (&from == &set_ && fallback_ != nullptr) {
      if (const auto it = fallback_->profiles.find(name); it != fallback_->profiles.end())
        return {fallback_, &it->second};
    }
    return {nullptr, nullptr};
  }

  std::string available(const ProfileSet& from) const {
    std::vector<std::string> names = from.order;
    if (&from == &set_ && fallback_ != nullptr) {
      for (const auto& n : fallback_->order)
        if (!set_.profiles.contains(n)) names.push_back(n);
    }
    return names.empty() ? "none" : join(names);
  }

  Expected<Profile> run(const ProfileSet& s, const Profile& p) {
    const auto key = std::make_pair(&s, p.name);
    // Each profile is flattened once per call: a diamond of `extends` would
    // otherwise cost time exponential in its depth.
    if (const auto it = memo_.find(key); it != memo_.end()) return it->second;

    stack_.push_back(Frame{&s, p.name, {}});
    const std::string path = "profiles." + p.name + ".extends";
    Profile out;
    for (std::size_t i = 0; i < p.extends.size(); ++i) {
      const std::string& parent = p.extends[i];
      const Where& w = i < p.extends_where.size() ? p.extends_where[i] : p.where;
      stack_.back().via = w;
      const auto [ps, pp] = find(s, parent);
      if (pp == nullptr) {
        return fail(w.str() + ": " + path + ": unknown profile " + q(parent) +
                    " (available: " + available(s) + ")");
      }
      for (std::size_t k = 0; k < stack_.size(); ++k) {
        if (stack_[k].set != ps || stack_[k].name != parent) continue;
        std::string cycle;
        for (std::size_t j = k; j < stack_.size(); ++j) cycle += stack_[j].name + " -> ";
        return fail(stack_[k].via.str() + ": profiles." + stack_[k].name +
                    ".extends: cycle " + cycle + parent);
      }
      if (stack_.size() >= kMaxExtendsDepth) {
        return fail(w.str() + ": " + path + ": `extends` chain deeper than " +
                    std::to_string(kMaxExtendsDepth) + " profiles");
      }
      AISBX_ASSIGN(flat, run(*ps, *pp));
      merge(out, flat);
    }
    merge(out, p);
    out.name = p.name;
    out.where = p.where;
    out.extends = p.extends;
    out.extends_where = p.extends_where;
    stack_.pop_back();
    memo_.emplace(key, out);
    return out;
  }

 private:
  struct Frame {
    const ProfileSet* set;
    std::string name;
    Where via;  // the `extends` entry followed to the next frame
  };

  const ProfileSet& set_;
  const ProfileSet* fallback_;
  std::vector<Frame> stack_;
  std::map<std::pair<const ProfileSet*, std::string>, Profile> memo_;
};

}  // namespace

Expected<Profile> flatten(const ProfileSet& set, const std::string& name,
                          const ProfileSet* fallback) {
  Flattener f(set, fallback);
  const auto [s, p] = f.find(set, name);
  if (p == nullptr)
    return fail("unknown profile " + q(name) + " (available: " + f.available(set) + ")");
  return f.run(*s, *p);
}

bool self_contained(const ProfileSet& set, const std::string& name) {
  std::vector<const std::string*> todo{&name};
  std::set<std::string> seen;
  while (!todo.empty()) {
    const std::string& n = *todo.back();
    todo.pop_back();
    if (!seen.insert(n).second) continue;  // a cycle is flatten()'s error to report
    const auto it = set.profiles.find(n);
    if (it == set.profiles.end()) return false;
    for (const auto& parent : it->second.extends) todo.push_back(&parent);
  }
  return true;
}

}  // namespace aisbx::profile
