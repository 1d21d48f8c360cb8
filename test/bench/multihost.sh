#!/usr/bin/env bash
# simswarm on three test hosts of this machine (network namespaces with their
# own engines, test/dockerd StartHosts): runs TestMultihostSwarm and
# prints its measurements:
#   - node loss -> its runs running elsewhere, per mode (engine crash, cut
#     cable, drain): the swarm's detection of a down node (dispatcher
#     heartbeat, about 15 s here) or none (drain), plus the queue's lease
#     on the lost runner's tasks (asynq: lease 30 s, recoverer once a
#     minute) for the runs the lost runners held;
#   - the same 30-run campaign on 3 nodes and on 1 node (the workers
#     drained). The CPUs are shared, so this is overhead, not speed-up:
#     the goal is 3 nodes <= 1.1x 1 node.
#
#   test/bench/multihost.sh         # needs root, docker.io, debootstrap's cache
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
log=$(mktemp "${TMPDIR:-/tmp}/simswarm-multihost.XXXXXX")
trap 'rm -f "$log"' EXIT
if ! go test -count=1 -timeout 45m -run '^TestMultihostSwarm$' -v ./cmd/simswarm >"$log" 2>&1; then
  grep -E -- '--- FAIL|_test.go' "$log" | tail -40 >&2
  echo "multihost: TestMultihostSwarm failed (full log above)" >&2
  exit 1
fi
grep -o 'MEASURE .*' "$log"
