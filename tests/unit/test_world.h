// The host the planning tests resolve against: user 1000 with HOME
// /home/u, the given current directory, HOME alone in the environment, a
// fake filesystem, every right of Landlock ABI 7. Each test file's World
// adds the files and variables its tests need.
#pragma once

#include <string>

#include "aisbx/error.h"
#include "aisbx/features.h"
#include "aisbx/host.h"
#include "aisbx/options.h"
#include "aisbx/plan.h"
#include "unit/fake_fs.h"
#include "unit/test_profile.h"

namespace aisbx::test {

struct TestWorld {
  FakeFs fs;
  HostFacts host;
  Options opt;
  Features feat = Features::full(7);

  explicit TestWorld(const std::string& cwd) {
    host.uid = 1000;
    host.gid = 1000;
    host.home = "/home/u";
    host.cwd = cwd;
    host.env = {{"HOME", "/home/u"}};
  }

  // Profile `name` of `yaml` (a file named test.yaml), resolved on this host.
  Expected<plan::Plan> resolve_yaml(const std::string& yaml, const std::string& name = "p") const {
    AISBX_ASSIGN(prof, test_profile(yaml, "test.yaml", name));
    return plan::resolve(plan::Inputs{prof, "test.yaml", opt, feat, host, fs});
  }
};

}  // namespace aisbx::test
