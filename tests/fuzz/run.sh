#!/bin/sh
# Builds the fuzz targets of this folder with clang's libFuzzer, AddressSanitizer
# and UndefinedBehaviorSanitizer, and runs each for a fixed time from its seed
# corpus, the targets side by side (two cores do four targets' builds in half
# the time, and each run is bounded by time, not by work). Exits non-zero if a
# target crashes (the input is kept in the work directory); exits 0 with a
# message when clang or its libFuzzer is missing, unless FUZZ_REQUIRED=1 (CI:
# there a fuzzer that cannot run is a failure). Ends with
# "fuzz: N passed, M failed", one case per target.
#
#   tests/fuzz/run.sh                      # 20 s per target
#   FUZZ_SECONDS=300 tests/fuzz/run.sh     # longer
#
# Environment: FUZZ_SECONDS (per target), FUZZ_CXX (the compiler), FUZZ_WORK
# (build and work directory, default: a fresh one under TMPDIR), FUZZ_REQUIRED.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${FUZZ_SECONDS:-20}
targets="safetensors idx gzip csv"
target_count=4

# skip <reason>: no fuzzing here; every target failed if fuzzing was required.
skip() {
  echo "fuzz: skipped: $1"
  if [ "${FUZZ_REQUIRED:-0}" = 1 ]; then
    echo "fuzz: 0 passed, $target_count failed"
    exit 1
  fi
  exit 0
}

cxx=${FUZZ_CXX:-}
if [ -z "$cxx" ]; then
  for candidate in clang++ clang++-16 clang++-15 clang++-14; do
    if command -v "$candidate" >/dev/null 2>&1; then cxx=$candidate; break; fi
  done
fi
[ -n "$cxx" ] || skip "no clang++ found (Debian: apt install clang-14 libclang-rt-14-dev)"

work=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/tapeless-fuzz.XXXXXX")}
mkdir -p "$work"

# libFuzzer is a separate package on Debian (libclang-rt-<version>-dev).
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' > "$work/probe.cpp"
if ! "$cxx" -fsanitize=fuzzer "$work/probe.cpp" -o "$work/probe" >/dev/null 2>&1; then
  [ -z "${FUZZ_WORK:-}" ] && rm -rf "$work"
  skip "$cxx cannot link libFuzzer (Debian: apt install libclang-rt-14-dev)"
fi

flags="-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I$root/include"
echo "fuzz: building $targets"
for target in $targets; do
  "$cxx" $flags "$here/$target.cpp" -o "$work/$target" -lz >"$work/$target.build.log" 2>&1 &
done
wait

echo "fuzz: running each target for $seconds s"
for target in $targets; do
  [ -x "$work/$target" ] || continue
  # New inputs go to the first corpus folder, a copy: the committed seeds stay as they are.
  mkdir -p "$work/corpus-$target"
  (
    if "$work/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
         -artifact_prefix="$work/$target-" "$work/corpus-$target" "$here/corpus/$target" \
         >"$work/$target.log" 2>&1; then
      touch "$work/$target.passed"
    fi
  ) &
done
wait

failed=""
failures=0
for target in $targets; do
  if [ ! -x "$work/$target" ]; then
    tail -n 40 "$work/$target.build.log"
    failed="$failed $target(build)"
    failures=$((failures + 1))
  elif [ ! -f "$work/$target.passed" ]; then
    tail -n 40 "$work/$target.log"
    failed="$failed $target"
    failures=$((failures + 1))
  else
    echo "fuzz: $target: $(grep -E "stat::number_of_executed_units" "$work/$target.log" | tail -n 1)"
  fi
done

if [ -n "$failed" ]; then
  echo "fuzz: FAILED:$failed (logs and crashing inputs in $work)"
  echo "fuzz: $((target_count - failures)) passed, $failures failed"
  exit 1
fi
echo "fuzz: every target ran $seconds s without a crash"
[ -z "${FUZZ_WORK:-}" ] && rm -rf "$work"
echo "fuzz: $target_count passed, 0 failed"
exit 0
