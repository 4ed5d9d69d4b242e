#include "aisbx/launch.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>

#include "aisbx/builtin.h"
#include "aisbx/check.h"
#include "aisbx/features_render.h"
#include "aisbx/host_sys.h"
#include "aisbx/probe.h"
#include "aisbx/stages.h"
#include "aisbx/sandbox.h"
#include "aisbx/sys/fd.h"
#include "aisbx/sys/phase.h"
#include "aisbx/trace.h"
#include "host/profile_cache.h"
#include "host/walk_cache.h"
#include "net/proxy.h"
#include "net/publish.h"
#include "runs/commands.h"
#include "runs/store.h"
#include "desktop/dbus_proxy.h"
#include "desktop/desktop.h"
#include "supervise/supervise.h"

namespace aisbx {
namespace {

using profile::LogLevel;

void log(const plan::Plan& p, LogLevel level, const std::string& msg) {
  if (static_cast<int>(level) > static_cast<int>(p.log_level)) return;
  const char* tag = level == LogLevel::warn ? "warning: " : "";
  std::fprintf(stderr, "aisbx-ns: %s%s\n", tag, msg.c_str());
}

// Every run states what was really enforced: quietly (info) when every
// wall is fully on, as a warning when something is missing. Notes are
// advice about the profile (--check reports them): info, so a normal run
// stays quiet.
void report(const plan::Plan& p) {
  for (const auto& w : p.warnings) log(p, LogLevel::warn, w);
  for (const auto& n : p.notes) log(p, LogLevel::info, "note: " + n);
  const bool degraded = p.landlock.enforcement != plan::Enforcement::full ||
                        (!p.ns.enabled && p.mode != Mode::landlock);
  for (const auto& s : p.status) log(p, degraded ? LogLevel::warn : LogLevel::info, s);
}

std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("/usr/bin/aisbx-ns");
}

int list_profiles(const LoadedProfiles& lp) {
  auto print = [](const profile::ProfileSet& set, const std::string& from) {
    for (const auto& name : set.order) {
      const auto& p = set.profiles.at(name);
      std::printf("%-20s %-12s %s\n", name.c_str(), from.c_str(), p.description.c_str());
    }
  };
  if (lp.user) print(*lp.user, lp.user->source);
  print(lp.builtin, "built-in");
  return 0;
}

Expected<void> write_text_file(const std::string& path, const std::string& text) {
  sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (fd.get() < 0) return sys_fail("open " + q(path) + " for writing");
  if (!sys::write_all(fd.get(), text)) return sys_fail("write " + q(path));
  return {};
}

std::string shell_words(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    const bool plain = !a.empty() && a.find_first_not_of(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") ==
        std::string::npos;
    std::string w = "'";
    for (char c : a) w += c == '\'' ? std::string("'\\''") : std::string(1, c);
    s += (s.empty() ? "" : " ") + (plain ? a : w + "'");
  }
  return s;
}

// --trace and learn: what the run met, classified here, where the host's
// tree is still visible.
Expected<void> report_trace(const Options& o, const plan::Plan& p, const HostFacts& host,
                            const LoadedProfiles& profiles, const profile::Profile& base,
                            const trace::Batch& batch) {
  const RealFs host_fs;
  const trace::Report r = trace::classify_all(p, host_fs, host.home, batch);
  if (o.trace_output) {
    AISBX_TRY(write_text_file(*o.trace_output, o.format == Format::json ? trace::render_json(r)
                                                                        : trace::render_text(r)));
  } else if (o.trace) {
    std::fputs((o.format == Format::json ? trace::render_json(r) : trace::render_text(r)).c_str(),
               stderr);
  }
  if (!o.learn) return {};
  trace::LearnInput in;
  in.base = p.profile;
  in.command = shell_words(p.exec.argv);
  in.project = p.project;
  in.home = host.home;
  in.base_profile = &base;
  in.fs = &host_fs;
  std::set<std::string> names(profiles.builtin.order.begin(), profiles.builtin.order.end());
  if (p.source != "built-in" && profiles.user) {
    AISBX_ASSIGN(text, read_profile_file(p.source));
    AISBX_ASSIGN(embedded, trace::embed_profiles(text, p.source));
    in.embedded = embedded;
    names.insert(profiles.user->order.begin(), profiles.user->order.end());
  }
  in.name = p.profile + "-learned";
  for (int n = 2; names.contains(in.name); ++n) in.name = p.profile + "-learned-" + std::to_string(n);
  const std::string yaml = trace::propose_profile(in, r);
  if (o.learn_output) {
    AISBX_TRY(write_text_file(*o.learn_output, yaml));
    std::fprintf(stderr, "aisbx-ns: learn: wrote %s; run it with: aisbx-ns --config %s --profile %s -- %s\n",
                 q(*o.learn_output).c_str(), o.learn_output->c_str(), in.name.c_str(),
                 in.command.c_str());
  } else {
    std::fflush(stdout);
    std::fputs(yaml.c_str(), stdout);
  }
  return {};
}

Expected<int> run_plan(const plan::Plan& p, trace::Batch* traced = nullptr);

// --overlay: the run directory exists (and is locked) while the sandbox
// runs; a sandbox that could not be built leaves none behind, one that ran
// says how to review what it wrote.
Expected<int> run_plan_kept(const plan::Plan& p, trace::Batch* traced) {
  if (!p.run.enabled) return run_plan(p, traced);
  AISBX_ASSIGN(run, runs::create_run(p, shell_words(p.exec.argv)));
  Expected<int> status = run_plan(p, traced);
  if (!status && status.error().exit_code == kExitLauncherFailure) {
    runs::forget_failed_run(run);
    return status;
  }
  runs::announce(p);
  return status;
}

Expected<int> run_plan(const plan::Plan& p, trace::Batch* traced) {
  stage::test_pause_after_planning();
  if (!p.ns.home.empty()) AISBX_TRY(stage::prepare_home(p.ns, p.exec.tmpdir));
  AISBX_TRY(desktop::copy_xauthority(p.desktop));
  // desktop.dbus: the proxy listens before the sandbox is built (its
  // socket is bound in) and goes when this scope ends or the launcher dies.
  std::optional<desktop::DbusProxy> bus;
  if (!p.desktop.dbus_socket.empty()) {
    AISBX_ASSIGN(started, desktop::start_dbus_proxy(p.desktop));
    bus.emplace(std::move(started));
  }
  if (p.ns.enabled) {
    // network.allow: the proxy is forked while the launcher is still in
    // the host's namespaces, and gets its sockets once the new network
    // namespace exists (net/proxy.h). It dies with this scope.
    std::optional<net::Proxy> proxy;
    if (p.net.enabled) {
      AISBX_ASSIGN(started, net::start_proxy(p.net));
      proxy.emplace(std::move(started));
    }
    // network.publish: the host's ports are taken now (a port in use stops
    // the run here), the relay is forked in the new network namespace.
    AISBX_ASSIGN(published, net::Published::listen(p.net));
    std::function<Expected<void>()> in_net;
    if (!p.net.publish.empty()) in_net = [&] { return published.start(); };
    // Reported once the namespaces exist: a plan that assumed they would
    // is not reported when it is replaced.
    AISBX_TRY(enter_namespaces(p, in_net));
    sys::phase_mark("namespaces");
    if (proxy) AISBX_TRY(proxy->hand_over(p.net));
    report(p);
    auto status = run_sandboxed(p, traced);
    if (traced && proxy) traced->network = proxy->denials();
    return status;
  }
  // network.allow, best effort (--mode landlock): the proxy at the host's
  // 127.0.0.1 on a port the kernel picks, which goes into the Landlock
  // rule and the proxy variables of this run's copy of the plan.
  std::optional<net::Proxy> proxy;
  std::optional<plan::Plan> with_port;
  if (p.net.enabled && p.net.best_effort) {
    AISBX_ASSIGN(listener, net::listen_on_host());
    with_port.emplace(p);
    plan::with_proxy_port(*with_port, listener.second);
    AISBX_ASSIGN(started, net::start_proxy(with_port->net));
    proxy.emplace(std::move(started));
    AISBX_TRY(proxy->give(std::move(listener.first)));
  }
  const plan::Plan& run = with_port ? *with_port : p;
  report(run);
  // --trace without the namespace wall: fork, and trace from outside.
  if (traced) {
    auto status = run_traced_in_place(run, *traced);
    if (proxy) traced->network = proxy->denials();
    return status;
  }
  // Landlock alone (landlock mode, or layered without user namespaces): no
  // pid namespace ends the run, the launcher does (supervise.h).
  return supervise::run(run);
}

// The stores under ~/.cache/aisbx-ns (profile trees, the walk, seccomp
// programs) are on unless AISBX_PROFILE_CACHE=off.
bool caching_wanted(const HostFacts& h) {
  const auto off = h.env.find("AISBX_PROFILE_CACHE");
  return off == h.env.end() || off->second != "off";
}

}  // namespace

Expected<LoadedProfiles> load_profiles(const Options& o, const HostFacts& h) {
  // Parsed trees are kept in the profile cache (host/profile_cache.h).
  const std::optional<std::string> salt = DiskTreeStore::parser_salt();
  DiskTreeStore cache(h.home, salt && caching_wanted(h));
  const auto debug_notes = [&] {
    if (o.log_level == "debug")
      for (const auto& n : cache.notes()) std::fprintf(stderr, "aisbx-ns: %s\n", n.c_str());
  };
  AISBX_ASSIGN(path, find_config(o, h));
  std::string text;
  if (path) {
    AISBX_ASSIGN(read, read_profile_file(*path));
    text = std::move(read);
  }

  // A run of one profile reads only it and its parents from a cache hit;
  // --list-profiles and learn read every name.
  const bool one = o.profile && !o.list_profiles && !o.learn;
  // nullopt: pruned entries lacked what the run needs; read everything.
  const auto load = [&](bool prune) -> Expected<std::optional<LoadedProfiles>> {
    LoadedProfiles lp;
    lp.builtin.source = "built-in";
    bool partial = false;
    if (path) {
      AISBX_ASSIGN(set, profile::parse_profiles_cached(text, *path, cache, salt.value_or(""),
                                                       prune ? o.profile : std::nullopt, &partial));
      lp.user = std::move(set);
    }
    // Parsing YAML is most of the launcher's own start-up: the built-in
    // profiles are skipped when the user's profile extends none of them
    // (learn needs their names).
    if (lp.user && one && profile::self_contained(*lp.user, *o.profile)) return lp;
    // The built-in set, pruned to the profile run when it is one of them.
    const bool builtin_run = prune && !(lp.user && lp.user->profiles.contains(*o.profile));
    for (const auto& f : builtin_profile_files()) {
      bool part = false;
      AISBX_ASSIGN(set, profile::parse_profiles_cached(
                            std::string(f.text), "built-in:" + std::string(f.name), cache,
                            salt.value_or(""), builtin_run ? o.profile : std::nullopt, &part));
      partial = partial || part;
      for (const auto& name : set.order) {
        lp.builtin.order.push_back(name);
        lp.builtin.profiles.emplace(name, set.profiles.at(name));
      }
    }
    // No such profile anywhere: the error lists every name, so read all.
    if (partial && !lp.builtin.profiles.contains(*o.profile) &&
        !(lp.user && lp.user->profiles.contains(*o.profile)))
      return std::nullopt;
    return lp;
  };
  auto lp = load(one);
  if (lp && !*lp) lp = load(false);
  debug_notes();
  if (!lp) return std::unexpected(lp.error());
  return std::move(**lp);
}

Expected<std::pair<profile::Profile, std::string>> select_profile(const LoadedProfiles& lp,
                                                                  const std::string& name) {
  if (lp.user && lp.user->profiles.contains(name)) {
    AISBX_ASSIGN(p, profile::flatten(*lp.user, name, &lp.builtin));
    return std::pair{std::move(p), lp.user->source};
  }
  if (!lp.builtin.profiles.contains(name)) {
    std::string names;
    if (lp.user)
      for (const auto& n : lp.user->order) names += (names.empty() ? "" : ", ") + n;
    for (const auto& n : lp.builtin.order) names += (names.empty() ? "" : ", ") + n;
    return fail("no profile named " + q(name) +
                    (lp.user ? " in " + q(lp.user->source) + " or the built-in profiles"
                             : " among the built-in profiles") +
                    " (available: " + names + ")",
                "see --list-profiles");
  }
  AISBX_ASSIGN(p, profile::flatten(lp.builtin, name));
  return std::pair{std::move(p), std::string("built-in")};
}

Expected<int> run(const Options& given) {
  // Host commands about overlay runs: no sandbox, no profile.
  if (given.runs) return runs::command(*given.runs);
  Options o = given;
  // The user namespace probe forks: landlock mode never uses its answer,
  // and a sandbox about to unshare anyway assumes it (and falls back below
  // if its unshare is refused). What is printed is always probed for real.
  const bool printed = o.features || o.check || o.dry_run || o.print_ruleset;
  Features features = probe_features(o.mode == Mode::landlock && !o.features ? ProbeScope::without_userns
                                     : printed                               ? ProbeScope::all
                                                                             : ProbeScope::assume_userns,
                                     /*cgroups=*/printed);
  if (o.features) {
    std::fputs(render_features(features, o.format, self_exe()).c_str(), stdout);
    return 0;
  }
  AISBX_ASSIGN(host, read_host_facts());
  AISBX_ASSIGN(profiles, load_profiles(o, host));
  sys::phase_mark("profile");
  if (o.list_profiles) return list_profiles(profiles);
  if (!o.profile)
    return fail("no profile given", "pass --profile NAME; --list-profiles shows the choices");
  AISBX_ASSIGN(selected, select_profile(profiles, *o.profile));
  if (!printed) {
    // A run looks only for the cgroups it will use (reports probed them all).
    const profile::Limits& lim = selected.first.limits;
    const auto set = [](const auto& v) { return v && v->value != 0; };
    probe_run_cgroups(features, o.mode == Mode::landlock || !features.userns,
                      set(lim.pids) || set(lim.memory));
  }
  if (!o.run_name && (o.overlay || plan::profile_wants_overlay(selected.first)))
    o.run_name = runs::generate_name();
  RealFs fs;
  // The nested-repository walk's cache lives beside the profile cache and
  // is turned off with it.
  const bool caching = caching_wanted(host);
  WalkCache walk_cache(host.home, caching);
  // So is the compiled seccomp program. Its store is open only while the
  // filter is looked up: init, which never execs, must not inherit an fd
  // of the cache (InitFds.InitHoldsNoFdOfTheCacheOrTheRunsCgroup).
  std::vector<std::string> bpf_notes;
  const auto make_plan = [&](const Features& f) -> Expected<plan::Plan> {
    fs = RealFs();  // each plan sees the host as it is now (RealFs caches lstat)
    fs.use_walk_cache(&walk_cache);
    AISBX_ASSIGN(made, plan::resolve({selected.first, selected.second, o, f, host, fs}));
    walk_cache.save();
    if (!made.seccomp.enabled && !made.seccomp.tty_guard) return made;
    const std::optional<std::string> salt = DiskTreeStore::parser_salt();
    DiskTreeStore bpf_store(host.home, caching && salt);
    const auto checked = stage::check_seccomp(made.seccomp, &bpf_store, salt.value_or(""));
    for (const auto& n : bpf_store.notes())
      if (n.starts_with("seccomp cache: ")) bpf_notes.push_back(n);
    if (!checked) return std::unexpected(checked.error());
    return made;
  };
  // Plans again with user namespaces probed for real, not assumed.
  const auto make_probed_plan = [&]() {
    features = probe_features(ProbeScope::all);
    return make_plan(features);
  };
  AISBX_ASSIGN(p, make_plan(features));
  sys::phase_mark("plan");
  if (features.userns_assumed && p.dry_run) {  // the profile's own dry_run prints too
    AISBX_ASSIGN(probed, make_probed_plan());
    p = std::move(probed);
  }
  if (o.log_level == "debug") {
    for (const auto& n : walk_cache.notes()) std::fprintf(stderr, "aisbx-ns: %s\n", n.c_str());
    for (const auto& n : bpf_notes) std::fprintf(stderr, "aisbx-ns: %s\n", n.c_str());
  }

  // Inspection works from any directory: a run that would be refused (the
  // project, the working directory) is shown whole, and says so last.
  if (o.check) {
    AISBX_ASSIGN(report, check::run(p, fs));
    if (p.refusal) {
      check::Finding f;
      f.kind = "refusal";
      f.path = p.exec.cwd;
      f.problem = "the run would refuse: " + p.refusal->what;
      f.fix = p.refusal->hint;
      f.severity = check::Severity::error;  // the run itself would not start
      report.findings.insert(report.findings.begin(), std::move(f));
    }
    std::string out = o.format == Format::json ? check::render_json(p, report)
                                               : check::render_text(p, report);
    if (p.refusal && o.format == Format::text) out += "would refuse: " + p.refusal->what + "\n";
    std::fputs(out.c_str(), stdout);
    return check::exit_status(report, o.strict);
  }

  if (o.dry_run || o.print_ruleset || p.dry_run) {
    const auto section = o.print_ruleset && !o.dry_run ? plan::Section::ruleset : plan::Section::all;
    const std::string out = o.format == Format::json ? plan::render_json(p, section)
                                                     : plan::render_text(p, section);
    std::fputs(out.c_str(), stdout);
    return p.refusal ? kExitLauncherFailure : 0;
  }
  if (p.refusal && features.userns_assumed) {
    // Whether the cwd is visible depends on the wall: decide with what
    // the probe finds, not with what was assumed.
    AISBX_ASSIGN(probed, make_probed_plan());
    p = std::move(probed);
  }
  if (p.refusal) return std::unexpected(*p.refusal);
  if (!p.git_planted.empty()) {
    // Moved aside first, then planned again: the rules and mounts are made
    // for the tree as the command will find it.
    AISBX_TRY(stage::quarantine_git_planted_at_launch(p));
    AISBX_ASSIGN(again, make_plan(features));
    p = std::move(again);
    if (p.refusal) return std::unexpected(*p.refusal);
  }
  std::fflush(stdout);
  trace::Batch batch;
  trace::Batch* const traced = p.trace ? &batch : nullptr;
  stage::GitSnapshot git_before = stage::snapshot_git_metadata(p);
  Expected<int> status = run_plan_kept(p, traced);
  if (!status && features.userns_assumed && userns_refused(status.error())) {
    // The assumption was wrong and nothing has changed yet: plan with what
    // the probe finds, so layered mode warns and goes on with Landlock
    // alone, and strict and ns mode refuse, naming the cause.
    AISBX_ASSIGN(probed, make_probed_plan());
    p = std::move(probed);
    if (p.refusal) return std::unexpected(*p.refusal);
    git_before = stage::snapshot_git_metadata(p);
    status = run_plan_kept(p, traced);
  }
  stage::restore_git_metadata(git_before);
  stage::quarantine_planted_git_files(p);
  if (!p.trace) {
    // The command has ended: what is left is freeing memory the kernel
    // frees anyway, 0.8 ms of destructors (libstdc++'s locale among them)
    // before the caller sees the exit status.
    if (status) {
      std::fflush(nullptr);
      std::_Exit(*status);
    }
    return status;
  }
  // Nothing ran when the launcher itself failed; a command that could not
  // start (126, 127) is reported: its trace may say why.
  if (!status && status.error().exit_code == kExitLauncherFailure) return status;
  AISBX_TRY(report_trace(o, p, host, profiles, selected.first, batch));
  return status;
}

}  // namespace aisbx
