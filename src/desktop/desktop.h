// The desktop part of a run (`desktop:`): what happens outside the Plan's
// mounts and rules. Private to src/desktop, src/stages and src/launch.cc.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aisbx/error.h"
#include "aisbx/plan.h"

namespace aisbx::desktop {

// Binds each host device node (`/dev/dri/renderD128`, read at
// `old_root`/dev/...) onto its place beneath `dev_at`, the sandbox's /dev
// while it is still writable. Device access stays on: that is the point.
Expected<void> bind_device_nodes(const std::string& old_root, const std::string& dev_at,
                                 const std::vector<std::string>& nodes);

// Host side, before the sandbox exists: copies the X cookies of one
// display from the host's Xauthority file into the private HOME.
Expected<void> copy_xauthority(const plan::DesktopPlan& d);

// The entries of an Xauthority file (its binary format: family, address,
// display number, auth name, auth data, each length-prefixed big-endian)
// whose display number is `display`, renumbered `as`; nullopt when the
// text is not one.
std::optional<std::string> xauth_entries_for(const std::string& file, const std::string& display,
                                             const std::string& as);

}  // namespace aisbx::desktop
