#pragma once
// torch.optim.lr_scheduler.CosineAnnealingLR: half a cosine from base_lr at
// epoch 0 down to eta_min at epoch t_max,
//   lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2,
// and, past t_max, back up again as torch's does (no restarts: see
// CosineAnnealingWarmRestarts for those).

#include <tapeless/optim/schedule.hpp>

#include <cmath>
#include <cstddef>
#include <numbers>

namespace tapeless::optim {

struct cosine_annealing {
  std::size_t t_max = 1;  // torch requires it; 0 acts as 1 (torch would divide by zero)
  float eta_min = 0;

  constexpr const char* invalid() const noexcept {
    return detail::finite_non_negative(eta_min) ? nullptr
                                                : "tl::optim::cosine_annealing: eta_min must be finite and >= 0";
  }

  float operator()(float base_lr, std::size_t epoch) const noexcept {
    const double period = double(t_max > 0 ? t_max : 1);
    const double low = eta_min;
    return static_cast<float>(low + (base_lr - low) * (1 + std::cos(std::numbers::pi * double(epoch) / period)) / 2);
  }
};

}  // namespace tapeless::optim
