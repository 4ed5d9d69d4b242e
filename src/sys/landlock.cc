#include "aisbx/sys/landlock.h"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <string>

// glibc 2.36 defines these; older headers may not. The numbers are the same
// on every architecture that uses the unified syscall table (all but alpha).
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif

namespace aisbx::sys {
namespace {

// Kernel uapi layout (include/uapi/linux/landlock.h), not <linux/landlock.h>:
// Debian 12's copy knows only handled_access_fs.
struct KernelRulesetAttr {
  std::uint64_t handled_access_fs;
  std::uint64_t handled_access_net;  // ABI 4
  std::uint64_t scoped;              // ABI 6
};
static_assert(sizeof(KernelRulesetAttr) == 24);

struct [[gnu::packed]] KernelPathBeneathAttr {
  std::uint64_t allowed_access;
  std::int32_t parent_fd;
};
static_assert(sizeof(KernelPathBeneathAttr) == 12);

struct KernelNetPortAttr {
  std::uint64_t allowed_access;
  std::uint64_t port;
};
static_assert(sizeof(KernelNetPortAttr) == 16);

constexpr unsigned kCreateRulesetVersion = 1U << 0;
constexpr int kRulePathBeneath = 1;
constexpr int kRuleNetPort = 2;

std::string hex(std::uint64_t v) {
  std::array<char, 20> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v, 16);
  (void)ec;  // 16 hex digits always fit
  return "0x" + std::string(buf.data(), end);
}

// Hints keyed on errno, as the kernel's samples/landlock/sandboxer.c does.
// The first two mean the same for every Landlock syscall.
const char* common_hint(int err) {
  switch (err) {
    case ENOSYS:
      return "kernel built without Landlock (CONFIG_SECURITY_LANDLOCK), or a seccomp "
             "filter hides the syscall";
    case EOPNOTSUPP:
      return "Landlock is built but disabled: add landlock to the kernel's lsm= boot "
             "parameter";
    default:
      return "";
  }
}

const char* create_hint(int err) {
  switch (err) {
    case EINVAL:
      return "a handled right is unknown to this kernel: filter the rights by its ABI";
    case ENOMSG:
      return "the ruleset handles nothing";
    default:
      return common_hint(err);
  }
}

const char* path_rule_hint(int err) {
  switch (err) {
    case EINVAL:
      return "access not handled by the ruleset, or a directory right on a file";
    case ENOMSG:
      return "empty access: a rule must allow something";
    case EBADF:
    case EBADFD:
      return "the ruleset fd or the parent fd is not what it should be";
    default:
      return common_hint(err);
  }
}

const char* port_rule_hint(int err) {
  switch (err) {
    case EINVAL:
      return "port above 65535, or access not handled by the ruleset (ABI 4+)";
    case EAFNOSUPPORT:
      return "kernel built without TCP/IP (CONFIG_INET): no network rules";
    case ENOMSG:
      return "empty access: a rule must allow something";
    default:
      return common_hint(err);
  }
}

const char* restrict_hint(int err) {
  switch (err) {
    case EPERM:
      return "no_new_privs is not set (and no CAP_SYS_ADMIN): set it first";
    case E2BIG:
      return "already 16 Landlock domains stacked on this process";
    case EINVAL:
      return "flags unknown to this kernel's Landlock ABI";
    default:
      return common_hint(err);
  }
}

}  // namespace

Expected<int> landlock_abi() {
  const long abi =
      ::syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  if (abi < 0) {
    const int err = errno;
    return errno_fail(err, "landlock_create_ruleset(NULL, 0, VERSION)", common_hint(err));
  }
  return static_cast<int>(abi);
}

Expected<UniqueFd> create_ruleset(const RulesetAttr& attr, int abi) {
  // The kernel reads the first `size` bytes and refuses (E2BIG) a larger
  // struct whose extra bytes are not zero, so pass exactly what the ABI knows.
  const std::size_t size = abi >= 6 ? 24 : abi >= 4 ? 16 : 8;
  const std::string what = "landlock_create_ruleset(fs " + hex(attr.handled_access_fs) +
                           ", net " + hex(attr.handled_access_net) + ", scoped " +
                           hex(attr.scoped) + ", size " + std::to_string(size) + ")";
  if ((size < 16 && attr.handled_access_net != 0) || (size < 24 && attr.scoped != 0))
    return errno_fail(EINVAL, what,
                      "net rights need Landlock ABI 4 and scopes ABI 6, this call is for "
                      "ABI " +
                          std::to_string(abi) + ": filter the rights by ABI first");
  const KernelRulesetAttr k{attr.handled_access_fs, attr.handled_access_net, attr.scoped};
  const long fd = ::syscall(SYS_landlock_create_ruleset, &k, size, 0U);
  if (fd < 0) {
    const int err = errno;
    return errno_fail(err, what, create_hint(err));
  }
  return UniqueFd(static_cast<int>(fd));  // Landlock fds are always O_CLOEXEC
}

Expected<void> add_path_rule(int ruleset_fd, int parent_fd, std::uint64_t allowed) {
  const KernelPathBeneathAttr k{allowed, parent_fd};
  if (::syscall(SYS_landlock_add_rule, ruleset_fd, kRulePathBeneath, &k, 0U) != 0) {
    const int err = errno;
    return errno_fail(err,
                      "landlock_add_rule(PATH_BENEATH, fd " + std::to_string(parent_fd) +
                          ", access " + hex(allowed) + ")",
                      path_rule_hint(err));
  }
  return {};
}

Expected<void> add_port_rule(int ruleset_fd, std::uint64_t port, std::uint64_t allowed) {
  const KernelNetPortAttr k{allowed, port};
  if (::syscall(SYS_landlock_add_rule, ruleset_fd, kRuleNetPort, &k, 0U) != 0) {
    const int err = errno;
    return errno_fail(err,
                      "landlock_add_rule(NET_PORT, port " + std::to_string(port) +
                          ", access " + hex(allowed) + ")",
                      port_rule_hint(err));
  }
  return {};
}

Expected<void> restrict_self(int ruleset_fd, std::uint32_t flags) {
  if (::syscall(SYS_landlock_restrict_self, ruleset_fd, flags) != 0) {
    const int err = errno;
    return errno_fail(err,
                      "landlock_restrict_self(fd " + std::to_string(ruleset_fd) +
                          ", flags " + hex(flags) + ")",
                      restrict_hint(err));
  }
  return {};
}

Expected<void> set_no_new_privs() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return sys_fail("prctl(PR_SET_NO_NEW_PRIVS, 1)");
  return {};
}

}  // namespace aisbx::sys
