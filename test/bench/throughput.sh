#!/usr/bin/env bash
# End-to-end throughput of no-op runs (a trivial program writing one tiny
# result file), side by side on one machine:
#   simswarm: controller + queue (asynq on redis-server) + one runner worker
#             with P slots (as on one host: simswarm worker --slots P), results
#             stored in GridFS on FerretDB (a real MongoDB-wire server)
#   RQ:       the original system's stack: python3-rq with its default forking
#             worker, P workers (one runs one job at a time), the job runs the
#             program and stores the file in GridFS with pymongo, on the same
#             redis-server and FerretDB.
# Both run P simulations at once. The floor both are measured against is
# the process launch itself: `xargs -P P` of the same program, one process
# per run, each writing its one result file to local disk (no queue, no
# database); simswarm's rate is reported as a share of it.
# Both run once per MongoDB-wire server mode (MODES, default both):
#   stock     FerretDB 1.24 as it ships: every lookup or update by _id scans
#             its collection (its _id index is on an expression its queries
#             never use), so any per-record update costs O(collection)
#   id-index  the same FerretDB with the _id index its queries can use
#             (ferretapp -id-index), as on MongoDB, where _id is always indexed
# Also reports simswarm's own CPU per run (controller + workers, not the
# simulation processes) and the database servers' CPU per run.
# Also reports how busy simswarm kept its P slots: the simulation processes'
# time (from the run completions: a batch's runs tile its process's time)
# over P x the wall time, and per tenth of the wall time.
# Usage: test/bench/throughput.sh [N] [P]     (needs bin/simswarm: make build, or SIMSWARM=path)
#        SIMSWARM_ONLY=1 skips RQ (for comparing changes to simswarm itself)
#        KEEP=1 keeps the work directory (logs of every server)
#        PROFILE=dir writes CPU profiles of the controller, the runner and
#        FerretDB there (go tool pprof dir/MODE/simswarm-worker-*.pprof;
#        with SIMSWARM_ONLY=1, FerretDB's is of simswarm's load alone)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
N=${1:-1000}
P=${2:-$(nproc)}
MODES=${MODES:-stock id-index}
simswarm=${SIMSWARM:-$root/bin/simswarm}
[ -x "$simswarm" ] || { echo "build simswarm first: make build" >&2; exit 1; }
/usr/bin/python3 -c 'import rq, pymongo, gridfs' 2>/dev/null || { echo "needs python3-rq, python3-pymongo and python3-gridfs (make deps)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT
cd "$work"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }   # utime+stime of the process itself
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }

(cd "$root" && go build -o "$work/ferretapp" ./test/dockerd/ferretapp)
gcc -O2 -DRUNS="$N" -o trivial "$here/trivial.c"
mkdir model && cp trivial model/
cat > campaign.yaml <<YAML
apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata: {name: noop}
spec:
  source: {path: model}
  build: {command: ["true"]}
  simulation: {program: ["./trivial"], runs: "0..$((N - 1))"}
  results: ["results/*.sca"]
YAML
echo bench-token-0123456789abcdef > token
hz=$(getconf CLK_TCK)
export PYTHONPATH=$here
echo "$N no-op runs, $P at a time, on one redis-server and FerretDB per mode:"
# The launch floor, once: it uses neither Redis nor FerretDB.
mkdir xargs-results
tx0=$(date +%s.%N)
seq 0 $((N - 1)) | xargs -P "$P" -I{} ./trivial -u Cmdenv -c General -r {} --result-dir=xargs-results >/dev/null
tx1=$(date +%s.%N)
nx=$(find xargs-results -name '*.sca' | wc -l)
[ "$nx" -eq "$N" ] || { echo "xargs -P wrote $nx result files, want $N" >&2; exit 1; }
xargs_rate=$(/usr/bin/python3 -c 'import sys; print(int(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2])))' "$N" "$tx0" "$tx1")
printf '  xargs -P%s  %.2f s  %.1f runs/s (the process-launch floor)\n' "$P" "$(/usr/bin/python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$tx0" "$tx1")" "$xargs_rate"

for mode in $MODES; do
  case $mode in
    stock) fflags=() ;;
    id-index) fflags=(-id-index) ;;
    *) echo "unknown mode $mode (stock, id-index)" >&2; exit 2 ;;
  esac
  d="$work/$mode"; mkdir -p "$d"
  if [ -n "${PROFILE:-}" ]; then mkdir -p "$PROFILE/$mode"; fflags+=(-cpuprofile "$(cd "$PROFILE/$mode" && pwd)/ferretdb.pprof"); fi
  rport=$(free_port); mport=$(free_port); aport=$(free_port)
  redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no >"$d/redis.log" 2>&1 & pids+=($!)
  redis=$!
  ./ferretapp "${fflags[@]}" "$d/ferret" "127.0.0.1:$mport" >"$d/ferret.log" 2>&1 & pids+=($!)
  ferret=$!
  sleep 1
  REDIS=redis://127.0.0.1:$rport/0
  MONGO=mongodb://127.0.0.1:$mport/simswarm

  # --- simswarm -------------------------------------------------------------
  if [ -n "${PROFILE:-}" ]; then mkdir -p "$PROFILE/$mode"; export SIMSWARM_CPU_PROFILE_DIR=$(cd "$PROFILE/$mode" && pwd); fi
  "$simswarm" ${VERBOSE:+-vv} controller --listen "127.0.0.1:$aport" --redis "$REDIS" --mongo "$MONGO" --token-file token >"$d/controller.log" 2>&1 & pids+=($!)
  ctl=$!
  wpids=()
  "$simswarm" ${VERBOSE:+-vv} worker --role run --slots "$P" --redis "$REDIS" --mongo "$MONGO" --cache "$d/cache" --name r >"$d/worker.log" 2>&1 & pids+=($!); wpids+=($!)
  "$simswarm" worker --role build --redis "$REDIS" --mongo "$MONGO" --cache "$d/build" --name b >"$d/builder.log" 2>&1 & pids+=($!); wpids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$aport/healthz" >/dev/null && break; sleep 0.1; done
  export SIMSWARM_SERVER=http://127.0.0.1:$aport SIMSWARM_TOKEN=bench-token-0123456789abcdef
  cpu0=0; for p in "$ctl" "${wpids[@]}"; do cpu0=$((cpu0 + $(cpu_ticks "$p"))); done
  db0=$(( $(cpu_ticks "$ferret") + $(cpu_ticks "$redis") )); rd0=$(cpu_ticks "$redis")
  ctl0=$(cpu_ticks "$ctl"); run0=$(cpu_ticks "${wpids[0]}")
  t0=$(date +%s.%N)
  "$simswarm" apply -f campaign.yaml >/dev/null 2>"$d/apply.log" || { cat "$d/apply.log" >&2; exit 1; }
  "$simswarm" wait noop --timeout 30m --interval 100ms -q >/dev/null
  t1=$(date +%s.%N)
  cpu1=0; for p in "$ctl" "${wpids[@]}"; do cpu1=$((cpu1 + $(cpu_ticks "$p"))); done
  db1=$(( $(cpu_ticks "$ferret") + $(cpu_ticks "$redis") )); rd1=$(cpu_ticks "$redis")
  ctl1=$(cpu_ticks "$ctl"); run1=$(cpu_ticks "${wpids[0]}")
  for p in "$ctl" "${wpids[@]}"; do kill "$p" 2>/dev/null || true; done
  unset SIMSWARM_CPU_PROFILE_DIR
  # Slot utilisation, from the completions (each run's time in its process).
  /usr/bin/python3 - "$MONGO" "$P" "$t0" "$t1" <<'PY'
import sys, datetime, pymongo
db = pymongo.MongoClient(sys.argv[1]).get_default_database()
p, t0, t1 = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
ivs = [(c["startedAt"].replace(tzinfo=datetime.timezone.utc).timestamp(), c["finishedAt"].replace(tzinfo=datetime.timezone.utc).timestamp())
       for c in db.completions.find({}, {"startedAt": 1, "finishedAt": 1})]
first = min(a for a, _ in ivs)
busy = sum(b - a for a, b in ivs)
tenths = []
for i in range(10):
    lo, hi = t0 + (t1 - t0) * i / 10, t0 + (t1 - t0) * (i + 1) / 10
    tenths.append(sum(max(0, min(b, hi) - max(a, lo)) for a, b in ivs) / (p * (hi - lo)))
last = max(b for _, b in ivs)
import json
st = json.loads(db.campaigns.find_one()["status"])
done = datetime.datetime.fromisoformat(st["completionTime"].replace("Z", "+00:00")[:26] + "+00:00").timestamp()
print(f"  simswarm slots busy {busy / (p * (t1 - t0)):.0%} of the wall time ({busy / (p * (t1 - first)):.0%} from the first run's start)")
print(f"  simswarm phases: apply to first run {first - t0:.2f} s, runs {last - first:.2f} s,"
      f" last run's end to campaign Succeeded {done - last:.2f} s (storing), to wait's return {t1 - done:.2f} s")
print("  slots busy per tenth of the wall time: " + " ".join(f"{x:.0%}" for x in tenths))
PY

  # --- RQ --------------------------------------------------------------------
  if [ -n "${SIMSWARM_ONLY:-}" ]; then
    /usr/bin/python3 -c 'import sys; n, t0, t1, c, hz, db, x, ct, rn, rd = map(float, sys.argv[1:11]); print(f"[{sys.argv[11]}] simswarm {t1 - t0:.2f} s {n / (t1 - t0):.1f} runs/s ({n / (t1 - t0) / x:.0%} of xargs -P), own CPU {c / hz / n * 1e3:.2f} ms/run (controller {ct / hz / n * 1e3:.2f}, runner {rn / hz / n * 1e3:.2f}), DB+Redis CPU {db / hz / n * 1e3:.2f} ms/run (Redis {rd / hz / n * 1e3:.2f})")' \
      "$N" "$t0" "$t1" "$((cpu1 - cpu0))" "$hz" "$((db1 - db0))" "$xargs_rate" "$((ctl1 - ctl0))" "$((run1 - run0))" "$((rd1 - rd0))" "$mode"
    stop_all; continue
  fi
  # Timed from submission, like simswarm's apply (which also uploads the
  # model and builds it).
  rdb0=$(( $(cpu_ticks "$ferret") + $(cpu_ticks "$redis") ))
  t2=$(date +%s.%N)
  /usr/bin/python3 "$here/rq_noop.py" enqueue "$REDIS" "$MONGO" "$work/trivial" "$N"
  rq=()
  for i in $(seq 1 "$P"); do /usr/bin/python3 -m rq.cli worker --burst --quiet --url "$REDIS" simswarm-bench >"$d/rq$i.log" 2>&1 & rq+=($!); done
  wait "${rq[@]}"
  t3=$(date +%s.%N)
  rdb1=$(( $(cpu_ticks "$ferret") + $(cpu_ticks "$redis") ))
  done_rq=$(/usr/bin/python3 -c "import pymongo,sys; print(pymongo.MongoClient(sys.argv[1]).get_default_database().rqruns.count_documents({}))" "$MONGO")
  stop_all

  /usr/bin/python3 - "$mode" "$N" "$t0" "$t1" "$t2" "$t3" "$cpu0" "$cpu1" "$hz" "$done_rq" "$db0" "$db1" "$ctl0" "$ctl1" "$rdb0" "$rdb1" "$xargs_rate" "$run0" "$run1" "$rd0" "$rd1" <<'PY'
import sys
mode, n = sys.argv[1], int(sys.argv[2])
t0, t1, t2, t3 = map(float, sys.argv[3:7])
hz = int(sys.argv[9])
cpu = (int(sys.argv[8]) - int(sys.argv[7])) / hz
rq_done = int(sys.argv[10])
db = (int(sys.argv[12]) - int(sys.argv[11])) / hz
ctl = (int(sys.argv[14]) - int(sys.argv[13])) / hz
rdb = (int(sys.argv[16]) - int(sys.argv[15])) / hz
xargs = float(sys.argv[17])
run = (int(sys.argv[19]) - int(sys.argv[18])) / hz
rd = (int(sys.argv[21]) - int(sys.argv[20])) / hz
ss, rq = n / (t1 - t0), rq_done / (t3 - t2)
print(f"[{mode}]")
print(f"  simswarm  {t1 - t0:7.2f} s  {ss:8.1f} runs/s   ({ss / xargs:.0%} of xargs -P)")
print(f"  RQ        {t3 - t2:7.2f} s  {rq:8.1f} runs/s   ({rq_done} jobs done; {rq / xargs:.0%} of xargs -P)")
print(f"  simswarm / RQ throughput: {ss / rq:.2f}x")
print(f"  simswarm's own CPU (controller + workers, not the simulations): {cpu / n * 1e3:.2f} ms per run"
      f" (controller {ctl / n * 1e3:.2f} ms, runner {run / n * 1e3:.2f} ms)")
print(f"  FerretDB + redis-server CPU per run: simswarm {db / n * 1e3:.2f} ms (redis-server {rd / n * 1e3:.2f} ms), RQ {rdb / max(rq_done, 1) * 1e3:.2f} ms")
PY
done
