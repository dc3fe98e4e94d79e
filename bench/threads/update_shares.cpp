// One GEMM of W2 split in two shares, run alone and at once on two pinned
// cores, outside any program: what the second core does to a share when
// both compute (bench/threads/update_probe.hpp). For fc1's and fc2's weight
// gradients with a plain store and with SGD with momentum fused (as
// simd::gemm_share runs it, row tile by row tile, and with column blocks
// outside, as it did until 2026-12-06), each with the two shares' rows in
// one array (as in a parameter store) and in an array each.
//
//   ./build-bench/bench/threads/update_shares
//
// Prints the cache line round trip first (bench/threads/placement.hpp). In
// the machine's slow state the fused update's shares with column blocks
// outside took 1.5-2.3x their time alone at once, row tile by row tile
// 1.04-1.08x, and the plain store's ran at their own speed; in its fast
// state all ran at their own speed (bench/results/threads.md).

#include "threads/placement.hpp"
#include "threads/update_probe.hpp"

#include <cstdio>

namespace {

using namespace tapeless::bench;

template <std::size_t M, std::size_t K, std::size_t N, update_probe::share_form Form>
void report(const char* name, bool one_array) {
  const auto t = update_probe::measure<M, K, N, Form>(one_array);
  std::printf("%-44s %-16s share 0 alone %6.1f us, share 1 alone %6.1f us, both at once %6.1f us (%.2fx)\n", name,
              one_array ? "one array" : "an array each", t.share0_alone, t.share1_alone, t.both, t.ratio());
}

}  // namespace

int main() {
  const double round_trip = cache_line_round_trip_ns();
  if (std::isnan(round_trip) || !pin_to(1)) {
    std::fprintf(stderr, "update_shares: needs cores 0 and 1\n");
    return 1;
  }
  std::printf("arch: %s; a cache line's round trip between two threads: %.0f ns\n", xsimd::default_arch::name(),
              round_trip);
  for (bool one_array : {true, false}) {
    using enum update_probe::share_form;
    report<256, 64, 784, store>("fc1 weight gradient (256x64x784), store", one_array);
    report<256, 64, 784, update>("fc1, momentum update (gemm_share)", one_array);
    report<256, 64, 784, update_columns_outside>("fc1, momentum update, columns outside", one_array);
    report<128, 64, 256, store>("fc2 weight gradient (128x64x256), store", one_array);
    report<128, 64, 256, update>("fc2, momentum update (gemm_share)", one_array);
    report<128, 64, 256, update_columns_outside>("fc2, momentum update, columns outside", one_array);
  }
  return 0;
}
