// The suite is built without the library's forced inlining
// (TAPELESS_NO_FORCED_INLINING, tests/meson.build), which changes what is
// inlined, not what is computed: the kernels' arithmetic is spelt out (xsimd's
// FMAs, no contraction under -std=c++20). This holds the suite to that: a
// program built with forced inlining, as a release is, gives the same bits
// as this file gives without it.
#define BOOST_TEST_MODULE compile_inlining_forms
#include <boost/test/unit_test.hpp>

#include "inlining_forms.hpp"

#include <cstdio>
#include <memory>

#if !defined(TAPELESS_NO_FORCED_INLINING)
#error "this test compares a build without forced inlining with one with it: define TAPELESS_NO_FORCED_INLINING"
#endif

BOOST_AUTO_TEST_CASE(training_steps_give_the_same_bits_with_and_without_forced_inlining) {
  const std::vector<std::uint32_t> here = inlining_forms::results();
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(TAPELESS_INLINING_FORMS_PROGRAM, "r"), pclose);
  BOOST_REQUIRE(pipe);
  std::vector<std::uint32_t> released;
  unsigned word = 0;
  while (std::fscanf(pipe.get(), "%x", &word) == 1) released.push_back(word);
  BOOST_REQUIRE_EQUAL(released.size(), here.size());
  std::size_t differing = 0, first = here.size();
  for (std::size_t i = 0; i < here.size(); ++i)
    if (here[i] != released[i]) {
      ++differing;
      if (first == here.size()) first = i;
    }
  BOOST_TEST(differing == 0u, differing << " of " << here.size() << " words differ, the first at " << first);
}
