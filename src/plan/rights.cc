#include "aisbx/rights.h"

#include <array>
#include <bit>

namespace aisbx {
namespace {

struct RightName {
  AccessMask bit;
  std::string_view name;
  int abi;
};

// clang-format off
constexpr std::array<RightName, 17> kFsRights{{
    {fs::kExecute,     "execute",      1},
    {fs::kWriteFile,   "write_file",   1},
    {fs::kReadFile,    "read_file",    1},
    {fs::kReadDir,     "read_dir",     1},
    {fs::kRemoveDir,   "remove_dir",   1},
    {fs::kRemoveFile,  "remove_file",  1},
    {fs::kMakeChar,    "make_char",    1},
    {fs::kMakeDir,     "make_dir",     1},
    {fs::kMakeReg,     "make_reg",     1},
    {fs::kMakeSock,    "make_sock",    1},
    {fs::kMakeFifo,    "make_fifo",    1},
    {fs::kMakeBlock,   "make_block",   1},
    {fs::kMakeSym,     "make_sym",     1},
    {fs::kRefer,       "refer",        2},
    {fs::kTruncate,    "truncate",     3},
    {fs::kIoctlDev,    "ioctl_dev",    5},
    {fs::kResolveUnix, "resolve_unix", 9},
}};
// clang-format on

static_assert(kFsRights.size() == 17);

}  // namespace

AccessMask fs_rights_at(int abi) {
  AccessMask m = 0;
  for (const auto& r : kFsRights)
    if (abi >= r.abi) m |= r.bit;
  return abi >= 1 ? m : 0;
}

AccessMask net_rights_at(int abi) {
  AccessMask m = 0;
  if (abi >= 4) m |= net::kBindTcp | net::kConnectTcp;
  if (abi >= 10) m |= net::kBindUdp | net::kConnectSendUdp;
  return m;
}

AccessMask scopes_at(int abi) {
  return abi >= 6 ? (scope::kAbstractUnixSocket | scope::kSignal) : 0;
}

std::uint32_t restrict_flags_at(int abi) {
  std::uint32_t f = 0;
  if (abi >= 7)
    f |= restrict_flags::kLogSameExecOff | restrict_flags::kLogNewExecOn |
         restrict_flags::kLogSubdomainsOff;
  if (abi >= 8) f |= restrict_flags::kTsync;
  return f;
}

int abi_of_fs_right(AccessMask single_right) {
  for (const auto& r : kFsRights)
    if (r.bit == single_right) return r.abi;
  return 0;
}

std::optional<AccessMask> fs_right_by_name(std::string_view name) {
  for (const auto& r : kFsRights)
    if (r.name == name) return r.bit;
  return std::nullopt;
}

std::vector<std::string> fs_right_names(AccessMask mask) {
  std::vector<std::string> out;
  for (const auto& r : kFsRights)
    if (mask & r.bit) out.emplace_back(r.name);
  return out;
}

std::string join_fs_rights(AccessMask mask) {
  std::string s;
  for (const auto& n : fs_right_names(mask)) {
    if (!s.empty()) s += ", ";
    s += n;
  }
  return s.empty() ? "none" : s;
}

const std::vector<std::string_view>& all_fs_right_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> v;
    for (const auto& r : kFsRights) v.push_back(r.name);
    return v;
  }();
  return names;
}

}  // namespace aisbx
