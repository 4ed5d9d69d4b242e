// libFuzzer target: YAML bytes in, a Plan or a clean Error out (see
// profile_fuzz_one.h). Built with -DAISBX_FUZZ=ON and clang (>= 16); run by
// scripts/fuzz.sh, and for a minute by scripts/test.sh.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/profile_fuzz_one.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aisbx::test::fuzz::fuzz_one(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
