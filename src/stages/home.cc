#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aisbx/stages.h"

namespace aisbx::stage {

Expected<void> prepare_home(const std::string& home, const std::string& tmpdir) {
  // Each missing component is created 0700: a private HOME's parents
  // (~/.ai-sandbox) hold other sandboxes' homes.
  std::size_t i = 0;
  while (i != std::string::npos) {
    i = home.find('/', i + 1);
    const std::string part = home.substr(0, i);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
      return sys_fail("create private HOME " + q(part),
                      "check that the parent directory is writable, or choose another `home`");
  }
  struct stat st {};
  if (::stat(home.c_str(), &st) != 0) return sys_fail("stat private HOME " + q(home));
  if (!S_ISDIR(st.st_mode)) return fail("private HOME " + q(home) + " is not a directory");
  if (st.st_uid != ::getuid())
    return fail("private HOME " + q(home) + " belongs to uid " + std::to_string(st.st_uid) +
                    ", not to you (uid " + std::to_string(::getuid()) + ")",
                "choose a directory of your own");
  if (!tmpdir.empty() && ::mkdir(tmpdir.c_str(), 0700) != 0 && errno != EEXIST)
    return sys_fail("create the private TMPDIR " + q(tmpdir));
  return {};
}

}  // namespace aisbx::stage
