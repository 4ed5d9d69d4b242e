// Thin wrappers over the Landlock syscalls and no_new_privs. No decisions:
// which rights to handle and grant is the Plan's business (plan/). Each call
// returns an Error naming the syscall, with errno and a hint keyed on it.
//
// Landlock has no C library and Debian 12's <linux/landlock.h> stops at
// ABI 2, so the structs and constants are the project's own, copied from the
// kernel's include/uapi/linux/landlock.h layout.
#pragma once

#include <cstdint>

#include "aisbx/error.h"
#include "aisbx/sys/fd.h"

namespace aisbx::sys {

// The Landlock ABI version of the running kernel (>= 1). Fails with
// Error::err = ENOSYS (built without Landlock) or EOPNOTSUPP (built, but not
// enabled at boot), or whatever else the kernel (or a seccomp filter) says.
Expected<int> landlock_abi();

// What a ruleset handles. The kernel reads only the fields its ABI knows:
// handled_access_fs (ABI 1+), handled_access_net (ABI 4+), scoped (ABI 6+).
struct RulesetAttr {
  std::uint64_t handled_access_fs = 0;
  std::uint64_t handled_access_net = 0;
  std::uint64_t scoped = 0;
};

// landlock_create_ruleset() with the struct size that `abi` knows (8 bytes
// for ABI 1-3, 16 for 4-5, 24 for 6+), so an older kernel does not refuse the
// call with E2BIG. A field that does not fit that size but is not zero is an
// error (EINVAL) rather than silently dropped. The fd is O_CLOEXEC.
Expected<UniqueFd> create_ruleset(const RulesetAttr& attr, int abi);

// LANDLOCK_RULE_PATH_BENEATH: `allowed` fs rights beneath `parent_fd`
// (an O_PATH fd is enough). `allowed` must be a subset of the handled rights,
// and only file rights for a non-directory.
Expected<void> add_path_rule(int ruleset_fd, int parent_fd, std::uint64_t allowed);

// LANDLOCK_RULE_NET_PORT (ABI 4+): `allowed` net rights for TCP `port`.
Expected<void> add_port_rule(int ruleset_fd, std::uint64_t port, std::uint64_t allowed);

// landlock_restrict_self(): the calling thread's domain from now on.
// Needs no_new_privs (or CAP_SYS_ADMIN). `flags`: restrict_flags:: (ABI 7+).
Expected<void> restrict_self(int ruleset_fd, std::uint32_t flags = 0);

// prctl(PR_SET_NO_NEW_PRIVS, 1): required by restrict_self and by seccomp
// for unprivileged processes; inherited by children and kept across execve.
Expected<void> set_no_new_privs();

}  // namespace aisbx::sys
