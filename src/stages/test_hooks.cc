// Hooks for tests of the launcher, never for users (like the AISBX_FAKE_*
// variables of probe.h).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "aisbx/stages.h"
#include "aisbx/sys/fd.h"

namespace aisbx::stage {

void test_pause_after_planning() {
  static bool paused = false;
  const char* fifo = std::getenv("AISBX_TEST_PAUSE_FIFO");
  if (fifo == nullptr || *fifo == '\0' || paused) return;
  paused = true;
  // Blocks until the test opens the FIFO for writing, then until it writes
  // (or closes it): its change to the tree is made by then.
  sys::UniqueFd fd(::open(fifo, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return;
  char c = 0;
  while (::read(fd.get(), &c, 1) < 0 && errno == EINTR) {
  }
}

}  // namespace aisbx::stage
