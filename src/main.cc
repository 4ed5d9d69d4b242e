// aisbx-ns: the command line, and the one place errors are printed.
#include <cstdio>

#include "aisbx/launch.h"
#include "aisbx/sys/phase.h"

int main(int argc, char** argv) {
  const aisbx::ParsedCli cli = aisbx::parse_cli(argc, argv);
  if (cli.exit_now) return *cli.exit_now;
  aisbx::sys::phase_mark("options");
  const auto status = aisbx::run(cli.options);
  if (status) return *status;
  const aisbx::Error& e = status.error();
  std::fprintf(stderr, "aisbx-ns: error: %s\n", e.message().c_str());
  if (!e.hint.empty()) std::fprintf(stderr, "  hint: %s\n", e.hint.c_str());
  return e.exit_code;
}
