// The X cookie of the granted display, copied into the private HOME at
// launch (`desktop: {display: x11}`): the program authenticates to its
// display and to no other one the user has cookies for.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>

#include "aisbx/sys/fd.h"
#include "desktop/desktop.h"

namespace aisbx::desktop {
namespace {

constexpr std::size_t kMaxXauthBytes = 1 << 20;

}  // namespace

Expected<void> copy_xauthority(const plan::DesktopPlan& d) {
  if (d.xauth_source.empty() || d.xauth_target.empty()) return {};
  // The host's file, as the user: no link followed at its last component,
  // a regular file of bounded size.
  sys::UniqueFd in(::open(d.xauth_source.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (in.get() < 0) return sys_fail("open " + q(d.xauth_source), "the X cookie is copied from $XAUTHORITY or ~/.Xauthority");
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) return sys_fail("fstat " + q(d.xauth_source));
  if (!S_ISREG(st.st_mode) || static_cast<std::size_t>(st.st_size) > kMaxXauthBytes)
    return fail(q(d.xauth_source) + " is not a regular Xauthority file of at most 1 MiB");
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(in.get(), text.data() + got, text.size() - got);
    if (n < 0) return sys_fail("read " + q(d.xauth_source));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  const auto mine = xauth_entries_for(text, d.x11_display, d.x11_inner);
  if (!mine) return fail(q(d.xauth_source) + " is not an Xauthority file (its entries do not parse)");
  // The private HOME is the sandbox's to write: what lies at the target
  // may be anything a previous run left. Never follow it, never write
  // through a FIFO or a device; replace the file whole.
  const std::string tmp = d.xauth_target + ".aisbx-new";
  ::unlink(tmp.c_str());
  sys::UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (out.get() < 0) return sys_fail("create " + q(tmp));
  if (!sys::write_all(out.get(), *mine)) return sys_fail("write " + q(tmp));
  if (::rename(tmp.c_str(), d.xauth_target.c_str()) != 0)
    return sys_fail("rename " + q(tmp) + " to " + q(d.xauth_target));
  return {};
}

}  // namespace aisbx::desktop
