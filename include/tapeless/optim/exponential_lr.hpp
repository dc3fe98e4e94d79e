#pragma once
// torch.optim.lr_scheduler.ExponentialLR: the base lr times gamma every
// epoch, lr = base_lr * gamma^epoch.

#include <tapeless/optim/schedule.hpp>

#include <cmath>
#include <cstddef>

namespace tapeless::optim {

struct exponential_lr {
  float gamma = 1;  // torch requires it; 1 leaves the lr as it is

  constexpr const char* invalid() const noexcept {
    return detail::finite_non_negative(gamma) ? nullptr : "tl::optim::exponential_lr: gamma must be finite and >= 0";
  }

  float operator()(float base_lr, std::size_t epoch) const noexcept {
    return static_cast<float>(base_lr * std::pow(double(gamma), double(epoch)));
  }
};

}  // namespace tapeless::optim
