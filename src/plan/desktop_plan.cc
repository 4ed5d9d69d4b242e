// `desktop:` resolved: the display sockets, GPU nodes, /dev/shm, audio
// socket and filtered session bus a GUI program is granted, each narrow and each off unless the
// profile asks (flatpak's --socket=x11, --device=dri model). Pure: the host
// is read through Fs; the stages bind (src/stages/mounts.cc, special_fs.cc)
// and copy the X cookie (src/desktop/xauth.cc).
#include <algorithm>

#include "plan/parts.h"

namespace aisbx::plan {
namespace {

using profile::Display;

// The socket of an X display, from $DISPLAY: `:0`, `:0.0`, `unix:0`. A
// display with a host name (`localhost:10`, ssh -X) is a TCP one.
std::optional<std::string> x11_number(const std::string& display) {
  std::string rest = display;
  if (rest.starts_with("unix:")) rest = rest.substr(4);
  if (!rest.starts_with(":")) return std::nullopt;
  rest = rest.substr(1);
  const auto dot = rest.find('.');
  if (dot != std::string::npos) rest.resize(dot);
  if (rest.empty() || rest.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return rest;
}

std::string host_env(const Context& cx, const std::string& k) {
  const auto it = cx.in.host.env.find(k);
  return it == cx.in.host.env.end() ? std::string() : it->second;
}

struct Granting {
  Context& cx;
  bool ns;         // the namespace wall exists: binds; else Landlock rules only
  bool landlock;   // a Landlock ruleset with filesystem rights
  std::string runtime_dir;

  void env(const std::string& k, const std::string& v) {
    // --env wins, as everywhere.
    for (const auto& [key, value] : cx.in.options.env)
      if (key == k) return;
    auto& e = cx.plan.exec.env;
    for (auto& [key, value] : e)
      if (key == k) {
        value = v;
        return;
      }
    e.emplace_back(k, v);
  }
  void rule(const std::string& path, bool dir, AccessMask rights, const std::string& why) {
    LandlockPlan& l = cx.plan.landlock;
    if (!landlock) return;
    const AccessMask want = dir ? rights : rights & fs::kFileRights;
    if ((want & l.handled_fs) == 0) return;
    l.rules.push_back({path, dir, want, want & l.handled_fs, why, true});
  }
  // A host socket at its own path: bound read-only in the namespace wall
  // (connecting needs no write access to the mount), reachable through the
  // host's tree otherwise. Landlock ABI 9 controls connecting: a rule.
  void socket(const std::string& path, const std::string& what, const std::string& at = {}) {
    const std::string target = at.empty() ? path : at;
    if (ns)
      cx.plan.ns.mounts.push_back({MountKind::bind, path, target, true, true, "desktop." + what, true});
    rule(path, false, fs::kResolveUnix, "desktop." + what);
    cx.plan.desktop.grants.push_back(what + " socket " + path +
                                     (target == path ? "" : " at " + target));
  }
  void read_only_tree(const std::string& path, const std::string& why) {
    if (ns && cx.plan.ns.empty_root)
      cx.plan.ns.mounts.push_back({MountKind::bind, path, path, true, true, why, true});
    rule(path, true, fs::kReadFile | fs::kReadDir, why);
  }
};

void grant_x11(Granting& g) {
  Context& cx = g.cx;
  const std::string display = host_env(cx, "DISPLAY");
  if (display.empty()) {
    cx.plan.desktop.grants.push_back("x11: none ($DISPLAY is not set)");
    return;
  }
  const auto n = x11_number(display);
  if (!n) {
    cx.note("desktop.display: $DISPLAY `" + display +
            "` is a TCP display: no socket to bind; it is reachable only with network: host");
    g.env("DISPLAY", display);
    return;
  }
  const std::string sock = "/tmp/.X11-unix/X" + *n;
  // Abstract sockets (@/tmp/.X11-unix/XN) belong to a network namespace,
  // and Landlock's abstract-socket scope (ABI 6) refuses those made outside
  // the sandbox: reachable only with both out of the way.
  const bool host_net = cx.plan.ns.net == profile::NetMode::host || !g.ns;
  const bool scoped = cx.plan.landlock.enabled &&
                      (cx.plan.landlock.scoped & scope::kAbstractUnixSocket) != 0;
  // libxcb tries the abstract socket first and gives up when it is refused
  // (EPERM from the scope) instead of missing: inside, the display gets a
  // number whose abstract socket the host lacks (as flatpak's :99), so the
  // try finds nothing and the socket file is used. A number with a socket
  // file on the host is passed over (its server has an abstract one too).
  std::string inner = *n;
  if (g.ns)
    for (int m = 99; m > 0; --m)
      if (std::to_string(m) != *n &&
          cx.in.fs.kind("/tmp/.X11-unix/X" + std::to_string(m)) == FileKind::missing) {
        inner = std::to_string(m);
        break;
      }
  if (!g.ns && host_net && scoped)
    cx.note("desktop.display: without the namespace wall X11 clients try the abstract socket "
            "first, which Landlock's abstract_unix_socket scope refuses (EPERM), and libxcb "
            "does not then try the socket file: the program cannot open $DISPLAY; run it in "
            "layered mode, or set `scope: {abstract_unix_socket: false}`");
  const std::string abstract =
      host_net && !scoped
          ? "abstract X11 socket @" + sock + " reachable too (network: host, no abstract-socket scope)"
          : std::string("abstract X11 socket @") + sock + " not reachable (" +
                (host_net ? "Landlock's abstract_unix_socket scope" : "the sandbox's own network namespace") +
                "): only the socket file; an abstract socket is reachable only with network: host";
  if (cx.in.fs.kind(sock) != FileKind::other) {
    cx.note("desktop.display: the X11 socket `" + sock + "` of $DISPLAY `" + display +
            "` does not exist: nothing bound; " + abstract);
  } else {
    g.socket(sock, "x11", "/tmp/.X11-unix/X" + inner);
  }
  cx.plan.desktop.grants.push_back(abstract);
  g.env("DISPLAY", inner == *n ? display : ":" + inner);
  cx.plan.desktop.x11_display = *n;
  cx.plan.desktop.x11_inner = inner;
  // The cookie: only this display's entries, into the private HOME.
  std::string xauth = host_env(cx, "XAUTHORITY");
  if (xauth.empty() && !cx.in.host.home.empty()) xauth = cx.in.host.home + "/.Xauthority";
  if (xauth.empty() || cx.in.fs.kind(xauth) != FileKind::regular) {
    cx.plan.desktop.grants.push_back("x11 cookie: none (no Xauthority file on the host)");
  } else if (cx.plan.ns.home.empty()) {
    cx.note("desktop.display: no private HOME to copy the X cookie of display :" + *n +
            " into; add `home:` to the profile, or the X server may refuse the program");
  } else {
    cx.plan.desktop.xauth_source = xauth;
    cx.plan.desktop.xauth_target = cx.plan.ns.home + "/.Xauthority";
    g.env("XAUTHORITY", cx.plan.desktop.xauth_target);
    cx.plan.desktop.grants.push_back("x11 cookie of display :" + *n + " copied from " + xauth +
                                     " to " + cx.plan.desktop.xauth_target +
                                     (inner == *n ? "" : " (as display :" + inner + ")"));
  }
}

void grant_wayland(Granting& g) {
  Context& cx = g.cx;
  const std::string name = host_env(cx, "WAYLAND_DISPLAY");
  if (name.empty()) {
    cx.plan.desktop.grants.push_back("wayland: none ($WAYLAND_DISPLAY is not set)");
    return;
  }
  const std::string sock = name.starts_with("/") ? name : g.runtime_dir + "/" + name;
  if (cx.in.fs.kind(sock) != FileKind::other) {
    cx.note("desktop.display: the Wayland socket `" + sock + "` does not exist: nothing bound");
    return;
  }
  g.socket(sock, "wayland");
  g.env("WAYLAND_DISPLAY", name);
}

// Render nodes only: card* nodes carry modesetting (the display itself),
// which a program drawing into a window never needs. Mesa finds a node's
// PCI device through /sys/dev/char/MAJ:MIN -> /sys/devices/.../drm/renderDN.
void grant_gpu(Granting& g) {
  Context& cx = g.cx;
  std::vector<std::string> nodes;
  for (const auto& e : cx.in.fs.list("/dev/dri"))
    if (e.starts_with("renderD") && cx.in.fs.kind("/dev/dri/" + e) == FileKind::other)
      nodes.push_back("/dev/dri/" + e);
  for (const auto& e : cx.in.fs.list("/dev"))
    if (e.starts_with("nvidia") && cx.in.fs.kind("/dev/" + e) == FileKind::other)
      nodes.push_back("/dev/" + e);
  std::sort(nodes.begin(), nodes.end());
  if (nodes.empty()) {
    cx.plan.desktop.grants.push_back("gpu: no render node (/dev/dri/renderD*) or /dev/nvidia* "
                                     "on this host: none granted (software rendering)");
    return;
  }
  for (const auto& node : nodes) {
    if (g.ns) cx.plan.ns.dev_nodes.push_back(node);
    // In the namespace wall /dev's own rule covers them.
    if (!g.ns) g.rule(node, false, fs::kReadFile | fs::kWriteFile | fs::kIoctlDev, "desktop.gpu");
    cx.plan.desktop.grants.push_back("gpu device " + node);
    const std::string base = node.substr(node.rfind('/') + 1);
    if (!base.starts_with("renderD")) continue;
    const std::string cls = "/sys/class/drm/" + base;
    const auto real = cx.in.fs.realpath(cls);
    const auto dev = cx.in.fs.read_small(cls + "/dev");
    if (!real || !dev || !real->starts_with("/sys/devices/")) continue;
    std::string majmin = *dev;
    while (!majmin.empty() && (majmin.back() == '\n' || majmin.back() == ' ')) majmin.pop_back();
    // /sys/devices/pci0000:00/0000:00:02.0/drm/renderD128: the PCI device
    // is two levels up.
    const auto drm = real->rfind("/drm/");
    if (drm == std::string::npos || majmin.find('/') != std::string::npos) continue;
    const std::string device = real->substr(0, drm);
    g.read_only_tree(device, "desktop.gpu");
    const std::string link = "/sys/dev/char/" + majmin;
    if (g.ns && cx.plan.ns.empty_root)
      cx.plan.ns.mounts.push_back(
          {MountKind::symlink, "../../" + real->substr(5), link, true, true, "desktop.gpu", true});
    else
      g.rule("/sys/dev/char", true, fs::kReadFile | fs::kReadDir, "desktop.gpu");
    cx.plan.desktop.grants.push_back("gpu sysfs (read-only) " + device + ", " + link);
  }
}

void grant_audio(Granting& g) {
  Context& cx = g.cx;
  bool any = false;
  for (const char* name : {"pipewire-0", "pulse/native"}) {
    const std::string sock = g.runtime_dir + "/" + name;
    if (cx.in.fs.kind(sock) != FileKind::other) continue;
    g.socket(sock, "audio");
    any = true;
  }
  if (!any)
    cx.plan.desktop.grants.push_back("audio: no PipeWire or PulseAudio socket in " +
                                     g.runtime_dir + ": none granted");
}

// The host's session bus, as libdbus finds it: $DBUS_SESSION_BUS_ADDRESS,
// else the socket systemd and dbus-broker keep at $XDG_RUNTIME_DIR/bus.
std::string host_bus_address(Granting& g) {
  const std::string a = host_env(g.cx, "DBUS_SESSION_BUS_ADDRESS");
  if (!a.empty()) return a;
  const std::string bus = g.runtime_dir + "/bus";
  if (g.cx.in.fs.kind(bus) == FileKind::other) return "unix:path=" + bus;
  return {};
}

// The first `unix:path=` of a bus address ("" if none): the host's socket
// file, which the sandbox must not reach.
std::string bus_path(const std::string& address) {
  for (std::size_t at = 0; at < address.size();) {
    std::size_t end = address.find(';', at);
    if (end == std::string::npos) end = address.size();
    const std::string one = address.substr(at, end - at);
    if (one.starts_with("unix:")) {
      const std::string keys = one.substr(5);
      for (std::size_t k = 0; k < keys.size();) {
        std::size_t e = keys.find(',', k);
        if (e == std::string::npos) e = keys.size();
        if (keys.compare(k, 5, "path=") == 0) return keys.substr(k + 5, e - k - 5);
        k = e + 1;
      }
    }
    at = end + 1;
  }
  return {};
}

// The host path the sandbox sees at `path` through a bind of the host's
// tree (the mount with the deepest target above it, the later one on a
// tie); nullopt when a mount of the sandbox's own (a tmpfs) holds it.
std::optional<std::string> covering_bind(const NamespacePlan& ns, const std::string& path) {
  if (path.empty()) return std::nullopt;
  const MountOp* best = nullptr;
  for (const MountOp& m : ns.mounts) {
    const bool above = m.target == "/" || path == m.target ||
                       (path.starts_with(m.target) && path[m.target.size()] == '/');
    if (!above || m.kind == MountKind::symlink) continue;
    if (!best || m.target.size() >= best->target.size()) best = &m;
  }
  if (!best) return std::nullopt;
  const bool host = best->kind == MountKind::bind || best->kind == MountKind::readonly ||
                    best->kind == MountKind::host_root;
  if (!host || best->source != best->target) return std::nullopt;
  return best->target;
}

// xdg-dbus-proxy on the host's PATH (the launcher starts it on the host).
std::string find_proxy(const Context& cx) {
  std::string path = host_env(cx, "PATH");
  if (path.empty()) path = "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t at = 0; at <= path.size();) {
    std::size_t end = path.find(':', at);
    if (end == std::string::npos) end = path.size();
    const std::string dir = path.substr(at, end - at);
    if (dir.starts_with("/")) {
      const std::string bin = dir + "/xdg-dbus-proxy";
      if (cx.in.fs.kind(bin) == FileKind::regular) return bin;
    }
    at = end + 1;
  }
  return {};
}

// `dbus: {talk: [...]}`: a session bus filtered by xdg-dbus-proxy (flatpak's
// --talk-name), started by the launcher on the host, so that it reaches the
// real bus whatever the sandbox's network. With the namespace wall its
// socket is the only bus socket inside (at $XDG_RUNTIME_DIR/bus, in the
// private runtime dir); the host's is not there.
Expected<void> grant_dbus(Granting& g, const std::vector<profile::Located<std::string>>& talk) {
  Context& cx = g.cx;
  DesktopPlan& dp = cx.plan.desktop;
  const std::string address = host_bus_address(g);
  if (address.empty()) {
    dp.grants.push_back("dbus: none ($DBUS_SESSION_BUS_ADDRESS is not set and there is no " +
                        g.runtime_dir + "/bus): no bus socket inside");
    return {};
  }
  dp.dbus_proxy = find_proxy(cx);
  if (dp.dbus_proxy.empty()) {
    // Closed, not open: no bus at all rather than the unfiltered one.
    cx.warn("desktop.dbus (" + talk.front().where.str() +
            "): xdg-dbus-proxy is not on the PATH, so the sandbox gets no session bus "
            "(aisbx-ns does not filter the bus itself); install it (Debian, Ubuntu: apt install "
            "xdg-dbus-proxy; Fedora: dnf install xdg-dbus-proxy)");
    dp.grants.push_back("dbus: none (xdg-dbus-proxy is not installed)");
    return {};
  }
  dp.dbus_address = address;
  // A directory of the user's own: $XDG_RUNTIME_DIR/aisbx when the host
  // has a runtime dir, else one in /tmp. The socket is named after the
  // launcher's pid; xdg-dbus-proxy removes it when the launcher's end of
  // its --fd pipe closes, which a SIGKILL of the launcher does too.
  const std::string runtime = host_env(cx, "XDG_RUNTIME_DIR");
  dp.dbus_dir = runtime.starts_with("/") && cx.in.fs.kind(runtime) == FileKind::directory
                    ? runtime + "/aisbx"
                    : "/tmp/aisbx-" + std::to_string(cx.in.host.uid);
  dp.dbus_socket = dp.dbus_dir + "/dbus-" + std::to_string(cx.in.host.pid);
  for (const auto& n : talk) dp.dbus_talk.push_back(n.value);
  const std::string real = bus_path(address);
  std::string inside = dp.dbus_socket;
  if (g.ns) {
    inside = g.runtime_dir + "/bus";
    // Read-only: connecting needs no write access to the mount.
    cx.plan.ns.mounts.push_back(
        {MountKind::bind, dp.dbus_socket, inside, true, true, "desktop.dbus", true});
  } else {
    g.rule(dp.dbus_socket, false, fs::kResolveUnix, "desktop.dbus");
  }
  g.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=" + inside);
  dp.grants.push_back("dbus proxy " + dp.dbus_proxy + " for the host's bus " + address +
                      ": socket " + dp.dbus_socket + (inside == dp.dbus_socket ? "" : " at " + inside));
  for (const auto& n : dp.dbus_talk) dp.grants.push_back("dbus talk " + n);
  // What else reaches the host's bus.
  const LandlockPlan& l = cx.plan.landlock;
  if (g.ns) {
    if (const auto root = covering_bind(cx.plan.ns, real))
      cx.warn("desktop.dbus: the host's bus socket `" + real + "` is visible inside through `" +
              *root + "`, past the proxy; grant that root without it");
    else if (!real.empty())
      dp.grants.push_back("dbus: the host's bus socket " + real + " is not visible inside");
  } else if (!real.empty() && !(g.landlock && (l.handled_fs & fs::kResolveUnix) != 0)) {
    cx.warn("desktop.dbus: without the namespace wall the host's bus socket `" + real +
            "` stays reachable by its path (Landlock refuses connecting to a unix socket only "
            "from ABI 9, with resolve_unix controlled): the filter holds for programs that use "
            "$DBUS_SESSION_BUS_ADDRESS; run in layered or strict mode to hide the real bus");
  }
  const bool abstract = address.find("unix:abstract=") != std::string::npos;
  const bool host_net = cx.plan.ns.net == profile::NetMode::host || !g.ns;
  const bool scoped = l.enabled && (l.scoped & scope::kAbstractUnixSocket) != 0;
  if (abstract && host_net && !scoped)
    cx.warn("desktop.dbus: the host's bus has an abstract socket (" + address +
            ") that the sandbox reaches past the proxy (network: host without Landlock's "
            "abstract_unix_socket scope); set `scope: {abstract_unix_socket: true}`");
  return {};
}

}  // namespace

Expected<void> plan_desktop(Context& cx) {
  const profile::Desktop& d = cx.in.profile.desktop;
  const bool present = !d.where.file.empty() || d.where.line > 0;
  const Display display = d.display ? d.display->value : Display::none;
  if (!present) {
    // The spec's vscode-copilot (`code .`) has no `desktop:`: say why a
    // window will not open, and how to grant one.
    if (!host_env(cx, "DISPLAY").empty() || !host_env(cx, "WAYLAND_DISPLAY").empty())
      cx.note("no display is granted (the profile has no `desktop:` key): a GUI program will "
              "not open a window; add `desktop: {display: both}` (or x11, wayland) to the "
              "profile");
    return {};
  }
  DesktopPlan& dp = cx.plan.desktop;
  dp.enabled = true;
  Granting g{cx, cx.plan.ns.enabled,
             cx.plan.landlock.enabled && cx.plan.landlock.handled_fs != 0, {}};
  g.runtime_dir = host_env(cx, "XDG_RUNTIME_DIR");
  if (g.runtime_dir.empty() || !g.runtime_dir.starts_with("/"))
    g.runtime_dir = "/run/user/" + std::to_string(cx.in.host.uid);
  const bool dbus = d.dbus_talk && !d.dbus_talk->empty();
  const bool wants_runtime = display == Display::wayland || display == Display::both ||
                             (d.audio && d.audio->value) || dbus;
  if (wants_runtime) {
    // A private, writable runtime dir for what programs keep there (locks,
    // their own sockets); the granted sockets are bound into it.
    if (g.ns) {
      cx.plan.ns.mounts.push_back(
          {MountKind::tmp, "tmpfs", g.runtime_dir, false, true, "desktop", true});
      g.rule(g.runtime_dir, true, fs_rights_at(kMaxKnownAbi) & ~fs::kExecute, "desktop runtime dir");
      dp.grants.push_back("runtime dir " + g.runtime_dir + " (private tmpfs)");
    }
    g.env("XDG_RUNTIME_DIR", g.runtime_dir);
  }
  if (display == Display::x11 || display == Display::both) grant_x11(g);
  if (display == Display::wayland || display == Display::both) grant_wayland(g);
  if (d.gpu && d.gpu->value) grant_gpu(g);
  if (d.shm && d.shm->value) {
    if (g.ns) {
      dp.grants.push_back("shm /dev/shm (private tmpfs" +
                          (cx.plan.ns.shm_size ? ", " + profile::size_text(cx.plan.ns.shm_size)
                                               : std::string()) +
                          ")");
    } else {
      // No namespace wall: the host's /dev/shm, shared with its processes.
      g.rule("/dev/shm", true, fs_rights_at(kMaxKnownAbi) & ~fs::kExecute, "desktop.shm");
      dp.grants.push_back("shm /dev/shm (the host's, shared: no namespace wall)");
    }
  }
  if (d.audio && d.audio->value) grant_audio(g);
  if (dbus) AISBX_TRY(grant_dbus(g, *d.dbus_talk));
  if (dp.grants.empty()) dp.grants.push_back("nothing (every part of `desktop:` is off)");
  return {};
}

}  // namespace aisbx::plan
