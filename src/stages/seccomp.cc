// The seccomp filter, with libseccomp. Denied calls fail with EPERM (not a
// kill: programs probe for features and handle EPERM); calls of a foreign
// architecture (i386 via int 0x80, x32) kill the process, since a filter
// written for x86_64 numbers cannot judge them.
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <termios.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "aisbx/profile_cache.h"
#include "aisbx/stages.h"
#include "aisbx/sys/fd.h"
#include "aisbx/sys/landlock.h"
#include "aisbx/trace.h"
#include "profile/sha256.h"

namespace aisbx::stage {
namespace {

struct CtxFree {
  void operator()(void* c) const { seccomp_release(c); }
};
using SeccompCtx = std::unique_ptr<void, CtxFree>;

constexpr int kIppProtoMptcp = 262;  // IPPROTO_MPTCP: bypasses Landlock's TCP rules
// <sys/personality.h> flags, spelled out to keep the header's enum out.
constexpr std::uint64_t kAddrNoRandomize = 0x0040000;
constexpr std::uint64_t kMmapPageZero = 0x0100000;
constexpr std::uint64_t kAddrCompatLayout = 0x0200000;
constexpr std::uint64_t kReadImpliesExec = 0x0400000;

// libseccomp returns -errno.
Expected<void> check(int rc, const std::string& what) {
  if (rc < 0) return errno_fail(-rc, "seccomp: " + what);
  return {};
}

// What a denied call meets: ERRNO in the target's own filter; TRAP in the
// trace filter, whose SIGSYS the tracer turns into the same errno (a trap
// outranks ERRNO whatever the filters' order, so the tracer sees every
// refused call; without a tracer the trap kills, never allows).
struct Deny {
  bool trap = false;
  std::uint32_t operator()(int err) const { return trap ? SCMP_ACT_TRAP : SCMP_ACT_ERRNO(err); }
};

Expected<void> deny_if(void* ctx, Deny deny, int nr, const std::string& what, unsigned count,
                       const scmp_arg_cmp* args) {
  return check(seccomp_rule_add_array(ctx, deny(EPERM), nr, count, args), "rule " + what);
}

Expected<void> add_preset_rules(void* ctx, const plan::SeccompPlan& s, Deny deny) {
  if (!s.allow_nested_userns) {
    // clone3 passes its flags in a struct seccomp cannot read: ENOSYS makes
    // libc fall back to clone, whose flags it can (as container runtimes do).
    AISBX_TRY(check(seccomp_rule_add(ctx, deny(ENOSYS), SCMP_SYS(clone3), 0), "rule clone3"));
    const scmp_arg_cmp userns = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
    AISBX_TRY(deny_if(ctx, deny, SCMP_SYS(unshare), "unshare(CLONE_NEWUSER)", 1, &userns));
    AISBX_TRY(deny_if(ctx, deny, SCMP_SYS(clone), "clone(CLONE_NEWUSER)", 1, &userns));
  }
  // personality(2): no flag that weakens ASLR or W^X. The query value
  // 0xffffffff has every bit set, so each rule also requires bit 31 clear,
  // which no real persona uses (libseccomp allows one comparison per argument).
  for (std::uint64_t bit : {kAddrNoRandomize, kMmapPageZero, kAddrCompatLayout, kReadImpliesExec}) {
    const scmp_arg_cmp a = SCMP_A0(SCMP_CMP_MASKED_EQ, bit | 0x80000000ULL, bit);
    AISBX_TRY(deny_if(ctx, deny, SCMP_SYS(personality), "personality", 1, &a));
  }
  const scmp_arg_cmp mptcp = SCMP_A2(SCMP_CMP_EQ, kIppProtoMptcp);
  AISBX_TRY(deny_if(ctx, deny, SCMP_SYS(socket), "socket(IPPROTO_MPTCP)", 1, &mptcp));
  return {};
}

// SeccompPlan::net_guard: the socket families and protocols that would
// bypass the allowlist's relays or reach the network configuration.
Expected<void> add_net_guard_rules(void* ctx, const plan::SeccompPlan& s, Deny deny) {
  constexpr int kIppProtoSctp = 132;
  const scmp_arg_cmp packet = SCMP_A0(SCMP_CMP_EQ, AF_PACKET);
  AISBX_TRY(deny_if(ctx, deny, SCMP_SYS(socket), "socket(AF_PACKET)", 1, &packet));
  const scmp_arg_cmp netlink[] = {SCMP_A0(SCMP_CMP_EQ, AF_NETLINK), SCMP_A2(SCMP_CMP_NE, NETLINK_ROUTE)};
  AISBX_TRY(deny_if(ctx, deny, SCMP_SYS(socket), "socket(AF_NETLINK, not route)", 2, netlink));
  for (int family : {AF_INET, AF_INET6}) {
    // The type's low bits; SOCK_CLOEXEC and SOCK_NONBLOCK sit above them.
    const scmp_arg_cmp raw[] = {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family)),
                                SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW)};
    AISBX_TRY(deny_if(ctx, deny, SCMP_SYS(socket), "socket(SOCK_RAW)", 2, raw));
    const scmp_arg_cmp sctp[] = {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family)),
                                 SCMP_A2(SCMP_CMP_EQ, kIppProtoSctp)};
    AISBX_TRY(deny_if(ctx, deny, SCMP_SYS(socket), "socket(IPPROTO_SCTP)", 2, sctp));
  }
  if (!s.preset) {  // the preset has it already
    const scmp_arg_cmp mptcp = SCMP_A2(SCMP_CMP_EQ, kIppProtoMptcp);
    AISBX_TRY(deny_if(ctx, deny, SCMP_SYS(socket), "socket(IPPROTO_MPTCP)", 1, &mptcp));
  }
  return {};
}

// TIOCSTI/TIOCLINUX (SeccompPlan::tty_guard). The request is an int:
// compare the low 32 bits only, or a caller can set the high bits and slip
// past (CVE-2019-10063).
Expected<void> add_tty_rules(void* ctx, Deny deny) {
  for (unsigned long req : {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX)}) {
    const scmp_arg_cmp a = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, req);
    AISBX_TRY(deny_if(ctx, deny, SCMP_SYS(ioctl), "ioctl(" + std::to_string(req) + ")", 1, &a));
  }
  return {};
}

Expected<SeccompCtx> build(const plan::SeccompPlan& s, Deny deny = {}) {
  SeccompCtx ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return fail("seccomp: seccomp_init failed");
  // The trace filter leaves foreign architectures to the target's filter.
  // A filter that is only the tty guard kills nothing: it covers the
  // foreign architectures' ioctl too instead.
  const bool guard_only = !s.enabled;
  AISBX_TRY(check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH,
                                   deny.trap || guard_only ? SCMP_ACT_ALLOW : SCMP_ACT_KILL_PROCESS),
                  "attribute bad-arch"));
#if defined(__x86_64__)
  if (guard_only)
    for (std::uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32})
      AISBX_TRY(check(seccomp_arch_add(ctx.get(), arch), "add architecture"));
#endif
  // no_new_privs is set by the Landlock stage; say so explicitly anyway.
  AISBX_TRY(check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 1), "attribute no_new_privs"));
  for (const auto& name : s.enabled ? s.deny : std::vector<std::string>{}) {
    const int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR)
      return fail("seccomp: unknown syscall " + q(name) + " in the profile's deny list",
                  "check the spelling against syscalls(2)");
    if (nr < 0) continue;  // not on this architecture (libseccomp pseudo-number)
    AISBX_TRY(check(seccomp_rule_add(ctx.get(), deny(EPERM), nr, 0), "rule " + name));
  }
  if (s.enabled && s.preset) AISBX_TRY(add_preset_rules(ctx.get(), s, deny));
  if (s.enabled && s.net_guard) AISBX_TRY(add_net_guard_rules(ctx.get(), s, deny));
  if (s.tty_guard || (s.enabled && s.preset)) AISBX_TRY(add_tty_rules(ctx.get(), deny));
  return ctx;
}

// Strict mode's filter, compiled once: the launcher compiles it while
// planning (check_seccomp), and the target, whose memory is the launcher's
// (a fork, or sys/spawn.h), loads that program. libseccomp compiling it a
// second time in the target was most of the launch's seccomp phase. The
// key is the plan's filter itself: a program is loaded only for the plan
// it was made from.
struct Compiled {
  std::string key;
  std::vector<sock_filter> prog;
};

Compiled& compiled() {
  static Compiled c;
  return c;
}

std::string key_of(const plan::SeccompPlan& s) {
  std::string k{s.enabled ? 'e' : '-', s.preset ? 'p' : '-', s.allow_nested_userns ? 'u' : '-',
                s.tty_guard ? 't' : '-', s.net_guard ? 'n' : '-'};
  for (const auto& d : s.deny) k += "," + d;
  return k;
}

// The BPF program libseccomp would load, read back from a memfd.
std::optional<std::vector<sock_filter>> export_bpf(void* ctx) {
  sys::UniqueFd fd(::memfd_create("aisbx-seccomp", MFD_CLOEXEC));
  if (fd.get() < 0 || seccomp_export_bpf(ctx, fd.get()) != 0) return std::nullopt;
  const off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0 ||
      size / static_cast<off_t>(sizeof(sock_filter)) > BPF_MAXINSNS)
    return std::nullopt;
  std::vector<sock_filter> prog(static_cast<std::size_t>(size) / sizeof(sock_filter));
  if (::pread(fd.get(), prog.data(), static_cast<std::size_t>(size), 0) != size) return std::nullopt;
  return prog;
}

// The compiled program kept on disk, beside the profile cache (same store:
// 0700, the caller's own, masked in every sandbox), so that a launch does
// not run libseccomp's compiler again (about 0.5 ms for the default
// filter). The key names everything the program depends on: the filter
// the plan asks for, the binary (its rules, its libseccomp), the kernel
// (libseccomp probes what it supports) and the format.
//
//   "AISBXSB1"   magic and format version
//   key          64 bytes, hex
//   count        4 bytes (LE): instructions
//   program      count x sizeof(sock_filter)
//   checksum     32 bytes: SHA-256 of everything before it
constexpr std::string_view kBpfMagic = "AISBXSB1";

std::string disk_key(const plan::SeccompPlan& s, std::string_view salt) {
  utsname u{};
  if (::uname(&u) != 0) return {};
  const scmp_version* v = seccomp_version();
  std::string k = "aisbx-ns seccomp program 1\n";
  k.append(salt).append("\n").append(u.release).append("\n").append(u.version).append("\n");
  if (v != nullptr)
    k += std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
  k += "\n" + key_of(s);
  return profile::hex(profile::sha256(k));
}

std::string entry_of(const std::string& key, const std::vector<sock_filter>& prog) {
  std::string out(kBpfMagic);
  out += key;
  const auto n = static_cast<std::uint32_t>(prog.size());
  for (int i = 0; i < 4; ++i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
  out.append(reinterpret_cast<const char*>(prog.data()), prog.size() * sizeof(sock_filter));
  const profile::Sha256Digest sum = profile::sha256(out);
  out.append(reinterpret_cast<const char*>(sum.data()), sum.size());
  return out;
}

// The program of a good entry for `key`, or why the entry is not one.
std::variant<std::vector<sock_filter>, std::string> program_of(std::string_view bytes,
                                                               const std::string& key) {
  constexpr std::size_t kHead = kBpfMagic.size() + 64 + 4, kSum = 32;
  if (bytes.size() < kHead + kSum) return std::string("shorter than its header");
  if (bytes.substr(0, kBpfMagic.size()) != kBpfMagic) return std::string("not a seccomp entry");
  if (bytes.substr(kBpfMagic.size(), 64) != key) return std::string("written for another filter");
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n |= std::uint32_t{static_cast<unsigned char>(bytes[kBpfMagic.size() + 64 + i])} << (8 * i);
  if (n == 0 || n > BPF_MAXINSNS || bytes.size() != kHead + n * sizeof(sock_filter) + kSum)
    return std::string("truncated, padded or too long");
  const profile::Sha256Digest sum = profile::sha256(bytes.substr(0, bytes.size() - kSum));
  if (std::memcmp(sum.data(), bytes.data() + bytes.size() - kSum, kSum) != 0)
    return std::string("checksum mismatch");
  std::vector<sock_filter> prog(n);
  std::memcpy(prog.data(), bytes.data() + kHead, n * sizeof(sock_filter));
  return prog;
}

}  // namespace

Expected<void> check_seccomp(const plan::SeccompPlan& s, profile::TreeStore* store,
                             std::string_view salt) {
  compiled() = Compiled{};
  if (!s.enabled && !s.tty_guard) return {};
  // An entry is stored only for a filter that built: a hit is a plan that
  // passed build() before, with this binary on this kernel.
  const std::string dkey = store != nullptr && !salt.empty() ? disk_key(s, salt) : std::string();
  if (!dkey.empty()) {
    if (auto bytes = store->load(dkey)) {
      auto prog = program_of(*bytes, dkey);
      if (auto* p = std::get_if<std::vector<sock_filter>>(&prog)) {
        store->note("seccomp cache: hit");
        compiled() = Compiled{key_of(s), std::move(*p)};
        return {};
      }
      store->note("seccomp cache: entry ignored (" + std::get<std::string>(prog) + ")");
    } else {
      store->note("seccomp cache: miss");
    }
  }
  auto ctx = build(s);
  // The terminal guard alone is not checked here: should it fail, the
  // target says so, as it always did.
  if (!ctx) return s.enabled ? Expected<void>(std::unexpected(ctx.error())) : Expected<void>{};
  // Kept for the target, which loads it as it is (apply_seccomp).
  if (auto prog = export_bpf(ctx->get())) {
    if (!dkey.empty()) store->store(dkey, entry_of(dkey, *prog));
    compiled() = Compiled{key_of(s), std::move(*prog)};
  }
  return {};
}

Expected<void> apply_trace_filter(const plan::SeccompPlan& s) {
  AISBX_ASSIGN(ctx, build(s, Deny{true}));
  for (const trace::SyscallShape& t : trace::traced_syscalls()) {
    const int nr = seccomp_syscall_resolve_name(t.name);
    if (nr < 0) continue;  // not on this architecture
    // A call the profile denies is trapped above; a rule for it here would conflict.
    if (s.enabled && std::find(s.deny.begin(), s.deny.end(), t.name) != s.deny.end()) continue;
    const std::string what = std::string("rule trace ") + t.name;
    if (t.skip_if && t.flags >= 0) {
      const scmp_arg_cmp c{static_cast<unsigned>(t.flags), SCMP_CMP_MASKED_EQ, t.skip_if, 0};
      AISBX_TRY(check(seccomp_rule_add_array(ctx.get(), SCMP_ACT_TRACE(0), nr, 1, &c), what));
    } else {
      AISBX_TRY(check(seccomp_rule_add(ctx.get(), SCMP_ACT_TRACE(0), nr, 0), what));
    }
  }
  AISBX_TRY(check(seccomp_load(ctx.get()), "seccomp_load (trace filter)"));
  return {};
}

Expected<void> apply_seccomp(const plan::SeccompPlan& s) {
  if (!s.enabled && !s.tty_guard) return {};
  if (const Compiled& c = compiled(); !c.prog.empty() && c.key == key_of(s)) {
    // What seccomp_load() does with the filter's attributes (no_new_privs,
    // no flags), with the program check_seccomp compiled.
    AISBX_TRY(sys::set_no_new_privs());
    sock_fprog prog{static_cast<unsigned short>(c.prog.size()),
                    const_cast<sock_filter*>(c.prog.data())};
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0U, &prog) != 0)
      return sys_fail("seccomp(SECCOMP_SET_MODE_FILTER)");
    return {};
  }
  AISBX_ASSIGN(ctx, build(s));
  AISBX_TRY(check(seccomp_load(ctx.get()), "seccomp_load"));
  return {};
}

}  // namespace aisbx::stage
