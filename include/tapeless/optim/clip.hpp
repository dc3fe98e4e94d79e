#pragma once
// Gradient clipping over a whole parameter store, between the backward pass
// and opt.step:
//
//   float norm = tl::optim::clip_grad_norm(params, 1.0f);  // norm before clipping
//   tl::optim::clip_grad_value(params, 0.5f);
//
// clip_grad_norm is torch.nn.utils.clip_grad_norm_ (norm_type 2): the L2 norm
// of all gradients together, and, when it exceeds max_norm, every gradient
// scaled by max_norm / (norm + 1e-6). A NaN or infinite norm is returned and
// spreads into the gradients, as with torch's error_if_nonfinite=False.
// clip_grad_value is torch.nn.utils.clip_grad_value_: each gradient element
// clamped to [-clip_value, clip_value] (NaN stays NaN).
// One pass to measure and one to scale per tensor; nothing allocates.

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/optim/detail/parameter_store.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/lanes.hpp>
#include <tapeless/simd/map.hpp>
#include <tapeless/simd/sum.hpp>

#include <cmath>
#include <string_view>
#include <type_traits>

namespace tapeless::optim {

namespace detail {

template <class Arch, class Store>
float clip_grad_norm(Store& params, float max_norm) noexcept {
  // Squares summed per tensor in its own type, as torch's per-tensor norms;
  // the tensors' sums added in double.
  double squares = 0;
  params.visit_trainable([&](std::string_view, auto&, auto& grad) {
    squares += static_cast<double>(simd::sum<Arch>(grad.size(), [](auto g) { return g * g; }, simd::in(grad.data())));
  });
  const float norm = static_cast<float>(std::sqrt(squares));
  const float coefficient = max_norm / (norm + 1e-6f);
  if (!(coefficient >= 1)) {  // torch clamps at 1; a NaN coefficient goes through
    params.visit_trainable([&](std::string_view, auto&, auto& grad) {
      using T = typename std::remove_cvref_t<decltype(grad)>::value_type;
      const T scale = static_cast<T>(coefficient);
      simd::map<Arch>(grad.size(), [=](auto g) { return g * scale; }, simd::in(grad.data()), simd::out(grad.data()));
    });
  }
  return norm;
}

template <class Arch, class Store>
void clip_grad_value(Store& params, float clip_value) noexcept {
  params.visit_trainable([&](std::string_view, auto&, auto& grad) {
    using T = typename std::remove_cvref_t<decltype(grad)>::value_type;
    const T high = static_cast<T>(clip_value), low = -high;
    simd::map<Arch>(
        grad.size(),
        [=](auto g) {
          // Comparisons are false for NaN, which therefore passes through.
          if constexpr (simd::batch_value<decltype(g)>)
            return xsimd::select(g < low, decltype(g)(low), xsimd::select(g > high, decltype(g)(high), g));
          else
            return g < low ? low : (g > high ? high : g);
        },
        simd::in(grad.data()), simd::out(grad.data()));
  });
}

}  // namespace detail

template <class Arch = xsimd::default_arch, class Store>
float clip_grad_norm(Store& params, float max_norm) noexcept {
  static_assert(detail::is_parameter_store<Store>,
                "tl::optim::clip_grad_norm(params, max_norm): params must be a (non-const) parameter store");
  static_assert(!detail::is_parameter_store<Store> || detail::floating_entries<Store>,
                "tl::optim::clip_grad_norm: every parameter must have a floating-point element type");
  if constexpr (detail::floating_entries<Store>)
    return detail::clip_grad_norm<Arch>(params, max_norm);
  else
    return 0;  // stop at the message above
}

template <class Arch = xsimd::default_arch, class Store>
void clip_grad_value(Store& params, float clip_value) noexcept {
  static_assert(detail::is_parameter_store<Store>,
                "tl::optim::clip_grad_value(params, clip_value): params must be a (non-const) parameter store");
  static_assert(!detail::is_parameter_store<Store> || detail::floating_entries<Store>,
                "tl::optim::clip_grad_value: every parameter must have a floating-point element type");
  if constexpr (detail::floating_entries<Store>) detail::clip_grad_value<Arch>(params, clip_value);
}

}  // namespace tapeless::optim
