#include "aisbx/plan.h"
#include "plan/json_writer.h"

namespace aisbx::plan {
namespace {

std::vector<std::string> net_names(AccessMask m) {
  std::vector<std::string> v;
  if (m & net::kBindTcp) v.push_back("bind_tcp");
  if (m & net::kConnectTcp) v.push_back("connect_tcp");
  if (m & net::kBindUdp) v.push_back("bind_udp");
  if (m & net::kConnectSendUdp) v.push_back("connect_udp");
  return v;
}

std::vector<std::string> scope_names(AccessMask m) {
  std::vector<std::string> v;
  if (m & scope::kAbstractUnixSocket) v.push_back("abstract_unix_socket");
  if (m & scope::kSignal) v.push_back("signal");
  return v;
}

void landlock(JsonWriter& j, const LandlockPlan& l) {
  j.key("landlock").begin_object();
  j.key("enabled").value(l.enabled);
  j.key("abi").value(l.abi);
  j.key("kernel_abi").value(l.kernel_abi);
  j.key("max_known_abi").value(kMaxKnownAbi);
  j.key("required_abi");
  if (l.required_abi) j.value(*l.required_abi); else j.null();
  j.key("enforcement").value(to_string(l.enforcement));
  j.key("requested_fs").strings(fs_right_names(l.requested_fs));
  j.key("handled_fs").strings(fs_right_names(l.handled_fs));
  j.key("ignored_fs").strings(fs_right_names(l.ignored_fs));
  j.key("rules").begin_array();
  for (const auto& r : l.rules) {
    j.begin_object();
    j.key("path").value(r.path);
    j.key("type").value(r.is_dir ? "dir" : "file");
    j.key("access").strings(fs_right_names(r.access));
    j.key("requested").strings(fs_right_names(r.requested));
    j.key("origin").value(r.origin);
    j.key("implicit").value(r.implicit);
    j.end_object();
  }
  j.end_array();
  j.key("handled_net").strings(net_names(l.handled_net));
  j.key("ignored_net").strings(net_names(l.ignored_net));
  j.key("net_rules").begin_array();
  for (const auto& r : l.net_rules) {
    j.begin_object().key("port").value(static_cast<int>(r.port));
    j.key("access").strings(net_names(r.access)).end_object();
  }
  j.end_array();
  j.key("scoped").strings(scope_names(l.scoped));
  j.key("ignored_scopes").strings(scope_names(l.ignored_scopes));
  j.end_object();
}

}  // namespace

std::string render_json(const Plan& p, Section section) {
  JsonWriter j;
  j.begin_object();
  j.key("profile").value(p.profile);
  j.key("source").value(p.source);
  j.key("mode").value(to_string(p.mode));
  j.key("status").strings(p.status);
  if (section == Section::all) {
    j.key("project").value(p.project);
    j.key("project_source").value(p.project_source);
    j.key("dry_run").value(p.dry_run);
    j.key("log_level").value(profile::to_string(p.log_level));
    j.key("namespace").begin_object();
    j.key("enabled").value(p.ns.enabled);
    j.key("empty_root").value(p.ns.empty_root);
    j.key("net").value(profile::to_string(p.ns.net));
    j.key("home");
    if (p.ns.home.empty()) j.null(); else j.value(p.ns.home);
    j.key("home_shared").value(p.ns.home_shared);
    j.key("mounts").begin_array();
    for (const auto& m : p.ns.mounts) {
      j.begin_object();
      j.key("kind").value(to_string(m.kind));
      j.key("source").value(m.source);
      j.key("target").value(m.target);
      j.key("read_only").value(m.read_only);
      j.key("noexec").value(m.noexec);
      j.key("origin").value(m.origin);
      j.key("implicit").value(m.implicit);
      j.end_object();
    }
    j.end_array().end_object();
    if (p.run.enabled) {  // --overlay
      j.key("run").begin_object();
      j.key("name").value(p.run.name);
      j.key("dir").value(p.run.dir);
      j.key("project").value(p.run.project);
      // Every overlaid root with its upper dir, the project first.
      j.key("roots").begin_array();
      for (const OverlayDirs& d : p.ns.overlays) {
        j.begin_object();
        j.key("lower").value(d.lower);
        j.key("upper").value(d.upper);
        j.end_object();
      }
      j.end_array();
      j.end_object();
    }
  }
  if (section == Section::all) {
    j.key("protected").begin_array();
    for (const auto& pp : p.protected_paths) {
      j.begin_object();
      j.key("path").value(pp.path);
      j.key("kind").value(pp.deny ? "deny" : "readonly");
      j.key("group").value(pp.group);
      j.key("exists").value(pp.kind != FileKind::missing);
      j.key("masked").value(pp.masked);
      j.key("split").value(pp.split);
      j.key("mask").value(pp.mask);
      j.key("why").value(pp.why);
      j.key("pinned").value(pp.pin);
      j.key("creatable").value(pp.creatable);
      j.key("symlink_to").value(pp.link);
      j.end_object();
    }
    j.end_array();
    j.key("unmasked").begin_array();
    for (const auto& u : p.unmasked) j.value(u);
    j.end_array();
    j.key("git_scan_limits").begin_array();
    for (const auto& g : p.git_scan_limits) j.value(g);
    j.end_array();
    j.key("git_planted").begin_array();
    for (const auto& g : p.git_planted) j.value(g);
    j.end_array();
  }
  landlock(j, p.landlock);
  if (section == Section::all) {
    j.key("network_allow").begin_object();
    j.key("enabled").value(p.net.enabled);
    std::vector<std::string> allow;
    for (const auto& e : p.net.allow) allow.push_back(net::to_string(e));
    j.key("allow").strings(allow);
    std::vector<std::string> lines = net_allow_lines(p.net);
    j.key("lines").strings(lines);
    j.end_object();
    j.key("seccomp").begin_object();
    j.key("enabled").value(p.seccomp.enabled);
    j.key("preset").value(p.seccomp.preset);
    j.key("tty_guard").value(p.seccomp.tty_guard);
    j.key("net_guard").value(p.seccomp.net_guard);
    j.key("allow_nested_userns").value(p.seccomp.allow_nested_userns);
    j.key("deny").strings(p.seccomp.deny);
    j.key("allow").strings(p.seccomp.allow);
    j.end_object();
    j.key("limits").begin_array();
    for (const auto& l : p.limits.lines) {
      j.begin_object();
      j.key("name").value(l.name);
      j.key("value").value(l.value);
      j.key("enforced_by").value(l.by);
      j.key("enforced").value(l.enforced);
      j.end_object();
    }
    j.end_array();
    if (p.desktop.enabled) j.key("desktop").strings(p.desktop.grants);
    j.key("exec").begin_object();
    j.key("argv").strings(p.exec.argv);
    j.key("cwd").value(p.exec.cwd);
    j.key("cwd_source").value(p.exec.cwd_source);
    std::vector<std::string> names;
    for (const auto& [k, v] : p.exec.env) names.push_back(k);
    j.key("env_names").strings(names);
    j.key("env_dropped").strings(p.exec.env_dropped);
    j.key("keep_fds").begin_array();
    for (int fd : p.exec.keep_fds) j.value(fd);
    j.end_array().end_object();
  }
  j.key("warnings").strings(p.warnings);
  j.key("notes").strings(p.notes);
  // What would stop the run; null when it would start.
  j.key("refusal");
  if (p.refusal) {
    j.begin_object().key("message").value(p.refusal->what);
    j.key("hint").value(p.refusal->hint).end_object();
  } else {
    j.null();
  }
  j.end_object();
  return j.str();
}

}  // namespace aisbx::plan
