// SHA-256 (FIPS 180-4), for the profile cache's keys: the key names the
// exact bytes of a profile file, so two files must never share one, even
// when someone chooses a file's text to make them collide.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace aisbx::profile {

using Sha256Digest = std::array<std::uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  Sha256Digest finish();  // once

  // The portable rounds even where the CPU has SHA instructions (tests
  // compare the two).
  static bool force_portable;

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t used_ = 0;
  std::uint64_t total_ = 0;
};

Sha256Digest sha256(std::string_view bytes);
std::string hex(const Sha256Digest& d);

}  // namespace aisbx::profile
