#include "aisbx/sys/spawn.h"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstdint>

#if defined(__x86_64__)
// clone3() that starts `entry(arg)` in the child on the stack named in
// `args`, as glibc's clone() does for clone(2) (glibc 2.36 has no clone3
// entry). The child may not return into C++ code: its stack is not the
// parent's. syscall keeps every register but rax, rcx and r11, so the
// child finds `entry` and `arg` in r8 and r9; the stack top it starts on
// is 16-byte aligned (ChildStack), so the call leaves the callee's stack
// aligned as the ABI wants. `entry` never returns; if it did, the child
// exits with its value.
extern "C" long aisbx_clone3_start(clone_args* args, unsigned long size, int (*entry)(void*),
                                   void* arg);
asm(R"(
  .text
  .globl aisbx_clone3_start
  .hidden aisbx_clone3_start
  .type aisbx_clone3_start, @function
  .p2align 4
aisbx_clone3_start:
  .cfi_startproc
  mov %rdx, %r8
  mov %rcx, %r9
  mov $435, %eax
  syscall
  test %rax, %rax
  jz 1f
  ret
1:
  .cfi_undefined rip
  xor %ebp, %ebp
  mov %r9, %rdi
  call *%r8
  mov %eax, %edi
  mov $60, %eax
  syscall
  ud2
  .cfi_endproc
  .size aisbx_clone3_start, .-aisbx_clone3_start
)");
#endif

namespace aisbx::sys::detail {
namespace {

// -1 with errno when the kernel, a filter or the architecture says no.
pid_t clone3_shared_into(int (*entry)(void*), void* arg, const ChildStack& stack, int cgroup_dir) {
#if defined(__x86_64__)
  clone_args args{};
  args.flags = CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.stack = reinterpret_cast<std::uintptr_t>(stack.top()) - ChildStack::kSize;
  args.stack_size = ChildStack::kSize;
  args.cgroup = static_cast<std::uint64_t>(cgroup_dir);
  const long r = aisbx_clone3_start(&args, sizeof args, entry, arg);
  if (r < 0) {
    errno = static_cast<int>(-r);
    return -1;
  }
  return static_cast<pid_t>(r);
#else
  (void)entry, (void)arg, (void)stack, (void)cgroup_dir;
  errno = ENOSYS;
  return -1;
#endif
}

}  // namespace

pid_t spawn_shared(int (*entry)(void*), void* arg, int cgroup_dir) {
  // The child's own stack (with a guard: an overflow faults instead of
  // running into the parent's memory): the parent's frames stay as they
  // are while it runs. Back here the child has exec'd or exited, and the
  // stack is unmapped with `stack`.
  pid_t pid = -1;
  int err = 0;
  {
    const ChildStack stack;
    if (!stack.ok()) return -1;
    // SIGCHLD: the parent waits for it as for a forked child.
    pid = cgroup_dir >= 0 ? clone3_shared_into(entry, arg, stack, cgroup_dir)
                          : ::clone(entry, stack.top(), CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
    err = errno;
  }
  errno = err;  // the clone's, not the unmap's
  return pid;
}

pid_t start_beside(int (*entry)(void*), void* arg, void* stack_top) {
  return ::clone(entry, stack_top, CLONE_VM | SIGCHLD, arg);
}

}  // namespace aisbx::sys::detail

namespace aisbx::sys {

// The lowest kGuard bytes are a guard: an overflow faults instead of
// running into whatever mapping lies below, which is the launcher's too.
ChildStack::ChildStack() {
  void* p = ::mmap(nullptr, kGuard + kSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (p == MAP_FAILED) return;
  if (::mprotect(p, kGuard, PROT_NONE) != 0) {
    ::munmap(p, kGuard + kSize);
    return;
  }
  base_ = static_cast<char*>(p) + kGuard;
}

ChildStack::~ChildStack() {
  if (base_ != nullptr) ::munmap(static_cast<char*>(base_) - kGuard, kGuard + kSize);
}

}  // namespace aisbx::sys
