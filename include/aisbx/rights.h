// Landlock's access rights and what each ABI version knows of them.
//
// Debian 12's <linux/landlock.h> stops at ABI 2, while kernels in use report
// ABI 7 and newer, so the project carries the constants itself (values from
// the kernel's include/uapi/linux/landlock.h). Pure: no syscalls here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aisbx {

// The highest ABI this code knows. A newer kernel is used at this level, so
// behaviour does not change silently when the kernel gets newer.
inline constexpr int kMaxKnownAbi = 10;

using AccessMask = std::uint64_t;

namespace fs {
// clang-format off
inline constexpr AccessMask kExecute     = 1ULL << 0;
inline constexpr AccessMask kWriteFile   = 1ULL << 1;
inline constexpr AccessMask kReadFile    = 1ULL << 2;
inline constexpr AccessMask kReadDir     = 1ULL << 3;
inline constexpr AccessMask kRemoveDir   = 1ULL << 4;
inline constexpr AccessMask kRemoveFile  = 1ULL << 5;
inline constexpr AccessMask kMakeChar    = 1ULL << 6;
inline constexpr AccessMask kMakeDir     = 1ULL << 7;
inline constexpr AccessMask kMakeReg     = 1ULL << 8;
inline constexpr AccessMask kMakeSock    = 1ULL << 9;
inline constexpr AccessMask kMakeFifo    = 1ULL << 10;
inline constexpr AccessMask kMakeBlock   = 1ULL << 11;
inline constexpr AccessMask kMakeSym     = 1ULL << 12;
inline constexpr AccessMask kRefer       = 1ULL << 13;  // ABI 2
inline constexpr AccessMask kTruncate    = 1ULL << 14;  // ABI 3
inline constexpr AccessMask kIoctlDev    = 1ULL << 15;  // ABI 5
inline constexpr AccessMask kResolveUnix = 1ULL << 16;  // ABI 9
// clang-format on

// Rights that make sense on a regular file (PATH_BENEATH on a file fd with
// anything else is EINVAL).
inline constexpr AccessMask kFileRights =
    kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev | kResolveUnix;

// Rights that need a writable mount to be of any use: a root granting one
// of them is bind-mounted read-write by the namespace wall.
inline constexpr AccessMask kWriteRights =
    kWriteFile | kRemoveDir | kRemoveFile | kMakeChar | kMakeDir | kMakeReg |
    kMakeSock | kMakeFifo | kMakeBlock | kMakeSym | kRefer | kTruncate;

inline constexpr AccessMask kReadRights = kReadFile | kReadDir;
}  // namespace fs

namespace net {
inline constexpr AccessMask kBindTcp = 1ULL << 0;         // ABI 4
inline constexpr AccessMask kConnectTcp = 1ULL << 1;      // ABI 4
inline constexpr AccessMask kBindUdp = 1ULL << 2;         // ABI 10
inline constexpr AccessMask kConnectSendUdp = 1ULL << 3;  // ABI 10
}  // namespace net

namespace scope {
inline constexpr AccessMask kAbstractUnixSocket = 1ULL << 0;  // ABI 6
inline constexpr AccessMask kSignal = 1ULL << 1;              // ABI 6
}  // namespace scope

namespace restrict_flags {
inline constexpr std::uint32_t kLogSameExecOff = 1U << 0;   // ABI 7
inline constexpr std::uint32_t kLogNewExecOn = 1U << 1;     // ABI 7
inline constexpr std::uint32_t kLogSubdomainsOff = 1U << 2; // ABI 7
inline constexpr std::uint32_t kTsync = 1U << 3;            // ABI 8
}  // namespace restrict_flags

// Everything each ABI handles. 0 for ABI 0 (no Landlock) and for any ABI
// above kMaxKnownAbi the caller must clamp first.
AccessMask fs_rights_at(int abi);
AccessMask net_rights_at(int abi);
AccessMask scopes_at(int abi);
std::uint32_t restrict_flags_at(int abi);

// The ABI that introduced a right (fs rights only); 0 if unknown.
int abi_of_fs_right(AccessMask single_right);

// Profile names: "execute", "write_file", ... "resolve_unix".
std::optional<AccessMask> fs_right_by_name(std::string_view name);
// Names of every bit of `mask`, lowest bit first.
std::vector<std::string> fs_right_names(AccessMask mask);
// "read_file, read_dir" or "none".
std::string join_fs_rights(AccessMask mask);
// All names, lowest bit first, for messages listing the choices.
const std::vector<std::string_view>& all_fs_right_names();

}  // namespace aisbx
