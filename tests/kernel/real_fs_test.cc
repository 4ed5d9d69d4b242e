// RealFs::realpath caches canonical parents (planning 1000 sibling roots
// read every component's link 5000 times through realpath(3)); it must
// answer exactly as realpath(3) does, links and missing paths included.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "aisbx/host_sys.h"
#include "run_helpers.h"

namespace aisbx {
namespace {

using test::runner::As;
using test::runner::TempTree;

std::optional<std::string> libc_realpath(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> r(::realpath(path.c_str(), nullptr), &std::free);
  if (!r) return std::nullopt;
  return std::string(r.get());
}

TEST(RealFs, RealpathAgreesWithLibc) {
  TempTree t(As::self, "aisbx-realfs");
  t.dir("a/b");
  t.file("a/f", "x");
  t.symlink("a/link-to-b", "b");
  t.symlink("a/dangling", "nowhere");
  t.symlink("a/loop", "loop");
  t.symlink("top", "a");
  t.symlink("a/b/up", "../../top/f-missing");
  const std::vector<std::string> paths{
      t.at("a"),           t.at("a/b"),        t.at("a/f"),         t.at("a/link-to-b"),
      t.at("a/dangling"),  t.at("a/loop"),     t.at("top"),         t.at("top/b"),
      t.at("top/link-to-b"), t.at("a/b/up"),   t.at("missing/x"),   t.at("a/f/x"),
      t.at("a/./b"),       t.at("a/b/.."),     t.at("a//b"),        t.at("a/b/"),
      "/",                 "/tmp",             "/proc/self",        "relative/path",
  };
  RealFs fs;
  for (int pass = 0; pass < 2; ++pass)  // the second one from the cache
    for (const std::string& p : paths) EXPECT_EQ(fs.realpath(p), libc_realpath(p)) << p;
}

}  // namespace
}  // namespace aisbx
