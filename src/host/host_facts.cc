#include <pwd.h>
#include <unistd.h>

#include <climits>
#include <vector>

#include "aisbx/host_sys.h"

extern char** environ;

namespace aisbx {

Expected<HostFacts> read_host_facts() {
  HostFacts h;
  h.uid = ::getuid();
  h.gid = ::getgid();
  h.pid = ::getpid();
  for (char** e = environ; e && *e; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq != std::string::npos && eq > 0) h.env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  if (auto it = h.env.find("HOME"); it != h.env.end() && !it->second.empty()) {
    h.home = it->second;
  } else {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* res = nullptr;
    if (::getpwuid_r(h.uid, &pw, buf.data(), buf.size(), &res) == 0 && res && res->pw_dir)
      h.home = res->pw_dir;
  }
  if (h.home.empty() || h.home[0] != '/')
    return fail("cannot tell the home directory: HOME is unset and uid " + std::to_string(h.uid) +
                    " has no passwd entry",
                "set HOME to an absolute path");
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd))
    return sys_fail("getcwd", "the current directory may have been removed; cd somewhere");
  h.cwd = cwd;
  return h;
}

}  // namespace aisbx
