#!/bin/sh
# Runs bench/kernels/conv.cpp as bench/results/conv_kernels.md reports it:
# pinned to one core, AVX-512 then AVX2 + FMA, with the load beside each run.
# Usage: bench/kernels/run_conv.sh <build dir> [cpu clock: yes|no] [core]
#   (the build dir configured with -Dbench=true; "no" times by the wall clock,
#   right on a quiet machine; "yes", the default, by the thread's CPU time.)
set -e
build=${1:?usage: run_conv.sh <build dir> [yes|no] [core]}
clock=${2:-yes}
core=${3:-0}
meson compile -C "$build" bench/kernels/kernels_conv >/dev/null
if [ "$clock" = yes ]; then export TAPELESS_BENCH_CLOCK=cpu; fi
export TAPELESS_BENCH_REPETITIONS=${TAPELESS_BENCH_REPETITIONS:-11} TAPELESS_BENCH_SECONDS=${TAPELESS_BENCH_SECONDS:-0.2}
for arch in avx512 avx2; do
  echo "start $(date -u +%H:%M:%S) UTC, $(uptime | sed 's/.*load/load/')"
  TAPELESS_BENCH_ARCH=$arch taskset -c "$core" "$build/bench/kernels/kernels_conv"
  echo "end $(date -u +%H:%M:%S) UTC, $(uptime | sed 's/.*load/load/')"
  echo
done
