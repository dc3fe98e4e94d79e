#pragma once
// Adam: torch.optim.Adam (amsgrad=False, maximize=False), element by element
// at step t = 1, 2, ...:
//
//   g <- grad + weight_decay * p              (L2 penalty; adamw decouples it)
//   m <- beta1 * m + (1 - beta1) * g
//   v <- beta2 * v + (1 - beta2) * g * g
//   p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//
// eps is added after the bias correction of sqrt(v), as torch does.
// State per parameter: {first moment m, second moment v}.

#include <tapeless/optim/detail/hyperparameters.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/map.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>

namespace tapeless::optim {

namespace detail {

// Adam's and AdamW's per-step constants; each leaves one of the two decays
// neutral (param_scale 1, grad_decay 0), which changes no bit of the result.
struct adam_constants {
  double param_scale;  // p <- param_scale * p first (AdamW's 1 - lr * weight_decay)
  double grad_decay;   // g <- grad + grad_decay * p (Adam's weight_decay)
  double beta1, beta2, eps;
  double step_size;           // lr / (1 - beta1^t)
  double bias_correction2_sqrt;  // sqrt(1 - beta2^t)
};

inline adam_constants adam_step_constants(double lr, double beta1, double beta2, double eps,
                                          std::uint64_t step) noexcept {
  const double t = static_cast<double>(step);
  return {1.0, 0.0, beta1, beta2, eps, lr / (1.0 - std::pow(beta1, t)), std::sqrt(1.0 - std::pow(beta2, t))};
}

// One pass: read p, grad, m, v; write p, m, v.
template <class Arch, class T>
void adam_update(const adam_constants& k, std::size_t n, T* value, const T* grad, T* first_moment,
                 T* second_moment) noexcept {
  const T scale = static_cast<T>(k.param_scale), decay = static_cast<T>(k.grad_decay);
  const T beta1 = static_cast<T>(k.beta1), one_minus_beta1 = static_cast<T>(1.0 - k.beta1);
  const T beta2 = static_cast<T>(k.beta2), one_minus_beta2 = static_cast<T>(1.0 - k.beta2);
  const T neg_step_size = static_cast<T>(-k.step_size), correction = static_cast<T>(k.bias_correction2_sqrt);
  const T epsilon = static_cast<T>(k.eps);
  simd::map<Arch>(
      n,
      [=](auto p, auto g, auto m, auto v) {
        const auto p_scaled = p * scale;
        const auto d = g + decay * p;
        const auto m_next = m * beta1 + one_minus_beta1 * d;
        const auto v_next = v * beta2 + one_minus_beta2 * d * d;
        const auto denominator = xsimd::sqrt(v_next) / correction + epsilon;
        return std::tuple{p_scaled + neg_step_size * m_next / denominator, m_next, v_next};
      },
      simd::in(value, grad, first_moment, second_moment), simd::out(value, first_moment, second_moment));
}

}  // namespace detail

struct adam {
  static constexpr std::string_view name = "adam";  // in checkpoints, to tell rules apart
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0;

  static constexpr std::size_t state_tensors = 2;

  // torch.optim.Adam's checks, and every number finite (torch takes lr = inf).
  constexpr const char* invalid() const noexcept {
    if (!detail::finite_non_negative(lr)) return "tl::optim::adam: lr must be finite and >= 0";
    if (!detail::finite_non_negative(eps)) return "tl::optim::adam: eps must be finite and >= 0";
    if (!(beta1 >= 0 && beta1 < 1)) return "tl::optim::adam: beta1 must be in [0, 1)";
    if (!(beta2 >= 0 && beta2 < 1)) return "tl::optim::adam: beta2 must be in [0, 1)";
    if (!detail::finite_non_negative(weight_decay)) return "tl::optim::adam: weight_decay must be finite and >= 0";
    return nullptr;
  }

  detail::adam_constants constants(std::uint64_t step) const noexcept {
    auto k = detail::adam_step_constants(lr, beta1, beta2, eps, step);
    k.grad_decay = weight_decay;
    return k;
  }

  template <class Arch, class T>
  void update(const detail::adam_constants& k, std::size_t n, T* value, const T* grad,
              const std::array<T*, state_tensors>& state) const noexcept {
    detail::adam_update<Arch>(k, n, value, grad, state[0], state[1]);
  }
};

}  // namespace tapeless::optim
