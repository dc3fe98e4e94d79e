#pragma once
// Elementwise functions of one argument; each also takes a plain number and
// returns a number. `step`, `heaviside` and `sign` are the
// piecewise-constant functions that derivatives of relu, max/min and abs need;
// they are public too.

#include <cmath>
#include <string_view>
#include <type_traits>

#include <tapeless/expr/node.hpp>

namespace tapeless {

struct exp_op : elementwise_operation {
  static constexpr std::string_view name = "exp";
  static constexpr auto apply(auto a) {
    using std::exp;
    return exp(a);
  }
};

struct log_op : elementwise_operation {
  static constexpr std::string_view name = "log";
  static constexpr auto apply(auto a) {
    using std::log;
    return log(a);
  }
};

struct sin_op : elementwise_operation {
  static constexpr std::string_view name = "sin";
  static constexpr auto apply(auto a) {
    using std::sin;
    return sin(a);
  }
};

struct cos_op : elementwise_operation {
  static constexpr std::string_view name = "cos";
  static constexpr auto apply(auto a) {
    using std::cos;
    return cos(a);
  }
};

struct tan_op : elementwise_operation {
  static constexpr std::string_view name = "tan";
  static constexpr auto apply(auto a) {
    using std::tan;
    return tan(a);
  }
};

struct tanh_op : elementwise_operation {
  static constexpr std::string_view name = "tanh";
  static constexpr auto apply(auto a) {
    using std::tanh;
    return tanh(a);
  }
};

struct sigmoid_op : elementwise_operation {
  static constexpr std::string_view name = "sigmoid";
  template <class T>
  static constexpr T apply(T a) {
    using std::exp;
    // One branch-free form: where exp(-a) overflows (a below about -709 in
    // double, -88 in float) it is inf and the result 0, where the true value
    // is subnormal or less. Two branches on the sign mispredicted on mixed
    // signs (and clang computed both exps).
    return T(1) / (T(1) + exp(-a));
  }
};

struct relu_op : elementwise_operation {
  static constexpr std::string_view name = "relu";
  template <class T>
  static constexpr T apply(T a) {
    return a < T(0) ? T(0) : a;  // NaN passes through, as in PyTorch
  }
};

struct sqrt_op : elementwise_operation {
  static constexpr std::string_view name = "sqrt";
  static constexpr auto apply(auto a) {
    using std::sqrt;
    return sqrt(a);
  }
};

struct abs_op : elementwise_operation {
  static constexpr std::string_view name = "abs";
  template <class T>
  static constexpr T apply(T a) {
    return a < T(0) ? -a : a;
  }
};

struct square_op : elementwise_operation {
  static constexpr std::string_view name = "square";
  static constexpr auto apply(auto a) { return a * a; }
};

// step(a) = 1 where a > 0, else 0: the derivative of relu (0 at 0, as PyTorch).
struct step_op : elementwise_operation {
  static constexpr std::string_view name = "step";
  template <class T>
  static constexpr T apply(T a) {
    return a > T(0) ? T(1) : T(0);
  }
};

// heaviside(a) = 1 where a > 0, 1/2 at 0, else 0: the derivative of max and
// min, which split a tie evenly (as PyTorch's maximum and SymPy's Heaviside).
struct heaviside_op : elementwise_operation {
  static constexpr std::string_view name = "heaviside";
  template <class T>
  static constexpr T apply(T a) {
    return a > T(0) ? T(1) : a < T(0) ? T(0) : T(0.5);
  }
};

// sign(a) in {-1, 0, 1}: the derivative of abs.
struct sign_op : elementwise_operation {
  static constexpr std::string_view name = "sign";
  template <class T>
  static constexpr T apply(T a) {
    return a > T(0) ? T(1) : a < T(0) ? T(-1) : T(0);
  }
};

// Inverse trigonometric and hyperbolic functions, and the accurate forms
// near 0 (log1p(a) = log(1 + a), expm1(a) = exp(a) - 1) and the cube root.
#define TAPELESS_STD_FUNCTION_OP(fn)            \
  struct fn##_op : elementwise_operation {      \
    static constexpr std::string_view name = #fn; \
    static constexpr auto apply(auto a) {       \
      using std::fn;                            \
      return fn(a);                             \
    }                                           \
  };

TAPELESS_STD_FUNCTION_OP(atan)
TAPELESS_STD_FUNCTION_OP(asin)
TAPELESS_STD_FUNCTION_OP(acos)
TAPELESS_STD_FUNCTION_OP(sinh)
TAPELESS_STD_FUNCTION_OP(cosh)
TAPELESS_STD_FUNCTION_OP(asinh)
TAPELESS_STD_FUNCTION_OP(log1p)
TAPELESS_STD_FUNCTION_OP(expm1)
TAPELESS_STD_FUNCTION_OP(cbrt)

#undef TAPELESS_STD_FUNCTION_OP

namespace detail {

// A plain number given to a function: integers compute in double, as std::sin(1) does.
template <class T>
constexpr auto as_floating(T a) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<double>(a);
  else
    return a;
}

}  // namespace detail

// fn(expression) builds a node; fn(number) is the number (tl::sin(0.5) is
// std::sin(0.5)), so generic code runs on doubles and on symbols alike.
#define TAPELESS_UNARY_BUILDER(fn)                          \
  template <expression A>                                   \
  constexpr auto fn(const A& a) {                           \
    return node<fn##_op, A>{a};                             \
  }                                                         \
  template <class T>                                        \
    requires std::is_arithmetic_v<T>                        \
  constexpr auto fn(T a) {                                  \
    return fn##_op::apply(detail::as_floating(a));          \
  }

TAPELESS_UNARY_BUILDER(exp)
TAPELESS_UNARY_BUILDER(log)
TAPELESS_UNARY_BUILDER(sin)
TAPELESS_UNARY_BUILDER(cos)
TAPELESS_UNARY_BUILDER(tan)
TAPELESS_UNARY_BUILDER(tanh)
TAPELESS_UNARY_BUILDER(sigmoid)
TAPELESS_UNARY_BUILDER(relu)
TAPELESS_UNARY_BUILDER(sqrt)
TAPELESS_UNARY_BUILDER(abs)
TAPELESS_UNARY_BUILDER(square)
TAPELESS_UNARY_BUILDER(step)
TAPELESS_UNARY_BUILDER(heaviside)
TAPELESS_UNARY_BUILDER(sign)
TAPELESS_UNARY_BUILDER(atan)
TAPELESS_UNARY_BUILDER(asin)
TAPELESS_UNARY_BUILDER(acos)
TAPELESS_UNARY_BUILDER(sinh)
TAPELESS_UNARY_BUILDER(cosh)
TAPELESS_UNARY_BUILDER(asinh)
TAPELESS_UNARY_BUILDER(log1p)
TAPELESS_UNARY_BUILDER(expm1)
TAPELESS_UNARY_BUILDER(cbrt)

#undef TAPELESS_UNARY_BUILDER

}  // namespace tapeless
