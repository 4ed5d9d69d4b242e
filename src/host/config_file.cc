#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aisbx/host_sys.h"
#include "aisbx/sys/fd.h"

namespace aisbx {

Expected<std::string> read_profile_file(const std::string& path) {
  // O_NONBLOCK: a FIFO planted at the path must not hang the launcher.
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0)
    return sys_fail("open profile file " + q(path), "check --config / $AISBX_CONFIG");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_fail("fstat " + q(path));
  if (!S_ISREG(st.st_mode)) return fail("profile file " + q(path) + " is not a regular file");
  if (static_cast<std::size_t>(st.st_size) > profile::kMaxProfileBytes)
    return fail("profile file " + q(path) + " is larger than " +
                std::to_string(profile::kMaxProfileBytes) + " bytes");
  // Read into the string itself, sized by fstat, then on through a page
  // until read() says the end (the file may have grown). Not through a 64
  // KiB buffer: on the stack it is probed page by page (stack clash
  // protection), on the heap it is zeroed, either way a dozen page faults
  // on every launch for a file of a page or two.
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  for (;;) {
    char more[4096];
    const bool full = got == text.size();
    const ssize_t n = full ? ::read(fd.get(), more, sizeof more)
                           : ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_fail("read " + q(path));
    }
    if (n == 0) break;
    if (full)
      text.append(more, static_cast<std::size_t>(n));
    got += static_cast<std::size_t>(n);
    if (got > profile::kMaxProfileBytes)
      return fail("profile file " + q(path) + " grew past " +
                  std::to_string(profile::kMaxProfileBytes) + " bytes while being read");
  }
  text.resize(got);  // it shrank since the fstat
  return text;
}

Expected<std::optional<std::string>> find_config(const Options& o, const HostFacts& h) {
  if (o.config) return std::optional<std::string>(*o.config);
  if (auto it = h.env.find("AISBX_CONFIG"); it != h.env.end() && !it->second.empty())
    return std::optional<std::string>(it->second);
  std::string xdg = h.home + "/.config";
  if (auto it = h.env.find("XDG_CONFIG_HOME"); it != h.env.end() && !it->second.empty() &&
                                               it->second[0] == '/')
    xdg = it->second;
  for (const std::string& p : {xdg + "/aisbx/profiles.yaml", std::string("/etc/aisbx/profiles.yaml")}) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0) return std::optional<std::string>(p);
  }
  return std::optional<std::string>();
}

}  // namespace aisbx
