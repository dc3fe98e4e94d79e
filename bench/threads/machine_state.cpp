// Prints what a threaded or multi-rank figure should be read beside, on one
// line: the cores' cache line round trip (bench/threads/placement.hpp) and
// how much slower the two shares of W2's largest fused update run at once
// than alone (bench/threads/update_probe.hpp: about 1.0 in this machine's
// fast state, 1.5 and over in its slow one). bench/dist/run.sh prints it
// before and after each round.
#include "threads/placement.hpp"
#include "threads/update_probe.hpp"

#include <cstdio>

int main() {
  const double round_trip = tapeless::bench::cache_line_round_trip_ns();
  std::printf("a cache line's round trip %.0f ns; fc1's fused update shares, at once / alone: %.2f\n", round_trip,
              tapeless::bench::fused_update_ratio());
  return 0;
}
