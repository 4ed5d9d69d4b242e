// Launch phase marks for bench/ (bench/timer.cc `phases`): with
// AISBX_PHASE_TIMES=1 in the environment, each mark writes one line
// "aisbx-ns: phase NAME SECONDS" (CLOCK_MONOTONIC, shared by every process
// of the run) to stderr. Without it a mark is one branch: nothing is read,
// written or asked of the kernel.
#pragma once

namespace aisbx::sys {

void phase_mark(const char* name) noexcept;

}  // namespace aisbx::sys
