// Prints the round trip of a cache line between two threads, in ns
// (bench/threads/placement.hpp): which placement of the cores a threaded or
// multi-rank figure was measured on. bench/dist/run.sh prints it before and
// after each round.
#include "threads/placement.hpp"

#include <cstdio>

int main() {
  std::printf("%.0f\n", tapeless::bench::cache_line_round_trip_ns());
  return 0;
}
