// What the dynamic loader needs from a program, read from the file itself
// (no ldd: ldd runs the loader, which may run code of the file it inspects).
// Internal to src/check and the exec stage's diagnosis.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aisbx/error.h"

namespace aisbx::check {

struct ElfInfo {
  // 64-bit little-endian is what this reader parses; anything else comes
  // back with `supported` false and only the header fields set.
  bool supported = false;
  int elf_class = 0;  // ELFCLASS32 / ELFCLASS64
  bool little_endian = true;
  std::uint16_t machine = 0;         // e_machine (EM_X86_64, ...)
  std::string interp;                // PT_INTERP; "" for a static program
  std::vector<std::string> needed;   // DT_NEEDED, in order
  std::vector<std::string> runpath;  // DT_RUNPATH, split at ':'
  std::vector<std::string> rpath;    // DT_RPATH, split at ':'
};

// nullopt: not an ELF file (a script, data). An Error: the file cannot be
// read, or it is an ELF file whose tables point outside it.
Expected<std::optional<ElfInfo>> read_elf(const std::string& path);

// The interpreter a `#!` line names (its first word); nullopt if the file
// does not start with `#!` or cannot be read.
std::optional<std::string> read_shebang(const std::string& path);

// "x86_64-linux-gnu" for the Debian multiarch directories of a machine;
// "" when there is none this code knows.
std::string multiarch_triplet(std::uint16_t machine);

}  // namespace aisbx::check
