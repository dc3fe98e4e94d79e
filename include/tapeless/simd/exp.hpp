#pragma once
// e^v for a batch or a scalar, defined for every argument. xsimd 8's exp
// converts round(v / ln 2) to an integer before it replaces the results
// beyond its range by 0 or inf; for v = -inf (a masked logit of a causal
// softmax), +inf or NaN that conversion is undefined behaviour, which
// UndefinedBehaviorSanitizer reports for double batches on SSE2. Arguments
// beyond the range are clamped to its ends, where xsimd returns the same 0 or
// inf, and a NaN argument is returned as it is: the result is xsimd's bit for
// bit wherever that was defined.

#include <cmath>

#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/lanes.hpp>

namespace tapeless::simd {

template <class V>
TAPELESS_ALWAYS_INLINE inline V exp(const V& v) noexcept {
  if constexpr (batch_value<V>) {
    const V low = xsimd::constants::minlog<V>(), high = xsimd::constants::maxlog<V>();
    // max then min (one instruction each on x86, where two compares and two
    // blends were on the latency path of every sigmoid of a streamed
    // recurrent layer): max(NaN, low) is low, as x86's max returns its second
    // operand when one is NaN and xsimd's generic max is a > b ? a : b.
    // v == v is false only for NaN, which is returned as it is.
    const V in_range = xsimd::min(xsimd::max(v, low), high);
    return xsimd::select(v == v, xsimd::exp(in_range), v);
  } else {
    return std::exp(v);
  }
}

}  // namespace tapeless::simd
