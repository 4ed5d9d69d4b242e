// Run cgroups (`aisbx-<pid>`) left behind by launchers that were killed
// (SIGKILL leaves no chance to rmdir them).
#pragma once

namespace aisbx::sys {

// Removes, beneath the cgroup directory `parent_dirfd`, every empty
// `aisbx-<pid>` whose launcher no longer exists. A live run's cgroup is
// never touched: its launcher's pid exists (a reused pid only delays the
// removal), and a populated cgroup cannot be removed (EBUSY).
void remove_stale_run_cgroups(int parent_dirfd);

}  // namespace aisbx::sys
