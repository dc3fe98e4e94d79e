#!/bin/sh
# The streaming latency bench built twice, for this machine (-march=native)
# and for AVX2 (-march=x86-64-v3), from one or two source trees, and run
# pinned, alternating the builds: before/after comparisons in one sitting.
#
#   bench/streaming/run_arches.sh                 # this tree, both instruction sets
#   bench/streaming/run_arches.sh OLD_TREE        # also OLD_TREE's (a checkout or `git archive` of
#                                                 # an older commit: its include/ and bench/)
#   ROUNDS=3 CORE=0 bench/streaming/run_arches.sh ...
#
# Each run prints the harness's medians; set TAPELESS_BENCH_CLOCK=cpu on a
# shared machine. g++ -O3, as the release build of the benchmarks.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${ROUNDS:-2}
core=${CORE:-0}
out=$(mktemp -d)
trees="$here"
[ $# -ge 1 ] && trees="$1 $here"
n=0
for tree in $trees; do
  n=$((n + 1))
  for march in native x86-64-v3; do
    ${CXX:-g++} -std=c++20 -O3 -DNDEBUG -march=$march -pthread -I"$tree/include" -I"$tree/bench" \
      "$tree/bench/streaming/recurrent_latency.cpp" -o "$out/bench-$n-$march"
  done
done
for r in $(seq "$rounds"); do
  n=0
  for tree in $trees; do
    n=$((n + 1))
    for march in native x86-64-v3; do
      echo "== round $r, tree $tree, -march=$march ($(uptime | sed 's/.*load/load/'))"
      taskset -c "$core" "$out/bench-$n-$march"
    done
  done
done
rm -rf "$out"
