#!/bin/sh
# The Fashion-MNIST epoch on mpirun -np 1 and -np 2, interleaved (1 2 1 2 ...,
# and the modes in turn) (bench/dist/fashion_mnist_epoch.cpp); the modes ending in
# -sharded step with data_parallel's sharded update, those ending in -overlap
# with its reduction overlapped with the backward pass (overlap_backward), on
# 2 ranks only (on one rank it is the same step). Run on a quiet machine with two free cores: a
# rank waiting in MPI_Allreduce for a rank the scheduler has put off costs
# milliseconds. On a busy one, read the "step p10" lines (the fastest tenth
# of the steps, times the steps: an estimate of the quiet epoch).
#
#   meson setup build-bench -Dbench=true -Dtests=false -Dexamples=false
#   meson compile -C build-bench dist_fashion_mnist
#   bench/dist/run.sh [build-bench] [rounds] [epochs]
#
# Environment: MODES, default "per-rank per-rank-sharded global global-sharded".
# MPIRUN_ARGS, default "--bind-to core --mca btl_vader_single_copy_mechanism none
# --mca btl_vader_fifo_size 4194304 --mca btl_vader_max_send_size 131072":
# Open MPI's shared-memory transport copied the 918 KiB allreduce in 100 us
# (minimum of 300) through its own segments, 160 us with its default
# single-copy mechanism (CMA), on the 2-core VM of BENCHMARKING.md; with
# fragments of 128 KiB (32 KiB by default) and a 4 MiB queue, 66-82 us (the
# median of each run), and the two-rank epoch 4-9% shorter in each of four
# interleaved rounds (bench/results/dist.md, 2026-12-07). On a busy machine
# add "--mca mpi_yield_when_idle 1" (a waiting rank yields its core).
set -eu
build=${1:-build-bench}
rounds=${2:-3}
epochs=${3:-3}
program="$build/bench/dist/dist_fashion_mnist"
mpirun_args=${MPIRUN_ARGS:---bind-to core --mca btl_vader_single_copy_mechanism none --mca btl_vader_fifo_size 4194304 --mca btl_vader_max_send_size 131072}
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
# Rounds outside, modes inside: every mode sees the same stretch of the machine's load.
# The machine's state before and after each round (bench/threads/machine_state:
# the cores' round trip, and whether two cores slow each other's memory
# work): this virtual machine flips between a fast and a slow state within
# minutes, and two ranks' figures follow it (bench/results/threads.md).
# Nothing when the probe is not built.
machine_state="$build/bench/threads/machine_state"
placement() { if [ -x "$machine_state" ]; then echo "# round $round $1: $("$machine_state")"; fi; }
round=1
while [ "$round" -le "$rounds" ]; do
  placement before
  for mode in ${MODES:-per-rank per-rank-sharded global global-sharded}; do
    case "$mode" in *-sharded | *-overlap) ranks="2" ;; *) ranks="1 2" ;; esac
    for np in $ranks; do
      # --oversubscribe and --allow-run-as-root let it run in containers and CI.
      mpirun -np "$np" --oversubscribe --allow-run-as-root $mpirun_args "$program" "$mode" "$epochs" |
        grep -E '^(ranks|without)'
    done
  done
  placement after
  round=$((round + 1))
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
