#!/usr/bin/env bash
# Runs a command (the kernel tests) in a network namespace made for it,
# with its own loopback up and nothing else: no kernel test reaches, lists
# or resolves through the machine's network. Their listeners on 127.0.0.1,
# `--net host` sandboxes and the proxy's reading of "this host's own
# addresses" all see this namespace. The net lab builds its own namespaces
# inside it.
#
# Needs root (scripts/test.sh and CI are root; the uid 65534 pass enters
# the namespace before it drops to 65534). As anyone else the command runs
# unwrapped, and TestNetwork.OnlyItsOwnLoopback says so (a failure under
# AISBX_REQUIRE_KERNEL_FEATURES=1).
set -euo pipefail
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
  exec "$@"
fi
# AISBX_TEST_NETNS names the namespace made here, so that a test can tell
# it is inside it without looking at any interface of the machine's.
exec unshare --net -- sh -c \
  'ip link set lo up && AISBX_TEST_NETNS=$(readlink /proc/self/ns/net) && export AISBX_TEST_NETNS && exec "$@"' \
  own-net "$@"
