#include "aisbx/features_render.h"

#include <algorithm>
#include <sstream>

#include "aisbx/rights.h"
#include "plan/json_writer.h"

namespace aisbx {
namespace {

struct AbiLevel {
  int abi;
  const char* kernel;
  const char* adds;
};

// clang-format off
constexpr AbiLevel kLevels[] = {
    {1,  "5.13", "filesystem: execute, read/write files, read dirs, remove and make entries"},
    {2,  "5.19", "refer: moving and linking files between directories"},
    {3,  "6.2",  "truncate"},
    {4,  "6.7",  "network: TCP bind and connect by port"},
    {5,  "6.10", "ioctl_dev: ioctl on device files"},
    {6,  "6.12", "scopes: abstract unix sockets and signals outside the sandbox"},
    {7,  "6.15", "audit log flags"},
    {8,  "7.0",  "thread sync: restrict every thread at once"},
    {9,  "7.1",  "resolve_unix: connecting to pathname unix sockets"},
    {10, "7.2",  "network: UDP bind and send by port"},
};
// clang-format on

bool is_apparmor(const Features& f) {
  return f.userns_why.find("apparmor") != std::string::npos;
}

int used_abi(const Features& f) { return std::min(f.landlock_abi, kMaxKnownAbi); }

std::string landlock_line(const Features& f) {
  if (f.landlock_abi == 0) return "off: " + f.landlock_why;
  return "ABI " + std::to_string(used_abi(f)) + " (" + join_fs_rights(fs_rights_at(used_abi(f))) + ")";
}

}  // namespace

std::string apparmor_profile(const std::string& exe) {
  return "abi <abi/4.0>,\ninclude <tunables/global>\n\nprofile aisbx-ns " + exe +
         " flags=(unconfined) {\n  userns,\n  include if exists <local/aisbx-ns>\n}\n";
}

std::string render_features(const Features& f, Format format, const std::string& exe) {
  const int abi = used_abi(f);
  if (format == Format::json) {
    plan::JsonWriter j;
    j.begin_object();
    j.key("landlock").begin_object();
    j.key("abi").value(f.landlock_abi);
    j.key("used_abi").value(abi);
    j.key("max_known_abi").value(kMaxKnownAbi);
    j.key("why").value(f.landlock_why);
    j.key("remedy").value(f.landlock_remedy);
    j.key("fs_rights").strings(fs_right_names(fs_rights_at(abi)));
    j.key("levels").begin_array();
    for (const auto& l : kLevels) {
      j.begin_object().key("abi").value(l.abi).key("kernel").value(l.kernel);
      j.key("adds").value(l.adds).key("available").value(l.abi <= abi).end_object();
    }
    j.end_array().end_object();
    j.key("user_namespaces").begin_object();
    j.key("available").value(f.userns).key("why").value(f.userns_why);
    j.key("remedy").value(f.userns_remedy).end_object();
    j.key("seccomp").begin_object();
    j.key("available").value(f.seccomp).key("why").value(f.seccomp_why).end_object();
    j.key("in_seccomp_filter").value(f.in_seccomp_filter);
    j.key("layered").begin_object();
    j.key("namespace").value(f.userns).key("landlock_abi").value(abi);
    j.key("seccomp").value(f.seccomp).end_object();
    j.key("strict_possible").value(f.userns && abi >= 1 && f.seccomp);
    j.end_object();
    return j.str();
  }
  std::ostringstream o;
  o << "landlock: " << (f.landlock_abi ? "ABI " + std::to_string(f.landlock_abi) : "unavailable")
    << (f.landlock_abi > kMaxKnownAbi
            ? " (this build knows up to " + std::to_string(kMaxKnownAbi) + " and uses that)"
            : "")
    << "\n";
  if (f.landlock_abi == 0) {
    o << "  why: " << f.landlock_why << "\n";
    if (!f.landlock_remedy.empty()) o << "  remedy: " << f.landlock_remedy << "\n";
  }
  for (const auto& l : kLevels)
    o << "  [" << (l.abi <= abi ? 'x' : ' ') << "] ABI " << l.abi << " (Linux " << l.kernel
      << "): " << l.adds << "\n";
  o << "user namespaces: " << (f.userns ? "available" : "unavailable") << "\n";
  if (!f.userns) {
    o << "  why: " << f.userns_why << "\n";
    if (!f.userns_remedy.empty()) o << "  remedy: " << f.userns_remedy << "\n";
    if (is_apparmor(f))
      o << "  AppArmor profile for this binary (/etc/apparmor.d/aisbx-ns):\n"
        << apparmor_profile(exe);
  }
  o << "seccomp: " << (f.seccomp ? "available" : "unavailable: " + f.seccomp_why) << "\n";
  if (f.in_seccomp_filter)
    o << "  note: this process already runs under a seccomp filter (a container?)\n";
  o << "here, --mode layered enforces:\n";
  o << "  namespace: " << (f.userns ? "on" : "off: " + f.userns_why) << "\n";
  o << "  landlock: " << landlock_line(f) << "\n";
  o << "  seccomp: " << (f.seccomp ? "when the profile asks" : "off") << "\n";
  o << "--mode strict: "
    << (f.userns && abi >= 1 && f.seccomp ? "possible" : "refused here (a wall is missing)")
    << "\n";
  return o.str();
}

}  // namespace aisbx
