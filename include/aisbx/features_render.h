// --features: what this kernel offers, why something is missing, what to
// do, and what each mode would really enforce here. Pure.
#pragma once

#include <string>

#include "aisbx/features.h"
#include "aisbx/options.h"

namespace aisbx {

// `exe` is the running binary's path, for the AppArmor profile it prints
// when AppArmor is what refuses user namespaces.
std::string render_features(const Features& f, Format format, const std::string& exe);

// The AppArmor profile that grants `userns` to the binary at `exe`.
std::string apparmor_profile(const std::string& exe);

}  // namespace aisbx
