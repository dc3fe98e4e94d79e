// expect-error: scheduled_lists(schedule_key<0>)
// expect-error-clang: redefinition of 'scheduled_lists'
// Two different programs whose schedules have one key (every key made 0
// here; in use, a 64-bit collision or graphs that differ only in types the
// compiler prints alike): within one translation unit that is an error,
// never one program running the other's kernels (compile/schedule_key.hpp).
#define TAPELESS_SCHEDULE_KEY_MASK 0
#include <tapeless/tapeless.hpp>

namespace tl = tapeless;

constexpr auto X = tl::input<"X", float, 8>;

int main() {
  auto doubled = tl::compile(X + X);
  auto squared = tl::compile(X * X);
  (void)doubled;
  (void)squared;
}
