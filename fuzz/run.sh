#!/usr/bin/env bash
# Runs the libFuzzer targets of fuzz/ (fuzz/README.md).
#
#   fuzz/run.sh [target|all] [seconds]      default: all, 60 s each
#
# The seconds are CPU seconds of the fuzzer process, not wall time, so a
# run on a busy machine (or under FUZZ_SCHED_IDLE=1, which lets it use only
# idle CPU) still gets its whole budget.
#
# Builds build-fuzz/ with clang (ASan + UBSan + libFuzzer) if needed, runs
# each target for the given time on its seeds (fuzz/seeds/<target>/, real
# requests, see make_seeds.py) and corpus (fuzz/corpus/<target>/) with its
# dictionary (fuzz/dict/<target>.dict) if there is one, then minimizes what
# it found into fuzz/corpus/<target>/ with -merge=1 (only inputs that add
# coverage beyond the seeds, so the corpus and its replay test stay small). Crashing
# inputs go to fuzz/artifacts/<target>/ (not committed: once fixed, each
# moves to fuzz/regressions/<target>/, which the replay tests run). Prints
# a line per target: seconds, executions, cov, ft, corpus size, crashes, and
# slow units (inputs that took over 10 s of wall time: on a starved machine
# that is the scheduler's doing, so each is timed again alone before it
# counts; see fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-all}
seconds=${2:-60}
build=${BUILD_DIR:-build-fuzz}

if [[ ! -f $build/build.ninja ]]; then
  CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBERTH_FUZZ=ON -DBERTH_UNIT_TESTS_ONLY=ON >/dev/null
fi
if [[ $target == all ]]; then
  nice -n 10 ninja -C "$build" fuzz_targets
  targets=$(cd fuzz && ls -d seeds/*/ | xargs -n1 basename)
else
  nice -n 10 ninja -C "$build" "fuzz_$target"
  targets=$target
fi

results=$build/fuzz/results.txt
runner=(nice -n 10)
# libFuzzer's -timeout (per input) is wall time: on idle CPU only, a busy
# machine can starve an input for many seconds, which is no hang of ours.
timeout=${FUZZ_TIMEOUT:-10}
if [[ ${FUZZ_SCHED_IDLE:-0} == 1 ]]; then
  runner=(chrt --idle 0)
  timeout=${FUZZ_TIMEOUT:-120}
fi
clock_ticks=$(getconf CLK_TCK)

# User plus system CPU seconds of a process (fields 14 and 15 of its stat;
# the command name in field 2 may hold spaces, so count after its ')').
cpu_seconds() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  read -r -a fields <<<"${stat##*) }"
  echo $(( (fields[11] + fields[12]) / clock_ticks ))
}
for t in $targets; do
  bin=$build/fuzz/fuzz_$t
  [[ -x $bin ]] || { echo "no fuzz target $t" >&2; exit 1; }
  work=$build/fuzz/work/$t
  artifacts=fuzz/artifacts/$t
  mkdir -p "$work" "$artifacts" "fuzz/corpus/$t" "fuzz/seeds/$t"
  dict=()
  [[ -f fuzz/dict/$t.dict ]] && dict=(-dict="fuzz/dict/$t.dict")
  log=$build/fuzz/$t.log
  # Crashes, leaks, timeouts and OOMs; libFuzzer's slow-unit-* files apart.
  count_crashes() { find "$artifacts" -maxdepth 1 -type f ! -name 'slow-unit-*' | wc -l; }
  count_slow() { find "$artifacts" -maxdepth 1 -type f -name 'slow-unit-*' | wc -l; }
  before=$(count_crashes)
  slow_before=$(count_slow)
  # New inputs go to $work (the first corpus dir); the committed corpus is
  # read as seeds. Leaks are reported; a run stops at the first crash.
  # libFuzzer's own limit is wall time, so it is set far out and the CPU
  # budget is enforced here: SIGINT makes libFuzzer print its final stats.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    "${runner[@]}" "$bin" "$work" "fuzz/corpus/$t" "fuzz/seeds/$t" "${dict[@]}" -max_total_time=$((seconds * 100)) \
    -max_len=4096 -timeout="$timeout" -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 &
  pid=$!
  cpu=0
  while kill -0 "$pid" 2>/dev/null; do
    cpu=$(cpu_seconds "$pid")
    (( cpu >= seconds )) && { kill -INT "$pid" 2>/dev/null; break; }
    sleep 2
  done
  wait "$pid" || true
  # The corpus kept is the smallest set that, beside the seeds, covers
  # what the old corpus and this run covered.
  merged=$build/fuzz/merged/$t
  rm -rf "$merged" && mkdir -p "$merged"
  cp fuzz/seeds/"$t"/* "$merged"/ 2>/dev/null || true
  if nice -n 10 "$bin" -merge=1 -max_len=4096 "$merged" "fuzz/corpus/$t" "$work" >"$log.merge" 2>&1; then
    for seed in fuzz/seeds/"$t"/*; do rm -f "$merged/$(basename "$seed")"; done
    rm -rf "fuzz/corpus/$t" && mv "$merged" "fuzz/corpus/$t"
  fi
  rm -rf "$work"
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo 0)
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo 0)
  eps=$(grep -o 'exec/s: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo 0)
  corpus=$(ls "fuzz/corpus/$t" | wc -l)
  crashes=$(( $(count_crashes) - before ))
  slow=$(( $(count_slow) - slow_before ))
  line="$t cpu_seconds=$cpu execs=$execs exec/s=$eps cov=$cov ft=$ft corpus=$corpus new_crashes=$crashes slow_units=$slow"
  echo "$line" | tee -a "$results"
  if (( crashes > 0 )); then
    grep -m1 -E 'ERROR: |runtime error|deadly signal|uncaught exception|terminate called' "$log" || true
    echo "  log: $log; inputs: $artifacts/" >&2
  fi
done
