#!/usr/bin/env bash
# The control plane at scale (test/scale): one controller, one redis-server,
# one FerretDB with the _id index, and simulated runners (the real runner
# code whose simulations are timers) in one process.
#   1. sustained runs/s and each server's CPU, the controller's RSS and
#      Redis ops/s with 10, 100 and 1,000 runners of 16 slots (0 s runs:
#      the control plane is the only limit), and from these the largest
#      cluster one controller keeps busy with 1 s, 10 s and 60 s runs;
#   2. a 1,000,000-run campaign on 100 runners (1 s runs): time to first
#      dispatch, controller peak RSS, record creation, and the latencies of
#      get, describe and the dashboard meanwhile.
# Usage: test/bench/scale.sh [WORKERS]   (default 10,100,1000)
#   SIMSWARM_SCALE_WINDOW, SIMSWARM_SCALE_WARMUP, SIMSWARM_SCALE_RUNTIME
#   tune part 1; SCALE_ONLY=plane|million runs one part.
#   SIMSWARM_SCALE_CACHE_DIR (default /dev/shm if there) holds the simulated
#   runners' caches and work directories: in a cluster each runner writes
#   to its node's disk, here all share one, and file creation on a loaded
#   ext4 volume costs ~0.5 ms of CPU, which would be counted per run.
#   SIMSWARM_SCALE_MONGO_DIR puts FerretDB's data there too (default: a
#   test directory on disk). SIMSWARM_SCALE_PROFILE=dir writes CPU
#   profiles of the runners and the controller over each window.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
ulimit -n 65536 2>/dev/null || true  # 1,000 runners hold ~5,000 connections
if [ -z "${SIMSWARM_SCALE_CACHE_DIR+x}" ] && [ -d /dev/shm ]; then export SIMSWARM_SCALE_CACHE_DIR=/dev/shm; fi
export SIMSWARM_SCALE_WORKERS=${1:-${SIMSWARM_SCALE_WORKERS:-10,100,1000}}
if [ "${SCALE_ONLY:-plane}" != million ]; then
  go test -tags scalebench -run '^$' -bench 'BenchmarkControlPlane$' -benchtime 1x -timeout 60m ./test/scale/
fi
if [ "${SCALE_ONLY:-million}" != plane ]; then
  SIMSWARM_SCALE_WORKERS=100 go test -tags scalebench -run '^$' -bench 'BenchmarkMillionRuns$' -benchtime 1x -timeout 60m ./test/scale/
fi
