#include "aisbx/sys/phase.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace aisbx::sys {

void phase_mark(const char* name) noexcept {
  // Read once; a forked init or target inherits the answer.
  static const bool on = [] {
    const char* v = std::getenv("AISBX_PHASE_TIMES");
    return v && std::strcmp(v, "1") == 0;
  }();
  if (!on) return;
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  char line[128];
  const int n = std::snprintf(line, sizeof line, "aisbx-ns: phase %s %lld.%09ld\n", name,
                              static_cast<long long>(ts.tv_sec), ts.tv_nsec);
  if (n > 0) (void)!::write(2, line, static_cast<std::size_t>(n));
}

}  // namespace aisbx::sys
