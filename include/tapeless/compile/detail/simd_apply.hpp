#pragma once
// The SIMD evaluation of each elementwise operation: what one op computes on
// an xsimd batch. Ops whose scalar `apply` is branch-free and generic (+ - *
// /, exp, log, tanh, ...) need nothing here: xsimd's overloads are found by
// argument-dependent lookup. Ops that branch per element get a select.

#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/compare.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/minmax.hpp>
#include <tapeless/expr/pow.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/exp.hpp>
#include <tapeless/simd/lanes.hpp>

namespace tapeless::detail {

template <class Op>
struct simd_apply {
  template <class... V>
  TAPELESS_ALWAYS_INLINE static auto apply(const V&... v) {
    return Op::apply(v...);
  }
};

// simd::exp: xsimd's exp with -inf (a masked logit) and +inf in its range.
template <>
struct simd_apply<exp_op> {
  template <class V>
  TAPELESS_ALWAYS_INLINE static V apply(const V& a) {
    return simd::exp(a);
  }
};

template <>
struct simd_apply<sigmoid_op> {
  // 1 / (1 + e^-a): exp(-a) overflows to inf for very negative a, and 1/inf = 0.
  template <class V>
  TAPELESS_ALWAYS_INLINE static V apply(const V& a) {
    return V(1) / (V(1) + simd::exp(-a));
  }
};

template <>
struct simd_apply<relu_op> {
  template <class V>
  TAPELESS_ALWAYS_INLINE static V apply(const V& a) {
    return xsimd::select(a < V(0), V(0), a);  // NaN passes through, as in PyTorch
  }
};

template <>
struct simd_apply<abs_op> {
  template <class V>
  TAPELESS_ALWAYS_INLINE static V apply(const V& a) {
    return xsimd::abs(a);
  }
};

template <>
struct simd_apply<step_op> {
  template <class V>
  TAPELESS_ALWAYS_INLINE static V apply(const V& a) {
    return xsimd::select(a > V(0), V(1), V(0));
  }
};

template <>
struct simd_apply<heaviside_op> {
  template <class V>
  TAPELESS_ALWAYS_INLINE static V apply(const V& a) {
    return xsimd::select(a > V(0), V(1), xsimd::select(a < V(0), V(0), V(0.5)));
  }
};

template <>
struct simd_apply<sign_op> {
  template <class V>
  TAPELESS_ALWAYS_INLINE static V apply(const V& a) {
    return xsimd::select(a > V(0), V(1), xsimd::select(a < V(0), V(-1), V(0)));
  }
};

template <>
struct simd_apply<max_op> {
  template <class V>
  TAPELESS_ALWAYS_INLINE static V apply(const V& a, const V& b) {
    return xsimd::select(a > b || !(a == a), a, b);  // !(a == a): NaN (xsimd's != is ordered on AVX)
  }
};

template <>
struct simd_apply<min_op> {
  template <class V>
  TAPELESS_ALWAYS_INLINE static V apply(const V& a, const V& b) {
    return xsimd::select(a < b || !(a == a), a, b);
  }
};

template <>
struct simd_apply<pow_op> {
  template <class V, rational K>
  TAPELESS_ALWAYS_INLINE static V apply(const V& a, exact_constant<K> k) {
    if constexpr (power_by_squaring_exponent<K>)
      return pow_op::apply(a, k);  // by squaring: multiplications only
    else if constexpr (K == rational{1, 2})
      return xsimd::sqrt(a);
    else
      return xsimd::pow(a, V(K.template as<typename V::value_type>()));
  }
  template <class V, rational K>
  TAPELESS_ALWAYS_INLINE static V apply(exact_constant<K>, const V& b) {
    return xsimd::pow(V(K.template as<typename V::value_type>()), b);
  }
  template <class V>
  TAPELESS_ALWAYS_INLINE static V apply(const V& a, const V& b) {
    return xsimd::pow(a, b);
  }
};

// Op applied to values of one kind: batches through simd_apply, scalars
// through the op's own scalar evaluation.
template <class Op, class V, class... Args>
TAPELESS_ALWAYS_INLINE inline V apply_op(const Args&... args) {
  if constexpr (simd::batch_value<V>)
    return static_cast<V>(simd_apply<Op>::apply(args...));
  else
    return static_cast<V>(Op::apply(args...));
}

}  // namespace tapeless::detail
