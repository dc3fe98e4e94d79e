#define BOOST_TEST_MODULE core_denormals
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace tl = tapeless;

namespace {

// A product whose exact value is subnormal, and a subnormal read as an
// operand; volatile so that nothing is folded while compiling.
volatile float smallest_normal = std::numeric_limits<float>::min();
volatile float a_subnormal = std::numeric_limits<float>::min() / 8;

float subnormal_product() { return smallest_normal * 0.25f; }
float subnormal_operand_doubled() { return a_subnormal * 2.0f; }

// Results are compared by their bits: under the flush mode a float compare
// would itself read a subnormal as zero.
std::uint32_t bits(float x) { return std::bit_cast<std::uint32_t>(x); }
const std::uint32_t quarter_of_smallest_normal = bits(std::numeric_limits<float>::min() / 4);

}  // namespace

BOOST_AUTO_TEST_CASE(flush_denormals_zeroes_subnormals_in_its_scope_and_restores_the_mode_after) {
  if constexpr (!tl::flush_denormals::supported) return;
  BOOST_TEST(bits(subnormal_product()) == quarter_of_smallest_normal);
  BOOST_TEST(bits(subnormal_operand_doubled()) == quarter_of_smallest_normal);
  {
    const tl::flush_denormals outer;
    BOOST_TEST(bits(subnormal_product()) == 0u);          // a subnormal result is flushed
    BOOST_TEST(bits(subnormal_operand_doubled()) == 0u);  // a subnormal operand reads as zero
    {
      const tl::flush_denormals inner;  // nested: leaving it keeps the outer one's mode
    }
    BOOST_TEST(bits(subnormal_product()) == 0u);
  }
  BOOST_TEST(bits(subnormal_product()) == quarter_of_smallest_normal);
  BOOST_TEST(bits(subnormal_operand_doubled()) == quarter_of_smallest_normal);
}

// Every part of a pool's run computes in the caller's mode, whichever thread
// runs it (the workers were made before the mode changed, and keep theirs
// otherwise).
BOOST_AUTO_TEST_CASE(thread_pool_workers_take_the_callers_denormal_mode) {
  if constexpr (!tl::flush_denormals::supported) return;
  tl::thread_pool pool(3);
  std::array<std::uint32_t, 3> products{};
  auto task = [&](std::size_t part, std::size_t) { products[part] = bits(subnormal_product()); };
  {
    const tl::flush_denormals flushed;
    pool.run(task);
    for (std::uint32_t p : products) BOOST_TEST(p == 0u);
  }
  pool.run(task);
  for (std::uint32_t p : products) BOOST_TEST(p == quarter_of_smallest_normal);
}

// A compiled program's kernels compute in the caller's mode: an output that
// IEEE arithmetic makes subnormal is 0 under flush_denormals, and not after.
BOOST_AUTO_TEST_CASE(a_compiled_program_computes_in_the_callers_mode) {
  if constexpr (!tl::flush_denormals::supported) return;
  constexpr auto x = tl::input<"x", float, 64>;
  constexpr auto quarter = x * 0.25f;
  auto program = tl::compile(quarter);
  auto no_params = tl::parameters_of(quarter);
  tl::tensor<float, 64> values;
  for (std::size_t i = 0; i < 64; ++i) values[i] = std::numeric_limits<float>::min();
  {
    const tl::flush_denormals flushed;
    const auto& y = program(no_params, x = values);
    for (std::size_t i = 0; i < 64; ++i) BOOST_TEST(bits(y[i]) == 0u);
  }
  const auto& y = program(no_params, x = values);
  for (std::size_t i = 0; i < 64; ++i) BOOST_TEST(bits(y[i]) == quarter_of_smallest_normal);
}
