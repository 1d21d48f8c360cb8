#!/usr/bin/env bash
# Per-run overhead of simswarm's local executor: the same RUNS invocations of
# a trivial simulation (trivial.c, one small result file per run) driven
# by `simswarm runall -j P`, by `xargs -P P` and by a generated makefile under
# `make -j P` (what opp_runall does), at the same parallelism. Prints each
# time and the ratios to xargs; the goal is simswarm <= 1.2x xargs.
#
#   test/bench/runall-vs-xargs.sh            # RUNS=1000, P=nproc, bin/simswarm
#   RUNS=200 P=4 SIMSWARM=/tmp/simswarm test/bench/runall-vs-xargs.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
RUNS=${RUNS:-1000}
P=${P:-$(nproc)}
SIMSWARM=${SIMSWARM:-$root/bin/simswarm}
BENCH_REPS=${BENCH_REPS:-5}
export BENCH_RUNS=$RUNS

if [ ! -x "$SIMSWARM" ]; then
  echo "runall-vs-xargs: $SIMSWARM not built (run make build)" >&2
  exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/simswarm-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
sim=$work/trivial
${CC:-cc} -O2 -o "$sim" "$here/trivial.c"
touch "$work/omnetpp.ini"

# The makefile opp_runall would generate: one explicit target per run.
{
  printf 'all:'
  for ((r = 0; r < RUNS; r++)); do printf ' r%d' "$r"; done
  printf '\n.PHONY: all\n'
  for ((r = 0; r < RUNS; r++)); do
    printf 'r%d:\n\t@%s -u Cmdenv -c Bench -r %d --result-dir=%s/out\n' "$r" "$sim" "$r" "$work"
  done
} >"$work/Makefile"

cd "$work"
# -b 1: one run per process, as the others start them.
cmd_simswarm="$SIMSWARM runall -j $P -b 1 --results $work/out -- $sim -c Bench"
cmd_xargs="seq 0 $((RUNS - 1)) | xargs -P $P -I{} $sim -u Cmdenv -c Bench -r {} --result-dir=$work/out"
cmd_make="make -s -j $P -f $work/Makefile"

# Sanity: every driver really produces RUNS result files.
for c in "$cmd_simswarm" "$cmd_xargs" "$cmd_make"; do
  rm -rf "$work/out"
  bash -c "$c" >/dev/null 2>&1 || { echo "runall-vs-xargs: failed: $c" >&2; exit 1; }
  n=$(find "$work/out" -maxdepth 1 -name '*.sca' | wc -l)
  if [ "$n" -ne "$RUNS" ]; then
    echo "runall-vs-xargs: $c produced $n result files, want $RUNS" >&2
    exit 1
  fi
done

echo "== $RUNS runs of a trivial simulation, $P in parallel"
declare -A mean cpu
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --style basic --warmup 1 --runs "$BENCH_REPS" --prepare "rm -rf $work/out" \
    --export-csv "$work/times.csv" \
    -n simswarm "$cmd_simswarm" -n xargs "$cmd_xargs" -n make "$cmd_make"
  # The median: a shared machine's noise makes the mean swing.
  while IFS=, read -r name _ _ median user sys _; do
    [ "$name" = command ] && continue
    mean[$name]=$median
    cpu[$name]=$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')
  done <"$work/times.csv"
else
  # Fallback: best of BENCH_REPS wall-clock measurements.
  for name in simswarm xargs make; do
    var=cmd_$name
    best=""
    for ((i = 0; i < BENCH_REPS; i++)); do
      rm -rf "$work/out"
      t0=$(date +%s.%N)
      bash -c "${!var}" >/dev/null 2>&1
      t1=$(date +%s.%N)
      t=$(echo "$t1 - $t0" | bc)
      if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
    done
    mean[$name]=$best
  done
fi

printf '%-10s %8.3f s  %6.1f us/run\n' \
  simswarm "${mean[simswarm]}" "$(awk -v t="${mean[simswarm]}" -v n="$RUNS" 'BEGIN{print t*1e6/n}')" \
  xargs "${mean[xargs]}" "$(awk -v t="${mean[xargs]}" -v n="$RUNS" 'BEGIN{print t*1e6/n}')" \
  make "${mean[make]}" "$(awk -v t="${mean[make]}" -v n="$RUNS" 'BEGIN{print t*1e6/n}')"
awk -v s="${mean[simswarm]}" -v x="${mean[xargs]}" -v m="${mean[make]}" 'BEGIN{
  printf "simswarm/xargs = %.2fx   simswarm/make = %.2fx   (goal: simswarm/xargs <= 1.20x)\n", s/x, s/m }'
# CPU time (user+sys of the driver and every run) is steadier than wall time
# on a shared machine; hyperfine measures it.
if [ -n "${cpu[simswarm]:-}" ]; then
  awk -v s="${cpu[simswarm]}" -v x="${cpu[xargs]}" -v m="${cpu[make]}" 'BEGIN{
    printf "CPU time: simswarm %.3f s, xargs %.3f s, make %.3f s: simswarm/xargs = %.2fx   simswarm/make = %.2fx\n", s, x, m, s/x, s/m }'
fi
