// Compile-time probe for bench/compile/shared_numbers.py: a subexpression
// reused twice per level, its numbers written three ways, differentiated
// ORDER times and evaluated at a run-time point.
//
//   g++ -std=c++20 -O1 -Iinclude -DFORMULA=1 -DNUMBERS=2 -DDEPTH=4 -DORDER=2 -c reused_numbers.cpp
//
// FORMULA 0: logistic map, y -> 0.5 * y * (1 - y).
// FORMULA 1: nested quotients with pow and log,
//            y -> (1.5 + y^2)^0.75 / (2 + log(1 + y^2)).
// NUMBERS 0: exact constants (0.5_c); 1: plain numbers (0.5);
//         2: plain numbers shared by value, tl::share_numbers<f>();
//         3: plain numbers shared by position, tl::share_numbers(f) (the
//            logistic map only: the quotients' 1.5 + y^2 and 1.0 + y^2 have
//            one type, and the run-time check would refuse them).
#include <tapeless/tapeless.hpp>

// Defaults, so that bench/compile/measure.py (every .cpp here) compiles it too.
#ifndef FORMULA
#define FORMULA 1
#endif
#ifndef NUMBERS
#define NUMBERS 2
#endif
#ifndef DEPTH
#define DEPTH 4
#endif
#ifndef ORDER
#define ORDER 2
#endif

namespace tl = tapeless;
using namespace tl::literals;

#if NUMBERS == 0
#define NUMBER(exact, plain) exact
#else
#define NUMBER(exact, plain) plain
#endif

template <int Depth, class Y>
constexpr auto reused(Y y) {
  if constexpr (Depth == 0) {
    return y;
  } else {
#if FORMULA == 0
    return reused<Depth - 1>(NUMBER(0.5_c, 0.5) * y * (1_c - y));
#else
    return reused<Depth - 1>(tl::pow(NUMBER(1.5_c, 1.5) + tl::square(y), NUMBER(0.75_c, 0.75)) /
                             (NUMBER(2_c, 2.0) + tl::log(NUMBER(1_c, 1.0) + tl::square(y))));
#endif
  }
}

template <int Order, class F, class X>
auto derivative(const F& f, X x) {
  if constexpr (Order == 0)
    return f;
  else
    return derivative<Order - 1>(tl::d(f, x), x);
}

double probe(double v) {
  constexpr auto x = tl::var<"x">;
#if NUMBERS == 2
  static constexpr auto written = reused<DEPTH>(x);
  const auto f = tl::share_numbers<written>();
#elif NUMBERS == 3
  const auto f = tl::share_numbers(reused<DEPTH>(x));
#else
  const auto f = reused<DEPTH>(x);
#endif
  return derivative<ORDER>(f, x)(x = v);
}
