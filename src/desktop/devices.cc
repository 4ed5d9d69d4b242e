// GPU nodes in the sandbox's minimal /dev (`desktop: {gpu: true}`).
// Device nodes cannot be made in a user namespace, so the host's are bound,
// as the harmless ones of /dev are (src/stages/special_fs.cc).
#include <sys/mount.h>

#include "aisbx/sys/mount.h"
#include "desktop/desktop.h"

namespace aisbx::desktop {

Expected<void> bind_device_nodes(const std::string& old_root, const std::string& dev_at,
                                 const std::vector<std::string>& nodes) {
  for (const auto& node : nodes) {
    if (!node.starts_with("/dev/") || node.find("/../") != std::string::npos)
      return fail("device node " + q(node) + " is not beneath /dev");
    const std::string rel = node.substr(4);  // "/dri/renderD128"
    const std::string dst = dev_at + rel;
    AISBX_TRY(sys::mkdir_p(dst.substr(0, dst.rfind('/')), 0755));
    AISBX_TRY(sys::touch(dst, 0666));
    // Through fds opened without following symlinks, on both sides.
    AISBX_ASSIGN(src_fd, sys::open_no_symlinks(old_root + node));
    AISBX_ASSIGN(dst_fd, sys::open_no_symlinks(dst));
    const std::string proc = old_root + "/proc";
    AISBX_TRY(sys::mount(sys::fd_path(proc, src_fd.get()), sys::fd_path(proc, dst_fd.get()),
                         nullptr, MS_BIND, {}, node, node));
  }
  return {};
}

}  // namespace aisbx::desktop
