// `desktop:` (issue 18): parsing, the resolved grants, and the Xauthority
// filter, without a kernel.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aisbx/features.h"
#include "aisbx/host.h"
#include "aisbx/options.h"
#include "aisbx/plan.h"
#include "aisbx/profile.h"
#include "desktop/desktop.h"
#include "unit/fake_fs.h"
#include "unit/test_profile.h"
#include "unit/test_world.h"

namespace aisbx {
namespace {

using plan::MountKind;
using plan::Plan;

std::string doc(const std::string& desktop, const std::string& extra = "") {
  return "version: 1\nprofiles:\n  p:\n    access_roots:\n      proj:\n"
         "        paths: [\"${PROJECT}\"]\n        permissions: {read_file: true, read_dir: true}\n"
         "    control_access: {read_file: true, read_dir: true, write_file: true, make_reg: true}\n"
         "    home: ~/.sbx\n    command:\n      binary: sh\n" +
         extra + (desktop.empty() ? "" : "    desktop:\n" + desktop);
}

struct World : test::TestWorld {
  World() : TestWorld("/home/u/dev/myproj") {
    host.env["PATH"] = "/usr/bin";
    host.env["DISPLAY"] = ":3";
    host.env["WAYLAND_DISPLAY"] = "wayland-1";
    host.env["XDG_RUNTIME_DIR"] = "/run/user/1000";
    fs.dir("/usr/bin").file("/usr/bin/sh").dir("/proc").dir("/dev/shm").dir("/tmp");
    fs.dir("/home/u/dev/myproj").dir("/home/u/.sbx");
    fs.other("/tmp/.X11-unix/X3").other("/tmp/.X11-unix/X0");
    fs.file("/home/u/.Xauthority", "cookies");
    fs.other("/run/user/1000/wayland-1").other("/run/user/1000/wayland-0");
    fs.other("/run/user/1000/pipewire-0").other("/run/user/1000/bus");
    fs.other("/dev/dri/card0").other("/dev/dri/renderD128").other("/dev/nvidiactl");
    fs.symlink("/sys/class/drm/renderD128", "../../devices/pci0000:00/0000:00:02.0/drm/renderD128");
    fs.dir("/sys/devices/pci0000:00/0000:00:02.0/drm/renderD128");
    fs.file("/sys/class/drm/renderD128/dev", "226:128\n");
    fs.file("/sys/devices/pci0000:00/0000:00:02.0/drm/renderD128/dev", "226:128\n");
  }
  Expected<Plan> run(const std::string& yaml) const {
    return resolve_yaml(yaml);
  }
};

std::string err(const Expected<Plan>& r) {
  return r ? "<resolved>" : r.error().what + " / " + r.error().hint;
}

bool has_bind(const Plan& p, const std::string& target) {
  for (const auto& m : p.ns.mounts)
    if (m.kind == MountKind::bind && m.target == target) return true;
  return false;
}

std::string env_of(const Plan& p, const std::string& k) {
  for (const auto& [key, v] : p.exec.env)
    if (key == k) return v;
  return "<unset>";
}

bool granted(const Plan& p, const std::string& part) {
  for (const auto& g : p.desktop.grants)
    if (g.find(part) != std::string::npos) return true;
  return false;
}

std::string grants(const Plan& p) {
  std::string s;
  for (const auto& g : p.desktop.grants) s += "\n  " + g;
  for (const auto& n : p.notes) s += "\n  note: " + n;
  return s;
}

TEST(DesktopParse, UnknownKeysAndBadValuesAreErrorsWithPositions) {
  struct Case {
    std::string desktop;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"      display: x12\n", "expected one of wayland, x11, both, none"},
           {"      gpus: true\n", "gpus"},
           {"      gpu: yes\n", "expected a boolean"},
           {"      dbus: {talk: [notifications]}\n", "two dot-separated"},
           {"      dbus: {talk: [\":1.42\"]}\n", "unique name"},
           {"      dbus: {own: [org.x.Y]}\n", "own"},
       }) {
    auto p = profile::parse_profiles(doc(c.desktop), "test.yaml");
    ASSERT_FALSE(p.has_value()) << c.desktop;
    EXPECT_NE(p.error().what.find("test.yaml:"), std::string::npos) << p.error().what;
    EXPECT_NE(p.error().what.find(c.says), std::string::npos) << p.error().what;
  }
  auto ok = test::test_profile(
      doc("      display: both\n      gpu: true\n      shm: true\n      audio: false\n"
          "      dbus: {talk: [org.freedesktop.Notifications, org.freedesktop.secrets]}\n"),
      "test.yaml", "p");
  ASSERT_TRUE(ok.has_value()) << ok.error().what;
  EXPECT_EQ(ok->desktop.display->value, profile::Display::both);
  EXPECT_EQ(ok->desktop.dbus_talk->size(), 2u);
}

// Off by default: nothing of the host's display reaches a profile without
// `desktop:`, and the plan says how to add it when a display is there.
TEST(DesktopPlan, NothingWithoutTheKeyAndTheNoteSaysHowToAddIt) {
  World w;
  auto r = w.run(doc(""));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_FALSE(r->desktop.enabled);
  EXPECT_FALSE(has_bind(*r, "/tmp/.X11-unix/X99"));
  EXPECT_TRUE(r->ns.dev_nodes.empty());
  bool note = false;
  for (const auto& n : r->notes)
    note = note || n.find("desktop: {display: both}") != std::string::npos;
  EXPECT_TRUE(note) << grants(*r);
}

TEST(DesktopPlan, X11BindsOnlyTheSocketOfDisplayAndCopiesItsCookie) {
  World w;
  w.opt.net = "none";
  auto r = w.run(doc("      display: x11\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  // Inside, display :99, whose abstract socket the host lacks (libxcb
  // gives up on a refused abstract socket instead of using the file).
  const plan::MountOp* x = nullptr;
  for (const auto& m : r->ns.mounts)
    if (m.kind == MountKind::bind && m.source == "/tmp/.X11-unix/X3") x = &m;
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->target, "/tmp/.X11-unix/X99");
  EXPECT_TRUE(x->read_only);
  EXPECT_FALSE(has_bind(*r, "/tmp/.X11-unix/X0")) << "another display's socket";
  EXPECT_FALSE(has_bind(*r, "/tmp/.X11-unix"));
  EXPECT_FALSE(has_bind(*r, "/run/user/1000/wayland-1"));
  EXPECT_EQ(env_of(*r, "DISPLAY"), ":99");
  EXPECT_EQ(r->desktop.x11_display, "3");
  EXPECT_EQ(r->desktop.x11_inner, "99");
  EXPECT_EQ(r->desktop.xauth_source, "/home/u/.Xauthority");
  EXPECT_TRUE(r->desktop.xauth_target.starts_with(r->ns.home)) << r->desktop.xauth_target;
  EXPECT_EQ(env_of(*r, "XAUTHORITY"), r->desktop.xauth_target);
  EXPECT_TRUE(granted(*r, "x11 socket /tmp/.X11-unix/X3 at /tmp/.X11-unix/X99")) << grants(*r);
  // network none: its own network namespace, no abstract socket.
  EXPECT_TRUE(granted(*r, "abstract X11 socket @/tmp/.X11-unix/X3 not reachable")) << grants(*r);
  EXPECT_TRUE(granted(*r, "only with network: host")) << grants(*r);
}

TEST(DesktopPlan, WaylandAndAudioBindTheirSocketsIntoAPrivateRuntimeDir) {
  World w;
  auto r = w.run(doc("      display: wayland\n      audio: true\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  int runtime = -1, sock = -1;
  for (std::size_t i = 0; i < r->ns.mounts.size(); ++i) {
    const auto& m = r->ns.mounts[i];
    if (m.kind == MountKind::tmp && m.target == "/run/user/1000") runtime = static_cast<int>(i);
    if (m.kind == MountKind::bind && m.target == "/run/user/1000/wayland-1") sock = static_cast<int>(i);
  }
  ASSERT_GE(runtime, 0);
  ASSERT_GE(sock, 0);
  EXPECT_LT(runtime, sock) << "the socket is bound into the private runtime dir";
  EXPECT_TRUE(has_bind(*r, "/run/user/1000/pipewire-0"));
  EXPECT_FALSE(has_bind(*r, "/run/user/1000/wayland-0"));
  EXPECT_FALSE(has_bind(*r, "/run/user/1000/bus")) << "no bus socket without dbus";
  EXPECT_FALSE(has_bind(*r, "/tmp/.X11-unix/X99"));
  EXPECT_EQ(env_of(*r, "WAYLAND_DISPLAY"), "wayland-1");
  EXPECT_EQ(env_of(*r, "XDG_RUNTIME_DIR"), "/run/user/1000");
}

TEST(DesktopPlan, GpuGrantsRenderNodesNeverCardNodes) {
  World w;
  auto r = w.run(doc("      gpu: true\n      shm: true\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->ns.dev_nodes, (std::vector<std::string>{"/dev/dri/renderD128", "/dev/nvidiactl"}));
  EXPECT_TRUE(has_bind(*r, "/sys/devices/pci0000:00/0000:00:02.0"));
  bool link = false;
  for (const auto& m : r->ns.mounts)
    link = link || (m.kind == MountKind::symlink && m.target == "/sys/dev/char/226:128");
  EXPECT_TRUE(link);
  EXPECT_TRUE(granted(*r, "gpu device /dev/dri/renderD128")) << grants(*r);
  EXPECT_FALSE(granted(*r, "card0")) << grants(*r);
  EXPECT_TRUE(granted(*r, "shm /dev/shm")) << grants(*r);
  // Landlock mode: rules on the nodes themselves, card0 still not.
  w.opt.mode = Mode::landlock;
  auto l = w.run(doc("      gpu: true\n"));
  ASSERT_TRUE(l.has_value()) << err(l);
  bool render = false, card = false;
  for (const auto& rule : l->landlock.rules) {
    render = render || rule.path == "/dev/dri/renderD128";
    card = card || rule.path == "/dev/dri/card0";
  }
  EXPECT_TRUE(render);
  EXPECT_FALSE(card);
}

// dbus: the proxy's socket is the only bus socket inside, at the place
// clients look for the session bus; the host's is not bound.
TEST(DesktopPlan, DbusBindsOnlyTheProxySocket) {
  World w;
  w.host.pid = 4242;
  w.fs.file("/usr/bin/xdg-dbus-proxy");
  auto r = w.run(doc("      dbus: {talk: [org.freedesktop.Notifications, org.freedesktop.secrets]}\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  const plan::DesktopPlan& d = r->desktop;
  EXPECT_EQ(d.dbus_proxy, "/usr/bin/xdg-dbus-proxy");
  EXPECT_EQ(d.dbus_address, "unix:path=/run/user/1000/bus");  // no $DBUS_SESSION_BUS_ADDRESS
  EXPECT_EQ(d.dbus_dir, "/run/user/1000/aisbx");
  EXPECT_EQ(d.dbus_socket, "/run/user/1000/aisbx/dbus-4242");
  EXPECT_EQ(d.dbus_talk,
            (std::vector<std::string>{"org.freedesktop.Notifications", "org.freedesktop.secrets"}));
  int runtime = -1, bus = -1;
  for (std::size_t i = 0; i < r->ns.mounts.size(); ++i) {
    const auto& m = r->ns.mounts[i];
    EXPECT_NE(m.source, "/run/user/1000/bus") << "the host's bus is bound at " << m.target;
    if (m.kind == MountKind::tmp && m.target == "/run/user/1000") runtime = static_cast<int>(i);
    if (m.kind == MountKind::bind && m.target == "/run/user/1000/bus") {
      bus = static_cast<int>(i);
      EXPECT_EQ(m.source, d.dbus_socket);
    }
  }
  ASSERT_GE(runtime, 0) << "a private runtime dir hides the host's bus";
  ASSERT_GT(bus, runtime);
  EXPECT_EQ(env_of(*r, "DBUS_SESSION_BUS_ADDRESS"), "unix:path=/run/user/1000/bus");
  EXPECT_TRUE(granted(*r, "dbus talk org.freedesktop.Notifications")) << grants(*r);
  EXPECT_TRUE(granted(*r, "dbus talk org.freedesktop.secrets")) << grants(*r);
  EXPECT_TRUE(granted(*r, "the host's bus socket /run/user/1000/bus is not visible")) << grants(*r);
  EXPECT_TRUE(r->warnings.empty()) << r->warnings.front();
  // Made at launch: planning has nothing to compare it with.
  for (std::size_t i = 0; i < r->ns.mounts.size(); ++i) {
    if (r->ns.mounts[i].source == d.dbus_socket) {
      EXPECT_FALSE(r->ns.mount_seen[i].checked);
    }
  }
}

TEST(DesktopPlan, DbusAddressAndSocketDirectoryFromTheHost) {
  World w;
  w.host.pid = 7;
  w.host.uid = 65534;
  w.host.env.erase("XDG_RUNTIME_DIR");
  w.host.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/var/tmp/b/bus,guid=abc";
  w.host.env["PATH"] = "relative:/opt/x/bin:/usr/bin";
  w.fs.file("/opt/x/bin/xdg-dbus-proxy");
  auto r = w.run(doc("      dbus: {talk: [org.example.A]}\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(r->desktop.dbus_proxy, "/opt/x/bin/xdg-dbus-proxy");
  EXPECT_EQ(r->desktop.dbus_address, "unix:path=/var/tmp/b/bus,guid=abc");
  EXPECT_EQ(r->desktop.dbus_socket, "/tmp/aisbx-65534/dbus-7");
  EXPECT_TRUE(granted(*r, "the host's bus socket /var/tmp/b/bus is not visible")) << grants(*r);
  // A root holding the host's socket: said, since the proxy cannot hide it.
  w.opt.ro.push_back("/var/tmp/b");
  w.fs.dir("/var/tmp/b").other("/var/tmp/b/bus");
  auto seen = w.run(doc("      dbus: {talk: [org.example.A]}\n"));
  ASSERT_TRUE(seen.has_value()) << err(seen);
  ASSERT_FALSE(seen->warnings.empty()) << grants(*seen);
  EXPECT_NE(seen->warnings.back().find("visible inside through `/var/tmp/b`"), std::string::npos)
      << seen->warnings.back();
}

TEST(DesktopPlan, DbusWithoutTheProxyOrTheBusGivesNoBus) {
  World w;
  // No xdg-dbus-proxy: no bus at all, never the unfiltered one, and every
  // run says so.
  auto r = w.run(doc("      dbus: {talk: [org.freedesktop.Notifications]}\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_TRUE(r->desktop.dbus_socket.empty());
  EXPECT_FALSE(has_bind(*r, "/run/user/1000/bus"));
  ASSERT_EQ(r->warnings.size(), 1u) << grants(*r);
  EXPECT_NE(r->warnings[0].find("xdg-dbus-proxy is not on the PATH"), std::string::npos);
  EXPECT_NE(r->warnings[0].find("test.yaml:"), std::string::npos) << r->warnings[0];
  EXPECT_TRUE(granted(*r, "dbus: none (xdg-dbus-proxy is not installed)")) << grants(*r);
  // No session bus on the host: nothing to proxy, no socket inside.
  w.fs.file("/usr/bin/xdg-dbus-proxy");
  w.fs.dir("/run/user/1000/bus");  // not a socket
  auto none = w.run(doc("      dbus: {talk: [org.freedesktop.Notifications]}\n"));
  ASSERT_TRUE(none.has_value()) << err(none);
  EXPECT_TRUE(none->desktop.dbus_socket.empty());
  EXPECT_FALSE(has_bind(*none, "/run/user/1000/bus"));
  EXPECT_TRUE(granted(*none, "dbus: none")) << grants(*none);
  // An empty list: no proxy either.
  auto empty = w.run(doc("      dbus: {talk: []}\n"));
  ASSERT_TRUE(empty.has_value()) << err(empty);
  EXPECT_TRUE(empty->desktop.dbus_socket.empty());
}

// Landlock mode: the proxy's socket at its host path; below ABI 9 nothing
// refuses connecting to the host's socket, and every run says so.
TEST(DesktopPlan, DbusInLandlockModeSaysTheRealBusStaysReachable) {
  World w;
  w.host.pid = 9;
  w.fs.file("/usr/bin/xdg-dbus-proxy");
  w.opt.mode = Mode::landlock;
  auto r = w.run(doc("      dbus: {talk: [org.freedesktop.Notifications]}\n"));
  ASSERT_TRUE(r.has_value()) << err(r);
  EXPECT_EQ(env_of(*r, "DBUS_SESSION_BUS_ADDRESS"), "unix:path=/run/user/1000/aisbx/dbus-9");
  bool warned = false;
  for (const auto& x : r->warnings)
    warned = warned || x.find("`/run/user/1000/bus` stays reachable") != std::string::npos;
  EXPECT_TRUE(warned) << grants(*r);
}

// codex's daemon wants /tmp, which landlock mode has no private one of:
// said before codex starts, with the remedy; not where it can work.
TEST(AgentHints, CodexInLandlockModeIsToldToRunWithoutItsDaemon) {
  World w;
  w.fs.file("/usr/bin/codex");
  w.opt.mode = Mode::landlock;
  const auto warned = [&](std::vector<std::string> command) {
    w.opt.command = std::move(command);
    // Landlock controls making directories and sockets (as `agent` does).
    std::string yaml = doc("");
    const std::string c = "make_reg: true}";
    yaml.replace(yaml.find(c), c.size(), "make_reg: true, make_dir: true, make_sock: true}");
    auto r = w.run(yaml);
    EXPECT_TRUE(r.has_value()) << err(r);
    if (!r) return false;
    for (const auto& x : r->warnings)
      if (x.find("codex --no-daemon") != std::string::npos &&
          x.find("/tmp/codex-daemon-1000") != std::string::npos)
        return true;
    return false;
  };
  EXPECT_TRUE(warned({"codex"}));
  EXPECT_TRUE(warned({"/usr/bin/codex", "resume"}));
  EXPECT_FALSE(warned({"codex", "--no-daemon"}));
  EXPECT_FALSE(warned({"codex", "--version"}));
  EXPECT_FALSE(warned({"sh"}));
  w.opt.mode = Mode::layered;  // a private /tmp
  EXPECT_FALSE(warned({"codex"}));
}

// One entry: family 256 (local), address "host", number, name, data.
std::string xauth_entry(const std::string& number, const std::string& data) {
  auto f = [](const std::string& s) {
    return std::string{static_cast<char>(s.size() >> 8), static_cast<char>(s.size() & 0xff)} + s;
  };
  return std::string("\x01\x00", 2) + f("host") + f(number) + f("MIT-MAGIC-COOKIE-1") + f(data);
}

TEST(DesktopXauth, OnlyTheGrantedDisplaysCookies) {
  const std::string three = xauth_entry("3", "secret-three");
  const std::string zero = xauth_entry("0", "secret-zero");
  const std::string thirty = xauth_entry("30", "secret-thirty");
  const auto got = desktop::xauth_entries_for(zero + three + thirty, "3", "3");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, three);
  // Renumbered as the display is inside the sandbox.
  EXPECT_EQ(desktop::xauth_entries_for(zero + three + thirty, "3", "99"),
            xauth_entry("99", "secret-three"));
  EXPECT_EQ(desktop::xauth_entries_for(zero, "3", "3"), std::string());
  EXPECT_FALSE(
      desktop::xauth_entries_for(three.substr(0, three.size() - 1), "3", "3").has_value());
}

}  // namespace
}  // namespace aisbx
