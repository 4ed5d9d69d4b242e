// How much a --check finding matters, and the exit status it gives.
// Pure (linked into aisbx_plan with the findings the Plan holds and the
// report's rendering), so unit tests reach it.
#include "aisbx/check.h"

namespace aisbx::check {

const char* to_string(Severity s) {
  switch (s) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "?";
}

int exit_status(const Report& report, bool strict) {
  const Severity fails = strict ? Severity::warning : Severity::error;
  for (const auto& f : report.findings)
    if (f.severity >= fails) return 1;
  return 0;
}

}  // namespace aisbx::check
