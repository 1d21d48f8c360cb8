#!/bin/sh
# trivialsim: the cheapest program that honours the OMNeT++ command-line
# contract simswarm relies on. `-q runnumbers -s` prints 0..$BENCH_RUNS-1;
# otherwise it writes one small result file per run of its -r filter
# (a single run number here) into --result-dir (default results).
runs=""; query=""; dir=results; config=General
while [ $# -gt 0 ]; do
  case "$1" in
    -r) runs=$2; shift ;;
    -q) query=$2; shift ;;
    -c) config=$2; shift ;;
    --result-dir=*) dir=${1#--result-dir=} ;;
  esac
  shift
done
if [ "$query" = runnumbers ]; then
  seq -s ' ' 0 $((${BENCH_RUNS:-1000} - 1))
  exit 0
fi
mkdir -p "$dir"
for r in $(echo "$runs" | tr ',' ' '); do
  echo "scalar Bench value $r" > "$dir/$config-#$r.sca"
done
