// /proc and /dev of the sandbox. Device nodes cannot be created in a user
// namespace, so the harmless ones are bound from the host's /dev.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aisbx/sys/mount.h"
#include "desktop/desktop.h"
#include "stages/mount_paths.h"

namespace aisbx::stage {

Expected<void> mount_proc(const std::string& at) {
  AISBX_TRY(sys::mkdir_p(at, 0755));
  AISBX_TRY(sys::mount("proc", at, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, {}, "proc", "/proc"));
  // Host-wide knobs stay read-only even for root in the sandbox (bubblewrap
  // protects the same paths).
  for (const char* sub : {"sys", "sysrq-trigger", "irq", "bus"}) {
    const std::string p = at + "/" + sub;
    if (::access(p.c_str(), F_OK) != 0) continue;
    AISBX_TRY(sys::mount(p, p, nullptr, MS_BIND | MS_REC, {}, p.substr(kNewRoot.size()),
                         p.substr(kNewRoot.size())));
    AISBX_TRY(sys::mount({}, p, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
                                             MS_NOEXEC, {}, "remount", p.substr(kNewRoot.size())));
  }
  return {};
}

Expected<void> mount_dev(const std::string& at, std::uint64_t shm_size,
                         const std::vector<std::string>& extra_nodes) {
  AISBX_TRY(sys::mkdir_p(at, 0755));
  AISBX_TRY(sys::mount("tmpfs", at, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755", "tmpfs", "/dev"));
  for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
    const std::string dst = at + "/" + node;
    AISBX_TRY(sys::touch(dst, 0666));
    AISBX_ASSIGN(src_fd, sys::open_no_symlinks(kOldRoot + "/dev/" + node));
    AISBX_ASSIGN(dst_fd, sys::open_no_symlinks(dst));
    AISBX_TRY(sys::mount(sys::fd_path(kHostProc, src_fd.get()), sys::fd_path(kHostProc, dst_fd.get()),
                         nullptr, MS_BIND, {}, std::string("/dev/") + node,
                         std::string("/dev/") + node));
  }
  // A private devpts instance: the sandbox sees only its own terminals.
  AISBX_TRY(sys::mkdir_p(at + "/pts", 0755));
  AISBX_TRY(sys::mount("devpts", at + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                       "newinstance,ptmxmode=0666,mode=620", "devpts", "/dev/pts"));
  AISBX_TRY(sys::mkdir_p(at + "/shm", 01777));
  AISBX_TRY(sys::mount("tmpfs", at + "/shm", "tmpfs", MS_NOSUID | MS_NODEV,
                       "mode=1777" + (shm_size ? ",size=" + std::to_string(shm_size) : ""), "tmpfs",
                       "/dev/shm"));
  struct Link {
    const char* name;
    const char* to;
  };
  for (const Link& l : {Link{"ptmx", "pts/ptmx"}, Link{"fd", "/proc/self/fd"},
                        Link{"stdin", "/proc/self/fd/0"}, Link{"stdout", "/proc/self/fd/1"},
                        Link{"stderr", "/proc/self/fd/2"}, Link{"core", "/proc/kcore"}}) {
    if (std::string(l.name) == "core") continue;  // never expose kcore
    const std::string p = at + "/" + l.name;
    if (::symlink(l.to, p.c_str()) != 0) return sys_fail("symlink " + q("/dev/" + std::string(l.name)));
  }
  // `desktop: {gpu: true}`: the render nodes, before /dev is made read-only.
  AISBX_TRY(desktop::bind_device_nodes(kOldRoot, at, extra_nodes));
  // Nothing new can be created in /dev itself.
  AISBX_TRY(sys::mount({}, at, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
                       {}, "remount", "/dev"));
  return {};
}

}  // namespace aisbx::stage
