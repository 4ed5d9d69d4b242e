// The compiled profile cache: parsing YAML is most of the launcher's own
// start-up (yaml-cpp's scanner, about 2000 instructions a byte), so the
// node tree of a profile file is kept, keyed by the SHA-256 of the file's
// bytes and of the parser (the binary). The schema still runs on every
// launch, so every error and every value is what parsing the text gives.
//
// Pure: where the entries live is the store's business
// (src/host/profile_cache.cc keeps them 0700 under the user's cache dir,
// masked in every sandbox). An entry is checked, never trusted: a wrong
// key, length or checksum, or bytes that do not decode, is ignored and
// the text parsed (and the entry rewritten). An invalid file is never
// stored.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "aisbx/error.h"
#include "aisbx/profile.h"

namespace aisbx::profile {

// Where the entries live, relative to HOME: a built-in mask
// (src/plan/masks.cc) hides it in every root of every sandbox, so no
// sandboxed program can write an entry that a later launch would read.
inline constexpr std::string_view kProfileCacheDir = ".cache/aisbx-ns";

class TreeStore {
 public:
  virtual ~TreeStore() = default;
  // The bytes stored under `key` (64 hex digits), if any usable entry.
  virtual std::optional<std::string> load(const std::string& key) = 0;
  virtual void store(const std::string& key, const std::string& bytes) = 0;
  // What happened (hit, miss, an entry ignored and why), for --log-level debug.
  virtual void note(const std::string& what) = 0;
};

// The key of `text` parsed by the parser named `salt`, for a run that
// needs only the profile `only` (empty: every profile).
std::string cache_key(std::string_view text, std::string_view salt, std::string_view only = "");

// parse_profiles(), taking the node tree from `store` when it holds a good
// entry for this text, and storing it after a successful parse.
//
// With `only` (a run of that profile, not --list-profiles or learn) the
// entry holds just what the run reads: the profile and those it extends
// in this file (none when the file has no such profile), so a hit costs
// the same for a 60 KB file as for one of its own. Every profile of the
// file passed the schema before the entry was stored, so leaving the
// others out changes no error and no value; only the set returned on a
// hit then lacks them (`partial` says so).
Expected<ProfileSet> parse_profiles_cached(const std::string& text, const std::string& file,
                                           TreeStore& store, std::string_view salt,
                                           const std::optional<std::string>& only = std::nullopt,
                                           bool* partial = nullptr);

// Whether `bytes` is a good entry for `key` (nullopt) or why not.
std::optional<std::string> entry_problem(std::string_view bytes, const std::string& key);

}  // namespace aisbx::profile
