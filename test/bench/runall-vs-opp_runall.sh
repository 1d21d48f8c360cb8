#!/usr/bin/env bash
# simswarm runall against the tool it replaces: OMNeT++ 6.1's opp_runall on
# the real samples, the same sweep with the same arguments, both at -j J
# (default 2), first with each tool's default batch size, then with -b 5.
# Wall time of each is measured BENCH_REPS times (default 5), the two tools
# interleaved (alternating which goes first) so that a shared machine's
# changing load hits both alike; each round starts from an empty results/
# (simswarm's resume records go with it). Prints the medians and the
# median of the per-round ratios simswarm/opp_runall (aim: <= 1.00), and
# the same for CPU time (user + system of the tool and every process it
# started, simulations included): single rounds' wall times on a shared
# machine spread far wider than the tools differ, their CPU much less.
# OPP_PYTHON is the interpreter opp_runall runs with (default
# /usr/bin/python3); SIMSWARM the simswarm binary (default bin/simswarm).
# SIMSWARM_BASE=path measures a second simswarm build in the same rounds
# (the three interleaved, rotating which goes first) and prints its row
# too, with the ratio of SIMSWARM to it: a change measured against its
# baseline under the same load.
#
#   test/bench/runall-vs-opp_runall.sh
#   BENCH_REPS=9 TICTOC_RUNS=0..199 test/bench/runall-vs-opp_runall.sh
#   ALOHA_RUNS=0..1049 ALOHA_EXTRA="--repeat=50 --sim-time-limit=10min" ONLY=aloha \
#     test/bench/runall-vs-opp_runall.sh          # a sweep of 1,050 short runs
#
# ALOHA_EXTRA and TICTOC_EXTRA are more arguments for the program (split on
# spaces); ONLY=aloha or ONLY=tictoc runs that sample's rows alone.
#
# Needs bin/simswarm (make build) and OMNeT++ with its samples built
# (make omnetpp, or SIMSWARM_OMNETPP_ROOT).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SIMSWARM=${SIMSWARM:-$root/bin/simswarm}
SIMSWARM_BASE=${SIMSWARM_BASE:-}
OMNETPP=${SIMSWARM_OMNETPP_ROOT:-/var/cache/simswarm-test/omnetpp-6.1.0}
REPS=${BENCH_REPS:-5}
J=${J:-2}
TICTOC_RUNS=${TICTOC_RUNS:-0..39}
ALOHA_RUNS=${ALOHA_RUNS:-0..41}
read -r -a aloha_extra <<<"${ALOHA_EXTRA:-}"
read -r -a tictoc_extra <<<"${TICTOC_EXTRA:-}"
ONLY=${ONLY:-}

if [ ! -x "$SIMSWARM" ]; then
  echo "runall-vs-opp_runall: $SIMSWARM not built (run make build)" >&2
  exit 1
fi
if [ ! -x "$OMNETPP/bin/opp_runall" ] || [ ! -x "$OMNETPP/samples/tictoc/tictoc" ]; then
  echo "runall-vs-opp_runall: no built OMNeT++ at $OMNETPP (run make omnetpp, or set SIMSWARM_OMNETPP_ROOT)" >&2
  exit 1
fi
export PATH="$OMNETPP/bin:$PATH"
# opp_runall is a Python script (#!/usr/bin/env python3): run it with the
# system's interpreter, as on a plain installation, not through whatever
# python3 comes first on PATH (a pyenv shim, a shell script that forks a
# dozen processes, cost opp_runall a few hundred ms per start here).
OPP_PYTHON=${OPP_PYTHON:-/usr/bin/python3}
[ -x "$OPP_PYTHON" ] || OPP_PYTHON=python3
export LD_LIBRARY_PATH="$OMNETPP/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
work=$(mktemp -d "${TMPDIR:-/tmp}/simswarm-bench-opp.XXXXXX")
trap 'rm -rf "$work"' EXIT

# one TOOL DIR ARGS...: a timed run of TOOL (opp or simswarm) in DIR from an
# empty results directory; prints its wall and CPU seconds. The subshell
# waits for every process the tool started, so bash's time counts their
# CPU too.
one() {
  local tool=$1 dir=$2
  shift 2
  rm -rf "$dir/results"
  local prog=("$SIMSWARM" runall)
  case $tool in
  opp) prog=("$OPP_PYTHON" "$OMNETPP/bin/opp_runall") ;;
  base) prog=("$SIMSWARM_BASE" runall) ;;
  esac
  local TIMEFORMAT='%R %U %S' t
  t=$({ time (cd "$dir" && "${prog[@]}" "$@" >/dev/null 2>&1); } 2>&1)
  awk '{printf "%.3f %.3f\n", $1, $2 + $3}' <<<"$t"
}

median() { sort -g | awk '{v[NR]=$1} END{if (NR%2) print v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2}'; }

# bench LABEL SAMPLE OPTS -- PROGRAM ARGS...
bench() {
  local label=$1 sample=$2
  shift 2
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  local tools=(opp simswarm)
  [ -z "$SIMSWARM_BASE" ] || tools+=(base)
  for tool in "${tools[@]}"; do
    rm -rf "${work:?}/$tool"
    mkdir -p "$work/$tool"
    (cd "$OMNETPP/samples/$sample" && tar --exclude=./out --exclude=./results -cf - .) | tar -xf - -C "$work/$tool"
  done
  # Warm-up round, and a check that both leave the same files.
  one opp "$work/opp" "${opts[@]}" "$@" >/dev/null
  one simswarm "$work/simswarm" "${opts[@]}" "$@" >/dev/null
  local a b
  a=$(cd "$work/opp/results" && find . -type f | sort | md5sum)
  b=$(cd "$work/simswarm/results" && find . -type f -not -path './.simswarm/*' | sort | md5sum)
  if [ "$a" != "$b" ]; then
    echo "runall-vs-opp_runall: $label: the two tools left different files" >&2
    exit 1
  fi
  [ -z "$SIMSWARM_BASE" ] || one base "$work/base" "${opts[@]}" "$@" >/dev/null
  local to ts tb co cs ratios=() opps=() sss=() bases=() bratios=() vsbase=() k
  local cpuo=() cpus=() cratios=()
  for ((i = 0; i < REPS; i++)); do
    # Rotate which tool goes first, so that each meets the load alike.
    for ((k = 0; k < ${#tools[@]}; k++)); do
      case ${tools[(i + k) % ${#tools[@]}]} in
      opp) read -r to co < <(one opp "$work/opp" "${opts[@]}" "$@") ;;
      simswarm) read -r ts cs < <(one simswarm "$work/simswarm" "${opts[@]}" "$@") ;;
      base) read -r tb _ < <(one base "$work/base" "${opts[@]}" "$@") ;;
      esac
    done
    opps+=("$to"); sss+=("$ts"); cpuo+=("$co"); cpus+=("$cs")
    ratios+=("$(awk -v s="$ts" -v o="$to" 'BEGIN{printf "%.3f", s/o}')")
    cratios+=("$(awk -v s="$cs" -v o="$co" 'BEGIN{printf "%.3f", s/o}')")
    if [ -n "$SIMSWARM_BASE" ]; then
      bases+=("$tb")
      bratios+=("$(awk -v s="$tb" -v o="$to" 'BEGIN{printf "%.3f", s/o}')")
      vsbase+=("$(awk -v s="$ts" -v o="$tb" 'BEGIN{printf "%.3f", s/o}')")
    fi
  done
  local mo ms mr
  mo=$(printf '%s\n' "${opps[@]}" | median)
  ms=$(printf '%s\n' "${sss[@]}" | median)
  mr=$(printf '%s\n' "${ratios[@]}" | median)
  printf '%-34s opp_runall %7.2f s   simswarm runall %7.2f s   ratio %.2f (rounds: %s)\n' \
    "$label ${opts[*]}" "$mo" "$ms" "$mr" "${ratios[*]}"
  printf '%-34s opp_runall %7.2f s   simswarm runall %7.2f s   ratio %.2f (rounds: %s)\n' \
    "  (CPU)" "$(printf '%s\n' "${cpuo[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)" \
    "$(printf '%s\n' "${cratios[@]}" | median)" "${cratios[*]}"
  if [ -n "$SIMSWARM_BASE" ]; then
    printf '%-34s opp_runall %7.2f s   base simswarm   %7.2f s   ratio %.2f (rounds: %s)\n' \
      "  (base)" "$mo" "$(printf '%s\n' "${bases[@]}" | median)" "$(printf '%s\n' "${bratios[@]}" | median)" "${bratios[*]}"
    printf '%-34s simswarm / base: %.2f (rounds: %s)\n' "  (vs base)" "$(printf '%s\n' "${vsbase[@]}" | median)" "${vsbase[*]}"
  fi
}

echo "== simswarm runall vs opp_runall, -j $J, $REPS interleaved rounds each, median wall and CPU time (aim: ratio <= 1.00)"
tictoc=(./tictoc -c TicToc18 -r "$TICTOC_RUNS" "${tictoc_extra[@]}")
aloha=(./aloha -c PureAlohaExperiment -r "$ALOHA_RUNS" "${aloha_extra[@]}")
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$ONLY" = aloha ] || bench "tictoc TicToc18 -r $TICTOC_RUNS${TICTOC_EXTRA:+ $TICTOC_EXTRA}" tictoc -j"$J" -- "${tictoc[@]}"
[ "$ONLY" = tictoc ] || bench "aloha PureAlohaExperiment -r $ALOHA_RUNS${ALOHA_EXTRA:+ $ALOHA_EXTRA}" aloha -j"$J" -- "${aloha[@]}"
[ "$ONLY" = aloha ] || bench "tictoc TicToc18 -r $TICTOC_RUNS${TICTOC_EXTRA:+ $TICTOC_EXTRA}" tictoc -j"$J" -b 5 -- "${tictoc[@]}"
[ "$ONLY" = tictoc ] || bench "aloha PureAlohaExperiment -r $ALOHA_RUNS${ALOHA_EXTRA:+ $ALOHA_EXTRA}" aloha -j"$J" -b 5 -- "${aloha[@]}"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
