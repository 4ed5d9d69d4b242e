// Assertions on text and lists the unit tests share: a failure names what
// was looked for and what was there.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace aisbx::test {

// EXPECT_TRUE(has(text, "part")): on failure, the whole text and the part.
inline ::testing::AssertionResult has(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "`" << text << "` does not contain `" << part << "`";
}

inline std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace aisbx::test
