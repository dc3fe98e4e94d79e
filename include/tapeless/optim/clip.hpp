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
//
// A limit that is NaN or negative throws std::invalid_argument before any
// gradient changes: torch takes one and silently flips the gradients' signs
// (norm) or sets them all to one value (value). An infinite limit clips
// nothing, 0 zeroes the gradients, as in torch.

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/optim/detail/parameter_store.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/lanes.hpp>
#include <tapeless/simd/map.hpp>
#include <tapeless/simd/sum.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace tapeless::optim {

namespace detail {

// Throws unless limit >= 0 (so not NaN); the message names the call.
inline void check_clip_limit(float limit, const char* call) {
  if (!(limit >= 0))
    throw std::invalid_argument(std::string(call) + " must be >= 0 (infinity clips nothing), not " +
                                std::to_string(limit));
}

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
float clip_grad_norm(Store& params, float max_norm) {
  static_assert(detail::is_parameter_store<Store>,
                "tl::optim::clip_grad_norm(params, max_norm): params must be a (non-const) parameter store");
  static_assert(!detail::is_parameter_store<Store> || detail::floating_entries<Store>,
                "tl::optim::clip_grad_norm: every parameter must have a floating-point element type");
  detail::check_clip_limit(max_norm, "tl::optim::clip_grad_norm(params, max_norm): max_norm");
  if constexpr (detail::floating_entries<Store>)
    return detail::clip_grad_norm<Arch>(params, max_norm);
  else
    return 0;  // stop at the message above
}

template <class Arch = xsimd::default_arch, class Store>
void clip_grad_value(Store& params, float clip_value) {
  static_assert(detail::is_parameter_store<Store>,
                "tl::optim::clip_grad_value(params, clip_value): params must be a (non-const) parameter store");
  static_assert(!detail::is_parameter_store<Store> || detail::floating_entries<Store>,
                "tl::optim::clip_grad_value: every parameter must have a floating-point element type");
  detail::check_clip_limit(clip_value, "tl::optim::clip_grad_value(params, clip_value): clip_value");
  if constexpr (detail::floating_entries<Store>) detail::clip_grad_value<Arch>(params, clip_value);
}

}  // namespace tapeless::optim
