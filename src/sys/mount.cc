#include "aisbx/sys/mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace aisbx::sys {

std::string fd_path(const std::string& proc, int fd) {
  return proc + "/self/fd/" + std::to_string(fd);
}

Expected<void> mount(const std::string& source, const std::string& target, const char* fstype,
                     unsigned long flags, const std::string& data,
                     const std::string& shown_source, const std::string& shown_target) {
  if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(), fstype, flags,
              data.empty() ? nullptr : data.c_str()) != 0)
    return sys_fail(std::string("mount ") + (fstype ? fstype : "bind") + " " +
                    q(shown_source.empty() ? source : shown_source) + " -> " +
                    q(shown_target.empty() ? target : shown_target));
  return {};
}

bool has_mount_setattr() {
  // An fd that is never valid: EBADF where the call exists.
  return !(::mount_setattr(-1, "", AT_EMPTY_PATH, nullptr, 0) != 0 && errno == ENOSYS);
}

Expected<UniqueFd> clone_tree(int fd, const std::string& shown) {
  const int tree = ::open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
                                           AT_EMPTY_PATH);
  if (tree < 0) return sys_fail("open_tree(OPEN_TREE_CLONE | AT_RECURSIVE) " + q(shown));
  return UniqueFd(tree);
}

Expected<void> add_attrs_recursive(int fd, std::uint64_t attrs, const std::string& shown) {
  mount_attr attr{};
  attr.attr_set = attrs;
  if (::mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
    return sys_fail("mount_setattr(AT_RECURSIVE) " + q(shown));
  return {};
}

Expected<void> attach_tree(int tree, int at, const std::string& shown_source,
                           const std::string& shown_target) {
  if (::move_mount(tree, "", at, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
    return sys_fail("move_mount " + q(shown_source) + " -> " + q(shown_target));
  return {};
}

Expected<void> attach_tree_at(int tree, int dir, const std::string& name,
                              const std::string& shown_source, const std::string& shown_target) {
  if (::move_mount(tree, "", dir, name.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return sys_fail("move_mount " + q(shown_source) + " -> " + q(shown_target));
  return {};
}

Expected<void> pivot_root(const std::string& new_root, const std::string& put_old) {
  // glibc has no wrapper for pivot_root.
  if (::syscall(SYS_pivot_root, new_root.c_str(), put_old.c_str()) != 0)
    return sys_fail("pivot_root(" + q(new_root) + ", " + q(put_old) + ")");
  return {};
}

Expected<void> umount_detach(const std::string& target) {
  if (::umount2(target.c_str(), MNT_DETACH) != 0)
    return sys_fail("umount2(" + q(target) + ", MNT_DETACH)");
  return {};
}

Expected<void> mkdir_p(const std::string& path, unsigned mode) {
  std::string cur;
  std::size_t i = 0;
  while (i < path.size()) {
    const auto j = path.find('/', i + 1);
    cur = path.substr(0, j);
    if (!cur.empty() && ::mkdir(cur.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST)
      return sys_fail("mkdir " + q(cur));
    if (j == std::string::npos) break;
    i = j;
  }
  return {};
}

Expected<void> touch(const std::string& path, unsigned mode) {
  // In a directory reached through no symlink: beneath a bind of a writable
  // host directory, a directory on the way may have become a link since
  // planning, and the file would be made wherever it points.
  const auto slash = path.rfind('/');
  const std::string parent = slash == 0 ? "/" : path.substr(0, slash);
  const std::string name = path.substr(slash + 1);
  UniqueFd dir(open_path_no_symlinks(AT_FDCWD, parent));
  if (dir.get() < 0) return sys_fail("open " + q(parent) + " (O_PATH, no symlinks)");
  // Already there (a file root nested in a directory root): nothing to do,
  // and no write permission is needed.
  struct stat st {};
  if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(st.st_mode))
    return {};
  const int fd = ::openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                          static_cast<mode_t>(mode));
  if (fd < 0) return sys_fail("create " + q(path));
  ::close(fd);
  return {};
}

Expected<void> write_file(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) return sys_fail("open " + q(path) + " for writing");
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return sys_fail("write " + q(path) + " (" + text.substr(0, text.find('\n')) + ")");
  return {};
}

}  // namespace aisbx::sys
