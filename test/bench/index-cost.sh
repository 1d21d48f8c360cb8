#!/usr/bin/env bash
# What the result index adds to storing a run (issue 17's aim: under 10% of
# the run's own storage cost): workers/runner BenchmarkIndexCost stores a
# real aloha run's result files on FerretDB in interleaved pairs, one run
# without and one with indexing, and reports index-ratio (aim < 1.10) for
# the .sca alone and with the vector files.
# Usage: test/bench/index-cost.sh [PAIRS]   (default 400)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export SIMSWARM_BENCH_PAIRS=${1:-${SIMSWARM_BENCH_PAIRS:-400}}
go test -run '^$' -bench 'BenchmarkIndexCost$' -benchtime 1x -timeout 30m ./workers/runner/
