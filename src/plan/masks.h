// The built-in masks: secret stores hidden and start-up files read-only in
// every root of both walls, whatever the profile says. A profile may lift
// one by name (`unmask: [ssh]`), never silently. Pure data.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aisbx::plan {

enum class MaskKind {
  secret,   // hidden: an empty, unreadable node (deny)
  startup,  // read-only: run by the user's shell, session or tools later
};

struct BuiltinMask {
  std::string_view name;  // what `unmask:` names; several rows may share one
  std::string_view path;  // relative to a home directory
  MaskKind kind;
  std::string_view why;
};

// The mask over the profile cache: `unmask:` may not name it.
inline constexpr std::string_view kAisbxCacheMask = "aisbx-cache";
// The private homes: around the run's own (masks_plan.cc).
inline constexpr std::string_view kAisbxHomesMask = "aisbx-homes";

std::span<const BuiltinMask> builtin_masks();
bool is_mask_name(std::string_view name);
// Every name once, in table order, for messages.
std::vector<std::string_view> mask_names();

}  // namespace aisbx::plan
