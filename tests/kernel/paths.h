// Where the programs under test are. The build compiles their paths in
// (AISBX_BINARY, AISBX_PROBE); scripts/test.sh runs kernel_tests again as
// uid 65534 from a copy readable by that user and names the copies through
// environment variables of the same names, which win.
#pragma once

#include <cstdlib>
#include <string>

namespace aisbx::test {

namespace paths_detail {
inline std::string env_or(const char* name, const char* built_in) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::string(built_in);
}
}  // namespace paths_detail

// The aisbx-ns binary: $AISBX_BINARY, else the one this build made.
inline std::string binary_path() {
  return paths_detail::env_or("AISBX_BINARY", AISBX_BINARY);
}

// The aisbx_probe binary: $AISBX_PROBE, else the one this build made.
inline std::string probe_path() {
  return paths_detail::env_or("AISBX_PROBE", AISBX_PROBE);
}

// The aisbx_sysprobe binary (single system calls): $AISBX_SYSPROBE, else
// the one this build made.
inline std::string sysprobe_path() {
  return paths_detail::env_or("AISBX_SYSPROBE", AISBX_SYSPROBE);
}

// The spec's own profile file, as shipped in profiles/.
inline const std::string kSpecFile =
    std::string(AISBX_SOURCE_DIR) + "/profiles/ai-sandbox-landlock.yaml";

// Built with AddressSanitizer: its programs need more than libc.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace aisbx::test
