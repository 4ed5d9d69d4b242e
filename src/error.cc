#include "aisbx/error.h"

#include <cerrno>
#include <cstring>

namespace aisbx {

std::string Error::message() const {
  if (err == 0) return what;
  return what + ": " + std::strerror(err) + " (errno " + std::to_string(err) + ")";
}

std::unexpected<Error> sys_fail(std::string what, std::string hint) {
  const int saved = errno;  // before anything else can clobber it
  return errno_fail(saved, std::move(what), std::move(hint));
}

Error errno_error(int err, std::string what, std::string hint) {
  return Error{std::move(what), err, std::move(hint), kExitLauncherFailure};
}

std::unexpected<Error> errno_fail(int err, std::string what, std::string hint) {
  return std::unexpected(errno_error(err, std::move(what), std::move(hint)));
}

}  // namespace aisbx
