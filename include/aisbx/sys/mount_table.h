// The mount table, read through libmount, which is loaded only when a
// table is first read.
//
// Linking libmount made every launch load it with libblkid, libselinux and
// libpcre2 and run libselinux's constructor: about 1.1 ms of each start
// (bench/RESULTS.md), while only --check and kernels without
// mount_setattr(2) read the table.
#pragma once

#include <string>
#include <vector>

#include "aisbx/error.h"

namespace aisbx::sys {

struct MountEntry {
  std::string target;
  std::string root;    // the mounted directory within its file system
  std::string source;  // empty when the table has none
  std::string fstype;
  unsigned long flags = 0;  // MS_* of the per-mount (VFS) options
};

// Loads libmount now: for a process about to pivot away from the host's
// root, where the library could no longer be found.
Expected<void> load_mount_table_reader();

// Every entry of a mountinfo file (e.g. /proc/self/mountinfo), in order.
Expected<std::vector<MountEntry>> read_mount_table(const std::string& mountinfo);

}  // namespace aisbx::sys
