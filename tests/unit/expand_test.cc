// Lexical path helpers and ${NAME} expansion: the fast paths (a path
// already in normal form, text without `$`) give what the general ones give.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plan/expand.h"

namespace aisbx::plan {
namespace {

// The oracle: a stack of components, written here independently of
// src/plan/expand.cc.
std::string reference_normalize(const std::string& p) {
  std::vector<std::string> stack;
  std::string part;
  const auto flush = [&] {
    if (part == "..") {
      if (!stack.empty()) stack.pop_back();
    } else if (!part.empty() && part != ".") {
      stack.push_back(part);
    }
    part.clear();
  };
  for (char c : p) {
    if (c == '/')
      flush();
    else
      part += c;
  }
  flush();
  std::string out;
  for (const auto& s : stack) out += "/" + s;
  return out.empty() ? "/" : out;
}

TEST(Normalize, AgreesWithAComponentStackOnEveryShortPath) {
  // Every absolute path of up to seven characters over {/, ., a}.
  std::vector<std::string> paths{"/"};
  for (std::size_t i = 0; i < paths.size(); ++i)
    if (paths[i].size() < 7)
      for (char c : {'/', '.', 'a'}) paths.push_back(paths[i] + c);
  ASSERT_GT(paths.size(), 1000u);
  for (const auto& p : paths) {
    const std::string n = normalize(p);
    ASSERT_EQ(n, reference_normalize(p)) << "path `" << p << "`";
    ASSERT_EQ(normalize(n), n) << "not a fixed point: `" << p << "` -> `" << n << "`";
  }
}

TEST(Expand, TextWithoutVariablesAndMixedTextExpandAsWritten) {
  const Vars vars{{"HOME", "/home/u"}, {"PROJECT", "/src/p"}};
  const auto at = [](std::string s) {
    profile::Located<std::string> l;
    l.value = std::move(s);
    return l;
  };
  EXPECT_EQ(*expand(at("/usr/share/doc"), vars), "/usr/share/doc");
  EXPECT_EQ(*expand(at("~/.cache"), vars), "/home/u/.cache");
  EXPECT_EQ(*expand(at("${PROJECT}/a${HOME}b/c"), vars), "/src/p/a/home/ub/c");
  EXPECT_EQ(*expand_path(at("${PROJECT}/./x//y/../z/"), vars), "/src/p/x/z");
  const auto unknown = expand(at("/a/${NOPE}"), vars);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().what.find("unknown variable `${NOPE}`"), std::string::npos)
      << unknown.error().what;
}

}  // namespace
}  // namespace aisbx::plan
