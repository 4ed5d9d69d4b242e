// The profiles compiled into the binary from profiles/*.yaml.
#pragma once

#include <string_view>
#include <vector>

namespace aisbx {

struct BuiltinFile {
  std::string_view name;  // "builtin.yaml"
  std::string_view text;
};

const std::vector<BuiltinFile>& builtin_profile_files();

}  // namespace aisbx
