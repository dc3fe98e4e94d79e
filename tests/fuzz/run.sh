#!/bin/sh
# Builds the fuzz targets of this folder with clang's libFuzzer, AddressSanitizer
# and UndefinedBehaviorSanitizer, and runs each for a fixed time from its seed
# corpus. Exits non-zero if a target crashes (the input is kept in the work
# directory); exits 0 with a message when clang or its libFuzzer is missing.
#
#   tests/fuzz/run.sh                      # 20 s per target
#   FUZZ_SECONDS=300 tests/fuzz/run.sh     # longer
#
# Environment: FUZZ_SECONDS (per target), FUZZ_CXX (the compiler), FUZZ_WORK
# (build and work directory, default: a fresh one under TMPDIR).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${FUZZ_SECONDS:-20}

cxx=${FUZZ_CXX:-}
if [ -z "$cxx" ]; then
  for candidate in clang++ clang++-16 clang++-15 clang++-14; do
    if command -v "$candidate" >/dev/null 2>&1; then cxx=$candidate; break; fi
  done
fi
if [ -z "$cxx" ]; then
  echo "fuzz: skipped: no clang++ found (Debian: apt install clang-14 libclang-rt-14-dev)"
  exit 0
fi

work=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/tapeless-fuzz.XXXXXX")}
mkdir -p "$work"

# libFuzzer is a separate package on Debian (libclang-rt-<version>-dev).
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' > "$work/probe.cpp"
if ! "$cxx" -fsanitize=fuzzer "$work/probe.cpp" -o "$work/probe" >/dev/null 2>&1; then
  echo "fuzz: skipped: $cxx cannot link libFuzzer (Debian: apt install libclang-rt-14-dev)"
  [ -z "${FUZZ_WORK:-}" ] && rm -rf "$work"
  exit 0
fi

flags="-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I$root/include"
failed=""
for target in safetensors idx gzip csv; do
  echo "fuzz: building $target"
  if ! "$cxx" $flags "$here/$target.cpp" -o "$work/$target" -lz; then
    failed="$failed $target(build)"
    continue
  fi
  # New inputs go to the first corpus folder, a copy: the committed seeds stay as they are.
  mkdir -p "$work/corpus-$target"
  echo "fuzz: running $target for $seconds s"
  if ! "$work/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$work/$target-" "$work/corpus-$target" "$here/corpus/$target" \
       >"$work/$target.log" 2>&1; then
    tail -n 40 "$work/$target.log"
    failed="$failed $target"
  else
    grep -E "stat::number_of_executed_units|Done" "$work/$target.log" | tail -n 2
  fi
done

if [ -n "$failed" ]; then
  echo "fuzz: FAILED:$failed (logs and crashing inputs in $work)"
  exit 1
fi
echo "fuzz: every target ran $seconds s without a crash"
[ -z "${FUZZ_WORK:-}" ] && rm -rf "$work"
exit 0
