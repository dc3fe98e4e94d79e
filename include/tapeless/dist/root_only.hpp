#pragma once
// What only rank 0 does in a data-parallel run: print and write files.
//
//   tl::train::fit(train, &validation, step, evaluate,
//                  tl::dist::root_only(world, {.epochs = 10, .progress = &std::cout, .log_file = "log.csv"}));
//   if (world.is_root()) tl::io::save(params, "model.safetensors");

#include <tapeless/dist/communicator.hpp>
#include <tapeless/train/fit.hpp>

namespace tapeless::dist {

// The options as given on rank 0; elsewhere without progress and log file.
inline train::fit_options root_only(const communicator& comm, train::fit_options options) {
  if (!comm.is_root()) {
    options.progress = nullptr;
    options.log_file.clear();
  }
  return options;
}

}  // namespace tapeless::dist
