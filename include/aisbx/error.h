// Errors are values: what failed (the operation, with the path quoted), the
// errno if a syscall failed, and a hint saying what to do. main() prints an
// Error once; nothing below it logs failures.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace aisbx {

// Exit statuses of the launcher itself, the convention of env(1),
// timeout(1) and chroot(1).
inline constexpr int kExitLauncherFailure = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

struct Error {
  std::string what;  // e.g. "open `/etc/x`" or "p.yaml:3:5: unknown key `foo`"
  int err = 0;       // errno, 0 if none
  std::string hint;  // what the user can do, may be empty
  int exit_code = kExitLauncherFailure;

  // "what: strerror (errno N)"; the hint is not included.
  std::string message() const;
};

template <class T>
using Expected = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string what, std::string hint = {}) {
  return std::unexpected(Error{std::move(what), 0, std::move(hint), kExitLauncherFailure});
}

// Captures errno at the call site, so call it first after the failing call.
std::unexpected<Error> sys_fail(std::string what, std::string hint = {});

// The Error itself, for code that does not return Expected (child processes).
Error errno_error(int err, std::string what, std::string hint = {});

// Same with an explicit error number (libseccomp and others return -errno).
std::unexpected<Error> errno_fail(int err, std::string what, std::string hint = {});

// Prefixes context on the way up: "landlock: " + "open `/x`: ...".
inline Error with_context(Error e, const std::string& context) {
  e.what = context + ": " + e.what;
  return e;
}

// Paths in messages are quoted with backticks, as crun does.
inline std::string q(const std::string& s) { return "`" + s + "`"; }

}  // namespace aisbx

// g++ 12's <expected> has no and_then/transform, hence a macro.
#define AISBX_TRY(expr)                                    \
  do {                                                     \
    auto&& aisbx_try_r_ = (expr);                          \
    if (!aisbx_try_r_)                                     \
      return std::unexpected(std::move(aisbx_try_r_.error())); \
  } while (0)

// Binds the value of an Expected<T> to `var` or returns its error.
#define AISBX_ASSIGN(var, expr)                            \
  auto var##_r_ = (expr);                                  \
  if (!var##_r_) return std::unexpected(std::move(var##_r_.error())); \
  auto var = std::move(*var##_r_)
