#pragma once
// torch.optim.lr_scheduler.StepLR: the base lr times gamma once every
// step_size epochs, lr = base_lr * gamma^floor(epoch / step_size).

#include <tapeless/optim/schedule.hpp>

#include <cmath>
#include <cstddef>

namespace tapeless::optim {

struct step_lr {
  std::size_t step_size = 1;  // torch requires it; 0 acts as 1 (torch would divide by zero)
  float gamma = 0.1f;

  constexpr const char* invalid() const noexcept {
    return detail::finite_non_negative(gamma) ? nullptr : "tl::optim::step_lr: gamma must be finite and >= 0";
  }

  float operator()(float base_lr, std::size_t epoch) const noexcept {
    const std::size_t decays = epoch / (step_size > 0 ? step_size : 1);
    return static_cast<float>(base_lr * std::pow(double(gamma), double(decays)));
  }
};

}  // namespace tapeless::optim
