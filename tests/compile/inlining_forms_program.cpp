// Prints inlining_forms::results(), one hexadecimal word per line, for
// tests/compile/inlining_forms.cpp to compare with its own. Built with the
// library's forced inlining, as a release is (tests/compile/meson.build).
#include "inlining_forms.hpp"

#include <cstdio>

#if defined(TAPELESS_NO_FORCED_INLINING)
#error "this program stands for a release build: it must be compiled with forced inlining"
#endif

int main() {
  for (std::uint32_t word : inlining_forms::results()) std::printf("%08x\n", unsigned(word));
}
