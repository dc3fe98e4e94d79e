#pragma once
// AdamW: torch.optim.AdamW (amsgrad=False, maximize=False). Adam with the
// weight decay taken out of the gradient and applied to the parameter
// directly, before the Adam step, at step t = 1, 2, ...:
//
//   p <- p * (1 - lr * weight_decay)
//   m <- beta1 * m + (1 - beta1) * grad
//   v <- beta2 * v + (1 - beta2) * grad * grad
//   p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//
// The same single pass as adam (adam.hpp). State per parameter: {first
// moment m, second moment v}.

#include <tapeless/optim/adam.hpp>
#include <tapeless/optim/detail/hyperparameters.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tapeless::optim {

struct adamw {
  static constexpr std::string_view name = "adamw";  // in checkpoints, to tell rules apart
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 1e-2f;

  static constexpr std::size_t state_tensors = 2;

  // torch.optim.AdamW's checks, and every number finite (torch takes lr = inf).
  constexpr const char* invalid() const noexcept {
    if (!detail::finite_non_negative(lr)) return "tl::optim::adamw: lr must be finite and >= 0";
    if (!detail::finite_non_negative(eps)) return "tl::optim::adamw: eps must be finite and >= 0";
    if (!(beta1 >= 0 && beta1 < 1)) return "tl::optim::adamw: beta1 must be in [0, 1)";
    if (!(beta2 >= 0 && beta2 < 1)) return "tl::optim::adamw: beta2 must be in [0, 1)";
    if (!detail::finite_non_negative(weight_decay)) return "tl::optim::adamw: weight_decay must be finite and >= 0";
    return nullptr;
  }

  detail::adam_constants constants(std::uint64_t step) const noexcept {
    auto k = detail::adam_step_constants(lr, beta1, beta2, eps, step);
    k.param_scale = 1.0 - double(lr) * double(weight_decay);
    return k;
  }

  template <class Arch, class T>
  void update(const detail::adam_constants& k, std::size_t n, T* value, const T* grad,
              const std::array<T*, state_tensors>& state) const noexcept {
    detail::adam_update<Arch>(k, n, value, grad, state[0], state[1]);
  }
};

}  // namespace tapeless::optim
